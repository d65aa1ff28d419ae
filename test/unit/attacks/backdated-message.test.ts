// An insider dates its chat message hours back (the signed `at` had an upper bound only,
// authorship.ts rule 5): the history sorted by that time, so the message sat in an old stretch
// of the conversation, as if said then. Through a real GroupRuntime of member b
// (review29-fixtures.ts), in a group created ten hours after the epoch and run for six hours
// (one-minute heartbeats) before b's runtime starts.
// Secure (docs/protocol.md §13 "Message times"): a message is shown no earlier than its arrival
// allows (live: five minutes before it arrived), than its author's previous message, or than its
// author's admission (less two minutes of clock skew); the time it claimed stays visible
// (`claimedAt`). An honest message that comes late by reconciliation keeps its own time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes, PARAMS } from './forge.js';
import { signMessage, type SignedMessage } from '../../../app/peer/payload.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { toHex } from '../../../app/core/bytes.js';
import { GroupHistory } from '../../../app/peer/history.js';
import { MsgType } from '../../../app/core/wire.js';

const HOUR = 3_600_000;
const START = 10 * HOUR;

function fixture() {
  const f = runtimeOfB({}, { start: START, params: { ...PARAMS, heartbeatMs: 60_000 }, ageMs: 6 * HOUR });
  for (const n of ['a', 'b', 'm']) assert.equal(f.g.e[n]!.state(), 'member');
  const seq = new Map<string, number>();
  /** `who`'s next message, dated `at` (its signature is genuine: only the date lies). */
  const dated = (who: string, text: string, at: number): SignedMessage => {
    const id = f.g.ids[who]!;
    const s = (seq.get(who) ?? 0) + 1;
    seq.set(who, s);
    return signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s, k: currentTek(f.g.e[who]!)!.version, at, id: randomBytes(16).toString('hex') }, { t: 'chat', text, name: who });
  };
  const live = (who: string, m: SignedMessage) => assert.equal(f.rt.receive(f.g.ids[who]!.key, 'data', f.seal(who, { v: 2, t: 'msg', m })), 'accept');
  const caughtUp = (who: string, m: SignedMessage) => assert.equal(f.rt.receive(f.g.ids[who]!.key, 'data', f.seal(who, { v: 2, t: 'msg', m }), true), 'accept');
  const texts = () => f.rt.held.chatHistory(50).map((x) => x.text);
  return { ...f, dated, live, caughtUp, texts };
}

test('attack: an insider backdates a live message into an old stretch of the conversation', async (t) => {
  const f = fixture();
  t.after(f.done);
  // a's message of an hour ago reaches b late, by reconciliation: it keeps its time.
  f.caughtUp('a', f.dated('a', 'the deploy is at noon', f.clock - HOUR));
  // m's message, sent now, claims to be three hours old.
  f.live('m', f.dated('m', 'I warned you about the deploy', f.clock - 3 * HOUR));
  await f.rt.held.durable();
  assert.deepEqual(f.texts(), ['the deploy is at noon', 'I warned you about the deploy'], 'the backdated message is listed after what was said before it arrived');
  const [honest, backdated] = f.rt.held.chatHistory(50);
  assert.equal(honest!.sentAt, f.clock - HOUR, 'a message that came late by reconciliation keeps its own time');
  assert.equal(honest!.claimedAt, undefined);
  assert.ok(backdated!.sentAt >= f.clock - 5 * 60_000, `shown at most five minutes before it arrived (${(f.clock - backdated!.sentAt) / 1000} s)`);
  assert.equal(backdated!.claimedAt, f.clock - 3 * HOUR, 'the time it claimed is kept, for the user to see');
});

test("attack: an insider backdates a message it serves by reconciliation to before its own earlier message", async (t) => {
  const f = fixture();
  t.after(f.done);
  f.live('m', f.dated('m', 'first', f.clock - 10_000));
  f.caughtUp('a', f.dated('a', 'an hour ago', f.clock - HOUR));
  f.caughtUp('m', f.dated('m', 'second, claimed two hours ago', f.clock - 2 * HOUR));
  await f.rt.held.durable();
  const second = f.rt.held.chatHistory(50).find((x) => x.text.startsWith('second'))!;
  assert.ok(second.sentAt > f.clock - 10_000, "after its author's previous message");
  assert.ok(second.sentAt <= f.clock, 'and not after it arrived');
  assert.equal(second.claimedAt, f.clock - 2 * HOUR);
  assert.equal(f.texts().at(-1), 'second, claimed two hours ago');
});

test("attack: an insider's first message, by reconciliation, dated before the group existed", async (t) => {
  const f = fixture();
  t.after(f.done);
  const admitted = (n: string) => f.rt.engine.rosterAdmittedAt(f.g.ids[n]!.key)!;
  assert.ok(admitted('m') >= START && admitted('b') >= START, 'b and m were admitted after the group was created');
  f.caughtUp('m', f.dated('m', 'I was here all along', START - 5 * HOUR));
  await f.rt.held.durable();
  const [shown] = f.rt.held.chatHistory(50);
  // m was admitted after b, which took that admission in itself (M1, signed by its admitter, checked against b's clock): it
  // counts as is. (The roster's times of members admitted before b came from b's admitter, unsigned: those count no later
  // than b's own join, review34-admitter-roster-time; capping m's too let it date messages before its admission, review 40.)
  assert.ok(admitted('m') > admitted('b'));
  assert.equal(shown!.sentAt, admitted('m') - 2 * 60_000, 'no earlier than its admission, less two minutes of skew');
  assert.equal(shown!.claimedAt, START - 5 * HOUR);
});

test('attack: an insider that makes a new TEK seals a backdated message under it, so that members hold it until the key comes', async (t) => {
  const f = fixture();
  t.after(f.done);
  f.caughtUp('a', f.dated('a', 'an hour ago', f.clock - HOUR));
  // m excludes a: its table makes a new TEK, which b does not hold yet (b's engine is the runtime's, off the forge network).
  const before = currentTek(f.g.e.m!)!.version;
  f.g.e.m!.exclude([f.g.ids.a!.key], f.g.net.now);
  f.g.net.settle();
  assert.equal(currentTek(f.g.e.m!)!.version, before + 1);
  // Published now under the new TEK, dated three hours back: b holds it until its key comes.
  f.live('m', f.dated('m', 'I said so before all this', f.clock - 3 * HOUR));
  await f.rt.held.durable();
  assert.deepEqual(f.texts(), ['an hour ago'], 'not opened yet');
  for (const bytes of f.g.net.published(f.g.ids.m!.key, MsgType.Table)) f.rt.receive(f.g.ids.m!.key, 'control', bytes);
  await f.rt.held.durable();
  assert.deepEqual(f.texts(), ['an hour ago', 'I said so before all this'], 'opened once the table came, and listed after what b saw before it came');
  const planted = f.rt.held.chatHistory(50)[1]!;
  assert.ok(planted.sentAt >= f.clock - 5 * 60_000, `no earlier than five minutes before it arrived (${(f.clock - planted.sentAt) / HOUR} h)`);
  assert.equal(planted.claimedAt, f.clock - 3 * HOUR);
});

test('a clamped time is kept in the history log: the same after a restart', async (t) => {
  const f = fixture();
  t.after(f.done);
  f.live('m', f.dated('m', 'backdated', f.clock - 3 * HOUR));
  f.live('a', f.dated('a', 'honest, a little slow clock', f.clock - 60_000));
  await f.rt.held.durable();
  const before = f.rt.held.chatHistory(50).map((x) => [x.text, x.sentAt, x.claimedAt]);
  const reopened = new GroupHistory(f.profile, f.rt.group, f.g.ids.b!.key, { emit: () => undefined });
  assert.deepEqual(reopened.chatHistory(50).map((x) => [x.text, x.sentAt, x.claimedAt]), before);
  assert.deepEqual(before[1], ['honest, a little slow clock', f.clock - 60_000, undefined], 'a small difference (a slow clock) changes nothing');
});
