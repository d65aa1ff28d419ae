/**
 * A message whose record fails to reach disk (its fsync fails, history.ts `keep`)
 * was never shown, so it must not be lost either (issue 19): its number is not
 * claimed in the reconciliation summary, it counts as missing (a gap, even when it
 * was its author's last message), and a copy that reconciliation brings is written
 * again, then shown. Also: the unread count counts only messages on disk, as
 * `chatHistory` lists them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GroupHistory } from '../../app/peer/history.js';
import { signMessage, type SignedMessage } from '../../app/peer/payload.js';
import { Profile } from '../../app/store/profile.js';
import { freshHistory, G, signer } from './attacks/review4-fixtures.js';

const alice = signer(1);
const erin = signer(5);
const chat = (s: number): SignedMessage => signMessage(G, alice, { s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, '0') }, { t: 'chat', text: `m${s}`, name: 'Alice' });

/** A history over a profile whose fsyncs fail for the messages numbered in `failing` (the record may or may not be written). */
function withFailingFsync(failing: Set<number>): { dir: string; profile: Profile; history: GroupHistory; shown: string[] } {
  const fresh = freshHistory(erin.key, 'conclave-fsync-fail-');
  const shown: string[] = [];
  const durable = fresh.profile.appendDurable.bind(fresh.profile);
  fresh.profile.appendDurable = (group, log, record) => {
    const s = (record as { m?: SignedMessage }).m?.s;
    if (s !== undefined && failing.has(s)) {
      failing.delete(s); // once
      return durable(group, log, record).then(() => Promise.reject(new Error('EIO: fsync failed')));
    }
    return durable(group, log, record);
  };
  const history = new GroupHistory(fresh.profile, G, erin.key, { emit: (event, p) => void (event === 'chat.message' && shown.push((p as { text: string }).text)) });
  history.joinedTek(1);
  return { ...fresh, history, shown };
}

async function settled(history: GroupHistory): Promise<void> {
  await history.durable().catch(() => undefined);
  await new Promise((r) => setImmediate(r));
}

test('a message whose fsync failed is not claimed, is a gap, and a copy brought back is kept and shown', async () => {
  const { dir, profile, history, shown } = withFailingFsync(new Set([2]));
  for (const s of [1, 2, 3]) assert.equal(history.keep(chat(s), 'peer-alice', 'Alice', 10 + s), 'kept');
  await settled(history);
  assert.deepEqual(shown, ['m1', 'm3'], 'not shown: it is not on disk');
  assert.equal(history.unread('peer-erin', 0), 2, 'not counted as unread either');
  assert.deepEqual(history.summary()[alice.key], [[1, 1], [3, 3]], 'its number is not claimed as held');
  assert.deepEqual(history.gaps(64, 0), [{ author: alice.key, missing: [[2, 2]] }], 'a gap: reconciliation asks for it');
  assert.equal(history.keep(chat(2), 'peer-alice', 'Alice', 30), 'kept', 'a copy (reconciliation) is kept');
  await history.durable();
  assert.deepEqual(shown, ['m1', 'm3', 'm2']);
  assert.deepEqual(history.summary()[alice.key], [[1, 3]]);
  assert.deepEqual(history.gaps(64, 0), []);
  assert.equal(history.keep(chat(2), 'peer-alice', 'Alice', 31), 'duplicate', 'once on disk, a copy is a duplicate again');
  profile.close();
  // The failed write may have reached the disk: read back twice, it is one message.
  const reopened = new GroupHistory(Profile.open(dir), G, erin.key, { emit: () => undefined });
  assert.deepEqual(reopened.chatHistory(10).map((m) => m.text), ['m1', 'm2', 'm3']);
  rmSync(dir, { recursive: true, force: true });
});

test("an author's last message whose fsync failed is a gap too: no later message would show it", async () => {
  const { dir, profile, history, shown } = withFailingFsync(new Set([3]));
  for (const s of [1, 2, 3]) history.keep(chat(s), 'peer-alice', 'Alice', 10 + s);
  await settled(history);
  assert.deepEqual(shown, ['m1', 'm2']);
  assert.deepEqual(history.summary()[alice.key], [[1, 2]]);
  assert.deepEqual(history.gaps(64, 0), [{ author: alice.key, missing: [[3, 3]] }]);
  assert.equal(history.keep(chat(3), 'peer-alice', 'Alice', 30), 'kept');
  await history.durable();
  assert.deepEqual(shown, ['m1', 'm2', 'm3']);
  assert.deepEqual(history.gaps(64, 0), []);
  profile.close();
  rmSync(dir, { recursive: true, force: true });
});

test('unread counts only messages on disk', async () => {
  const { dir, profile, history } = withFailingFsync(new Set());
  history.keep(chat(1), 'peer-alice', 'Alice', 11);
  assert.equal(history.unread('peer-erin', 0), 0, 'not on disk yet: not listed, not counted');
  await history.durable();
  assert.equal(history.unread('peer-erin', 0), 1);
  profile.close();
  rmSync(dir, { recursive: true, force: true });
});
