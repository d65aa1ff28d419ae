// Review 21 (7bc301e, engine/admin-races.ts settleTick): the 8-heartbeat wait before a
// groundless block is dropped is wall-clock time (`dropAt.at`, an absolute time persisted in the
// roster), not time this member spent able to hear the group. The wait exists so that "the
// admins that took x's exclusion name it in their next table" (docs/protocol.md §8.2,
// "Concurrent exclusions of an admin"; review 19). A non-admin that schedules the drop and is
// then asleep (laptop lid closed, app suspended, network down, killed and restarted later; in
// the app 8 heartbeats are 40 s) hears none of those tables: on waking, its very first
// housekeeping tick finds `now >= dropAt.at` and reinstates x before anything can arrive.
//
// Setup (admins a, b, c; non-admins m, n, x): a is cut off while b excludes x (v2 by b); a comes
// back and, on its old TEK, excludes b (v2 by a, no older than x's block, not naming x). m and n
// took b's table, block x on b's word alone, and schedule x's drop. c, the third admin, took
// both tables and reseals at once naming x (v3): at n, online, the drop is cancelled, x stays
// excluded everywhere. m had sent a message during the race (held: its TEK, a's v2, does not
// cover x) and then slept for 10 heartbeats. On waking, m reinstates x (`member-reinstated` in
// its chat), publishes the held message under a's v2, a TEK x holds (a's table sealed it to x;
// m also hands it to x on request), and only afterwards hears c's table and blocks x again.
// x, excluded by the group's admins, reads a message written after its exclusion.
// Secure: a member does not drop a block on a wait it spent unable to hear the admins (count the
// wait in ticks while connected, or require fresh evidence after a gap); m keeps blocking x on
// waking and nothing it wrote while x was excluded goes out under a TEK x holds. Fails on 7bc301e.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, drain, groupBytes, honestGroup, identity } from './forge.js';
import { fetchTekAs, tekKeyOf } from './tek-leak.js';
import { toHex, utf8 } from '../../../app/core/bytes.js';
import { creatorsTag } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { MsgType, decodeMessage } from '../../../app/core/wire.js';
import { run } from '../../scenario/helpers.js';

test('a non-admin asleep through the 8-heartbeat wait reinstates x on waking although a current admin named x, and publishes its held message under a TEK x holds', () => {
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: ['a', 'b', 'c'].map((n) => identity(n).key) } };
  const g = honestGroup(['a', 'b', 'c', 'm', 'n', 'x'], { params });
  const hb = g.params.heartbeatMs;
  const x = g.ids.x!.key;
  // a is cut off while b excludes x.
  g.net.offline.add(g.ids.a!.key);
  g.e.b!.exclude([x], g.net.now);
  g.net.run(g.net.now + 6 * hb);
  for (const w of ['c', 'm', 'n']) assert.ok(g.e[w]!.isBlocked(x), `${w} blocks x`);
  // a comes back and, before hearing anything, excludes b on its old TEK.
  g.net.offline.delete(g.ids.a!.key);
  g.e.a!.exclude([g.ids.b!.key], g.net.now);
  g.net.settle();
  // m's user writes during the race (held: m's TEK does not cover x), then m's machine sleeps.
  g.e.m!.send(utf8('written while x is excluded'), g.net.now);
  g.net.offline.add(g.ids.m!.key);
  g.net.run(g.net.now + 10 * hb);
  // Control: n, online, heard c's table naming x; the drop was cancelled, x stays excluded.
  assert.ok(g.e.n!.isBlocked(x) && g.e.c!.isBlocked(x) && g.e.a!.isBlocked(x), 'the group (a, c, n) excludes x');
  assert.ok(!g.net.eventsOf(g.ids.n!.key).some((e) => e.type === 'member-reinstated'), 'n reinstated nobody');
  // m wakes: its first tick.
  g.net.offline.delete(g.ids.m!.key);
  const wakeAt = g.net.now + 1;
  g.e.m!.tick(wakeAt);
  const woke = drain(g.e.m!);
  const tek = g.e.m!.tekInfo()!;
  const tag = toHex(creatorsTag(nodeCrypto, tek.creators));
  const underCurrent = woke.out.filter((t) => {
    if (t.kind !== 'publish' || t.topic !== 'data') return false;
    const d = decodeMessage(groupBytes, 'data', t.bytes);
    return d.type === MsgType.Data && d.tekVersion === tek.version && toHex(d.tekTag) === tag;
  }).length;
  const got = fetchTekAs(g.e.m!, g.ids.m!.key, new Attacker(g.ids.x!), wakeAt);
  const outcome = {
    mReinstatedX: woke.events.some((e) => e.type === 'member-reinstated' && e.members.includes(x)),
    mBlocksX: g.e.m!.isBlocked(x),
    heldMessageOutUnderATekXGets: underCurrent > 0 && got !== null && tekKeyOf(g.e.m!).includes(toHex(got)),
  };
  // Now: { mReinstatedX: true, mBlocksX: false, heldMessageOutUnderATekXGets: true } (m blocks x
  // again a few heartbeats later, once it fetches c's v3).
  assert.deepEqual(outcome, { mReinstatedX: false, mBlocksX: true, heldMessageOutUnderATekXGets: false });
});

// The same in the simulator, honest: admins a, m0, m1; m0 excludes m5 while m1 excludes m0
// (4 s). In seed 1, m3, m4, m8 ... schedule m5's drop at ~4.03 s and, online, cancel it when a
// current admin names m5; m3 crashes at 4.2 s and restarts at 16 s: its first tick reinstates m5 ("no longer
// excluded", shown in its chat as "a member again") and it excludes m5 once more 2 s later
// (a flip-flop; meanwhile m5 is a member at m3, which publishes under its TEK and answers m5's
// fetches). Secure: a restart after the wait does not reinstate a member the admins named
// meanwhile. Fails on 7bc301e.
test('a non-admin that crashes after scheduling a drop the group cancels meanwhile reinstates the member on restart, then excludes it again', () => {
  const events = [
    { at: 0, do: 'create', peer: 'a', policy: { exclude: 'admins', admins: ['a', 'm0', 'm1'] } },
    { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 15 },
    { at: 4000, do: 'exclude', peers: ['m5'], by: 'm0' },
    { at: 4000, do: 'exclude', peers: ['m0'], by: 'm1' },
    { at: 4200, do: 'crash', peer: 'm3' },
    { at: 16000, do: 'restart', peer: 'm3' },
  ];
  const { sim } = run({ params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 30000 }, 1);
  const m5 = sim.keyOf('m5');
  assert.ok(sim.engineOf('a')!.isBlocked(m5) && sim.engineOf('m3')!.isBlocked(m5), 'the group, m3 included, excludes m5 in the end');
  const flips = [...sim.peers.values()].filter((p) => p.engine?.keyTable(30000).log.some((l) => /no longer excluded/.test(l.text))).map((p) => p.name);
  // Now: ['m3'] (reinstated at 16 s, excluded again at ~18 s).
  assert.deepEqual(flips, []);
});
