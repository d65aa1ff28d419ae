// Review 20 (af7f2f5 + 0c5d888, engine/admin-races.ts dropVoidBlocks). Review 19 found that an
// admin's table made on a TEK from before the blocks it drops (m1, cut off, excludes admin m0
// on v1 after m0 excluded x at v2 and d at v3) reinstated x and d at once. The fix keeps the
// drop pending for 8 heartbeats and relies on another current admin (a) to name x and d in its
// next table meanwhile. Rule (a) itself still takes no account of versions (rule (b) does:
// `h.newVersion < blockedAtVersion` is skipped there): m1's table is for v2, d was blocked at
// v3, by a table made on the TEK m1's table never knew, so it is not concurrent with d's
// block, and nothing m1 decided concerns d. If a is offline for those 8 heartbeats (a crash, a
// restart, a partition of 8 s), nobody names d: b and c reinstate d and x, and d, keeping its
// key, fetches from b the TEK v3 that was made to exclude it. When a comes back and takes m1's
// table it reseals naming them and b, c block them again: a flip-flop, with the leak in between.
// Secure: a block is never dropped on a table for a version older than the one that blocked it
// (d stays blocked at b and c, gets no TEK), whichever admins are online. Fails on 0c5d888.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, honestGroup, identity, tekOf } from './forge.js';
import { fetchTekAs, tekKeyOf } from './tek-leak.js';
import { toHex } from '../../../app/core/bytes.js';


test('a stale admin table while the only other current admin is offline for 8 heartbeats: d, blocked at a later version, is reinstated and fetches the TEK', () => {
  const ids = ['a', 'm0', 'm1'].map((n) => identity(n).key);
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: ids } };
  const g = honestGroup(['a', 'm0', 'm1', 'b', 'c', 'x', 'd'], { params });
  const old = tekOf(g.e.b!);
  // m0 excludes x (v2), then d (v3); m1 is cut off through both.
  const m1 = new Attacker(g.ids.m1!);
  g.net.offline.add(m1.key);
  g.e.m0!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  g.e.m0!.exclude([g.ids.d!.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  const dBlockedAt = tekOf(g.e.b!).version;
  for (const n of ['a', 'b', 'c']) assert.ok(g.e[n]!.isBlocked(g.ids.d!.key));
  // a goes offline (crash); m1, still on v1, excludes m0: the table reaches b and c.
  g.net.offline.add(g.ids.a!.key);
  const t = m1.table({ targets: [g.ids.m0!.key], base: old, blocklist: [], recipients: ['b', 'c'].map((n) => g.ids[n]!.key), createdAt: g.net.now });
  assert.ok(t.header.newVersion < dBlockedAt, 'm1\'s table is for a version older than the one that blocked d');
  for (const n of ['b', 'c']) g.e[n]!.receive(m1.key, 'unicast', t.unicast, g.net.now);
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  const got = fetchTekAs(g.e.b!, g.ids.b!.key, new Attacker(g.ids.d!), g.net.now);
  const during = {
    dBlocked: ['b', 'c'].filter((n) => g.e[n]!.isBlocked(g.ids.d!.key)),
    reinstated: g.net.eventsOf(g.ids.b!.key).some((e) => e.type === 'member-reinstated' && e.members.includes(g.ids.d!.key)),
    dGotTheTek: got !== null && tekKeyOf(g.e.b!).includes(toHex(got)),
  };
  // Now: { dBlocked: [], reinstated: true, dGotTheTek: true }.
  assert.deepEqual(during, { dBlocked: ['b', 'c'], reinstated: false, dGotTheTek: false });
});
