// Review 38 (LOW-MEDIUM): a group.leave made while a key turn was held (peer/unsaved-hold.ts) was
// held with it, and a stop whose final save failed dropped it: the API had answered ok, the engine
// was `left`, and the others never learnt it. Now a leave sends what is held at once: the others
// block the leaver, so the key it made and may forget cannot split them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldRefresh, setup } from './unsaved-runtime.js';

test('a leave made while a refresh is held reaches the others even if the member stops before any write succeeds', (t) => {
  const s = setup(t);
  heldRefresh(s);
  s.rt.leave(); // api group.leave answers { ok: true }
  s.rt.save();
  assert.ok(s.rt.unsaved(), 'still unsaved');
  assert.equal(s.rt.engine.state(), 'left');
  s.rt.stop();
  s.deliverToB();
  assert.equal(s.g.e.b!.rosterState(s.a.key), 'left', 'b learnt that a left');
});
