// Lifecycles of the flat key table on the simulator (issue 2): every scenario
// asserts convergence and no backward/forward/missed violations from the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMALL, assertOk, joins, member, readers, run } from './helpers.js';
import { MsgType, type Message } from '../../app/core/wire.js';
import { allSeeing } from '../../app/sim/oracle.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import type { Simulation } from '../../app/sim/simulation.js';


test('joins: everyone reads everyone, a join costs existing members no key bytes', () => {
  const { report } = run({
    params: SMALL,
    events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(['b', 'c', 'd', 'e']), { at: 6000, do: 'sendAll', text: 'hi' }],
    until: 12000,
  });
  assertOk(report);
  for (const m of report.messages) assert.equal(m.readBy.length, 4, `${m.from}'s message read by all others`);
  for (const n of ['a', 'b', 'c', 'd', 'e']) assert.equal(member(report, n).keysHeld, SMALL.W + 1, `${n} holds W+1 keys`);
  const joinOps = report.stats.operations.filter((o) => o.op.startsWith('join'));
  assert.equal(joinOps.length, 4);
});

test('exclusion of one member: the rest converge on a new TEK version the excluded cannot read', () => {
  const { report } = run({
    params: SMALL,
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(['b', 'c', 'd', 'e', 'f']),
      { at: 5000, do: 'sendAll', text: 'before' },
      { at: 7000, do: 'exclude', peers: ['c'], by: 'b' },
      { at: 12000, do: 'sendAll', text: 'after' },
    ],
    until: 18000,
  });
  assertOk(report);
  assert.equal(member(report, 'c').state, 'excluded');
  assert.ok(readers(report, 'before').includes('c'));
  assert.ok(!readers(report, 'after').includes('c'));
  assert.equal(member(report, 'a').tek!.version, 2);
});

test('several colluding members excluded in one operation', () => {
  const { report } = run({
    params: SMALL,
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(['b', 'c', 'd', 'e', 'f', 'g', 'h']),
      { at: 7000, do: 'exclude', peers: ['c', 'e', 'g'], by: 'a' },
      { at: 13000, do: 'sendAll', text: 'after' },
    ],
    until: 19000,
  });
  assertOk(report);
  for (const x of ['c', 'e', 'g']) assert.equal(member(report, x).state, 'excluded');
  assert.deepEqual([...new Set(readers(report, 'after'))].sort(), ['a', 'b', 'd', 'f', 'h']);
});

test('two members whose IDs are complements of each other excluded together', () => {
  const { report } = run({
    params: SMALL,
    peers: [
      { name: 'x', id: '0f0f' },
      { name: 'y', id: 'f0f0' },
    ],
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(['b', 'x', 'y', 'c', 'd', 'e']),
      { at: 7000, do: 'exclude', peers: ['x', 'y'], by: 'b' },
      { at: 14000, do: 'sendAll', text: 'after' },
    ],
    until: 20000,
  });
  assertOk(report);
  assert.equal(member(report, 'x').id, '00330033');
  assert.equal(member(report, 'y').id, '33003300');
  assert.ok(!readers(report, 'after').some((r) => r === 'x' || r === 'y'));
});

test('voluntary leave: a remaining member runs the exclusion', () => {
  const { report } = run({
    params: SMALL,
    events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(['b', 'c', 'd']), { at: 5000, do: 'leave', peer: 'c' }, { at: 11000, do: 'sendAll', text: 'after' }],
    until: 16000,
  });
  assertOk(report);
  assert.equal(member(report, 'c').state, 'left');
  assert.equal(member(report, 'a').tek!.version, 2, 'the leave replaced the TEK');
});

test('the TEK holder leaving: another member runs the exclusion after a back-off', () => {
  const { report } = run({
    params: SMALL,
    events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(['b', 'c', 'd']), { at: 5000, do: 'leave', peer: 'a' }, { at: 13000, do: 'sendAll', text: 'after' }],
    until: 18000,
  });
  assertOk(report);
  assert.equal(member(report, 'b').tek!.version, 2);
});

test('periodic refresh bumps revisions and replaces the TEK version with no joins or leaves', () => {
  const { report } = run({
    params: { ...SMALL, refreshRevisionMs: 2000, refreshVersionMs: 7000 },
    events: [{ at: 0, do: 'create', peer: 'a' }, ...joins(['b', 'c', 'd']), { at: 20000, do: 'sendAll', text: 'late' }],
    until: 25000,
  });
  assertOk(report);
  const tek = member(report, 'b').tek!;
  assert.ok(tek.version >= 3, `version refreshed (v${tek.version})`);
});

test('10% control-message loss: heartbeats and fetches still bring everyone to the current keys', () => {
  const { report } = run({
    params: SMALL,
    network: { latencyMs: [5, 40], loss: 0.1 },
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(['b', 'c', 'd', 'e', 'f', 'g']),
      { at: 6000, do: 'exclude', peers: ['d'], by: 'a' },
      { at: 9000, do: 'exclude', peers: ['f'], by: 'c' },
      { at: 20000, do: 'sendAll', text: 'after' },
    ],
    until: 26000,
  });
  assertOk(report);
});

const GROUP_BYTES = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));
/** Tables published on the control topic, opened (they travel sealed, docs/protocol.md §14) with the keys the peers held. */
function tablesOf(sim: Simulation) {
  const out: { from: string; m: Extract<Message, { type: typeof MsgType.Table }> }[] = [];
  const opener = allSeeing(nodeCrypto, GROUP_BYTES, sim.peers.values());
  for (const c of sim.controlLog()) {
    const m = opener.open(c.bytes);
    if (m?.type === MsgType.Table) out.push({ from: c.from, m });
  }
  return out;
}

test('a member none of whose KEKs is usable gets TEK′ sealed pairwise in the table, with no fetch', () => {
  // x = 0000 holds (s, 0) for every symbol s; y and w together held all of them.
  const { report, sim } = run({
    params: SMALL,
    peers: [
      { name: 'x', id: '0000' },
      { name: 'y', id: '000f' },
      { name: 'w', id: 'f000' },
    ],
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...joins(['b', 'x', 'y', 'w', 'c', 'd']),
      { at: 7000, do: 'exclude', peers: ['y', 'w'], by: 'a' },
      { at: 12000, do: 'sendAll', text: 'after' },
    ],
    until: 18000,
  });
  assertOk(report);
  const tables = tablesOf(sim).filter((t) => t.m.header.targets.length === 2);
  const pairwise = tables.flatMap((t) => t.m.pairwise);
  // x gets one; so may others the excluder's own KEKs miss (a small group's exclusion lands in one hop, §7.1).
  assert.ok(pairwise.some((p) => p.member === sim.keyOf('x')), 'x gets a pairwise entry');
  assert.equal(tables.length, 1, 'one publication: no completer, no fetch needed');
  assert.ok(readers(report, 'after').includes('x'));
  assert.equal(member(report, 'x').tek!.version, 2);
});

// Completion plans (groups past ONE_HOP_ROSTER_MAX): test/unit/completion-plan.test.ts, and the
// recorded thousand-member scenario (recorded-reports.test.ts), whose exclusions plan completers.
test('a small group\'s exclusion lands in one publication: TEK′ pairwise for every member the excluder\'s KEKs miss, no plan (§7.1)', () => {
  const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
  const { report, sim } = run({
    params: SMALL,
    events: [
      { at: 0, do: 'create', peer: 'a' },
      ...names.map((p, i) => ({ at: 1000 + 60 * i, do: 'join', peer: p, via: 'a' })),
      { at: 8000, do: 'exclude', peers: ['p7'], by: 'p3' },
      { at: 12000, do: 'sendAll', text: 'after' },
    ],
    until: 18000,
  });
  assertOk(report);
  const tables = tablesOf(sim);
  assert.equal(tables.length, 1, 'the excluder publishes once');
  assert.equal(tables[0]!.m.header.plan.length, 0, 'no completer planned');
  const V = SMALL.V;
  const covered = new Set(tables[0]!.m.entries.map((e) => e.slot));
  const pairwise = new Set(tables[0]!.m.pairwise.map((p) => p.member));
  assert.ok(pairwise.size > 0, 'some members are reached pairwise');
  for (const m of report.members.filter((x) => x.state === 'member' && x.name !== 'p3')) {
    const slots = [...m.id].map((c, i) => 1 + i * V + parseInt(c, 16));
    assert.ok(slots.some((s) => covered.has(s)) || pairwise.has(sim.keyOf(m.name)), `${m.name} can read TEK′ from the excluder's own publication`);
  }
  assert.ok(!readers(report, 'after').includes('p7'));
});

test('an excluded member that missed its table learns of the exclusion from the answer to its heartbeat', () => {
  const { report } = run({
    params: SMALL,
    peers: [
      { name: 'a', id: '0000' },
      { name: 'c', id: 'ffff' },
    ],
    events: [
      { at: 0, do: 'create', peer: 'a' },
      { at: 1000, do: 'join', peer: 'c', via: 'a' },
      ...joins(['b', 'd', 'e'], 2000),
      { at: 5000, do: 'partition', groups: [['c'], ['a', 'b', 'd', 'e']] },
      { at: 5500, do: 'exclude', peers: ['c'], by: 'a' },
      { at: 8000, do: 'heal' },
      { at: 10000, do: 'sendAll', text: 'after' },
    ],
    until: 16000,
  });
  assertOk(report);
  assert.equal(member(report, 'c').state, 'excluded', 'c knows it was excluded');
});

test('bootstrap builds a settled group that behaves like a joined one: exclusion, then everyone else reads', () => {
  const { report } = run({
    params: SMALL,
    events: [
      { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 60 },
      { at: 1000, do: 'join', peer: 'late', via: 'm5' },
      { at: 4000, do: 'exclude', peers: ['m7', 'm9'], by: 'm3' },
      { at: 8000, do: 'sendAll', text: 'after' },
    ],
    until: 14000,
  });
  assertOk(report);
  assert.equal(report.members.filter((m) => m.state === 'member').length, 60, '61 bootstrapped + 1 joined − 2 excluded');
  assert.equal(new Set(report.members.filter((m) => m.state === 'member').map((m) => m.tek!.fingerprint)).size, 1);
  assert.ok(readers(report, 'after').includes('late'));
  assert.ok(!readers(report, 'after').includes('m7'));
});
