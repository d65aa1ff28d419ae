// Heartbeats that do not grow with the group (docs/protocol.md §4, issue 17 item 5): in a
// forty-member group a KEK owner heartbeats every three intervals, the TEK's owner every
// one; no live owner is taken over for it, and a silent one still is, after its own window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCrypto } from '../../app/crypto/node.js';
import { MsgType } from '../../app/core/wire.js';
import { MAX_HEARTBEAT_STRETCH, heartbeatIntervalMs, heartbeatStretch } from '../../app/core/engine/context.js';
import { allSeeing } from '../../app/sim/oracle.js';
import { assertOk, joins, run } from './helpers.js';

const HB = 500;
const PARAMS = { W: 8, V: 4, heartbeatMs: HB, graceMs: 60000 };
const NAMES = Array.from({ length: 39 }, (_, i) => `m${i + 1}`);
const JOINED_BY = 1000 + 150 * NAMES.length + 4000;

function forty(extra: unknown[], until: number) {
  return run({ params: PARAMS, events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(NAMES), ...extra], until });
}

/** Heartbeat times per sender within [from, to). */
function heartbeatsBySender(sim: ReturnType<typeof run>['sim'], from: number, to: number): Map<string, number[]> {
  const opener = allSeeing(nodeCrypto, sim.groupBytes, sim.peers.values());
  const out = new Map<string, number[]>();
  for (const c of sim.controlLog()) {
    if (c.at < from || c.at >= to || opener.typeOf(c.bytes) !== MsgType.Heartbeat) continue;
    const list = out.get(c.from) ?? [];
    list.push(c.at);
    out.set(c.from, list);
  }
  return out;
}

test('the stretch: one interval up to sixteen members, at most four, whatever roster count a heartbeat claims', () => {
  assert.equal(heartbeatStretch(1), 1);
  assert.equal(heartbeatStretch(16), 1);
  assert.equal(heartbeatStretch(17), 2);
  assert.equal(heartbeatStretch(40), 3);
  assert.equal(heartbeatStretch(2 ** 32 - 1), MAX_HEARTBEAT_STRETCH);
  assert.equal(heartbeatIntervalMs(HB, 40, [{ slot: 3 }]), 3 * HB);
  assert.equal(heartbeatIntervalMs(HB, 40, [{ slot: 0 }, { slot: 3 }]), HB, 'the TEK owner keeps the base interval');
});

test('forty members: KEK owners heartbeat every three intervals, the TEK owner every one, and no live owner is taken over', () => {
  const from = JOINED_BY + 5000;
  const to = from + 20000;
  const { report, sim } = forty([{ at: to, do: 'sendAll', text: 'still one group' }], to + 3000);
  assertOk(report);
  const tekOwner = report.members.find((m) => m.ownerOf.includes('TEK'))!.name;
  const beats = heartbeatsBySender(sim, from, to);
  let kekOnly = 0;
  for (const [name, times] of beats) {
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    if (name === tekOwner) {
      assert.ok(times.length >= 38, `TEK owner ${name}: ${times.length} heartbeats in 20 s`);
      continue;
    }
    kekOnly++;
    assert.ok(times.length <= Math.ceil(20000 / (3 * HB)) + 1, `${name}: ${times.length} heartbeats in 20 s, gaps ${gaps.join(',')}`);
    for (const g of gaps) assert.ok(g >= 3 * HB, `${name}: a gap of ${g} ms`);
  }
  assert.ok(kekOnly >= 5, `${kekOnly} KEK-only owners heartbeat`);
  for (const name of ['a', ...NAMES]) {
    const taken = sim.engineOf(name)!.keyTable(to).log.filter((e) => e.kind === 'failover' && e.at >= from);
    assert.deepEqual(taken, [], `${name} logged a failover while every owner was alive`);
  }
});

test('forty members: a crashed KEK owner is taken over after its own stretched window, not the base one', () => {
  const crashAt = JOINED_BY + 5000;
  // The same seed runs the same group up to the crash: pick an owner of KEKs only.
  const before = forty([], crashAt).report;
  const victimName = before.members.find((m) => m.name !== 'a' && m.ownerOf.length > 0 && !m.ownerOf.includes('TEK'))!.name;
  const { sim } = forty([{ at: crashAt, do: 'crash', peer: victimName }], crashAt + 15000);
  const victim = sim.keyOf(victimName);
  const takeovers: number[] = [];
  for (const name of ['a', ...NAMES].filter((n) => n !== victimName)) {
    const table = sim.engineOf(name)!.keyTable(crashAt + 15000);
    for (const s of table.slots) if (s.held) assert.notEqual(s.owner, victim, `${name}: a slot still owned by the crashed ${victimName}`);
    for (const e of table.log) if (e.kind === 'failover' && e.at >= crashAt && e.text.startsWith('took over')) takeovers.push(e.at);
  }
  assert.ok(takeovers.length > 0, `${victimName} owned a KEK and someone took it over`);
  // A judge waits failoverIntervals (3) stretched intervals (3 × HB) from the victim's last
  // heartbeat, then claims within one more HB (a random pause, ticks every half heartbeat).
  const opener = allSeeing(nodeCrypto, sim.groupBytes, sim.peers.values());
  const lastBeat = Math.max(...sim.controlLog().filter((c) => c.from === victimName && c.at <= crashAt && opener.typeOf(c.bytes) === MsgType.Heartbeat).map((c) => c.at));
  const earliest = Math.min(...takeovers);
  assert.ok(earliest >= lastBeat + 9 * HB, `taken over ${earliest - lastBeat} ms after its last heartbeat: before its stretched window`);
  assert.ok(earliest <= lastBeat + 9 * HB + 2 * HB, `taken over ${earliest - lastBeat} ms after its last heartbeat: long after its stretched window`);
});

test('fifty members: an owner that stops owning the TEK is judged by its stretched interval even when its first heartbeat after the change is lost', () => {
  const bootstrap = [{ at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 49 }];
  const names = ['a', ...Array.from({ length: 49 }, (_, i) => `m${i}`)]; // bootstrap names m0 … m48
  const sim = (extra: unknown[], until: number) => run({ params: PARAMS, events: [...bootstrap, ...extra], until });
  const firstAt = 4000;
  const handoffAt = 8000;
  // O, an owner of KEKs only, excludes a member (and so owns the TEK); at handoffAt E excludes
  // another and takes the TEK over from O, whose interval grows from 1 to 4 heartbeats.
  const settled = sim([], firstAt).report;
  const O = settled.members.find((m) => m.name !== 'a' && m.ownerOf.length >= 2 && !m.ownerOf.includes('TEK'))!.name;
  const firstVictim = names.find((n) => n !== O && n !== 'a')!;
  const first = [{ at: firstAt, do: 'exclude', peers: [firstVictim], by: O }];
  const before = sim(first, handoffAt);
  assert.ok(before.report.members.find((m) => m.name === O)!.ownerOf.includes('TEK'), `${O} owns the TEK it made`);
  const oKey = before.sim.keyOf(O);
  const live = names.filter((n) => n !== firstVictim && n !== O);
  // J, a judge, holds a KEK that O owns; V, the second member excluded, does not hold it (so it survives).
  const pid = (n: string) => before.sim.engineOf('a')!.participantIdOf(before.sim.keyOf(n));
  let J = '';
  let V = '';
  for (const v of live) {
    J = live.find((j) => j !== v && before.sim.engineOf(j)!.keyTable(handoffAt).slots.some((s) => s.held && s.owner === oKey && s.slot.kind === 'kek' && pid(v)[s.slot.symbol] !== s.slot.value)) ?? '';
    if (J) {
      V = v;
      break;
    }
  }
  assert.ok(J, 'some member holds a KEK that O owns');
  const E = live.find((n) => n !== J && n !== V)!;
  const others = names.filter((n) => n !== J);
  const { sim: after } = sim(
    [...first, { at: handoffAt, do: 'exclude', peers: [V], by: E }, { at: handoffAt + 60, do: 'partition', groups: [[J], others] }, { at: handoffAt + 620, do: 'heal' }],
    handoffAt + 6000,
  );
  const opener = allSeeing(nodeCrypto, after.groupBytes, after.peers.values());
  const beats = after.controlLog().filter((c) => c.from === O && c.at >= handoffAt && opener.typeOf(c.bytes) === MsgType.Heartbeat).map((c) => c.at);
  assert.ok(beats.some((t) => t > handoffAt + 60 && t < handoffAt + 620), `J missed a heartbeat of O's (O's heartbeats: ${beats.join(', ')})`);
  assert.ok(!after.engineOf(O)!.keyTable(handoffAt + 6000).slots.some((s) => s.slot.kind === 'tek' && s.owner === oKey), 'O no longer owns the TEK');
  let judges = 0;
  for (const n of names.filter((x) => x !== firstVictim && x !== V)) {
    const engine = after.engineOf(n);
    if (!engine) continue;
    judges++;
    const taken = engine.keyTable(handoffAt + 6000).log.filter((e) => e.kind === 'failover' && e.at >= handoffAt && e.text.startsWith('took over'));
    assert.deepEqual(taken.map((e) => `${e.at} ${e.text}`), [], `${n} took over a key of a live owner`);
  }
  assert.equal(judges, names.length - 2);
});

test('forty members: a KEK owner that steps its key for a newcomer heartbeats within one base interval, and every holder steps with it', () => {
  const joinAt = JOINED_BY + 5000;
  const checkAt = joinAt + 1300;
  const { sim } = forty([{ at: joinAt, do: 'join', peer: 'late', via: 'a' }], checkAt);
  assert.equal(sim.engineOf('late')!.state(), 'member');
  const owners = new Map<string, Map<number, number>>(); // owner key → slot → revision it holds
  const tables = ['a', ...NAMES].map((n) => sim.engineOf(n)!.keyTable(checkAt));
  for (const t of tables) for (const s of t.slots) if (s.held && s.owner === t.self) owners.set(`${s.slot.kind}:${JSON.stringify(s.slot)}`, new Map([[s.version, s.revision]]));
  let stepped = 0;
  for (const t of tables) {
    for (const s of t.slots) {
      if (!s.held || s.owner === t.self) continue;
      const ownerRevision = owners.get(`${s.slot.kind}:${JSON.stringify(s.slot)}`)?.get(s.version);
      if (ownerRevision === undefined) continue;
      if (ownerRevision > 0) stepped++;
      assert.equal(s.revision, ownerRevision, `${JSON.stringify(s.slot)}: a holder at r${s.revision}, its owner at r${ownerRevision}`);
    }
  }
  assert.ok(stepped > 0, 'the join stepped some KEK that other members hold');
});
