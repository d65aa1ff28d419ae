// Review 17 (73e71c8, tellExcluded re-exclusion). Any key on the blocklist that keeps sending
// junk SealedControl is re-excluded by each designated teller (rank 0..2): three full
// exclusion tables per blocked key. Under `any-member`, exclude() takes any 64-hex key, so
// one insider can put many keys it controls ("ghosts", never members) on the blocklist with
// one table; each ghost then costs the group three more tables, with or without the insider
// still a member. Measured here: one exclusion table of K ghosts, then junk from the ghosts.
// Fixed (review 17): only a member this engine saw excluded while a member is excluded again, once, by the lowest-keyed member that may exclude (exclusion.ts noteStillSending); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, honestGroup, identity } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function ghostRun(k: number, rounds: number) {
  const g = honestGroup([...HONEST, 'm']);
  const ghosts = Array.from({ length: k }, (_, i) => new Attacker(identity(`ghost${i}`)));
  const total = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  // The insider's one action: one exclusion table naming K keys it controls.
  g.e.m!.exclude(ghosts.map((x) => x.key), g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  // It is removed afterwards: the ghosts act without it.
  g.e.a!.exclude([g.ids.m!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.m!.key);
  const before = total();
  for (let round = 0; round < rounds; round++) {
    for (const x of ghosts) {
      x.sealUnder({ slot: 0, version: 1, creators: [x.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([round, 7])) });
      const hb = x.heartbeat({ sentAt: g.net.now + 1, keys: [] });
      x.sealUnder(null);
      for (const w of HONEST) g.e[w]!.receive(x.key, 'control', hb, g.net.now);
    }
    g.net.run(g.net.now + g.params.heartbeatMs);
  }
  g.net.run(g.net.now + 10 * g.params.heartbeatMs);
  const sigs = new Set(HONEST.map((w) => g.e[w]!.convergenceSignature(false)));
  return { tables: total() - before, camps: sigs.size, states: HONEST.map((w) => g.e[w]!.state()) };
}

test('ghost keys an insider put on the blocklist cost the group about nothing once it is gone', () => {
  const k = Number(process.env.GHOSTS ?? 10);
  const r = ghostRun(k, Number(process.env.ROUNDS ?? 80));
  console.log(`K=${k}: ${r.tables} tables, ${r.camps} camp(s), states ${r.states.join(',')}`);
  // Secure: a blocked key that was never a member, or any blocked key, costs no more than a bounded total.
  assert.ok(r.tables <= 3, `${r.tables} tables from ${k} blocked keys' junk after one exclusion table`);
});
