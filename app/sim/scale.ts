/**
 * @module sim/scale
 * The scale scenario (issue 17 item 6; docs/performance.md "Round seven: the
 * scale scenario"): a group of N members established by `bootstrap` (app/sim/bootstrap.ts:
 * every member's engine restored from a built settled state, no join traffic), then
 * E exclusions spread over time with churn, every message through the real engines'
 * receive path with every check on (the simulator's crypto: Node's, with identical
 * verifies remembered across members, sim/crypto-memo.ts).
 *
 * Timeline (heartbeat H = 10 s, latency 5–40 ms):
 * - t = 0: bootstrap of `a` + N − 1 members `m0…`.
 * - from t = 10 s, one exclusion every 3 s (E of them), alternately by `a` and by an
 *   ordinary member: each is still in flight when the next starts.
 * - churn, during the exclusions: ⌈E/2⌉ members go offline (crash: the engine stops,
 *   its state saved) for 25 s, missing two or more exclusions, and come back (restart
 *   from the saved state: they must catch up); ⌈E/5⌉ members leave while exclusions
 *   are in flight.
 * - 60 s after the last of these, `a` sends one message; the run ends 30 s later.
 *
 * Convergence (`converged`): every live member (not excluded, not left, online)
 * holds one and the same TEK (version, creators, revision and key bytes), and that
 * TEK is in no excluded or departed member's key set (every key it ever held); every
 * live member read the last message and no removed member did; the simulator's own
 * agreement check and its secrecy oracle (forward: no removed member, alone or in
 * coalition, learns a later TEK from the control traffic; backward) agree, and the
 * run logged no error. `simMs`: virtual time from the first exclusion to the
 * moment the group last became in agreement; `wallMs`/`cpuMs`: the run itself.
 */
import { cpuUsage } from 'node:process';
import type { Scenario, ScenarioEvent } from './scenario.js';
import { parseScenario } from './scenario.js';
import { Simulation, type SimReport } from './simulation.js';

export interface ScaleOptions {
  /** Members in all (the creator included). */
  n: number;
  exclusions: number;
  seed?: number;
}

export interface ScaleResult {
  n: number;
  exclusions: number;
  crashes: number;
  leaves: number;
  /** Members online and in the group at the end. */
  live: number;
  converged: boolean;
  /** Every live member holds the same TEK (bytes included). */
  tekAgreed: boolean;
  /** No excluded or departed member ever held that TEK. */
  tekUnknownToRemoved: boolean;
  /** The last message was read by every live member but its sender, and by no removed member. */
  lastMessageRead: boolean;
  /** Oracle violations (forward + backward) and run errors. */
  violations: number;
  errors: string[];
  /** Virtual ms from the first exclusion until the group last came into agreement (null: never). */
  simMs: number | null;
  /** The slowest single operation's convergence, virtual ms (a member back from offline included). */
  worstOpMs: number | null;
  /** The slowest exclusion's convergence, virtual ms. */
  worstExcludeMs: number | null;
  /** The run, building the group included: wall ms, and CPU ms (user + system) of this process. */
  wallMs: number;
  cpuMs: number;
  controlMessages: number;
  controlBytes: number;
  unicastMessages: number;
  unicastBytes: number;
  deliveries: number;
}

/**
 * The timeline, ms: the first exclusion and the time between two; how long a member that
 * goes offline stays away (two and a half heartbeats); after the last event, the last
 * message, and the end of the run.
 */
const T = { start: 10_000, every: 3_000, offline: 25_000, lastMessage: 60_000, end: 90_000 } as const;
const LAST_MESSAGE = 'after the exclusions';

/** The scenario itself (deterministic in n and exclusions). */
export function scaleScenario(o: ScaleOptions): Scenario {
  const { n, exclusions: e } = o;
  if (n < 40 || e < 1 || e > n / 8) throw new Error(`scale scenario: need n >= 40 and 1 <= exclusions <= n/8 (n=${n}, exclusions=${e})`);
  const m = (i: number) => `m${i}`;
  const events: ScenarioEvent[] = [{ at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 }];
  const crashes = Math.ceil(e / 2);
  const leaves = Math.ceil(e / 5);
  // Targets from the low indices, excluders from the middle, churn from the top: disjoint.
  for (let k = 0; k < e; k++) {
    const at = T.start + k * T.every;
    events.push({ at, do: 'exclude', peers: [m(3 + 5 * k)], by: k % 2 === 0 ? 'a' : m(Math.floor(n / 2) + k) });
  }
  const span = (e - 1) * T.every;
  for (let j = 0; j < crashes; j++) {
    const at = T.start + 500 + Math.floor((j * span) / Math.max(1, crashes));
    events.push({ at, do: 'crash', peer: m(n - 2 - j) }, { at: at + T.offline, do: 'restart', peer: m(n - 2 - j) });
  }
  for (let j = 0; j < leaves; j++) {
    events.push({ at: T.start + 1_200 + Math.floor((j * span) / Math.max(1, leaves)), do: 'leave', peer: m(n - 2 - crashes - j) });
  }
  const last = Math.max(...events.map((x) => x.at));
  events.push({ at: last + T.lastMessage, do: 'send', peer: 'a', text: LAST_MESSAGE });
  return parseScenario({
    description: `scale: ${n} members by bootstrap, ${e} exclusions every ${T.every} ms, ${crashes} offline ${T.offline} ms, ${leaves} leaves`,
    params: { W: 16, V: 16, heartbeatMs: 10_000, graceMs: 120_000 },
    network: { latencyMs: [5, 40], loss: 0 },
    events: events.sort((x, y) => x.at - y.at),
    until: last + T.end,
  });
}

/** Runs the scale scenario and checks convergence (see the header). */
export function runScale(o: ScaleOptions): ScaleResult {
  const scenario = scaleScenario(o);
  const cpu0 = cpuUsage();
  const t0 = Date.now();
  const sim = new Simulation(scenario, { seed: o.seed ?? 1 });
  const report = sim.run();
  const wallMs = Date.now() - t0;
  const cpu = cpuUsage(cpu0);
  return { ...scaleVerdict(sim, report, o.n), wallMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

/** The convergence verdict on a finished run, from the engines as they are now (see the header). */
export function scaleVerdict(sim: Simulation, report: SimReport, n: number): Omit<ScaleResult, 'wallMs' | 'cpuMs'> {
  const live = [...sim.peers.values()].filter((p) => p.engine && !p.crashed && p.engine.state() === 'member' && p.state === 'member');
  const removed = [...sim.peers.values()].filter((p) => p.state === 'excluded' || p.state === 'left');
  // The TEK every live member holds, bytes included.
  const tekOf = (name: string) => {
    const e = sim.engineOf(name)!;
    const t = e.tekInfo();
    if (!t) return null;
    const c = t.creators.join();
    return e.exportKeyMaterial().find((k) => k.slot === 0 && k.version === t.version && k.revision === t.revision && k.creators.join() === c) ?? null;
  };
  const ref = live.length ? tekOf(live[0]!.name) : null;
  const sameTek = (k: ReturnType<typeof tekOf>) =>
    !!k && !!ref && k.version === ref.version && k.revision === ref.revision && k.creators.join() === ref.creators.join() && Buffer.compare(k.key, ref.key) === 0;
  const tekAgreed = ref !== null && live.every((p) => sameTek(tekOf(p.name)));
  // A removed member that held this TEK version (any revision: later ones derive from it) could know it.
  const refId = ref ? `0:${ref.version}:${ref.creators.join(',')}` : '';
  const tekUnknownToRemoved = ref !== null && removed.every((p) => !p.everKeys.has(refId) && ![...p.everKeys.values()].some((k) => Buffer.compare(k.key, ref.key) === 0));
  const readers = new Set(report.messages.find((m) => m.text === LAST_MESSAGE)?.readBy ?? []);
  const lastMessageRead = live.every((p) => p.name === 'a' || readers.has(p.name)) && removed.every((p) => !readers.has(p.name));
  const violations = report.violations.forward.length + report.violations.backward.length;
  const excl = report.stats.operations.filter((op) => op.op.startsWith('exclude'));
  const ops = report.stats.operations.filter((op) => op.at >= T.start);
  const lastAgree = ops.length && ops.every((op) => op.convergedAt !== null) ? Math.max(...ops.map((op) => op.convergedAt!)) : null;
  const worstOf = (list: typeof ops) => (list.length && list.every((op) => op.convergeMs !== null) ? Math.max(...list.map((op) => op.convergeMs!)) : null);
  const s = report.stats;
  return {
    n,
    exclusions: excl.length,
    crashes: report.stats.operations.filter((op) => op.op.startsWith('crash')).length,
    leaves: report.stats.operations.filter((op) => op.op.startsWith('leave')).length,
    live: live.length,
    converged: report.converged && tekAgreed && tekUnknownToRemoved && lastMessageRead && violations === 0 && report.errors.length === 0 && lastAgree !== null,
    tekAgreed,
    tekUnknownToRemoved,
    lastMessageRead,
    violations,
    errors: report.errors.slice(0, 10),
    simMs: lastAgree === null ? null : lastAgree - T.start,
    worstOpMs: worstOf(ops),
    worstExcludeMs: worstOf(excl),
    controlMessages: s.controlMessages,
    controlBytes: s.controlBytes,
    unicastMessages: s.unicastMessages,
    unicastBytes: s.unicastBytes,
    deliveries: s.deliveries,
  };
}
