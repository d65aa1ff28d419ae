// Review 32 pass 3: sendSigned keeps the own message before publishing it, and `history.keep`
// indexes it (chat list, held numbers) BEFORE writing its line. When the write itself fails
// (disk full: AppendLog.write throws ENOSPC, closes the log), keep throws after indexing:
// chat.send fails, the message was never published nor written, yet it is listed in the author's
// history as sent (the failed write never put it in `notYetDurable`), its number is claimed as held,
// and it vanishes at the next start (its number a gap nobody can fill).
// Secure: a send that throws leaves nothing of its message in the author's history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { soloRuntime } from './solo-runtime.js';
import type { GroupHistory } from '../../app/peer/history.js';

test('review32-pass3: a send whose history write fails (disk full) is not listed as sent', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  const orig = fs.writeSync;
  try {
    await solo.rt.sendChat('before');
    (fs as { writeSync: unknown }).writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    };
    syncBuiltinESMExports();
    let error: unknown = null;
    try {
      await solo.rt.sendChat('written while the disk is full');
    } catch (err) {
      error = err;
    }
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
    assert.ok(error instanceof Error, 'chat.send failed');
    await solo.rt.sendChat('after');
    const h = (solo.rt as unknown as { history: GroupHistory }).history;
    const listed = h.chatHistory(10).map((m) => m.text);
    assert.deepEqual(listed, ['before', 'after'], `chat.send failed (${(error as Error).message}), yet its message is listed: ${JSON.stringify(listed)}`);
    // Its number was taken and never sent: the next message declares it skipped, so no member waits for it.
    const skipped = (h as unknown as { skipped: Map<string, { list(): [number, number][] }> }).skipped.get(solo.key)?.list() ?? [];
    assert.deepEqual(skipped, [[2, 2]], 'the message after declares the failed number skipped');
  } finally {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
    solo.done();
  }
});
