// The flat key table fed by the fractional-key panel (issue 4 §7–§8) on the
// simulator: TEK versions carry their origin (panel round and members, or a
// single creator), the oracle finds no secrecy violation, a crashed panel member
// is replaced through recovery, an excluded one is never on the panel of a key
// made after its exclusion (one off the panel is excluded with a panel key),
// and fewer than 4 members fall back visibly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineDeps } from '../../app/core/engine.js';
import type { KeyLogEntry, PanelHook } from '../../app/core/types.js';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation, type SimReport } from '../../app/sim/simulation.js';
import { SMALL, assertOk, joins, member, readers, run } from './helpers.js';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const PARAMS = { ...SMALL, panelSize: 5, refreshVersionMs: 8000 };

type Origin = { kind: 'panel'; round: number; members: string[] } | { kind: 'single'; creator: string };

function origin(report: SimReport, name: string): Origin {
  const tek = member(report, name).tek;
  assert.ok(tek, `${name} holds a TEK`);
  return tek.origin as Origin;
}

function log(sim: Simulation, name: string, now: number): KeyLogEntry[] {
  return sim.engineOf(name)!.keyTable(now).log;
}

/** Wraps a peer's panel hook so that every frame it hands out is recorded with the time of the call that produced it. */
function recordPanelFrames(deps: EngineDeps, into: { to: string; at: number }[]): EngineDeps {
  const hook = deps.panel;
  if (!hook) return deps;
  let now = 0;
  const seen = <A extends unknown[], R>(f: (...a: A) => R, at: (...a: A) => number) => (...a: A): R => {
    now = at(...a);
    return f(...a);
  };
  const panel: PanelHook = {
    update: seen(hook.update.bind(hook), (_v, t) => t),
    receive: seen(hook.receive.bind(hook), (_f, _b, t) => t),
    tick: seen(hook.tick.bind(hook), (t) => t),
    takeKey: seen(hook.takeKey.bind(hook), (_p, _e, t) => t),
    consumed: seen(hook.consumed.bind(hook), (_r, _m, t) => t),
    nextDeadline: () => hook.nextDeadline(),
    pollEvent: () => hook.pollEvent(),
    pollTransmit: () => {
      const t = hook.pollTransmit();
      if (t) into.push({ to: t.to, at: now });
      return t;
    },
  };
  return { ...deps, panel };
}

function scenario(extra: object[], until: number, names = NAMES, params: object = PARAMS) {
  return { params, events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(names.slice(1)), ...extra], until };
}

/** Every live member holds the same TEK, made by a panel round; returns that origin. */
function panelOrigin(report: SimReport, live: string[]): Extract<Origin, { kind: 'panel' }> {
  const o = origin(report, live[0]!);
  assert.equal(o.kind, 'panel', `TEK origin ${JSON.stringify(o)}`);
  for (const n of live) assert.deepEqual(origin(report, n), o, `${n} agrees on the TEK's origin`);
  assert.equal(o.members.length, 5, 'a panel of panelSize members');
  assert.ok(o.round >= 2, 'round numbers start after initialization (iteration 1)');
  return o;
}

test('periodic TEK versions come from panel rounds; no secrecy violation', () => {
  const { report, sim } = run(scenario([{ at: 12000, do: 'sendAll', text: 'one' }, { at: 26000, do: 'sendAll', text: 'two' }], 28000));
  assertOk(report);
  const o = panelOrigin(report, NAMES);
  for (const m of o.members) assert.ok(NAMES.includes(m));
  assert.equal(member(report, 'a').tek!.version, 4, 'three refreshes (8 s, 16 s, 24 s)');
  // Every refresh used a panel key: no fallback once the panel formed.
  const refreshes = log(sim, 'a', 28000).filter((l) => l.kind === 'refresh');
  assert.equal(refreshes.length, 3);
  assert.ok(!log(sim, 'a', 28000).some((l) => l.kind === 'fallback-single' && l.at >= 8000), 'no single-creator fallback after the panel formed');
  const rounds = log(sim, 'a', 28000).filter((l) => l.kind === 'panel-round' && l.text.startsWith('TEK v'));
  assert.deepEqual(rounds.map((l) => l.text.replace(/ round \d+$/, '')), ['TEK v2 from panel', 'TEK v3 from panel', 'TEK v4 from panel']);
  assert.ok(report.stats.panelRounds > 0);
  for (const m of report.messages.filter((x) => x.text === 'two')) assert.equal(m.readBy.length, NAMES.length - 1, `${m.from}'s message read by all others`);
});

test('a panel member crashing mid-round is replaced through recovery; the next TEK comes from a panel without it', () => {
  // The refresh at 16 s consumes the ready key and starts the next round at once; c crashes during it.
  const { report, sim } = run(scenario([{ at: 16005, do: 'crash', peer: 'c' }, { at: 26000, do: 'sendAll', text: 'after' }], 28000));
  assertOk(report);
  const live = NAMES.filter((n) => n !== 'c');
  const o = panelOrigin(report, live);
  assert.ok(!o.members.includes('c'), `the panel of v4 does not include the crashed member: ${o.members}`);
  assert.equal(member(report, 'a').tek!.version, 4);
  const recoveries = log(sim, 'a', 28000).filter((l) => l.kind === 'panel-recovery');
  const cKey = sim.keyOf('c').slice(0, 8);
  assert.ok(
    recoveries.some((l) => l.text.startsWith(`recovered: ${cKey} replaced by `)),
    `a's log shows the recovery: ${recoveries.map((l) => l.text).join(' | ')}`,
  );
  assert.ok(report.stats.panelRecoveries >= 1);
});

test('an excluded panel member: its exclusion TEK′ has a single creator (visible), later versions come from a panel without it', () => {
  const json = scenario([{ at: 12000, do: 'sendAll', text: 'before' }, { at: 13000, do: 'exclude', peers: ['c'], by: 'a' }, { at: 26000, do: 'sendAll', text: 'after' }], 28000);
  const parsed = parseScenario(json);
  // Record every panel frame the hooks hand to the engine: who it is for, and when.
  const sentTo: { to: string; at: number }[] = [];
  const sim = new Simulation(parsed, { seed: 1, decorateDeps: (_name, deps) => recordPanelFrames(deps, sentTo) });
  sim.runUntil(13500);
  // c was on the panel (the 5 longest-standing members include it) and knew the ready key.
  const exclusionTek = sim.engineOf('b')!.tekInfo()!;
  assert.equal(exclusionTek.version, 3);
  assert.deepEqual(exclusionTek.origin, { kind: 'single', creator: sim.keyOf('a') }, 'single creator: the ready panel key was known to c');
  assert.ok(log(sim, 'a', 13500).some((l) => l.kind === 'fallback-single' && l.at === 13000), 'the fallback is in the key table log');
  parsed.until = 28000;
  const final = sim.run();
  assertOk(final);
  assert.equal(member(final, 'c').state, 'excluded');
  const live = NAMES.filter((n) => n !== 'c');
  const o = panelOrigin(final, live);
  assert.ok(!o.members.includes('c'));
  assert.ok(readers(final, 'before').includes('c'));
  assert.ok(!readers(final, 'after').includes('c'));
  const cKey = sim.keyOf('c').slice(0, 8);
  assert.ok(log(sim, 'a', 28000).some((l) => l.kind === 'panel-recovery' && l.text.startsWith(`recovered: ${cKey} replaced by `)));
  // Once its exclusion is known, no panel frame is addressed to c: it learns nothing of later rounds.
  const excludedAt = 13000 + 500; // the exclusion table reaches every member within a few hops
  assert.ok(sentTo.some((x) => x.to === sim.keyOf('c') && x.at < 13000), 'c was sent panel frames while on the panel');
  assert.deepEqual(sentTo.filter((x) => x.to === sim.keyOf('c') && x.at > excludedAt), []);
});

test('fewer than 4 members: TEK versions have a single creator, and the key table says why', () => {
  const names = ['a', 'b', 'c'];
  const { report, sim } = run(scenario([{ at: 12000, do: 'sendAll', text: 'hi' }], 14000, names));
  assertOk(report);
  for (const n of names) assert.deepEqual(origin(report, n), { kind: 'single', creator: 'a' });
  assert.equal(member(report, 'a').tek!.version, 2, 'the refresh at 8 s ran, from a single creator');
  for (const n of names) {
    const fallbacks = log(sim, n, 14000).filter((l) => l.kind === 'fallback-single');
    assert.ok(fallbacks.some((l) => l.text.includes('fewer than 4 members')), `${n}: ${fallbacks.map((l) => l.text).join(' | ')}`);
  }
  assert.equal(report.stats.panelRounds, 0);
});

test('excluding a member off the panel: the exclusion TEK′ itself comes from a panel round', () => {
  const json = scenario([{ at: 13000, do: 'exclude', peers: ['g'], by: 'a' }, { at: 15000, do: 'sendAll', text: 'after' }], 15500);
  const { report, sim } = run(json);
  assertOk(report);
  assert.equal(member(report, 'g').state, 'excluded');
  const live = NAMES.filter((n) => n !== 'g');
  const o = panelOrigin(report, live);
  assert.equal(member(report, 'a').tek!.version, 3, 'v2 from the refresh at 8 s, v3 from the exclusion');
  assert.ok(!o.members.includes('g'));
  assert.ok(!log(sim, 'a', 15500).some((l) => l.kind === 'fallback-single' && l.at >= 8000));
  assert.ok(!readers(report, 'after').includes('g'));
});
