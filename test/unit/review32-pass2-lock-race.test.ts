// Review 32 pass 2 (cc254cb): acquireLock now writes `${process.pid} ${processStart(process.pid)}`,
// and processStart reads /proc/self/stat AFTER openSync(lock, 'wx') created the file and BEFORE
// writeSync fills it. A second peer starting at the same moment finds the lock empty, parses PID
// NaN, takes it for stale, unlinks it and creates its own: both peers hold one profile (two
// writers of the same logs, one identity twice on the network). The reading of /proc on the
// takeover path (between reading the lock and unlinking it) widens the stale-lock race the same
// way. Measured on this machine, 300 synchronized starts: both opened 109 profiles (no lock
// before) and 82 (a stale lock before); at 045551c: 1 and 17.
// Secure: two processes opening one profile at the same moment never both succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = 150;
const CHILD = `
import { Profile } from '${ROOT}app/store/profile.ts';
const [base, t0] = [process.env.BASE, Number(process.env.T0)];
const held = [], got = [];
const now = () => performance.timeOrigin + performance.now();
for (let i = 0; i < ${N}; i++) {
  while (now() < t0 + i * 12) {}
  try { held.push(Profile.open(base + '/' + i)); got.push(i); } catch {}
}
process.stdout.write(JSON.stringify(got));
`;

test('review32-pass2: two peers starting at the same moment never both open one profile', { timeout: 20_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'review32-pass2-lockrace-'));
  try {
    for (let i = 0; i < N; i++) mkdirSync(join(base, String(i)));
    const t0 = Date.now() + 2500; // both children loaded by then
    const run = () =>
      new Promise<number[]>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env: { ...process.env, BASE: base, T0: String(t0) }, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exited ${code}`))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const both = a.filter((i) => b.includes(i));
    assert.deepEqual(both, [], `${both.length} of ${N} profiles were opened by both processes at once (${a.length} + ${b.length} opens)`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
