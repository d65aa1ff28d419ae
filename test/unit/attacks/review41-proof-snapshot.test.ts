// Review 41 (HIGH): admission proofs saved in the engine snapshot (roster-sync.ts savedProofs) are deduplicated by
// object identity, but onMemberAdmitted (engine/admission.ts) records a NEW proof object per member of a batch,
// each holding the whole batch's `members`. One announcement of N members is saved N times: O(N²) snapshot.
// A snapshot of a few such batches passed V8's longest string: the state could never be saved again. Now
// one proof object per batch, saved once by its signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deps, honestGroup } from './forge.js';
import { flushAnnouncements } from '../../../app/core/engine/admission.js';
import { bytesToHex } from '../../../app/net/ids.js';
import { GroupEngine } from '../../../app/core/engine.js';

test('one announcement of N newcomers costs the snapshot O(N), not O(N²)', () => {
  const g = honestGroup(['a', 'b']);
  const a = g.e.a!;
  const b = g.e.b!;
  const before = a.snapshot().length;
  const N = 400;
  // b (an admitter: an insider, or an honest one with a burst of joins) announces N newcomers in one batch.
  const core = (b as unknown as { core: { announceQueue: unknown[]; timers: { set(k: string, at: number): void } } }).core;
  const now = g.net.now;
  for (let i = 0; i < N; i++) core.announceQueue.push({ key: bytesToHex(randomBytes(32)), name: 'n'.repeat(64), admittedAt: now });
  core.timers.set('announce', now);
  flushAnnouncements(core as never, now);
  g.net.settle();
  assert.equal(a.members().filter((m) => m.state === 'member').length, N + 2, 'a took the batch in');
  const snap = a.snapshot();
  // Restores as it was saved.
  GroupEngine.restore(deps('a-disk'), g.ids.a!, snap, now);
  assert.ok(snap.length < before + N * 1024, `the snapshot grew by ${snap.length - before} bytes for ${N} members (${Math.round((snap.length - before) / N)} per member)`);
});
