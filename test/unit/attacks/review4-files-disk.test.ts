// Review 4 (app/peer/files.ts, files-store.ts, history.ts hooks): a file message is offered to
// files.ts from inside history's `index`, before its record is appended. A 0-byte file (valid:
// size 0, count 0, no hashes) is whole at once, so `offer` goes straight to `finish` and
// `markDone`, which wrote `<group>/files/<handle>.done` without creating the folder: for a member
// holding no file of the group yet (a newcomer given a re-share, a member before its first file)
// it threw ENOENT out of `keep`. The message stayed indexed (a duplicate on every re-delivery,
// listed by chat.history) but was never written: lost, and the rest of the re-share with it.
// Also here: a delete by a non-author removes nothing; a delete that came first wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Body } from '../../../app/peer/payload.js';
import { GroupHistory } from '../../../app/peer/history.js';
import { Files } from '../../../app/peer/files.js';
import { fileHandle } from '../../../app/peer/files-chunks.js';
import { Profile } from '../../../app/store/profile.js';
import type { PeerContext } from '../../../app/peer/peer-context.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { counterSigner, freshHistory, G, signer } from './review4-fixtures.js';

const alice = signer(1);
const bob = signer(2);
const erin = signer(5);
const sign = counterSigner();
const empty: Body = { t: 'file', fid: 'e'.repeat(32), name: 'empty.txt', size: 0, mime: 'text/plain', sha256: createHash('sha256').digest('hex'), key: 'a'.repeat(64), chunk: 256 * 1024, count: 0, hashes: '' };

/** Real Files and GroupHistory on a fresh profile; the context carries only what offer/forget use. */
function setup() {
  const { dir, profile, history } = freshHistory(erin.key, 'conclave-r4-files-');
  const ctx = { profile, groups: new Map(), selfKey: erin.key, emit: () => undefined, log: () => undefined, stopped: () => false } as unknown as PeerContext;
  const files = new Files(ctx);
  files.attach({ group: G, held: history } as unknown as GroupRuntime);
  return { profile, history, files, filesDir: join(dir, 'groups', G, 'files') };
}

test('review4: a 0-byte file as the first file of the group is kept (on disk, ready), and does not stop the rest of a re-share', async () => {
  const { profile, history, files } = setup();
  const m = sign(alice, empty);
  const after = sign(alice, { t: 'chat', text: 'next', name: 'Alice' });
  assert.doesNotThrow(() => history.keep(m, 'peer-alice', 'Alice', 1));
  history.keep(after, 'peer-alice', 'Alice', 2);
  await history.durable();
  assert.equal(files.status(G, fileHandle(alice.key, empty.fid))?.state, 'ready');
  profile.close();
  const again = new GroupHistory(Profile.open(profile.dir), G, erin.key, { emit: () => undefined });
  assert.ok(again.message(m.id)?.file, 'the file message is on disk');
});

test('review4: a delete by another member removes none of the file; its author\'s delete removes it, even when it came first', async () => {
  const { profile, history, files, filesDir } = setup();
  const body = { ...empty, fid: 'd'.repeat(32) };
  const m = sign(alice, body);
  const handle = fileHandle(alice.key, body.fid);
  history.keep(m, 'peer-alice', 'Alice', 1);
  assert.equal(files.status(G, handle)?.state, 'ready');
  history.keep(sign(bob, { t: 'delete', target: m.id }), 'peer-bob', 'Bob', 2);
  assert.equal(files.status(G, handle)?.state, 'ready', "bob's delete of alice's file does nothing");
  assert.ok(existsSync(join(filesDir, `${handle}.done`)));
  history.keep(sign(alice, { t: 'delete', target: m.id }), 'peer-alice', 'Alice', 3);
  await history.durable(); // the chunks go once the delete is on disk (history.ts)
  assert.equal(files.status(G, handle), null, "alice's delete: no longer fetched nor served");
  assert.equal(existsSync(join(filesDir, `${handle}.done`)), false, 'and gone from disk');
  // Alice's own delete, arriving before another file message of hers.
  const later = sign(alice, { ...empty, fid: 'c'.repeat(32) });
  history.keep(sign(alice, { t: 'delete', target: later.id }), 'peer-alice', 'Alice', 3);
  history.keep(later, 'peer-alice', 'Alice', 4);
  assert.equal(files.status(G, fileHandle(alice.key, 'c'.repeat(32))), null, 'deleted before it came: never fetched nor served');
  await history.durable();
  profile.close();
});

test('review4: once this member left the group, its files folder is gone and a late file message writes nothing there again', async () => {
  const { profile, history, files, filesDir } = setup();
  let state = 'member';
  const rt = { group: G, held: history, engine: { state: () => state } } as unknown as GroupRuntime;
  (files as unknown as { ctx: PeerContext }).ctx.groups.set(G, rt);
  history.keep(sign(alice, { ...empty, fid: '1'.repeat(32) }), 'peer-alice', 'Alice', 1);
  assert.ok(existsSync(filesDir));
  state = 'left';
  (files as unknown as { tick(): void }).tick(); // the once-a-second tick finds it
  assert.equal(existsSync(filesDir), false, 'every file of the group is deleted from this device');
  // A message of the group still arriving (an old packet, a replay) is not followed any more.
  history.keep(sign(alice, { ...empty, fid: '2'.repeat(32) }), 'peer-alice', 'Alice', 2);
  assert.equal(existsSync(filesDir), false, 'nothing written for a group left');
  await history.durable();
  profile.close();
});
