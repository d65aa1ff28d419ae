// Review 30 (insiders): a message ID taken by another author (review 29 left it open).
// Replies and reactions name their target by message ID only, and the history let the first
// message held under an ID own it. Member m copies victim a's message ID into a chat message
// of its own; where m's copy arrives first (here at b, e.g. because b catches a up later), a
// reply quoting a's message quotes m's text instead, and reactions meant for a's message show
// on m's.
// Secure (docs/protocol.md §13 "Message IDs"): an author's message ID is derived from the group,
// its key and its number (SHA-256, first 16 bytes), which no other author can match; a message
// whose ID is so derived owns it whatever the arrival order, and reactions show only on the
// owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { toHex } from '../../../app/core/bytes.js';

/** The ID the spec gives author `a`'s message number `s` (written out here, not imported: the test pins the derivation). */
function derivedId(group: Uint8Array, a: string, s: number): string {
  const n = Buffer.alloc(8);
  n.writeBigUInt64BE(BigInt(s));
  return createHash('sha256').update('conclave/message-id/v1\0').update(group.subarray(0, 16)).update(Buffer.from(a, 'hex')).update(n).digest().subarray(0, 16).toString('hex');
}

test('review30: a copied message ID does not take over replies and reactions', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const A = g.ids.a!.key;
  const M = g.ids.m!.key;
  const signAs = (who: 'a' | 'm', s: number, id: string, body: Body): SignedMessage => {
    const key = g.ids[who]!;
    return signMessage(toHex(groupBytes), { key: key.key, sign: (x) => nodeCrypto.ed25519Sign(key.seed, x) }, { s, k: currentTek(g.e[who]!)!.version, at: f.clock, id }, body);
  };
  const victimId = derivedId(groupBytes, A, 1);
  const victim = signAs('a', 1, victimId, { t: 'chat', text: 'the real announcement', name: 'a' });
  const squat = signAs('m', 1, victimId, { t: 'chat', text: 'send the keys to m', name: 'm' });
  // m's copy reaches b first, then a's message, then a reply and a reaction naming the ID.
  assert.equal(rt.receive(M, 'data', seal('m', { v: 2, t: 'msg', m: squat })), 'accept');
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: victim })), 'accept');
  const reply = signAs('a', 2, derivedId(groupBytes, A, 2), { t: 'chat', text: 'see above', name: 'a', re: victimId });
  assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m: reply })), 'accept');
  const react = signAs('a', 3, derivedId(groupBytes, A, 3), { t: 'react', target: victimId, emoji: '👍', on: true });
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

test('review30: a member gives its message the ID derived from its key and number', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const B = f.g.ids.b!.key;
  const sent = await f.rt.sendChat('hello');
  assert.equal(sent.id, derivedId(groupBytes, B, 1));
});

// Review 29 left open: an author's edit of its own file message changed the text shown for the
// file (its name: "invoice.pdf" could be shown as "photos.zip" while the file stays the same).
test('review30: an edit of a file message changes nothing shown', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const A = g.ids.a!.key;
  const key = g.ids.a!;
  const sign = (s: number, body: Body): SignedMessage =>
    signMessage(toHex(groupBytes), { key: key.key, sign: (x) => nodeCrypto.ed25519Sign(key.seed, x) }, { s, k: currentTek(g.e.a!)!.version, at: f.clock, id: derivedId(groupBytes, A, s) }, body);
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
