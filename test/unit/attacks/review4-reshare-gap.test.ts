// Review 4 (app/peer/history.ts `readableMin`, group.ts re-shares): a newcomer's admission
// steps the TEK's *revision*, not its version (app/core/engine/admission.ts `grantKeys`), so
// the file messages and strokes its admitter re-shares were signed under the very TEK version
// the newcomer joined at. `m.k >= joinedTek` then takes them for readable: a re-shared file
// message numbered 3 makes every number between it and the author's first live message a
// gap, one the newcomer can never fill (it cannot open the older revisions). Reconciliation
// then runs full sessions with backoff forever, each one served the whole undecryptable
// backlog again. A message that came in a re-share is not where an author's readable
// numbers start, whatever its TEK version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signMessage, type Body } from '../../../app/peer/payload.js';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { freshHistory, G, signer } from './review4-fixtures.js';

const alice = signer(1); // an author from before the admission
const erin = signer(5); // the newcomer
const file = (n: number): Body => ({
  t: 'file',
  fid: n.toString(16).padStart(32, 'f'),
  name: 'cat.png',
  size: 10,
  mime: 'image/png',
  sha256: 'c'.repeat(64),
  key: 'a'.repeat(64),
  chunk: 64 * 1024,
  count: 1,
  hashes: Buffer.alloc(32, 7).toString('base64'),
});
const at = (s: number, k: number, body: Body) => signMessage(G, alice, { s, k, at: 1000 + s, id: s.toString(16).padStart(32, '0') }, body);

test('review4: a re-shared file message signed under the TEK version the newcomer joined at opens no gap (joins step the revision, not the version)', async () => {
  const fresh = freshHistory(erin.key, 'conclave-r4-gap-');
  let { profile, history } = fresh;
  history.joinedTek(1); // no exclusion since the group began: every message is under TEK version 1
  // The admitter re-shares alice's files 3 and 9 (signed before erin came, revision 0 of version 1).
  history.keep(at(3, 1, file(3)), 'peer-alice', 'Alice', 1, undefined, true);
  history.keep(at(9, 1, file(9)), 'peer-alice', 'Alice', 1, undefined, true);
  assert.deepEqual(history.gaps(), [], 'only re-shared numbers held: nothing to chase');
  assert.equal(history.lastReadableOf(alice.key), 0, 'the next live message opens no gap either');
  // Live from alice: 40 and 43 (41–42 a real gap; 1–39 never readable here).
  history.keep(at(40, 1, { t: 'chat', text: 'hi', name: 'Alice' }), 'peer-alice', 'Alice', 2);
  history.keep(at(43, 1, { t: 'chat', text: 'again', name: 'Alice' }), 'peer-alice', 'Alice', 3);
  assert.deepEqual(history.gaps(), [{ author: alice.key, missing: [[41, 42]] }]);
  await history.durable();
  // After a restart, the same (the history log says which messages came in a re-share).
  profile.close();
  profile = Profile.open(fresh.dir);
  history = new GroupHistory(profile, G, erin.key, { emit: () => undefined });
  assert.deepEqual(history.gaps(), [{ author: alice.key, missing: [[41, 42]] }]);
  profile.close();
});
