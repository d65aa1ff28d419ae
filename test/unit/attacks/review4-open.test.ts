// Review 4, holes left open (todo: each needs more than a local fix; see the todo text), and the ones closed since.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Body } from '../../../app/peer/payload.js';
import { TrafficLog } from '../../../app/peer/traffic.js';
import { counterSigner, freshHistory, G, signer } from './review4-fixtures.js';

const alice = signer(1);
const erin = signer(5);
const sign = counterSigner();

test('review4: chat.history shows an edit, a delete or a reaction only once its record is on disk (as chat.update does)', async () => {
  const { profile, history } = freshHistory(erin.key, 'conclave-r4-open-');
  const shown: string[] = [];
  history.onFileDeleted = (handle) => void shown.push(`chunks of ${handle} dropped`);
  const m = sign(alice, { t: 'chat', text: 'original', name: 'Alice' });
  history.keep(m, 'peer-alice', 'Alice', 1);
  await history.durable();
  history.reporter.take(); // what is on disk so far was reported
  const edit = sign(alice, { t: 'edit', target: m.id, text: 'edited' });
  history.keep(edit, 'peer-alice', 'Alice', 2);
  // The edit's fsync has not run yet (appendDurable resolves off the event loop).
  assert.equal(history.chatHistory(10)[0]?.text, 'original', 'an edit not yet on disk is not listed');
  assert.equal(history.message(m.id)?.text, 'original', 'nor shown by chat.message');
  assert.equal(history.keep(edit, 'peer-alice', 'Alice', 2), 'duplicate', 'a copy arriving meanwhile is a duplicate');
  assert.deepEqual(history.reporter.take(), [], 'no receipt claims it before its fsync');
  await history.durable();
  assert.equal(history.chatHistory(10)[0]?.text, 'edited');
  assert.deepEqual(history.reporter.take(), [[alice.key, 1, 2]], 'claimed once on disk');

  history.keep(sign(alice, { t: 'react', target: m.id, emoji: '👍', on: true }), 'peer-alice', 'Alice', 3);
  assert.equal(history.chatHistory(10)[0]?.reactions, undefined, 'a reaction not yet on disk is not listed');
  await history.durable();
  assert.deepEqual(history.chatHistory(10)[0]?.reactions, [{ emoji: '👍', by: ['peer-alice'] }]);

  const file = sign(alice, { t: 'file', fid: 'f'.repeat(32), name: 'a.png', size: 10, mime: 'image/png', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') });
  history.keep(file, 'peer-alice', 'Alice', 4);
  await history.durable();
  for (const target of [m, file]) history.keep(sign(alice, { t: 'delete', target: target.id }), 'peer-alice', 'Alice', 5);
  assert.deepEqual(history.chatHistory(10).map((x) => x.deleted), [undefined, undefined], 'a delete not yet on disk is not listed');
  assert.deepEqual(shown, [], "nor are a deleted file's chunks dropped");
  await history.durable();
  assert.deepEqual(history.chatHistory(10).map((x) => x.deleted), [true, true]);
  assert.equal(shown.length, 1);
  profile.close();
});

test('review4: an edit lost to a crash before its fsync was never shown, and reconciliation brings it back', async () => {
  // The edit's record never reached the disk: the member restarts with the message alone.
  const { profile, history } = freshHistory(erin.key, 'conclave-r4-open-crash-');
  const m = sign(alice, { t: 'chat', text: 'original', name: 'Alice' });
  const edit = sign(alice, { t: 'edit', target: m.id, text: 'edited' });
  history.keep(m, 'peer-alice', 'Alice', 1);
  await history.durable();
  // Its number is not held, so the reconciliation summary does not claim it and a server sends it
  // (traffic.ts `select`), even though no later message of alice's shows a gap.
  assert.equal(history.has(alice.key, edit.s), false);
  assert.deepEqual(history.summary()[alice.key], [[m.s, m.s]]);
  const server = freshHistory(alice.key, 'conclave-r4-open-server-');
  const traffic = new TrafficLog(server.profile, G, 100);
  for (const x of [m, edit]) traffic.keep({ from: alice.key, bytes: Buffer.from(x.id), at: 1, tag: { a: x.a, s: x.s, k: x.k } });
  const sent = traffic.select(history.summary(), history.readableFrom(), 0, 10, 1 << 20).items;
  assert.deepEqual(sent.map((t) => t.tag?.s), [edit.s], 'only the lost edit is sent');
  assert.equal(history.keep(edit, 'peer-alice', 'Alice', 2), 'kept', 'not a duplicate: it was never held here');
  await history.durable();
  assert.equal(history.chatHistory(10)[0]?.text, 'edited');
  profile.close();
  server.profile.close();
});

test(
  "review4: a member re-sharing a file its author deleted does not bring it back on a newcomer's device",
  {
    todo:
      "a newcomer cannot read the author's delete (an older TEK revision), so a sharer may pass a deleted file message as " +
      'signed: the newcomer shows the card and fetches it from whoever still serves it (the sharer). Honest members drop the ' +
      "chunks, so only a malicious member serves it. Since review 30 an honest admitter re-shares its authors' signed deletes " +
      "of files too (review30-board-reshare.test.ts), so another member's re-share brings nothing back; a malicious admitter, " +
      "the only sharer, can still omit them: only the author's own signed list of its live files would close it.",
  },
  () => {
    const { profile, history } = freshHistory(erin.key, 'conclave-r4-open2-');
    const file: Body = { t: 'file', fid: 'f'.repeat(32), name: 'old.png', size: 10, mime: 'image/png', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') };
    const m = sign(alice, file);
    sign(alice, { t: 'delete', target: m.id }); // alice deleted it, under a revision erin cannot read
    history.keep(m, 'peer-alice', 'Alice', 1, undefined, true); // mallory's re-share
    assert.equal(history.message(m.id)?.deleted, true, 'shown as deleted, never fetched');
    profile.close();
  },
);
