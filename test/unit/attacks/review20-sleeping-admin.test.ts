// Review 20 (af7f2f5 + 0c5d888, engine/admin-races.ts dropVoidBlocks rule (b)). A block loses
// its ground at a non-admin when a current admin's table "is no older than X's block while no
// supporter of X is still a member here". A supporter that *left* is no member: an admin that
// excluded x and later left the group (an ordinary leave, its leave rekeyed by a non-admin, which
// supports nothing) leaves x's block resting on nothing, and then any current admin's table for a
// version at or past x's block that does not name x drops it. Nothing needs to race: an honest
// admin whose machine slept through x's exclusion wakes up still holding the TEK of before (it
// was that TEK's holder) with its hourly version refresh due (app/peer/params.ts sets
// refreshVersionMs = 1 h); its first tick makes a refresh table on that old TEK, for the very
// version that blocked x, with an empty blocklist. Every non-admin reinstates x 8 heartbeats
// later (the log says "an admin, excluded every admin that excluded them, at the same moment":
// it excluded nobody), the waking admin never learns of x's exclusion (the TEK it fetches was
// made by the leaver's non-admin excluder, whose blocklist it does not take), so no current
// admin ever names x; and x, keeping its key, fetches the group's TEK. docs/protocol.md §8.2
// says a malicious admin can bring back "a member excluded only by admins it excludes"; here an
// honest admin brings back one it never excluded anybody for.
// Secure: a refresh (or any table) by an admin that never knew of x's exclusion does not undo
// it; x stays blocked at b, c, n and gets no TEK. Fails on 0c5d888.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, honestGroup, identity } from './forge.js';
import { fetchTekAs, tekKeyOf } from './tek-leak.js';
import { toHex } from '../../../app/core/bytes.js';


test('an admin that slept through an exclusion wakes up, refreshes on its old TEK, and x, whose excluder has left since, is reinstated', () => {
  const hb = PARAMS.heartbeatMs;
  // m creates the group, so it holds the TEK; a refresh is due every 60 heartbeats (1 h in the app).
  const params = { ...PARAMS, refreshVersionMs: 60 * hb, policy: { exclude: 'admins' as const, admins: ['m', 'a'].map((n) => identity(n).key) } };
  const g = honestGroup(['m', 'a', 'b', 'c', 'n', 'x'], { params });
  // m's machine sleeps. Admin a excludes x, then leaves the group; a non-admin rekeys for the leave.
  g.net.offline.add(g.ids.m!.key);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 6 * hb);
  g.e.a!.leave(g.net.now);
  g.net.run(g.net.now + 1);
  g.net.offline.add(g.ids.a!.key);
  g.net.run(g.net.now + 10 * hb);
  for (const w of ['b', 'c', 'n']) assert.ok(g.e[w]!.isBlocked(g.ids.x!.key), `${w} blocks x`);
  // m wakes up past its refresh time.
  g.net.run(65 * hb);
  g.net.offline.delete(g.ids.m!.key);
  g.net.run(g.net.now + 20 * hb);
  const got = fetchTekAs(g.e.b!, g.ids.b!.key, new Attacker(g.ids.x!), g.net.now);
  const outcome = {
    xBlocked: ['b', 'c', 'n'].filter((w) => g.e[w]!.isBlocked(g.ids.x!.key)),
    reinstated: ['b', 'c', 'n'].filter((w) => g.net.eventsOf(g.ids[w]!.key).some((e) => e.type === 'member-reinstated')),
    xGotTheTek: got !== null && tekKeyOf(g.e.b!).includes(toHex(got)),
  };
  // Now: { xBlocked: [], reinstated: [b, c, n], xGotTheTek: true }.
  assert.deepEqual(outcome, { xBlocked: ['b', 'c', 'n'], reinstated: [], xGotTheTek: false });
});
