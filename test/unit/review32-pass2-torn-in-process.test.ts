// Review 32 pass 2 (9a6837d): AppendLog writes a newline before the next record only when it
// OPENS a log whose last byte is not '\n' (a tail torn by a crash). A line torn while the process
// runs is not mended: a write that fails part-way (disk full, EFBIG, EIO: writeSync wrote some of
// the line, then threw) leaves a fragment, the fd stays open, and the next record, once the disk
// has room again, is glued onto it: its append (and fsync) succeed, it is reported durable, and the
// next start reads the glued line as one bad line: the record is lost, as in the crash case the
// fix was for. Reproduced with a real short write: the child runs under a 1 KiB file-size limit
// (SIGXFSZ ignored, so write returns EFBIG after a short write), the parent lifts the limit with
// prlimit, the child appends again.
// Secure: a record appended (sync) after a failed one is read back at the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppendLog } from '../../app/store/files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = `
import { writeSync, readSync } from 'node:fs';
import { AppendLog } from '${ROOT}app/store/files.ts';
const log = new AppendLog(process.env.LOG_PATH);
log.append({ n: 1 });
let failed = 'no';
try { log.append({ n: 2, pad: 'x'.repeat(4000) }); } catch (err) { failed = err.code; }
writeSync(1, 'failed ' + failed + ' ' + process.pid + '\\n');
readSync(0, Buffer.alloc(1)); // the parent lifts the limit (the disk has room again)
log.append({ n: 3 }); // fsynced: reported durable
log.close();
writeSync(1, 'done\\n');
`;

test('review32-pass2: a record appended after a write that failed part-way survives the next start', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass2-torn-'));
  const path = join(dir, 'history.log');
  try {
    const script = `trap '' XFSZ; ulimit -S -f 1; exec "${process.execPath}" --import tsx --input-type=module -e "$CHILD"`;
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, LOG_PATH: path, CHILD }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /failed (\S+) (\d+)\n/.exec(out);
        if (m && !out.includes('lifted')) {
          out += 'lifted';
          execFileSync('prlimit', ['--pid', m[2]!, '--fsize=unlimited:unlimited']);
          child.stdin!.write('g');
        }
      });
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${out}`))));
    });
    assert.match(out, /failed EFBIG/, 'the second append failed part-way');
    const read = new AppendLog(path).read((v) => v as { n: number });
    assert.deepEqual(read.records.map((r) => r.n), [1, 3], `the third record, appended and fsynced after the failed one, is lost (${read.skipped} line(s) skipped)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
