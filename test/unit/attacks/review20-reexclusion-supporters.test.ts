// Review 20 (af7f2f5, exclusion.ts applyBlocklist). Review 18 bounded the re-exclusions of an
// excluded member that keeps sending (noteStillSending) to one table in the group: a member
// that sees another's re-exclusion makes none. The change exempts a re-exclusion "by one of the
// target's own excluders" (`blockedBy.includes(h.excluder)`), meant for two admins that
// excluded each other (the target refuses its excluder's tables). But `blockedBy` is not the
// target's excluders: it is every admin whose table named the target, in its targets or its
// blocklist (admin-races.ts note), so every admin that made any exclusion after the target's
// is in it. In a group whose three lowest-keyed admins have each excluded someone since, an
// excluded member x that only keeps sending junk sealed under a made-up TEK at the current
// version (16 heartbeats, from its own key) gets three re-exclusion tables, three full rekeys
// of the group, instead of one; x never blocked any of them and would take the first.
// Secure (§7.4): one re-exclusion table per excluded member. Fails on 0c5d888 (3 tables);
// the control (no admin table since x's exclusion) passes with 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, honestGroup, identity } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { cmpKey } from '../../../app/core/engine/context.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Tables from x's junk after `excluderRank` (index among admins by key; −1 the highest) excluded x, with the three lowest-keyed admins excluding others since or not. */
function reExclusions(adminsActiveSince: boolean, excluderRank = -1): { logged: number; tables: number } {
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: HONEST.map((n) => identity(n).key) } };
  const g = honestGroup([...HONEST, 'x', 'y0', 'y1', 'y2'], { params });
  const byKey = [...HONEST].sort((p, q) => cmpKey(g.ids[p]!.key, g.ids[q]!.key));
  g.e[byKey.at(excluderRank)!]!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  // Ordinary admin work: the three lowest-keyed admins each exclude someone else afterwards.
  if (adminsActiveSince) {
    for (let i = 0; i < 3; i++) {
      g.e[byKey[i]!]!.exclude([g.ids[`y${i}`]!.key], g.net.now);
      g.net.run(g.net.now + 3 * g.params.heartbeatMs);
    }
  }
  g.net.offline.add(g.ids.x!.key);
  const x = new Attacker(g.ids.x!);
  const published = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = published();
  for (let round = 0; round < 16; round++) {
    const v = g.e.a!.tekInfo()!.version;
    x.sealUnder({ slot: 0, version: v, creators: [x.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([round, 7])) });
    const hb = x.heartbeat({ sentAt: g.net.now + 1, keys: [] });
    x.sealUnder(null);
    for (const w of HONEST) g.e[w]!.receive(x.key, 'control', hb, g.net.now);
    g.net.run(g.net.now + g.params.heartbeatMs);
  }
  const logged = HONEST.reduce((s, w) => s + g.e[w]!.keyTable(g.net.now).log.filter((t) => /still sends/.test(t.text)).length, 0);
  return { logged, tables: published() - before };
}

test('held (control): no admin table since x was excluded: one re-exclusion', () => {
  assert.deepEqual(reExclusions(false), { logged: 1, tables: 1 });
});

test('the three lowest-keyed admins excluded someone since: x\'s junk costs three re-exclusion tables', () => {
  // Now: { logged: 3, tables: 3 }.
  assert.deepEqual(reExclusions(true), { logged: 1, tables: 1 });
});

// Review 21 (7bc301e, exclusion.ts applyBlocklist). §7.4 bounds the re-exclusions of an excluded
// member that keeps sending to one table in the group: a member that sees another's
// re-exclusion makes none (review 18). Review 20 narrowed the exemption to "the member whose
// table excluded it here" (`excludedBy`): two admins that excluded each other refuse each
// other's tables, so the excluder's own re-exclusion never reaches a target that blocked it.
// But the exemption applies whoever the target is. In the most ordinary case, an admin
// excluding a non-admin x that never excluded anybody, the excluder is very often the
// lowest-keyed admin, the one noteStillSending picks first: its re-exclusion then suppresses
// nobody, and the second-lowest makes another after 3 more of x's messages. An excluded x that
// only keeps sending junk sealed under a made-up TEK at the current version (16 heartbeats, from
// its own key) gets two full rekeys of the group instead of one (x would take the first: it
// blocks nobody). Same as above, without any other admin activity.
// Secure (§7.4): one re-exclusion table per excluded member; exempt the excluder's
// re-exclusion only when the target may have refused it (the target could exclude: an admin).
// Fails on 7bc301e (2 tables); the control (excluded by another admin) passes with 1; under
// `any-member` it is 1 too.
test('review 21, held (control): x excluded by the highest-keyed admin: one re-exclusion', () => {
  assert.deepEqual(reExclusions(false, -1), { logged: 1, tables: 1 });
});

test('review 21: x excluded by the lowest-keyed admin: its junk costs two re-exclusion tables', () => {
  // At 7bc301e: { logged: 2, tables: 2 }.
  assert.deepEqual(reExclusions(false, 0), { logged: 1, tables: 1 });
});
