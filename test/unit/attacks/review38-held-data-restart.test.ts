// Review 38 (written down then, closed now): a chat message the API acknowledged while a key turn was
// held (peer/unsaved-hold.ts) was lost with a stop before the disk had room. It was in the author's
// history (fsynced: only the state file's rewrite failed, the history's short appends did not), but
// never published, and the hold lives in memory only: after the restart the others saw a gap in its
// numbers that nobody could fill. Now an own message kept while a key turn is held is marked so in
// the history, and after a restart it is published again once the group's TEK reaches the version
// it was signed under (history.ts `unpublishedOwn`, group.ts `republishHeld`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePayload } from '../../../app/peer/payload.js';
import { params, refreshUnsaved, setup } from './unsaved-runtime.js';

/** The state file cannot be written (its atomic rewrite fails for lack of room); the history's appends still can. */
function stateFileFails(s: ReturnType<typeof setup>): { full: boolean; kill(): void } {
  const saveGroup = s.profile.saveGroup.bind(s.profile);
  // A killed runtime's timers may still fire in this process: its writes fail for good, as a dead process makes none.
  const dead = new Set<object>();
  let last: object | null = null;
  const disk = { full: true, kill: () => void (last && dead.add(last)) };
  (s.profile as { saveGroup: unknown }).saveGroup = (r: object) => {
    if (disk.full || dead.has(r)) {
      last = r;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    }
    return saveGroup(r as never);
  };
  return disk;
}

const chatIdsAtB = (s: ReturnType<typeof setup>): string[] =>
  s.bEvents.flatMap((e) => {
    if (e.type !== 'data' || e.from !== s.a.key) return [];
    const p = decodePayload(e.payload);
    return p && p.t === 'msg' ? [p.m.id] : [];
  });

for (const how of ['a clean stop', 'a kill']) {
  test(`a chat message acknowledged behind a held refresh reaches the others after ${how} before the disk had room`, async (t) => {
    const s = setup(t);
    const disk = stateFileFails(s);
    const before = refreshUnsaved(s); // version before + 1, held
    // Resolved: in the history, fsynced (what the API acknowledges).
    const acked = await s.rt.sendChat('sent while the disk was full');
    const second = await s.rt.sendChat('and another');
    // The app goes away before any write of the state succeeds.
    if (how === 'a clean stop') s.rt.stop();
    else disk.kill(); // no stop: what it held dies with it
    s.deliverToB();
    assert.deepEqual(chatIdsAtB(s), [], 'nothing left the device before it stopped');
    disk.full = false;
    const again = s.restart();
    assert.equal(again.engine.tekInfo()!.version, before, 'restarted from the version on disk');
    // The refresh is due again: the owner makes that version anew (a key nobody saw before).
    s.advance(1000);
    again.engine.tick(s.now());
    again.drive();
    s.deliverToB();
    assert.equal(s.g.e.b!.tekInfo()!.version, before + 1);
    assert.deepEqual(chatIdsAtB(s), [acked.id, second.id], 'b received both acknowledged messages, in order');
    // Published once: a second restart does not send them again.
    again.stop();
    const third = s.restart();
    s.advance(1000);
    third.engine.tick(s.now());
    third.drive();
    s.deliverToB();
    assert.deepEqual(chatIdsAtB(s), [acked.id, second.id], 'not published again after the next restart');
  });
}

test('a chat message held behind an exclusion the restart undid waits until the excluded member is gone again, then reaches the others', async (t) => {
  const s = setup(t, ['a', 'b', 'c']);
  const c = s.g.ids.c!;
  const disk = stateFileFails(s);
  const before = s.rt.engine.tekInfo()!.version;
  s.rt.exclude([c.key]); // the disk filled during the exclusion's own turn (docs/architecture.md "Persistence")
  assert.ok(s.rt.unsaved());
  const acked = await s.rt.sendChat('after the exclusion');
  s.rt.stop();
  disk.full = false;
  const again = s.restart();
  assert.equal(again.engine.rosterState(c.key), 'member', 'the restart undid the exclusion');
  // Signed under version before + 1, which no packet of this group has yet: it waits.
  for (let i = 0; i < 3; i++) {
    s.advance(params.heartbeatMs);
    again.engine.tick(s.now());
    again.drive();
  }
  s.deliverToB();
  assert.deepEqual(chatIdsAtB(s), [], 'not published under a version below the one it names');
  // a's hourly refresh makes that version, but c, whom the message was not written for, holds it: still waiting.
  s.advance(params.refreshVersionMs + 1);
  again.engine.tick(s.now());
  again.drive();
  s.deliverToB();
  assert.equal(s.g.e.b!.tekInfo()!.version, before + 1);
  assert.deepEqual(chatIdsAtB(s), [], 'not published where c, excluded when it was written, can read it');
  again.exclude([c.key]); // the user excludes c again
  s.deliverToB();
  assert.equal(s.g.e.b!.tekInfo()!.version, before + 2);
  assert.equal(s.g.e.b!.rosterState(c.key), 'excluded');
  assert.deepEqual(chatIdsAtB(s), [acked.id], 'b received the acknowledged message under the new version');
});
