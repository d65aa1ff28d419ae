// Review 4 (app/peer/history.ts `hint`, group.ts receipt branch, catch-up.ts `sync`): every
// receipt whose hint is "new" makes group.ts call onSyncNeeded('gap'), and catch-up starts a
// full session at once (clearing its backoff timer). A hint counted as new whenever its `hi`
// rose by one, and each rise pushed its expiry 30 s on: a lying member that names one more
// number in each receipt (receipts are ephemeral and cost it nothing; the receiver does not
// pace them) forces a full reconciliation session per receipt, bypassing the backoff, and
// keeps the fake gap open for as long as it likes. A hint is new only for an author with no
// live hint; a higher claim meanwhile widens it silently (reconciliation asks for everything
// lacking anyway) and never outlives the first claim's 30 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signMessage } from '../../../app/peer/payload.js';
import { SeqRanges } from '../../../app/peer/seq-ranges.js';
import { freshHistory, G, signer } from './review4-fixtures.js';

const alice = signer(1);
const bob = signer(2);

test('review4: a lying receipt per 100 ms, each one number higher, starts one catch-up per 30 s, not one per receipt, and its gap expires', async () => {
  const { profile, history: h } = freshHistory(alice.key, 'conclave-r4-hint-');
  for (const s of [1, 2, 3]) h.keep(signMessage(G, bob, { s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, 'b') }, { t: 'chat', text: `m${s}`, name: 'Bob' }), 'peer-bob', 'Bob', 2000 + s);
  await h.durable();
  const t0 = 100_000;
  let syncs = 0;
  for (let i = 0; i < 600; i++) if (h.hint(bob.key, 4 + i, t0 + i * 100)) syncs++; // 60 s of receipts
  assert.ok(syncs <= 2, `${syncs} immediate catch-up sessions forced by one liar in 60 s`);
  assert.equal(SeqRanges.count(h.gaps(64, t0 + 29_000)[0]?.missing ?? []) > 0, true, 'a live hint still widens the gaps');
  // The liar stops: the gap it opened closes 30 s after its last re-arming at the latest.
  assert.deepEqual(h.gaps(64, t0 + 60_000 + 30_001), [], 'a hint expires');
  profile.close();
});
