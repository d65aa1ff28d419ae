// Review 32 pass 4: `append(record, sync=true)` fsyncs synchronously (fsyncNow). When that fsync
// fails (EIO), the exception reaches the caller, but the appendDurable lines waiting for an fsync
// (written before it, covered by the failed one) stay in `waiting` and are resolved by the next
// fsync that succeeds. On Linux a failed writeback's pages are marked clean and the error is
// reported once per fd: the next fsync returns 0 though those lines never reached the disk. They
// are reported durable (shown to clients, receipted) though not. The failed-write path of this
// very pass rejects its waiters when its fsync fails; fsyncNow does not.
// Secure: a line covered by a failed fsync is never reported durable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog } from '../../app/store/files.js';

test('review32-pass4: lines covered by a failed synchronous fsync are not reported durable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass4-fsyncnow-'));
  const log = new AppendLog(join(dir, 'log'));
  const orig = fs.fsyncSync;
  try {
    const a = log.appendDurable({ n: 'a' }); // its fsync runs on the thread pool
    const b = log.appendDurable({ n: 'b' }); // waits for the next fsync
    (fs as { fsyncSync: unknown }).fsyncSync = () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', syscall: 'fsync' });
    };
    syncBuiltinESMExports();
    assert.throws(() => log.append({ n: 'c' }, true), /EIO/);
    (fs as { fsyncSync: unknown }).fsyncSync = orig;
    syncBuiltinESMExports();
    await a.catch(() => undefined);
    const outcome = await Promise.race([b.then(() => 'durable', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 1000))]);
    assert.notEqual(outcome, 'durable', 'line b, covered by the fsync that failed, was reported durable by a later fsync');
  } finally {
    (fs as { fsyncSync: unknown }).fsyncSync = orig;
    syncBuiltinESMExports();
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
