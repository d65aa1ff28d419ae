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
  // The victim was last heard at most one stretched interval (3 × HB) before the crash; a judge
  // waits failoverIntervals (3) of those: never before crash + 3 × 3 × HB − 3 × HB.
  const earliest = Math.min(...takeovers);
  assert.ok(earliest >= crashAt + 6 * HB, `taken over ${earliest - crashAt} ms after the crash`);
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
