// Review 32 pass 3: the profile lock's takeover guard is broken with stat-then-unlink. A guard
// older than 5 s (a starter that was stopped or suspended while holding it, or killed) is judged
// dead by two starters; the slower one unlinks the FRESH guard the faster one has just created,
// takes its own, and both are "sole" takers of the stale lock. Then: C replaces the stale lock and
// opens the profile; B (which read the stale lock before C replaced it) unlinks C's lock and links
// its own, and its `finally { unlinkSync(guard) }` throws ENOENT, so B's open fails but B's lock
// stays on disk. C runs with a lock naming B; once B exits, the next starter D finds a stale lock
// and opens the profile beside C: two writers of one profile.
// The interleaving is forced with fs hooks in the children (each waits for the other at one point).
// Secure: while C holds the profile, D is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeoverGuardPath } from '../../../app/store/profile.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CHILD = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const { DIR, SYNC, ROLE } = process.env;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const waitFor = (name) => { const t0 = Date.now(); while (!fs.existsSync(SYNC + '/' + name)) { if (Date.now() - t0 > 8000) break; sleep(10); } };
const mark = (name) => fs.writeFileSync(SYNC + '/' + name, '');
const orig = fs.unlinkSync;
let hooked = false;
fs.unlinkSync = (p, ...rest) => {
  if (!hooked && ROLE === 'C' && /profile\\.lock\\.takeover\\.[0-9a-f]{16}$/.test(String(p))) { hooked = true; mark('c-at-guard'); waitFor('b-paused'); }
  if (!hooked && ROLE === 'B' && String(p).endsWith('profile.lock')) { hooked = true; mark('b-paused'); waitFor('c-open'); }
  return orig(p, ...rest);
};
syncBuiltinESMExports();
const { Profile } = await import('${ROOT}app/store/profile.ts');
if (ROLE === 'B') waitFor('c-at-guard');
let result;
try { Profile.open(DIR); result = 'opened'; } catch (err) { result = 'refused ' + (err.name === 'Error' ? err.code : err.name); }
if (ROLE === 'C' && result === 'opened') mark('c-open');
if (ROLE === 'B') mark('b-paused'); // B is done: C, paused at its guard, goes on (B's lock hook no longer fires)
process.stdout.write(result + '\\n');
if (ROLE === 'C') { process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); }
`;

function start(role: string, dir: string, sync: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env: { ...process.env, DIR: dir, SYNC: sync, ROLE: role }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const line = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => (out.includes('\n') ? resolve(out.trim()) : reject(new Error(`${role} exited ${code}`))));
  });
  const exited = new Promise((r) => child.on('exit', r));
  return { child, line, exited };
}

test('review32-pass3: two starters that both judge an old takeover guard dead never leave two processes on one profile', { timeout: 20_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'review32-pass3-guard-'));
  const dir = join(base, 'profile');
  const sync = join(base, 'sync');
  spawnSync('mkdir', ['-p', dir, sync]);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(join(dir, 'profile.lock'), `${dead} 1\n`); // a lock left by a process killed with -9
  const guard = takeoverGuardPath(join(dir, 'profile.lock'), `${dead} 1\n`);
  writeFileSync(guard, ''); // a guard whose holder was stopped (suspend, SIGSTOP, swapped) or killed
  const old = new Date(Date.now() - 10_000);
  utimesSync(guard, old, old);
  const c = start('C', dir, sync);
  const b = start('B', dir, sync);
  try {
    const [cResult, bResult] = await Promise.all([c.line, b.line]);
    assert.equal(cResult, 'opened', 'C opened the profile');
    await b.exited;
    const lockNow = readFileSync(join(dir, 'profile.lock'), 'utf8');
    const d = start('D', dir, sync);
    const dResult = await d.line;
    await d.exited;
    assert.notEqual(
      dResult,
      'opened',
      `C (pid ${c.child.pid}) still has the profile open, yet D opened it too (B: ${bResult}; lock file after B: "${lockNow.trim()}", guard present: ${existsSync(guard)})`,
    );
  } finally {
    c.child.stdin!.end();
    b.child.kill();
    await c.exited;
    rmSync(base, { recursive: true, force: true });
  }
});
