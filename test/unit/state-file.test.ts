/**
 * When a group's state file is compared and written (peer/state-file.ts): a change
 * that shows is saved 150 ms later; inputs that showed nothing (heartbeats) cost
 * one comparison per 10 s, not one per input; nothing unchanged is rewritten.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateFile } from '../../app/peer/state-file.js';
import { newGroupRecord } from '../../app/peer/group.js';
import { Profile } from '../../app/store/profile.js';

const G = '33'.repeat(16);

/** A profile in a fresh directory that counts its state-file writes, with fake timers; cleaned up after `body`. */
function withCountingProfile(body: (profile: Profile, writes: () => number) => void): void {
  mock.timers.enable({ apis: ['setTimeout'] });
  const dir = mkdtempSync(join(tmpdir(), 'conclave-statefile-'));
  const profile = Profile.open(dir);
  let writes = 0;
  const saveGroup = profile.saveGroup.bind(profile);
  profile.saveGroup = (r) => {
    writes++;
    saveGroup(r);
  };
  try {
    body(profile, () => writes);
  } finally {
    mock.timers.reset();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('inputs that showed nothing are compared once per 10 s; a change that shows is saved after 150 ms; unchanged state is never rewritten', () => {
  withCountingProfile((profile, writes) => {
    let state = new Uint8Array([1]);
    const file = new StateFile(profile, newGroupRecord(G, 'g', 0), () => state, () => undefined);
    for (let i = 0; i < 100; i++) file.touch(); // a hundred heartbeats
    assert.equal(file.snapshots, 0, 'no snapshot at each heartbeat');
    mock.timers.tick(10_000);
    assert.equal(file.snapshots, 1);
    assert.equal(writes(), 1, 'the first comparison writes (nothing saved yet)');
    for (let i = 0; i < 100; i++) file.touch();
    mock.timers.tick(10_000);
    assert.equal(file.snapshots, 2);
    assert.equal(writes(), 1, 'unchanged: not rewritten');
    state = new Uint8Array([2]);
    file.schedule();
    file.schedule();
    mock.timers.tick(150);
    assert.equal(file.snapshots, 3);
    assert.equal(writes(), 2, 'a change that shows is saved 150 ms later, once');
    assert.equal(profile.loadGroup(G)?.snapshot, Buffer.from([2]).toString('base64'));
    file.stop();
    assert.equal(writes(), 2, 'stop writes only if something changed');
  });
});

test('a change to soft state alone (the slot directory heartbeats fill in) is not written by a timer, only with the next real change or save()', () => {
  withCountingProfile((profile, writes) => {
    const engine = { format: 1, state: 'member', keks: [1], slotDir: { '3': { version: 1, revision: 0 } } };
    const file = new StateFile(profile, newGroupRecord(G, 'g', 0), () => new TextEncoder().encode(JSON.stringify(engine)), () => undefined);
    const onDisk = () => JSON.parse(Buffer.from(profile.loadGroup(G)?.snapshot ?? '', 'base64').toString()) as typeof engine;
    file.touch();
    mock.timers.tick(10_000);
    assert.equal(writes(), 1, 'the first comparison writes');
    engine.slotDir['3'].revision = 2; // a heartbeat: another member's slot stepped its revision
    file.touch();
    mock.timers.tick(10_000);
    file.schedule();
    mock.timers.tick(150);
    assert.equal(writes(), 1, 'soft state alone: not rewritten by either timer');
    engine.keks = [2]; // a key of this member's changed
    file.schedule();
    mock.timers.tick(150);
    assert.equal(writes(), 2, 'a real change is written');
    assert.equal(onDisk().slotDir['3']?.revision, 2, 'and the soft state rides along');
    engine.slotDir['3'].revision = 3;
    file.save();
    assert.equal(writes(), 3, 'save() writes soft state too');
    assert.equal(onDisk().slotDir['3']?.revision, 3);
    file.stop();
    assert.equal(writes(), 3);
  });
});
