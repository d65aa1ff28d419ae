// Review 22 (6c3c311, rekey-triggers.ts uncoveredLeaversTick): the fix for "a non-admin leaves
// 100 ms after two admins exclude each other" (review 20, item 4) re-excludes a leaver only at
// a non-admin whose TEK does not cover it. Add one ordinary leave afterwards (m8 at 10 s) and
// the camp that read m5's Leave excludes m8 by a non-admin's table (T1) whose blocklist names
// m5 too: the new TEK covers m5 everywhere, so nobody re-excludes it, and the camp of admin a
// takes only that table's targets (a non-admin's blocklist is not taken under `admins`): it
// never learns that m5 left. Two blocklists for good on one TEK (seeds 3 and 4 of 1-10: a and
// 6 others list m5 as a member; seed 9: m2 alone reinstates the leaver m8, whose leave m0, the
// losing admin, excluded at m2 as a block with supporters, admin-races.ts). Not a secrecy
// breach (the TEK was made against m5), and the next admin table heals it; until then the
// roster disagrees and a's camp plans a departed member as a completer.
// Secure: one blocklist; a member that names a leaver in a non-admin table carries its signed
// Leave for every leaver of its blocklist that the receiver may not know of, or receivers take
// proven leavers from a non-admin's blocklist. Fails on 6c3c311 (and on 6c3c311~1).
// Fixed: under `admins` an exclusion carries the signed Leaves of recent leavers its blocklist
// names, a member takes proven leavers from a non-admin's blocklist, and a target with a Leave is
// recorded as a leaver whoever excluded it (exclusion.ts leaveProofsFor, applyBlocklist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { camps, run } from '../../scenario/helpers.js';

for (const seed of [3, 4, 9]) {
  test(`a second leave after a leave during an admin race leaves two blocklists (seed ${seed})`, () => {
    const events = [
      { at: 0, do: 'create', peer: 'a', policy: { exclude: 'admins', admins: ['a', 'm0', 'm1'] } },
      { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 15 },
      { at: 4000, do: 'exclude', peers: ['m1'], by: 'm0' },
      { at: 4000, do: 'exclude', peers: ['m0'], by: 'm1' },
      { at: 4100, do: 'leave', peer: 'm5' },
      { at: 10000, do: 'leave', peer: 'm8' },
      { at: 30000, do: 'sendAll', text: 'after the race' },
    ];
    const { report, sim } = run({ params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 45000 }, seed);
    const c = camps(sim);
    // Now (seed 3): 'v4 blocking [m0,m8]: a,m1,m4,m10,m12,m13,m14' | 'v4 blocking [m0,m5,m8]: m2,m3,m6,m7,m9,m11'.
    assert.ok(report.converged && c.length === 1, c.join(' | '));
  });
}
