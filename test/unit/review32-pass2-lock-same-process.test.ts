// Review 32 pass 2 (cc254cb): a lock naming this process's own PID is now stale unless this
// process's `locksHeld` has the lock's path, compared as `resolve(path)` (no symlinks resolved).
// So one profile opened twice in one process under two spellings of its directory (a symlink, a
// bind mount; or from a worker thread, whose module copy has its own `locksHeld`) is taken over:
// two Profile instances append to the same logs, and the first one's close unlinks the second's
// lock. Before, a lock with this PID was always refused here. The lock records the start time,
// which tells a killed incarnation (other start time) from this very process (same start time).
// Secure: the second open is refused while the first is open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile } from '../../app/store/profile.js';

test('review32-pass2: one profile opened twice in one process through a symlink is refused', () => {
  const base = mkdtempSync(join(tmpdir(), 'review32-pass2-lock-self-'));
  const dir = join(base, 'profile');
  const alias = join(base, 'alias');
  const first = Profile.open(dir);
  symlinkSync(dir, alias);
  let second: Profile | null = null;
  try {
    assert.throws(() => {
      second = Profile.open(alias);
    }, /in use/, 'the same profile was opened a second time by this process (through a symlink)');
  } finally {
    (second as Profile | null)?.close();
    first.close();
    rmSync(base, { recursive: true, force: true });
  }
});
