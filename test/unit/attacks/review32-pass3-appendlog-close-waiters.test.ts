// Review 32 pass 3 (05c2115): AppendLog.write now closes the log's fd when a write fails, and
// nulls it. What was waiting on that fd is forgotten:
//  1. A record written and waiting for the next group-commit fsync (`waiting`) when a later write
//     fails: the in-flight fsync ends, startSync finds `fd === null` and returns; close() finds
//     `fd === null` and returns. Its appendDurable promise settles only if some later record is
//     appended (disk full: maybe never): the sender's chat.send, or history.durable(), hangs, and
//     the message is never shown.
//  2. The fsync in flight was queued on libuv's pool with the fd NUMBER; closeSync runs before the
//     pool gets to it, the number is reused by the next open (another group's log), and the queued
//     fsync flushes that other file: the first record's promise resolves "durable" though no fsync
//     ever ran on its file.
// Secure: every promise settles once the log is closed; a promise resolves only after an fsync of
// its own file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { pbkdf2 } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog } from '../../../app/store/files.js';

function failNextWrite(): () => void {
  const orig = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = () => {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  syncBuiltinESMExports();
  return () => {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
  };
}

const settled = (p: Promise<void>, ms: number) =>
  Promise.race([p.then(() => 'resolved', (e: Error) => `rejected ${(e as NodeJS.ErrnoException).code ?? e.message}`), new Promise<string>((r) => setTimeout(() => r('pending'), ms))]);

test('review32-pass3: a record waiting for its fsync when a later write fails is settled (not left pending forever)', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass3-waiters-'));
  const log = new AppendLog(join(dir, 'history.log'));
  try {
    const p1 = log.appendDurable({ n: 1 }); // fsync 1 in flight
    const p2 = log.appendDurable({ n: 2 }); // written, waits for the next fsync
    const restore = failNextWrite();
    assert.throws(() => log.appendDurable({ n: 3 }), /ENOSPC/);
    restore();
    await settled(p1, 2000);
    log.close(); // "fsyncs what is waiting (resolving it), then closes the file"
    const r2 = await settled(p2, 2000);
    assert.notEqual(r2, 'pending', 'record 2 (written in full before the failed write) is neither resolved nor rejected, even after close()');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('review32-pass3: an fsync queued before a failed write never resolves a record by flushing another file', { timeout: 15_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass3-fdreuse-'));
  const a = new AppendLog(join(dir, 'a-history.log'));
  const b = new AppendLog(join(dir, 'b-traffic.log'));
  try {
    a.append({ warm: 1 }, false); // open a's fd
    // Keep libuv's pool busy (4 threads by default) so the fsync below waits in its queue.
    const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const busy = Array.from({ length: size }, () => new Promise((r) => pbkdf2('x', 'y', 400_000, 32, 'sha256', r)));
    const fdA = (a as unknown as { fd: number }).fd;
    const p1 = a.appendDurable({ n: 1 }); // its fsync(fdA) is queued
    const restore = failNextWrite();
    assert.throws(() => a.appendDurable({ n: 2 }), /ENOSPC/); // fdA closed meanwhile
    restore();
    b.append({ other: 1 }, false); // the next open, another log: gets the lowest free number
    const fdB = (b as unknown as { fd: number }).fd;
    const target = readlinkSync(`/proc/self/fd/${fdA}`);
    const r1 = await settled(p1, 5000);
    await Promise.all(busy);
    assert.ok(
      !(r1 === 'resolved' && fdB === fdA && target.endsWith('b-traffic.log')),
      `record 1 was reported durable by an fsync of fd ${fdA}, which named ${target} (b's log) when the pool ran it`,
    );
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
