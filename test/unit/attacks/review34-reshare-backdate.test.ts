// Review 34, attack on 710d940 (docs/protocol.md §13 "Message times"): the live floor (a message
// published now is listed no earlier than five minutes before it arrived) is applied only to a
// `msg` payload (group.ts onData: `live` is passed to keepReceived for `msg` only). A file
// re-share (`{t:'files', items}`) goes through keepReceived(…, shared = true) with live = false,
// and rule 1 lets a re-share carry any member's file message, its carrier's own included. So an
// insider m publishes, LIVE and right now, a "re-share" holding a fresh file message of its own
// (its name is the text shown: "I-warned-you-about-the-deploy.pdf") dated three hours back: every
// member lists it three hours back, inside a stretch of the conversation it already saw, with no
// reconciliation trick at all. Its own earlier messages are no floor either when m gives the
// re-shared one a number below them (second test: numbers are the author's to choose).
// Secure: a message that reaches a member live, in whatever payload, is listed no earlier than
// five minutes before it arrived (at least when its author is the carrier, or when it is under a
// TEK the receiver could read live); it is not listed before what the receiver saw before it came.
// Both tests FAILED on 710d940 (the attack worked). Fixed: a file message in a re-share dated after
// the receiver joined is not taken from it (a re-share brings a newcomer what was said before it
// joined; later messages come live or by reconciliation, where their times are bounded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes, PARAMS } from './forge.js';
import { signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { toHex } from '../../../app/core/bytes.js';

const HOUR = 3_600_000;
const START = 10 * HOUR;

function fixture() {
  const f = runtimeOfB({}, { start: START, params: { ...PARAMS, heartbeatMs: 60_000 }, ageMs: 6 * HOUR });
  /** `who` signs `body` under number `s`, dated `at` (a genuine signature: only the date lies). */
  const signed = (who: string, s: number, at: number, body: Body): SignedMessage => {
    const id = f.g.ids[who]!;
    return signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s, k: currentTek(f.g.e[who]!)!.version, at, id: randomBytes(16).toString('hex') }, body);
  };
  const chat = (who: string, s: number, at: number, text: string) => signed(who, s, at, { t: 'chat', text, name: who });
  const file = (who: string, s: number, at: number, name: string) =>
    signed(who, s, at, { t: 'file', fid: randomBytes(16).toString('hex'), name, size: 10, mime: 'application/pdf', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') });
  const live = (who: string, m: SignedMessage) => assert.equal(f.rt.receive(f.g.ids[who]!.key, 'data', f.seal(who, { v: 2, t: 'msg', m })), 'accept');
  const caughtUp = (who: string, m: SignedMessage) => assert.equal(f.rt.receive(f.g.ids[who]!.key, 'data', f.seal(who, { v: 2, t: 'msg', m }), true), 'accept');
  /** `who` publishes, live, a file re-share holding `items`. */
  const reshare = (who: string, items: SignedMessage[]) => assert.equal(f.rt.receive(f.g.ids[who]!.key, 'data', f.seal(who, { v: 2, t: 'files', items })), 'accept');
  const texts = () => f.rt.held.chatHistory(50).map((x) => x.text);
  return { ...f, chat, file, live, caughtUp, reshare, texts };
}

/** Secure: the planted file message is not taken from the re-share, or is listed after everything b saw before it came (`seen`), at most five minutes before it arrived. */
function notPlantedEarly(f: ReturnType<typeof fixture>, seen: string[]): void {
  const planted = f.rt.held.chatHistory(50).find((x) => x.text.startsWith('I-warned'));
  if (!planted) return assert.deepEqual(f.texts(), seen, 'not taken from the re-share at all');
  assert.deepEqual(f.texts(), [...seen, planted.text], 'listed after what b saw before it came');
  assert.ok(planted.sentAt >= f.clock - 5 * 60_000, `listed at most five minutes before it arrived live (listed ${(f.clock - planted.sentAt) / HOUR} h before)`);
}

test('attack (review 34): an insider publishes its own fresh file message, backdated three hours, live inside a file re-share', async (t) => {
  const f = fixture();
  t.after(f.done);
  // What b saw of the conversation: a's messages of two hours and one hour ago (by reconciliation: they keep their times).
  f.caughtUp('a', f.chat('a', 1, f.clock - 2 * HOUR, 'the deploy is at noon'));
  f.caughtUp('a', f.chat('a', 2, f.clock - HOUR, 'deploy went fine'));
  // Now, live: m "re-shares" a file message it signs now, dated three hours ago.
  f.reshare('m', [f.file('m', 1, f.clock - 3 * HOUR, 'I-warned-you-about-the-deploy.pdf')]);
  await f.rt.held.durable();
  notPlantedEarly(f, ['the deploy is at noon', 'deploy went fine']);
});

test("attack (review 34): the re-shared file takes a number below the insider's earlier messages, so they are no floor either", async (t) => {
  const f = fixture();
  t.after(f.done);
  f.caughtUp('a', f.chat('a', 1, f.clock - 2 * HOUR, 'the deploy is at noon'));
  // m talks normally, live, but under a high number (its first here: nothing is a gap).
  f.live('m', f.chat('m', 1000, f.clock, 'hi all'));
  // Then m re-shares, live, a file message under number 2, dated three hours back.
  f.reshare('m', [f.file('m', 2, f.clock - 3 * HOUR, 'I-warned-you-about-the-deploy.pdf')]);
  await f.rt.held.durable();
  notPlantedEarly(f, ['the deploy is at noon', 'hi all']);
});
