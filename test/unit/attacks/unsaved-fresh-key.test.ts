// A key this member made from fresh randomness left the device while the device could not save
// it (docs/architecture.md "Persistence", carried over since review 32). With the disk full, the
// TEK owner's periodic refresh made version v + 1 and published it at once; the save of that turn
// failed, so the state file still held v. A restart then (a user who sees the "cannot save"
// banner and restarts is the likely one) found the refresh due again and made another v + 1: two
// keys of one version and one creator, and the group split in two (review32-restart-refresh).
// Secure: the outgoing messages of a turn that made a key of ours and could not be saved are held
// back until a write succeeds, and nothing that may carry that key (control messages, unicasts)
// leaves meanwhile. Restarted before that, the member made nothing anyone else saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import type { Channel } from '../../../app/core/engine/gate.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { offlineHost } from '../solo-runtime.js';
import { GROUP, PARAMS, deps, drain, honestGroup } from './forge.js';

const params = { ...PARAMS, refreshVersionMs: 60_000 };

function diskFull(full: boolean): void {
  const self = diskFull as unknown as { orig?: typeof fs.writeSync };
  if (full && !self.orig) {
    self.orig = fs.writeSync;
    (fs as { writeSync: unknown }).writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    };
  } else if (!full && self.orig) {
    (fs as { writeSync: unknown }).writeSync = self.orig;
    self.orig = undefined;
  }
  syncBuiltinESMExports();
}

/** A group of `names`; a's engine driven by a GroupRuntime over a fresh profile, whose transmits the test hands to b. */
function setup(t: { after(fn: () => void): void }, names = ['a', 'b']) {
  const g = honestGroup(names, { params });
  const a = g.ids.a!;
  g.net.engines.delete(a.key); // a's engine is driven by its runtime below, b's by the test
  drain(g.e.a!);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-unsaved-key-'));
  const profile = Profile.open(dir);
  let clock = g.net.now;
  const sent: { channel: Channel; bytes: Uint8Array }[] = [];
  const host = {
    ...offlineHost({ selfKey: a.key, profile, seed: a.seed, now: () => clock, name: 'a' }),
    publish: (_group: string, topic: 'control' | 'data', bytes: Uint8Array) => void sent.push({ channel: topic, bytes }),
    unicast: (_group: string, _to: string, bytes: Uint8Array) => void sent.push({ channel: 'unicast', bytes }),
  };
  const rt = new GroupRuntime(host, newGroupRecord(GROUP, 'g', clock), () => g.e.a!, 100);
  t.after(() => {
    diskFull(false);
    rt.stop();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rt.drive();
  rt.save();
  /** Hands b everything a sent since the last call. */
  const deliverToB = (): void => {
    for (const m of sent.splice(0)) g.e.b!.receive(a.key, m.channel, m.bytes, clock);
    drain(g.e.b!);
  };
  deliverToB();
  /** a as a restart would find it: from its state file. */
  const fromDisk = (): GroupEngine => GroupEngine.restore(deps('a-disk'), a, new Uint8Array(Buffer.from(profile.loadGroup(GROUP)!.snapshot!, 'base64')), clock);
  const onDisk = (): number => fromDisk().tekInfo()!.version;
  return { g, rt, deliverToB, fromDisk, onDisk, advance: (ms: number) => (clock += ms), now: () => clock };
}

test('a refresh made while the disk is full reaches no other member until it is on disk', (t) => {
  const { g, rt, deliverToB, onDisk, advance, now } = setup(t);
  const before = rt.engine.tekInfo()!.version;
  assert.equal(g.e.b!.tekInfo()!.version, before);
  diskFull(true);
  advance(params.refreshVersionMs + 1);
  rt.engine.tick(now());
  rt.drive();
  assert.equal(rt.engine.tekInfo()!.version, before + 1, 'the owner refreshed (in memory)');
  assert.equal(onDisk(), before, 'the disk still holds the version before');
  // A few heartbeats later, still unsaved: what reached b?
  for (let i = 0; i < 5; i++) {
    advance(params.heartbeatMs);
    rt.engine.tick(now());
    rt.drive();
  }
  deliverToB();
  assert.equal(g.e.b!.tekInfo()!.version, before, 'no other member took a key the device could forget on a restart');
  // The disk has room again: the next write puts the key on disk, and then it goes out.
  diskFull(false);
  rt.save();
  assert.equal(onDisk(), before + 1);
  deliverToB();
  assert.equal(g.e.b!.tekInfo()!.version, before + 1, 'once saved, the refresh reaches the others');
  assert.equal(g.e.b!.tekInfo()!.fingerprint, rt.engine.tekInfo()!.fingerprint);
});

test('an exclusion whose save fails waits on this device, and a restart before a write leaves the group as the others know it', (t) => {
  const { g, rt, deliverToB, fromDisk } = setup(t, ['a', 'b', 'c']);
  const c = g.ids.c!;
  const before = g.e.b!.tekInfo()!.version;
  diskFull(true);
  rt.exclude([c.key]);
  assert.equal(rt.engine.rosterState(c.key), 'excluded', 'excluded on this device');
  assert.ok(rt.unsaved(), 'and not saved');
  deliverToB();
  assert.equal(g.e.b!.rosterState(c.key), 'member', 'the exclusion did not leave the device');
  assert.equal(g.e.b!.tekInfo()!.version, before);
  // A restart now finds the state before the exclusion: nobody saw its keys.
  const restarted = fromDisk();
  assert.equal(restarted.rosterState(c.key), 'member');
  assert.equal(restarted.tekInfo()!.version, before);
  // Saved at last: the exclusion goes out, and b takes it.
  diskFull(false);
  rt.save();
  deliverToB();
  assert.equal(g.e.b!.rosterState(c.key), 'excluded');
  assert.equal(g.e.b!.tekInfo()!.version, before + 1);
});
