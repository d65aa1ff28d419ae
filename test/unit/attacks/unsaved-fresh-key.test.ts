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
import { diskFull, params, setup } from './unsaved-runtime.js';

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
