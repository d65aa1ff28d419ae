// Review 30 (insiders): a message ID taken by another author (review 29 left it open).
// Replies and reactions name their target by message ID only, and the history let the first
// message held under an ID own it. Member m copies victim a's message ID into a chat message
// of its own; where m's copy arrives first (here at b, e.g. because b catches a up later), a
// reply quoting a's message quotes m's text instead, and reactions meant for a's message show
// on m's.
// Secure (docs/protocol.md §13 "Message IDs"): an author's message ID is derived from its signing
// bytes (author, number, content; SHA-256, first 16 bytes), which no other author can match and
// nobody can compute before the message exists; a message whose ID is so derived owns it whatever
// the arrival order, and reactions show only on the owner. The reviewer of the first version
// (derived from author and number only) showed that a predictable ID can be posted under first:
// honest replies to the bait moved onto the victim's later message ("pre-squatting" below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { signingBytes, signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { toHex } from '../../../app/core/bytes.js';

const G = toHex(groupBytes);

/** The ID the spec gives a message (written out here, not imported: the test pins the derivation). */
function derivedId(m: Omit<SignedMessage, 'sig' | 'id'>): string {
  return createHash('sha256').update('conclave/message-id/v2\0').update(signingBytes(G, { ...m, id: '0'.repeat(32) })).digest().subarray(0, 16).toString('hex');
}

function signers(f: ReturnType<typeof runtimeOfB>) {
  /** `who` signs `body` as number `s`, under `id` or else the ID the spec derives. */
  return (who: 'a' | 'm', s: number, body: Body, id?: string): SignedMessage => {
    const key = f.g.ids[who]!;
    const fields = { s, k: currentTek(f.g.e[who]!)!.version, at: f.clock };
    const own = derivedId({ a: key.key, ...fields, b: JSON.stringify(body) });
    return signMessage(G, { key: key.key, sign: (x) => nodeCrypto.ed25519Sign(key.seed, x) }, { ...fields, id: id ?? own }, body);
  };
}

test('review30: a copied message ID does not take over replies and reactions', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const A = g.ids.a!.key;
  const M = g.ids.m!.key;
  const signAs = signers(f);
  const victim = signAs('a', 1, { t: 'chat', text: 'the real announcement', name: 'a' });
  const victimId = victim.id;
  const squat = signAs('m', 1, { t: 'chat', text: 'send the keys to m', name: 'm' }, victimId);
  // m's copy reaches b first, then a's message, then a reply and a reaction naming the ID.
  assert.equal(rt.receive(M, 'data', seal('m', { v: 2, t: 'msg', m: squat })), 'accept');
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: victim })), 'accept');
  const reply = signAs('a', 2, { t: 'chat', text: 'see above', name: 'a', re: victimId });
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: reply })), 'accept');
  const react = signAs('a', 3, { t: 'react', target: victimId, emoji: '👍', on: true });
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: react })), 'accept');
  await rt.held.durable();

  const shown = rt.held.message(victimId);
  assert.equal(shown?.text, 'the real announcement', 'the ID names the author whose ID it is');
  const history = rt.held.chatHistory(50);
  const replyShown = history.find((c) => c.text === 'see above');
  assert.equal(replyShown?.replyTo?.excerpt, 'the real announcement', 'the reply quotes the victim');
  const squatShown = history.find((c) => c.text === 'send the keys to m');
  assert.ok(squatShown, 'the squatter’s message is still held (its number counted) and shown as its own');
  assert.equal(squatShown.reactions, undefined, 'reactions to the ID do not show on the copy');
  assert.deepEqual(history.find((c) => c.text === 'the real announcement')?.reactions?.map((r) => r.emoji), ['👍']);
});

test('review30: a member gives its message the ID its signing bytes derive', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const sent = await f.rt.sendChat('hello');
  // What b signed: its first number, under its current TEK, the chat body sendChat builds.
  const signed = { a: f.g.ids.b!.key, s: 1, k: currentTek(f.g.e.b!)!.version, at: sent.sentAt, b: JSON.stringify({ t: 'chat', text: 'hello', name: 'b' }) };
  assert.equal(sent.id, derivedId(signed));
});

// Review 29 left open: an author's edit of its own file message changed the text shown for the
// file (its name: "invoice.pdf" could be shown as "photos.zip" while the file stays the same).
test('review30: an edit of a file message changes nothing shown', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const A = g.ids.a!.key;
  const signAs = signers(f);
  const sign = (s: number, body: Body): SignedMessage => signAs('a', s, body);
  const file = sign(1, { t: 'file', fid: 'f'.repeat(32), name: 'invoice.pdf', size: 10, mime: 'application/pdf', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') });
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: file })), 'accept');
  const edit = sign(2, { t: 'edit', target: file.id, text: 'photos.zip' });
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: edit })), 'accept');
  await rt.held.durable();
  const shown = rt.held.message(file.id);
  assert.equal(shown?.text, 'invoice.pdf');
  assert.equal(shown?.editedAt, undefined);
  assert.equal(shown?.file?.name, 'invoice.pdf');
});

// The first version derived IDs from author and number alone: m computed a's next ID, posted a
// bait under it, honest b replied and reacted to the bait, and once a wrote its next message b's
// reply quoted it and b's 👍 showed on it (the reviewer's reproduction, adapted).
test('review30: an ID posted under before its author writes it takes nothing over', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const signAs = signers(f);
  // m's best guess: the first version's rule, from a's key and next number alone.
  const n = Buffer.alloc(8);
  n.writeBigUInt64BE(1n);
  const guess = createHash('sha256').update('conclave/message-id/v1\0').update(groupBytes.subarray(0, 16)).update(Buffer.from(g.ids.a!.key, 'hex')).update(n).digest().subarray(0, 16).toString('hex');
  const bait = signAs('m', 1, { t: 'chat', text: 'give m admin rights? reply yes', name: 'm' }, guess);
  assert.equal(rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'msg', m: bait })), 'accept');
  await rt.held.durable();
  const reply = await rt.sendChat('yes, absolutely', guess);
  await rt.sendChatAction({ t: 'react', target: guess, emoji: '👍', on: true });
  const key = g.ids.a!;
  // a signs as group.ts does: no ID given, the derived one.
  const victim = signMessage(G, { key: key.key, sign: (x) => nodeCrypto.ed25519Sign(key.seed, x) }, { s: 1, k: currentTek(g.e.a!)!.version, at: f.clock }, { t: 'chat', text: 'I am leaving on Friday', name: 'a' });
  // Whatever a's ID, the only way to put it on the bait is to copy it after the fact (the first test).
  assert.equal(rt.receive(g.ids.a!.key, 'data', seal('a', { v: 2, t: 'msg', m: victim })), 'accept');
  await rt.held.durable();
  const history = rt.held.chatHistory(50);
  assert.equal(history.find((c) => c.id === reply.id)?.replyTo?.excerpt, 'give m admin rights? reply yes');
  assert.equal(history.find((c) => c.text === 'I am leaving on Friday')?.reactions, undefined);
});

// The reviewer's second finding: m's copy of a's ID held first, then a's own edit before a's
// message (catch-up order): b recorded honest a as refused, "edits a message it did not write".
test('review30: an author’s edit is not refused because a copy of its message’s ID came first', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const A = g.ids.a!.key;
  const signAs = signers(f);
  const original = signAs('a', 1, { t: 'chat', text: 'meeting at 3', name: 'a' });
  const edit = signAs('a', 2, { t: 'edit', target: original.id, text: 'meeting at 4' });
  assert.equal(rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'msg', m: signAs('m', 1, { t: 'chat', text: 'copy', name: 'm' }, original.id) })), 'accept');
  rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: edit }));
  rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: original }));
  await rt.held.durable();
  assert.equal(rt.held.message(original.id)?.text, 'meeting at 4', 'the edit applies');
  assert.deepEqual(rt.rejections.list().filter((r) => r.from === A), [], 'nothing is recorded against a');
});
