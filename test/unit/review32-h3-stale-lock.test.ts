/**
 * Review 32 (h3, crash safety): after a kill -9 the profile must open again.
 *
 * store/profile.ts `acquireLock` takes over a lock left by a dead process, but a lock
 * naming this very process's PID is refused (`pid === process.pid` → ProfileLockedError),
 * meant for a second `Profile.open` of one profile in one process. A killed peer whose
 * restart gets the PID it had before (a container whose peer is PID 1 or another fixed
 * PID, restarted after the kill -9; a PID reused after a reboot) finds its own PID in
 * the stale lock and refuses to start, every time: the profile never opens.
 *
 * Simulated exactly: the lock file a killed incarnation with this PID left, and no
 * profile open in this process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile } from '../../app/store/profile.js';

test('a stale lock naming this PID (left by a killed incarnation that had it) does not stop the profile from opening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-h3-lock-'));
  try {
    const first = Profile.open(dir);
    first.identity('me');
    first.close();
    // kill -9 of the previous incarnation: its lock stays, with its PID, which the restart got again.
    writeFileSync(join(dir, 'profile.lock'), `${process.pid}\n`);
    let opened: Profile | null = null;
    assert.doesNotThrow(() => {
      opened = Profile.open(dir);
    }, 'the restarted peer refuses its own profile');
    (opened as Profile | null)?.close();
    // A second open in the same process is still refused while the first is open.
    const a = Profile.open(dir);
    assert.throws(() => Profile.open(dir), /in use/);
    a.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock naming a live PID is taken over only when that PID now belongs to a process started at another time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-h3-lock-reuse-'));
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    // The parent process is alive and started at `start`: its lock holds.
    writeFileSync(join(dir, 'profile.lock'), `${process.ppid} ${start}\n`);
    assert.throws(() => Profile.open(dir), /in use/);
    // Older peers wrote the PID alone: a live PID still holds.
    writeFileSync(join(dir, 'profile.lock'), `${process.ppid}\n`);
    assert.throws(() => Profile.open(dir), /in use/);
    // The PID was reused after a reboot by a process started at another time: stale.
    writeFileSync(join(dir, 'profile.lock'), `${process.ppid} ${Number(start) + 12345}\n`);
    Profile.open(dir).close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
