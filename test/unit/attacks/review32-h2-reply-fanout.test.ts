// Review 32, h2 (insider): one edit re-emits every reply to its target.
// `chat-annotations.ts apply` returns, for an edit or delete, the target AND every reply held
// that quotes it (`repliesTo`), and `history.ts show` sends a `chat.update` (a full view, with
// its quote rebuilt) for each one to every client. Replies are ordinary messages any member
// may send, with no bound per target. An insider posts one message P and N replies quoting it
// (N messages, once), then K edits of P (K small messages): every member's peer builds and
// pushes N × K `chat.update` events to its UI, and the renderer's `feed.ts updateMessage`
// copies the whole feed and re-renders for each (O(feed) each, so O(N × K × feed)). Here
// N = 3,000, K = 40: 120,000 events from 40 messages of 200 bytes.
// Secure (docs/protocol.md §12.1: what remote input makes visible is bounded): the client
// events one signed message causes are bounded by a constant, not by how many messages the
// same insider wrote before (e.g. the target alone, clients re-quoting its replies themselves,
// or one update per reply at most once per window). Fixed: the target and its newest
// `REPLIES_REFRESHED` (64) replies; older replies show the new quote when next listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { counterSigner, G, signer } from './review4-fixtures.js';
import { REPLIES_REFRESHED } from '../../../app/peer/chat-annotations.js';

const N = 3000;
const K = 40;

test('review32-h2: an edit does not re-emit every reply an insider posted to its target', async (t) => {
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r32h2-fanout-')));
  t.after(() => profile.close());
  let updates = 0;
  const events = { emit: (name: string) => void (name === 'chat.update' && updates++) };
  const history = new GroupHistory(profile, G, signer(1).key, events as never);
  const mallory = signer(7);
  const sign = counterSigner();
  const parent = sign(mallory, { t: 'chat', text: 'poll: yes or no?', name: 'm' });
  history.keep(parent, 'peer-m', 'm', 1);
  for (let i = 0; i < N; i++) history.keep(sign(mallory, { t: 'chat', text: `reply ${i}`, name: 'm', re: parent.id }), 'peer-m', 'm', 2);
  await history.durable();
  const before = updates;
  for (let k = 0; k < K; k++) history.keep(sign(mallory, { t: 'edit', target: parent.id, text: `poll v${k}` }), 'peer-m', 'm', 3);
  await history.durable();
  const caused = updates - before;
  assert.equal(history.message(parent.id)?.text, `poll v${K - 1}`, 'the edits took effect');
  assert.ok(caused <= K * (1 + REPLIES_REFRESHED), `${K} edits made ${caused} chat.update events (${Math.round(caused / K)} per edit)`);
});
