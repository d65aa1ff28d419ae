// Review 37 (MEDIUM): a group.leave made while a key turn is held (unsaved-hold.ts) is dropped for good.
// The Leave is a control publication: UnsavedHold.pass drops it (not held), so even once the disk
// has room and the held refresh goes out, the other members never learn that a left: they keep it
// as a member (their data stays sealed to it, it holds slots nobody takes over on its word, and
// clients never show the leave). Before b78455d the Leave went out at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diskFull, heldRefresh, setup } from './unsaved-runtime.js';

test('control: a leave with nothing held reaches b', (t) => {
  const s = setup(t);
  s.rt.leave();
  s.deliverToB();
  assert.equal(s.g.e.b!.rosterState(s.a.key), 'left');
});

test('a leave made while a refresh is held reaches the other members once the disk has room', (t) => {
  const s = setup(t);
  const before = heldRefresh(s);
  s.rt.leave(); // group.leave: rt.leave(), then rt.save() (api-methods.ts)
  s.rt.save();
  assert.equal(s.rt.engine.state(), 'left');
  // The disk has room again (the 5 s retry, or the api's rt.save()): the held turn is flushed.
  diskFull(false);
  s.rt.save();
  assert.equal(s.rt.unsaved(), null);
  s.deliverToB();
  assert.equal(s.g.e.b!.tekInfo()!.version, before + 1, 'the held refresh went out');
  assert.equal(s.g.e.b!.rosterState(s.a.key), 'left', 'b learnt that a left');
});
