// Review 32 pass 3: the profile lock is now created with a temporary file and linkSync. On a
// filesystem without hard links (FAT32/exFAT: a profile on a USB stick or an SD card, some FUSE
// and network mounts) link() fails with EPERM (ENOTSUP / ENOSYS elsewhere): createFilled rethrows
// everything but EEXIST, so Profile.open fails for every starter, every time, where the O_EXCL
// open used before worked. Simulated by making fs.linkSync fail as vfat does (the module's named
// import is a live binding of node:fs, refreshed with syncBuiltinESMExports).
// Secure: a profile on a filesystem without hard links still opens (and is still exclusive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile, ProfileLockedError } from '../../../app/store/profile.js';

test('review32-pass3: a profile on a filesystem without hard links still opens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-pass3-nolink-'));
  const orig = fs.linkSync;
  fs.linkSync = () => {
    throw Object.assign(new Error("EPERM: operation not permitted, link"), { code: 'EPERM', errno: -1, syscall: 'link' });
  };
  syncBuiltinESMExports();
  let profile: Profile | null = null;
  let error: unknown = null;
  try {
    try {
      profile = Profile.open(dir);
    } catch (err) {
      error = err;
    }
    assert.ok(
      profile !== null || error instanceof ProfileLockedError,
      `Profile.open fails on a filesystem without hard links: ${(error as Error)?.message}; left in the directory: ${readdirSync(dir).join(', ') || 'nothing'}`,
    );
  } finally {
    profile?.close();
    fs.linkSync = orig;
    syncBuiltinESMExports();
    rmSync(dir, { recursive: true, force: true });
  }
});
