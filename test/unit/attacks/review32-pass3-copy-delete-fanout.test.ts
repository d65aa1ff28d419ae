// Review 32 pass 3 (8bd18cb): a delete now refreshes EVERY reply to its target ID, on the ground
// that "a delete happens once per message". But replies are indexed by ID alone, and any insider
// may post a message under a copy of someone else's ID (it never owns it: review 30). Deleting
// that copy returns `children.get(target)`: every reply, by anyone, to the victim's popular
// message, though their quote (the owner's text) did not change. Each insider gets this once per
// ID held in the group, for two messages each (copy + delete): across a history of popular
// messages, one insider replays a chat.update for every reply ever made, at every member's UI;
// with edits the same copy refreshes the newest 64 on every edit. Nothing shown changes.
// Secure: deleting a message that does not own its ID refreshes no reply (their quote is the owner's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { signMessage } from '../../../app/peer/payload.js';
import { G, signer } from './review4-fixtures.js';
import type { ChatMessage } from '../../../app/api/contract.js';

test('review32-pass3: deleting a copy of a popular message\'s ID does not refresh its replies', { timeout: 15_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-r32p3-copydel-'));
  const profile = Profile.open(dir);
  t.after(() => {
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const updates: string[] = [];
  const events = { emit: (name: string, m: ChatMessage) => void (name === 'chat.update' && updates.push(m.id)) };
  const history = new GroupHistory(profile, G, signer(1).key, events as never);
  const alice = signer(2);
  const bob = signer(3);
  const mallory = signer(7);
  let n = 0;
  const seq = () => ({ s: ++n, k: 1, at: 1000 + n });
  const popular = signMessage(G, alice, seq(), { t: 'chat', text: 'lunch at noon?', name: 'alice' }); // derived ID: Alice owns it
  history.keep(popular, 'peer-a', 'alice', 1);
  const REPLIES = 2000;
  for (let i = 0; i < REPLIES; i++) history.keep(signMessage(G, bob, seq(), { t: 'chat', text: `reply ${i}`, name: 'bob', re: popular.id }), 'peer-b', 'bob', 2);
  await history.durable();
  const quoteBefore = history.message(signMessage(G, bob, { s: 2, k: 1, at: 1002 }, { t: 'chat', text: 'reply 0', name: 'bob', re: popular.id }).id)?.replyTo;
  const copy = signMessage(G, mallory, { ...seq(), id: popular.id }, { t: 'chat', text: 'copy', name: 'm' });
  history.keep(copy, 'peer-m', 'm', 3);
  await history.durable();
  updates.length = 0;
  history.keep(signMessage(G, mallory, seq(), { t: 'delete', target: popular.id }), 'peer-m', 'm', 4);
  await history.durable();
  assert.equal(history.message(popular.id)?.deleted, undefined, 'Alice\'s message is untouched');
  assert.deepEqual(quoteBefore?.excerpt, 'lunch at noon?', 'replies quote Alice');
  const replyUpdates = updates.filter((id) => id !== popular.id).length;
  assert.ok(replyUpdates <= 1, `one delete of Mallory's copy of the ID sent ${replyUpdates} chat.update events for Bob's replies, whose quote did not change`);
});
