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
// blocks nobody). Same as review20-reexclusion-supporters, without any other admin activity.
// Secure (§7.4): one re-exclusion table per excluded member; exempt the excluder's
// re-exclusion only when the target may have refused it (the target could exclude: an admin).
// Fails on 7bc301e (2 tables); the control (excluded by another admin) passes with 1; under
// `any-member` it is 1 too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, honestGroup, identity } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { cmpKey } from '../../../app/core/engine/context.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f'];

function reExclusions(excluderRank: number): { logged: number; tables: number } {
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: HONEST.map((n) => identity(n).key) } };
  const g = honestGroup([...HONEST, 'x'], { params });
  const byKey = [...HONEST].sort((p, q) => cmpKey(g.ids[p]!.key, g.ids[q]!.key));
  g.e[byKey.at(excluderRank)!]!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.x!.key);
  const x = new Attacker(g.ids.x!);
  const published = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = published();
  for (let round = 0; round < 16; round++) {
    const v = g.e.a!.tekInfo()!.version;
    x.sealUnder({ slot: 0, version: v, creators: [x.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([round, 9])) });
    const hb = x.heartbeat({ sentAt: g.net.now + 1, keys: [] });
    x.sealUnder(null);
    for (const w of HONEST) g.e[w]!.receive(x.key, 'control', hb, g.net.now);
    g.net.run(g.net.now + g.params.heartbeatMs);
  }
  const logged = HONEST.reduce((s, w) => s + g.e[w]!.keyTable(g.net.now).log.filter((t) => /still sends/.test(t.text)).length, 0);
  return { logged, tables: published() - before };
}

test('held (control): x excluded by the highest-keyed admin: one re-exclusion', () => {
  assert.deepEqual(reExclusions(-1), { logged: 1, tables: 1 });
});

test('x excluded by the lowest-keyed admin: its junk costs two re-exclusion tables', () => {
  // Now: { logged: 2, tables: 2 }.
  assert.deepEqual(reExclusions(0), { logged: 1, tables: 1 });
});
