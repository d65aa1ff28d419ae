// While this device cannot save a group, `group.exclude` is refused with a storage error and
// changes nothing: an exclusion makes keys from fresh randomness, and made now it would wait on
// this device until a write succeeds (peer/unsaved-hold.ts) while the member it names still
// reads everything. Once the disk has room, the retry writes the state and what was held (here
// the rekey after a member's leave) goes out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { ErrorCodes } from '../../app/api/contract.js';
import type { ApiError } from '../../app/api/handler.js';
import { loopbackPeer, until } from './loopback-peers.js';

type Listed = { group: string; state: string; unsaved?: string };
type Table = { tek: { version: number; fingerprint: string | null } | null; blocklist: string[] };

test('group.exclude on a group this device cannot save is refused and changes nothing; the held rekey goes out once saved', { timeout: 120_000 }, async (t) => {
  const [alice, bob, carol] = [await loopbackPeer('Alice'), await loopbackPeer('Bob'), await loopbackPeer('Carol')];
  const { group, invite } = (await alice.api.call('group.create', { name: 'unsaved exclude' })) as { group: string; invite: string };
  const listed = async (p: typeof alice) => ((await p.api.call('group.list', undefined)) as Listed[]).find((g) => g.group === group);
  await bob.api.call('group.join', { invite });
  await until('Bob a member', async () => (await listed(bob))?.state === 'member');
  const { invite: second } = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await carol.api.call('group.join', { invite: second });
  await until('Carol a member', async () => (await listed(carol))?.state === 'member');
  const tek = async (p: typeof alice) => ((await p.api.call('keys.table', { group })) as Table).tek;
  await until('one TEK everywhere', async () => new Set(await Promise.all([alice, bob, carol].map(async (p) => (await tek(p))?.fingerprint))).size === 1);
  const before = (await tek(carol))!;

  const orig = fs.writeSync;
  const restore = (): void => {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
  };
  t.after(restore);
  (fs as { writeSync: unknown }).writeSync = () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  syncBuiltinESMExports();
  await bob.api.call('group.leave', { group });
  await until('Alice unable to save the group', async () => (await listed(alice))?.unsaved !== undefined);
  const refused = await alice.api.call('group.exclude', { group, peers: [carol.peerId] }).then(
    () => null,
    (err: ApiError) => err,
  );
  assert.ok(refused, 'the exclusion was refused');
  assert.equal(refused.code, ErrorCodes.storage);
  assert.match(refused.message, /cannot save this group.*not made/);
  const members = (await alice.api.call('group.members', { group })) as { peerId: string; state: string }[];
  assert.equal(members.find((m) => m.peerId === carol.peerId)?.state, 'member', 'Carol is still a member here');
  // The rekey after Bob's leave was made on Alice's device and is held: Carol does not have it.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await tek(carol))!.fingerprint, before.fingerprint, 'no key made while unsaved reached Carol');

  restore();
  await until('Alice saved again', async () => (await listed(alice))?.unsaved === undefined, 15_000);
  await until('the held rekey to reach Carol', async () => (await tek(carol))!.version > before.version, 15_000);
  assert.equal((await tek(carol))!.fingerprint, (await tek(alice))!.fingerprint);
});
