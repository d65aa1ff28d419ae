// A group created while its state file cannot be written (disk full).
// Before: `StateFile.save` logged the failed write and returned, so `group.create`
// answered with a group and an invite that existed only in memory; the user could
// hand the invite out, and after a restart the group, its keys and every member
// admitted meanwhile were gone. Now the call fails with a storage error, nothing
// of the group stays (not listed, not subscribed), and a later create works.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer } from '../../app/peer/peer.js';
import { ErrorCodes } from '../../app/api/contract.js';
import type { ApiError } from '../../app/api/handler.js';

/** Runs `fn` while every `fs.writeSync` fails as on a full disk. */
async function whileDiskFull<T>(fn: () => Promise<T>): Promise<T> {
  const orig = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
  }
}

const groupsDir = (profile: string) => join(profile, 'groups');
const stateFiles = (profile: string) =>
  existsSync(groupsDir(profile)) ? readdirSync(groupsDir(profile)).filter((g) => existsSync(join(groupsDir(profile), g, 'state.json'))) : [];
const tmpFiles = (profile: string) =>
  existsSync(groupsDir(profile)) ? readdirSync(groupsDir(profile), { recursive: true }).map(String).filter((f) => f.endsWith('.tmp')) : [];

test('group.create on a full disk fails with a storage error and leaves no group behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-save-fails-'));
  const peer = await startPeer({ profile: dir, name: 'full', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  try {
    const outcome = await whileDiskFull(() =>
      peer.api.call('group.create', { name: 'never written' }).then(
        (value) => ({ value }),
        (error: ApiError) => ({ error }),
      ),
    );
    assert.ok('error' in outcome, `group.create reported success for a group whose state was never written: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.error.code, ErrorCodes.storage, outcome.error.message);
    assert.match(outcome.error.message, /disk|storage|write/i);
    assert.deepEqual(await peer.api.call('group.list', undefined), [], 'the group is not listed');
    assert.deepEqual(stateFiles(dir), [], 'no state file');
    assert.deepEqual(tmpFiles(dir), [], 'no temporary file left behind');
    const later = (await peer.api.call('group.create', { name: 'written' })) as { group: string };
    assert.deepEqual(stateFiles(dir), [later.group], 'once the disk has room, a create is saved');
  } finally {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group.join on a full disk fails with a storage error before asking to be admitted', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'conclave-save-fails-a-')), mkdtempSync(join(tmpdir(), 'conclave-save-fails-b-'))];
  const [alice, bob] = await Promise.all(dirs.map((profile, i) => startPeer({ profile, name: `p${i}`, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })));
  try {
    const { group, invite } = (await alice!.api.call('group.create', { name: 'g' })) as { group: string; invite: string };
    const outcome = await whileDiskFull(() =>
      bob!.api.call('group.join', { invite }).then(
        (value) => ({ value }),
        (error: ApiError) => ({ error }),
      ),
    );
    assert.ok('error' in outcome, `group.join went on for a group whose state was never written: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.error.code, ErrorCodes.storage, outcome.error.message);
    assert.deepEqual(await bob!.api.call('group.list', undefined), [], 'the group is not listed');
    assert.deepEqual(stateFiles(dirs[1]!), [], 'no state file');
    const members = (await alice!.api.call('group.members', { group })) as { self: boolean }[];
    assert.deepEqual(members.map((m) => m.self), [true], 'the inviter admitted no one');
  } finally {
    await Promise.all([alice!.stop(), bob!.stop()]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('chat.send on a full disk fails with a storage error naming the cause, and the message is not listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-save-fails-send-'));
  const peer = await startPeer({ profile: dir, name: 'full', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  try {
    const { group } = (await peer.api.call('group.create', { name: 'g' })) as { group: string };
    const outcome = await whileDiskFull(() =>
      peer.api.call('chat.send', { group, text: 'while the disk is full' }).then(
        (value) => ({ value }),
        (error: ApiError) => ({ error }),
      ),
    );
    assert.ok('error' in outcome, 'chat.send failed');
    assert.equal(outcome.error.code, ErrorCodes.storage, outcome.error.message);
    assert.match(outcome.error.message, /ENOSPC: the disk is full/);
    assert.ok(!outcome.error.message.includes(dir), 'no path in the message');
    const history = (await peer.api.call('chat.history', { group })) as { text: string }[];
    assert.deepEqual(history.map((m) => m.text), []);
  } finally {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a later state write that fails is reported (group.storage, group.list) and tried again until it succeeds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-save-fails-later-'));
  const peer = await startPeer({ profile: dir, name: 'full', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const events: { group: string; saved: boolean; detail?: string }[] = [];
  const unsubscribe = peer.api.subscribe((event, payload) => void (event === 'group.storage' && events.push(payload as (typeof events)[number])));
  try {
    const { group } = (await peer.api.call('group.create', { name: 'g' })) as { group: string };
    const stateFile = join(groupsDir(dir), group, 'state.json');
    const before = fs.readFileSync(stateFile);
    const unsavedNow = async () => ((await peer.api.call('group.list', undefined)) as { group: string; unsaved?: string }[]).find((g) => g.group === group)?.unsaved;
    await whileDiskFull(async () => {
      // The read marker is kept in the state file: this call changes it, and the write fails.
      await peer.api.call('group.read', { group });
      assert.deepEqual(events, [{ group, saved: false, detail: 'ENOSPC: the disk is full' }], 'clients are told once');
      assert.equal(await unsavedNow(), 'ENOSPC: the disk is full', 'group.list names the cause');
      assert.ok(fs.readFileSync(stateFile).equals(before), 'the file on disk is the one from before, whole');
      // Still full at the next try: nothing new is told.
      await new Promise((r) => setTimeout(r, 5_500));
      assert.equal(events.length, 1);
    });
    // The disk has room again: the next try writes the file, and clients are told.
    const deadline = Date.now() + 10_000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(events.at(-1), { group, saved: true }, 'written again without any further change');
    assert.equal(await unsavedNow(), undefined);
    assert.ok(!fs.readFileSync(stateFile).equals(before), 'the new read marker is on disk');
  } finally {
    unsubscribe();
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
