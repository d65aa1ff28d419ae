// Review 32 pass 2 (bb2b22c): sendSigned now writes the own message to the history BEFORE
// engine.send, and engine.send can still throw: the 60 KiB check counts the body's UTF-16 units,
// the engine's 64 KiB bound counts the payload's UTF-8 bytes after a second JSON encoding. A chat
// text of 16,000 characters (the API's bound) mixing ESC (\u001b: 6 units in the body, 7 bytes in
// the payload) and '"' (2 units, 4 bytes), as in pasted coloured terminal output, passes the
// first and fails the second. chat.send then fails ("payload larger than 64 KiB"), yet the message
// stays in the author's history: listed as sent (and on disk after the next fsync), never
// published, its number never to be served. Before bb2b22c the keep ran only after a publish.
// Secure: a send that throws leaves nothing of its message in the history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soloRuntime } from './solo-runtime.js';
import type { GroupHistory } from '../../app/peer/history.js';

test('review32-pass2: a send the engine refuses is not kept in the author\'s history as sent', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  try {
    const text = '\u001b'.repeat(3000) + '"'.repeat(13000);
    assert.equal(text.length, 16000);
    let error: unknown = null;
    try {
      await solo.rt.sendChat(text);
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof Error, 'the engine refuses the payload (larger than 64 KiB)');
    await solo.rt.sendChat('next one'); // its fsync covers the line written before the refused publish
    const h = (solo.rt as unknown as { history: GroupHistory }).history;
    const listed = h.chatHistory(10).map((m) => (m.text.length > 20 ? `${m.text.length} chars` : m.text));
    assert.deepEqual(listed, ['next one'], `chat.send failed (${(error as Error).message}), yet its message is in the author's history`);
  } finally {
    solo.done();
  }
});
