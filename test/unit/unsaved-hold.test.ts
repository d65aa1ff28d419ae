// peer/unsaved-hold: what leaves while a key turn waits for a successful write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transmit } from '../../app/core/types.js';
import { MAX_HELD_DATA, UnsavedHold } from '../../app/peer/unsaved-hold.js';

const control = (n: number): { t: Transmit; n: number } => ({ t: { kind: 'publish', topic: 'control', bytes: new Uint8Array([n]) }, n });
const data = (n: number): { t: Transmit; n: number } => ({ t: { kind: 'publish', topic: 'data', bytes: new Uint8Array([n]) }, n });
const unicast = (n: number): { t: Transmit; n: number } => ({ t: { kind: 'unicast', to: 'ab'.repeat(32), bytes: new Uint8Array([n]) }, n });

test('a key turn that could not be saved is held, later control and unicasts are dropped, data waits behind it, all in order once saved', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<{ t: Transmit; n: number }>((o) => sent.push(o.n));
  hold.pass([control(1)], false, false);
  assert.deepEqual(sent, [1], 'unsaved with nothing held: sent as it comes');
  hold.pass([control(2), unicast(3)], false, true);
  assert.deepEqual(sent, [1], 'the key turn is held');
  assert.ok(hold.holding());
  hold.pass([control(4), data(5), unicast(6), data(7)], false, false);
  assert.deepEqual(sent, [1]);
  assert.equal(hold.dropped, 2, 'the control message and the unicast after it are dropped');
  hold.pass([control(8)], true, false);
  assert.deepEqual(sent, [1, 2, 3, 5, 7, 8], 'once saved: the held turn, the data behind it, then the new turn');
  assert.ok(!hold.holding());
});

test('at most MAX_HELD_DATA data publications wait behind a held key turn; a stop forgets what is held', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<{ t: Transmit; n: number }>((o) => sent.push(o.n));
  hold.pass([control(0)], false, true);
  hold.pass(Array.from({ length: MAX_HELD_DATA + 5 }, (_, i) => data(i + 1)), false, false);
  assert.equal(hold.dropped, 5);
  hold.clear();
  hold.flush();
  assert.deepEqual(sent, [], 'nothing held is sent after a stop');
});
