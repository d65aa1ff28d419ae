/**
 * Review 32 (h3, crash safety, machine crash): a file the store creates is durable
 * only once the directory holding its name is fsynced too (and, for a directory it
 * creates, the directory above). store/files.ts fsyncs the directory after a rename
 * (`writeFileAtomic`), but:
 * - `AppendLog.write` creates `groups/<gid>/history.log` with openSync('a') and only
 *   ever fsyncs the file: after a power cut the log's name may be gone with every
 *   message in it, though each `appendDurable` resolved (chat.message raised);
 * - `mkdirSync(..., { recursive: true })` in both creates `groups/` and
 *   `groups/<gid>/` and never fsyncs their parents: a group reported created
 *   (`group.create` answered after `rt.save()`) may vanish whole.
 * A kill -9 loses none of this (the page cache survives); a machine crash can.
 *
 * Checked by watching fsync calls (node:fs patched before the store is loaded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const opened = new Map<number, string>();
const synced: string[] = [];
const realOpen = fs.openSync;
const realFsyncSync = fs.fsyncSync;
const realFsync = fs.fsync;
(fs as unknown as { openSync: unknown }).openSync = (path: fs.PathLike, ...rest: unknown[]): number => {
  const fd = (realOpen as (...a: unknown[]) => number)(path, ...rest);
  opened.set(fd, resolve(String(path)));
  return fd;
};
(fs as unknown as { fsyncSync: unknown }).fsyncSync = (fd: number): void => {
  synced.push(opened.get(fd) ?? `fd ${fd}`);
  realFsyncSync(fd);
};
(fs as unknown as { fsync: unknown }).fsync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
  synced.push(opened.get(fd) ?? `fd ${fd}`);
  realFsync(fd, cb);
};
syncBuiltinESMExports();
const { Profile } = await import('../../app/store/profile.js');

const G = '6b'.repeat(16);

test('the first durable record of a new history log: the log\'s directory is fsynced (its name survives a power cut)', async () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'review32-h3-dirsync-'));
  try {
    const p = Profile.open(dir);
    // The group exists already (its state file written, atomically, with a directory fsync).
    p.saveGroup({ group: G, name: 'g', joinedAt: 1, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot: null });
    synced.length = 0;
    await p.appendDurable(G, 'history', { kind: 'joined', tek: 1 }); // creates history.log
    const gdir = resolve(join(dir, 'groups', G));
    assert.ok(synced.includes(join(gdir, 'history.log')), 'the file is fsynced');
    assert.ok(synced.includes(gdir), `history.log was created and acknowledged, but ${gdir} was never fsynced after it (fsyncs: ${JSON.stringify(synced.map((s) => s.replace(dir, 'DIR')))})`);
    p.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a new group\'s state file: every directory created on the way is fsynced in its parent', () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'review32-h3-dirsync-'));
  try {
    const p = Profile.open(dir);
    p.identity('me'); // profile.json: the profile directory is fsynced here, before groups/ exists
    synced.length = 0;
    p.saveGroup({ group: G, name: 'g', joinedAt: 1, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot: null });
    const root = resolve(dir);
    const groups = resolve(join(dir, 'groups'));
    const missing = [root, groups].filter((d) => !synced.includes(d));
    assert.deepEqual(missing.map((s) => s.replace(root, 'DIR')), [], `group.create is answered after this save, but the directories holding the new names groups/ and groups/<gid>/ were not fsynced (fsyncs: ${JSON.stringify(synced.map((s) => s.replace(root, 'DIR')))})`);
    p.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('file chunks: a file marked done (and its file message sent) has its sealed chunks fsynced first', async () => {
  // peer/files-store.ts writes chunks (writeSync) and the `.done` marker (writeFileSync) without any
  // fsync; files-upload.ts marks an own upload done before `file.finish` answers and the file message
  // goes out, files.ts a fetched one. After a power cut `.done` may survive its chunks' data, and then
  // `isDone` skips the scan: the file shows ready, its chunks unreadable, and the author cannot serve it.
  const { FileStore } = await import('../../app/peer/files-store.js');
  const dir = fs.mkdtempSync(join(tmpdir(), 'review32-h3-chunks-'));
  try {
    const store = new FileStore(join(dir, 'files'));
    const fid = 'ab'.repeat(16);
    synced.length = 0;
    store.write({ fid, chunk: 1024 }, 0, new Uint8Array(1040).fill(1));
    store.markDone(fid);
    const enc = resolve(join(dir, 'files', `${fid}.enc`));
    assert.ok(synced.includes(enc), `chunks of a file marked done were never fsynced (fsyncs: ${JSON.stringify(synced)})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
