// Review 18 (5dfc3e5, exclusion.ts noteStillSending). The bound "one such table per excluded
// member" (docs/protocol.md §7.4) is per engine: reExcluded lives in each engine, and the
// actor is whoever is the lowest-keyed current member that may exclude *now*. When that
// member leaves (or is excluded), the next lowest-keyed one, which also saw the target
// excluded while a member, has an empty reExcluded and re-excludes again after 5 more
// messages. The excluded member does nothing but keep sending (5 fresh nonces under a claimed
// TEK version ≥ blockedAt, from its own key); with K such excluded members each churn of the
// lowest-keyed member costs K tables (startTable per member, not batched).
// Secure (as documented): at most one re-exclusion table per excluded member in the group.
// Fixed (review 18): a member that sees another's re-exclusion (one target, blocked already, a newer version) makes none (applyBlocklist); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, honestGroup } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { cmpKey } from '../../../app/core/engine/context.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function churn(k: number, how: 'leave' | 'excluded', cycles: number) {
  const xs = Array.from({ length: k }, (_, i) => `x${i}`);
  const g = honestGroup([...HONEST, ...xs]);
  const byKey = [...HONEST].sort((p, q) => cmpKey(g.ids[p]!.key, g.ids[q]!.key));
  // The highest-keyed honest member excludes the K members in one table.
  const excluder = byKey.at(-1)!;
  g.e[excluder]!.exclude(xs.map((x) => g.ids[x]!.key), g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  for (const x of xs) g.net.offline.add(g.ids[x]!.key);
  const att = xs.map((x) => new Attacker(g.ids[x]!));
  let round = 0;
  const junk = (rounds: number, alive: string[]) => {
    for (let i = 0; i < rounds; i++, round++) {
      const v = g.e[alive[0]!]!.tekInfo()!.version;
      for (const x of att) {
        x.sealUnder({ slot: 0, version: v, creators: [x.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([round & 255, round >> 8, 3])) });
        const hb = x.heartbeat({ sentAt: g.net.now + 1, keys: [] });
        x.sealUnder(null);
        for (const w of alive) g.e[w]!.receive(x.key, 'control', hb, g.net.now);
      }
      g.net.run(g.net.now + g.params.heartbeatMs);
    }
  };
  const reEx = () => HONEST.reduce((s, w) => s + g.e[w]!.keyTable(g.net.now).log.filter((t) => /still sends/.test(t.text)).length, 0);
  let alive = [...byKey];
  const perCycle: number[] = [];
  const published_: number[] = [];
  const published = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  for (let c = 0; c <= cycles; c++) {
    const before = reEx();
    const tablesBefore = published();
    junk(8, alive);
    perCycle.push(reEx() - before);
    published_.push(published() - tablesBefore);
    if (c === cycles) break;
    // Ordinary churn: the lowest-keyed member goes.
    const low = alive[0]!;
    if (how === 'leave') g.e[low]!.leave(g.net.now);
    else g.e[alive.at(-1)!]!.exclude([g.ids[low]!.key], g.net.now);
    alive = alive.slice(1);
    g.net.run(g.net.now + 6 * g.params.heartbeatMs);
    if (how === 'leave') g.net.offline.add(g.ids[low]!.key);
  }
  for (const w of alive) assert.equal(g.e[w]!.state(), 'member');
  // The re-exclusions block nobody new: every blocklist is the K targets and the churned members.
  const expected = [...xs, ...byKey.filter((w) => !alive.includes(w))].map((w) => g.ids[w]!.key).sort();
  for (const w of alive) {
    const bl = [...g.e[w]!.blocklist()].sort();
    if (how === 'excluded') assert.deepEqual(bl, expected);
    else assert.ok(bl.every((k) => expected.includes(k)), 'a leaver is blocked at most');
  }
  console.log(`tables published while only the excluded members sent: ${published_.join(', ')}`);
  return perCycle;
}

test('one excluded member that keeps sending: a re-exclusion table after every leave of the lowest-keyed member', () => {
  const per = churn(1, 'leave', 4);
  console.log(`re-exclusions per cycle (leave): ${per.join(', ')}`);
  assert.ok(per.reduce((s, n) => s + n, 0) <= 1, `${per.reduce((s, n) => s + n, 0)} re-exclusion tables for one excluded member`);
});

test('one excluded member: the same after every exclusion of the lowest-keyed member', () => {
  const per = churn(1, 'excluded', 3);
  console.log(`re-exclusions per cycle (excluded): ${per.join(', ')}`);
  assert.ok(per.reduce((s, n) => s + n, 0) <= 1, `${per.reduce((s, n) => s + n, 0)} re-exclusion tables for one excluded member`);
});

test('four excluded members that keep sending: four tables per churn of the lowest-keyed member', () => {
  const per = churn(4, 'leave', 3);
  console.log(`re-exclusions per cycle (K=4, leave): ${per.join(', ')}`);
  assert.ok(per.reduce((s, n) => s + n, 0) <= 4, `${per.reduce((s, n) => s + n, 0)} re-exclusion tables for four excluded members`);
});
