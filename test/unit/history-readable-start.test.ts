/**
 * Numbers below an author's lowest readable one held (history.ts `readableMin`)
 * are never gaps: this member cannot tell them from messages signed before its
 * admission under the TEK version it joined at (a join steps the revision
 * only). An acknowledged message among them is still not lost across a
 * restart: the summary never claims a number not held, and the first session
 * with each server after a restart starts from cursor 0 (catch-up.ts: no
 * cursor is known yet), so traffic.ts `select` sends it. A later session from
 * a cursor past it would not: that first session is what brings it back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupHistory } from '../../app/peer/history.js';
import { TrafficLog } from '../../app/peer/traffic.js';
import { signMessage, type SignedMessage } from '../../app/peer/payload.js';
import { Profile } from '../../app/store/profile.js';
import { freshHistory, G, signer } from './attacks/review4-fixtures.js';

const alice = signer(1);
const erin = signer(5);
const chat = (s: number): SignedMessage => signMessage(G, alice, { s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, '0') }, { t: 'chat', text: `m${s}`, name: 'Alice' });

test('after a restart, numbers below the lowest readable one are no gap, yet the first session with a server (cursor 0) brings them back', async () => {
  const fresh = freshHistory(erin.key, 'conclave-readable-start-');
  let { profile, history } = fresh;
  history.joinedTek(1);
  // Erin got alice's 3 and 4 live; 1 and 2 (after her admission, acknowledged by others) never reached her.
  for (const s of [3, 4]) history.keep(chat(s), 'peer-alice', 'Alice', 10 + s);
  await history.durable();
  profile.close();
  profile = Profile.open(fresh.dir);
  history = new GroupHistory(profile, G, erin.key, { emit: () => undefined });
  assert.deepEqual(history.gaps(), [], 'below the lowest readable: maybe from before the admission, never chased');
  assert.deepEqual(history.summary()[alice.key], [[3, 4]], 'but never claimed either');

  const server = freshHistory(alice.key, 'conclave-readable-start-server-');
  const traffic = new TrafficLog(server.profile, G, 100);
  const sent = [1, 2, 3, 4].map(chat);
  for (const m of sent) traffic.keep({ from: alice.key, bytes: Buffer.from(m.id), at: m.at, tag: { a: m.a, s: m.s, k: m.k } });
  const first = traffic.select(history.summary(), history.readableFrom(), 0, 500, 1 << 20);
  assert.deepEqual(first.items.map((t) => t.tag?.s), [1, 2], 'the first session after the restart (cursor 0) sends them');
  assert.deepEqual(traffic.select(history.summary(), history.readableFrom(), first.next, 500, 1 << 20).items, [], 'a session from its cursor would not');
  for (const s of [1, 2]) assert.equal(history.keep(sent[s - 1]!, 'peer-alice', 'Alice', 20 + s), 'kept');
  await history.durable();
  assert.deepEqual(history.chatHistory(10).map((m) => m.text), ['m1', 'm2', 'm3', 'm4']);
  profile.close();
  server.profile.close();
});
