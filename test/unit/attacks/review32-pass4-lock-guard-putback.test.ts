// Review 32 pass 4: the lock's takeover guard was broken by renaming it aside and putting it back
// when it was not the dead one: between the rename and the put-back the guard path was empty, a
// third starter created its guard there, and the put-back then unlinked (EEXIST) or, without hard
// links, renamed over a live starter's guard: two live starters each held "the" guard. Now no guard is
// ever put back: a guard is named after the stale lock it replaces, and a dead holder's guard is
// broken only by whoever creates the break mark for that holder. Here another starter (A, its guard
// naming a live process) breaks the dead guard and takes it at the very moment this starter tries to.
// Secure: this starter never deletes or overwrites a file naming another live process, and A's
// guard stands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardBreakMark, Profile, takeoverGuardPath } from '../../../app/store/profile.js';

function startOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

async function live(): Promise<{ child: ChildProcess; content: string }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return { child, content: `${child.pid} ${startOf(child.pid!)}\n` };
}

async function run(noHardLinks: boolean): Promise<{ violations: string[]; guardAfter: string | null; aContent: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass4-putback-'));
  const lock = join(dir, 'profile.lock');
  const stale = `${deadPid()} 1\n`;
  writeFileSync(lock, stale); // a lock left by a process killed with -9
  const guard = takeoverGuardPath(fs.realpathSync(dir) + '/profile.lock', stale);
  const dead = `${deadPid()} 1\n`;
  writeFileSync(guard, dead); // a guard left by a starter killed mid-takeover
  const a = await live();
  const violations: string[] = [];
  const others = new Map([[a.content, 'A']]);
  const orig = { linkSync: fs.linkSync, unlinkSync: fs.unlinkSync, renameSync: fs.renameSync };
  let raced = false;
  const hooked = {
    linkSync: (src: fs.PathLike, dst: fs.PathLike) => {
      if (noHardLinks) throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
      if (!raced && String(dst) === guardBreakMark(guard, dead)) {
        // A, at this very moment, breaks the dead guard first and takes the guard itself.
        raced = true;
        writeFileSync(dst, a.content, { flag: 'wx' });
        orig.unlinkSync(guard);
        writeFileSync(guard, a.content, { flag: 'wx' });
      }
      return orig.linkSync(src, dst);
    },
    unlinkSync: (p: fs.PathLike) => {
      let there: string | null = null;
      try {
        there = readFileSync(p, 'utf8');
      } catch {
        // absent
      }
      if (there !== null && others.has(there)) violations.push(`unlink of ${others.get(there)}'s live file (${String(p)})`);
      return orig.unlinkSync(p);
    },
    renameSync: (src: fs.PathLike, dst: fs.PathLike) => {
      let there: string | null = null;
      try {
        there = readFileSync(dst, 'utf8');
      } catch {
        // absent
      }
      if (there !== null && others.has(there)) violations.push(`rename over ${others.get(there)}'s live file (${String(dst)})`);
      return orig.renameSync(src, dst);
    },
  };
  if (noHardLinks) {
    // Without hard links the break mark is created by open('wx'): A takes it first the same way.
    const openSync = fs.openSync;
    (hooked as Record<string, unknown>).openSync = (p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      if (!raced && String(p) === guardBreakMark(guard, dead)) {
        raced = true;
        writeFileSync(p, a.content, { flag: 'wx' });
        orig.unlinkSync(guard);
        writeFileSync(guard, a.content, { flag: 'wx' });
      }
      return openSync(p, flags, mode);
    };
    (orig as Record<string, unknown>).openSync = openSync;
  }
  Object.assign(fs, hooked);
  syncBuiltinESMExports();
  let profile: Profile | null = null;
  try {
    try {
      profile = Profile.open(dir);
    } catch {
      // refused: fine, A holds the guard
    }
  } finally {
    Object.assign(fs, orig);
    syncBuiltinESMExports();
    profile?.close();
  }
  let guardAfter: string | null = null;
  try {
    guardAfter = readFileSync(guard, 'utf8');
  } catch {
    // absent
  }
  a.child.kill();
  rmSync(dir, { recursive: true, force: true });
  assert.ok(raced, 'the race was played');
  return { violations, guardAfter, aContent: a.content };
}

test('review32-pass4: breaking a dead guard never deletes the guard a live starter took meanwhile', { timeout: 15_000 }, async () => {
  const r = await run(false);
  assert.deepEqual(r.violations, [], `a live starter's file was removed or written over: ${r.violations.join('; ')}`);
  assert.equal(r.guardAfter, r.aContent, "A's guard stands");
});

test('review32-pass4: without hard links, breaking a dead guard never writes over a live starter\'s fresh guard', { timeout: 15_000 }, async () => {
  const r = await run(true);
  assert.deepEqual(r.violations, [], `a live starter's file was removed or written over: ${r.violations.join('; ')}`);
  assert.equal(r.guardAfter, r.aContent, "A's guard stands");
});
