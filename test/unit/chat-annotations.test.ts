/**
 * Replies, reactions, edits and deletes (issue 18 §2): payload.ts body kinds,
 * chat-annotations.ts rules through history.ts. The attack first: an edit or
 * delete by anyone but the author is dropped, in either arrival order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../../app/crypto/node.js';
import { parseBody, signMessage, verifyMessage, type Body, type SignedMessage } from '../../app/peer/payload.js';
import { GroupHistory } from '../../app/peer/history.js';
import { Profile } from '../../app/store/profile.js';
import type { ChatMessage } from '../../app/api/contract.js';
import { signer } from './signers.js';

const G = '11'.repeat(16);
const alice = signer(1);
const bob = signer(2);
const carol = signer(3);
const peer = (who: { key: string }) => `peer-${who.key.slice(0, 6)}`;
let idn = 0;
const nextId = () => (++idn).toString(16).padStart(32, '0');
const seqs = new Map<string, number>();
const sign = (who: ReturnType<typeof signer>, body: Body, at = 1000): SignedMessage => {
  const s = (seqs.get(who.key) ?? 0) + 1;
  seqs.set(who.key, s);
  return signMessage(G, who, { s, k: 1, at }, body); // the ID its signing bytes derive (payload.ts messageIdFor)
};
const chat = (text: string, re?: string): Body => (re ? { t: 'chat', text, name: 'n', re } : { t: 'chat', text, name: 'n' });

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-notes-'));
  const profile = Profile.open(dir);
  const got: { event: string; payload: ChatMessage }[] = [];
  const events = { emit: (event: string, payload: unknown) => void got.push({ event, payload: payload as ChatMessage }) };
  const history = new GroupHistory(profile, G, alice.key, events);
  const keep = (m: SignedMessage, at = 5) => history.keep(m, peer({ key: m.a }), 'Name', at);
  // As shown now (chat.history lists a message only once on disk: durability.test.ts; an
  // action changes what is shown only once on disk: review4-open.test.ts).
  const shown = (id: string) => history.message(id) ?? undefined;
  return { dir, profile, history, got, keep, shown, reopen: () => (profile.close(), new GroupHistory(Profile.open(dir), G, alice.key, { emit: () => undefined })) };
}

test('body kinds: react, edit, delete and a reply verify; a malformed one is refused; an unknown kind is held, not shown', () => {
  const target = nextId();
  for (const body of [chat('re', target), { t: 'react', target, emoji: '👍', on: true }, { t: 'edit', target, text: 'x' }, { t: 'delete', target }] as Body[]) {
    assert.equal(verifyMessage(nodeCrypto, G, sign(alice, body)).ok, true, JSON.stringify(body));
  }
  assert.equal(parseBody(JSON.stringify({ t: 'react', target, emoji: 'abc', on: true })), null, 'a reaction is an emoji, not text');
  assert.equal(parseBody(JSON.stringify({ t: 'edit', target: 'nothex', text: 'x' })), null);
  assert.equal(parseBody(JSON.stringify({ t: 'delete', target, extra: 1 })), null);
  assert.deepEqual(parseBody(JSON.stringify({ t: 'poll', question: '?' })), { t: 'unknown', kind: 'poll' });
  const { history, keep, got } = fresh();
  const future = { ...sign(bob, chat('x')), b: JSON.stringify({ t: 'poll' }) };
  assert.equal(keep(future), 'kept', 'held for numbering');
  assert.equal(history.has(bob.key, future.s), true);
  assert.equal(history.chatHistory(10).length, 0);
  assert.equal(got.length, 0);
});

test('attack: an edit or delete by someone other than the author is dropped, in either arrival order', async () => {
  const { history, keep, shown } = fresh();
  const original = sign(alice, chat('hello'));
  assert.equal(keep(original), 'kept');
  assert.equal(keep(sign(bob, { t: 'edit', target: original.id, text: 'pwned' })), 'not-author');
  assert.equal(keep(sign(bob, { t: 'delete', target: original.id })), 'not-author');
  await history.durable(); // an action takes effect once on disk: none here, even then
  assert.equal(shown(original.id)?.text, 'hello');
  assert.equal(shown(original.id)?.deleted, undefined);
  assert.equal(shown(original.id)?.editedAt, undefined);

  // Mallory's edit arrives before the message it names (catch-up order): never applied once it does.
  const second = fresh();
  const later = sign(alice, chat('original'));
  assert.equal(second.keep(sign(carol, { t: 'edit', target: later.id, text: 'forged' })), 'kept');
  assert.equal(second.keep(sign(carol, { t: 'delete', target: later.id })), 'kept');
  assert.equal(second.keep(later), 'kept');
  await second.history.durable();
  assert.equal(second.shown(later.id)?.text, 'original');
  assert.equal(second.shown(later.id)?.deleted, undefined);
});

test('an edit by the author shows "edited" (its last one wins, any order); a delete leaves a tombstone and is final', async () => {
  const { history, keep, shown, got, reopen } = fresh();
  const m = sign(bob, chat('first'));
  const e1 = sign(bob, { t: 'edit', target: m.id, text: 'second' }, 2000);
  const e2 = sign(bob, { t: 'edit', target: m.id, text: 'third' }, 3000);
  keep(e2); // arrives before its parent and before the earlier edit
  keep(m);
  keep(e1);
  await history.durable(); // clients hear of a message, and an action takes effect, once it is on disk
  assert.equal(shown(m.id)?.text, 'third');
  assert.equal(shown(m.id)?.editedAt, 3000);
  assert.equal(got.find((e) => e.event === 'chat.message')?.payload.text, 'third', 'the message reaches clients already edited');
  const del = sign(bob, { t: 'delete', target: m.id });
  keep(del);
  await history.durable();
  assert.deepEqual({ text: shown(m.id)?.text, deleted: shown(m.id)?.deleted }, { text: '', deleted: true });
  assert.equal(got.at(-1)?.event, 'chat.update');
  assert.equal(got.at(-1)?.payload.deleted, true);
  keep(sign(bob, { t: 'edit', target: m.id, text: 'back' }));
  await history.durable();
  assert.equal(shown(m.id)?.deleted, true, 'an edit after a delete changes nothing');
  assert.equal(keep(del), 'duplicate');
  // The same state after a restart (rebuilt from the log).
  const again = reopen();
  const afterRestart = again.chatHistory(10).find((x) => x.id === m.id);
  assert.deepEqual({ text: afterRestart?.text, deleted: afterRestart?.deleted }, { text: '', deleted: true });
});

test('reactions aggregate per emoji with who reacted; toggling off withdraws; only the latest of a reactor counts', async () => {
  const { history, keep, shown } = fresh();
  const m = sign(alice, chat('vote'));
  keep(m);
  keep(sign(bob, { t: 'react', target: m.id, emoji: '👍', on: true }));
  keep(sign(carol, { t: 'react', target: m.id, emoji: '👍', on: true }));
  keep(sign(carol, { t: 'react', target: m.id, emoji: '🎉', on: true }));
  const off = sign(carol, { t: 'react', target: m.id, emoji: '🎉', on: false });
  const stale = sign(alice, { t: 'react', target: m.id, emoji: '🎉', on: true });
  const staleOff = sign(alice, { t: 'react', target: m.id, emoji: '🎉', on: false });
  keep(off);
  keep(staleOff);
  keep(stale); // an older number arriving late does not turn it back on
  await history.durable();
  assert.deepEqual(shown(m.id)?.reactions, [{ emoji: '👍', by: [peer(bob), peer(carol)] }]);
});

test('a reply quotes its parent (edited, deleted, or not yet held) and is updated when the parent arrives', async () => {
  const { history, keep, shown, got } = fresh();
  const parent = sign(alice, chat('the question'));
  const reply = sign(bob, chat('the answer', parent.id));
  keep(reply);
  assert.deepEqual(shown(reply.id)?.replyTo, { id: parent.id });
  keep(parent);
  assert.deepEqual(shown(reply.id)?.replyTo, { id: parent.id, sender: peer(alice), senderName: 'Name', excerpt: 'the question' });
  await history.durable();
  assert.ok(got.some((e) => e.event === 'chat.update' && e.payload.id === reply.id && e.payload.replyTo?.excerpt === 'the question'));
  keep(sign(alice, { t: 'edit', target: parent.id, text: 'the real question' }));
  await history.durable();
  assert.equal(shown(reply.id)?.replyTo?.excerpt, 'the real question');
  keep(sign(alice, { t: 'delete', target: parent.id }));
  await history.durable();
  assert.equal(shown(reply.id)?.replyTo?.deleted, true);
  assert.equal(shown(reply.id)?.replyTo?.excerpt, undefined);
});
