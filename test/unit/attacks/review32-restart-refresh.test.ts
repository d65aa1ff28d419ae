// Review 32 (h3's suspicion, shown here): a key this member makes with fresh randomness (the TEK
// owner's periodic refresh, a takeover of a silent holder's KEK) is published at once, but the peer
// saved its state file only up to 150 ms later (state-file.ts `schedule`). Killed with -9 in
// between, it restarted from the state before, found the refresh due, and made the same version
// again: another key, the same version, the same creator. The engine test below shows what that
// does: the group ends on two keys of one version (nothing tells them apart: same version, same
// creator), the owner unable to read the others and they it, until the next change.
// Secure: a key this member made is on disk before any byte of it leaves (the publish writes to
// the sockets only after the current turn: the save in that turn comes first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { offlineHost } from '../solo-runtime.js';
import { GROUP, PARAMS, deps, drain, honestGroup } from './forge.js';

const params = { ...PARAMS, refreshVersionMs: 60_000 };

test('review32: the group ends on two keys of one version when the refreshing owner restarts from the state before its refresh', () => {
  // What the fix prevents, at the engine: the owner restored from a snapshot taken before it refreshed.
  const g = honestGroup(['a', 'b', 'c', 'd'], { params });
  const net = g.net;
  const before = g.e.a!.tekInfo()!.version;
  let saved = g.e.a!.snapshot();
  while (g.e.a!.tekInfo()!.version === before) {
    saved = g.e.a!.snapshot();
    net.run(net.now + 50, 50);
    assert.ok(net.now < 200_000, 'the refresh came');
  }
  net.offline.add(g.ids.a!.key);
  net.now += 1000;
  const restarted = net.add(g.ids.a!, GroupEngine.restore(deps('a-restarted'), g.ids.a!, saved, net.now));
  net.offline.delete(g.ids.a!.key);
  g.e.a = restarted;
  net.run(net.now + 20 * params.heartbeatMs, 100);
  const keys = new Set(Object.values(g.e).map((e) => `${e.tekInfo()!.version}/${e.tekInfo()!.fingerprint}`));
  assert.equal(keys.size, 2, 'two keys of one version: why the key must be on disk before it is sent');
});

test('review32: a TEK refresh this member made is in its state file before the turn that publishes it ends', (t) => {
  const g = honestGroup(['a', 'b'], { params });
  const a = g.ids.a!;
  g.net.engines.delete(a.key);
  drain(g.e.a!);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r32-refresh-')));
  let clock = g.net.now;
  const published: number[] = [];
  const host = { ...offlineHost({ selfKey: a.key, profile, seed: a.seed, now: () => clock, name: 'a' }), publish: () => void published.push(clock) };
  const rt = new GroupRuntime(host, newGroupRecord(GROUP, 'g', clock), () => g.e.a!, 100);
  t.after(() => {
    rt.stop();
    profile.close();
  });
  rt.drive();
  rt.save(); // as group.create and group.join do
  const before = rt.engine.tekInfo()!;
  clock += params.refreshVersionMs + 1;
  rt.engine.tick(clock);
  rt.drive(); // what the runtime's timer does
  const made = rt.engine.tekInfo()!;
  assert.equal(made.version, before.version + 1, 'the owner refreshed');
  assert.ok(published.length > 0, 'and published it');
  // A kill -9 now (before the publish's bytes leave, in later turns): what would the restart find?
  const record = profile.loadGroup(GROUP)!;
  const onDisk = GroupEngine.restore(deps('a-disk'), a, new Uint8Array(Buffer.from(record.snapshot!, 'base64')), clock);
  assert.equal(onDisk.tekInfo()!.version, made.version, 'the refreshed TEK is on disk');
  assert.equal(onDisk.tekInfo()!.fingerprint, made.fingerprint);
});
