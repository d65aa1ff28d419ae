// peer/unsaved-hold: what leaves while a key turn waits for a successful write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transmit } from '../../app/core/types.js';
import { MAX_HELD, MAX_HELD_DATA_BYTES, UnsavedHold } from '../../app/peer/unsaved-hold.js';

type Item = { t: Transmit; n: number };
const control = (n: number): Item => ({ t: { kind: 'publish', topic: 'control', bytes: new Uint8Array([n]) }, n });
const data = (n: number): Item => ({ t: { kind: 'publish', topic: 'data', bytes: new Uint8Array([n]) }, n });
const unicast = (n: number): Item => ({ t: { kind: 'unicast', to: 'ab'.repeat(32), bytes: new Uint8Array([n]) }, n });

test('from an unsaved key turn until a write succeeds everything is held, in order, and goes out once saved', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<Item>((o) => sent.push(o.n));
  hold.pass([control(1)], false, false);
  assert.deepEqual(sent, [1], 'unsaved with no key turn waiting: sent as it comes');
  hold.pass([control(2), unicast(3)], false, true);
  assert.deepEqual(sent, [1], 'the key turn is held');
  assert.ok(hold.holding());
  hold.pass([control(4), data(5), unicast(6), data(7)], false, false);
  assert.deepEqual(sent, [1], 'everything waits');
  hold.pass([control(8)], true, false);
  assert.deepEqual(sent, [1, 2, 3, 4, 5, 6, 7, 8], 'once saved: everything held, in order, then the new turn');
  assert.ok(!hold.holding());
  assert.equal(hold.dropped, 0);
});

test('a key turn that sent nothing still holds what follows (review 37)', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<Item>((o) => sent.push(o.n));
  hold.pass([], false, true);
  assert.ok(hold.holding());
  hold.pass([control(1), unicast(2)], false, false);
  assert.deepEqual(sent, []);
  hold.flush();
  assert.deepEqual(sent, [1, 2]);
});

test('past MAX_HELD the oldest transmits no key turn made are dropped, never a key turn\'s; a stop forgets what is held', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<Item>((o) => sent.push(o.n));
  hold.pass([control(0)], false, true);
  hold.pass(Array.from({ length: MAX_HELD + 5 }, (_, i) => control(i + 1)), false, false);
  assert.equal(hold.dropped, 5);
  hold.flush();
  assert.equal(sent.length, MAX_HELD + 1);
  assert.equal(sent[0], 0, 'the key turn\'s transmit is kept');
  assert.equal(sent[1], 6, 'the oldest others went');
  hold.pass([control(1)], false, true);
  hold.clear();
  hold.flush();
  assert.equal(sent.length, MAX_HELD + 1, 'nothing held is sent after a stop');
});

test('data is never dropped: past MAX_HELD_DATA_BYTES it goes out at once instead of waiting', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<Item>((o) => sent.push(o.n));
  hold.pass([control(0)], false, true);
  const big = (n: number): Item => ({ t: { kind: 'publish', topic: 'data', bytes: new Uint8Array(MAX_HELD_DATA_BYTES / 2) }, n });
  hold.pass([big(1), big(2), big(3)], false, false);
  assert.deepEqual(sent, [3], 'the third would pass the bound: sent at once');
  hold.flush();
  assert.deepEqual(sent, [3, 0, 1, 2]);
  assert.equal(hold.dropped, 0);
});

test('a message held behind MAX_HELD key-turn transmits is kept: a key turn\'s own do not count against the bound (review 38)', () => {
  const sent: number[] = [];
  const hold = new UnsavedHold<Item>((o) => sent.push(o.n));
  for (let i = 0; i < MAX_HELD; i++) hold.pass([control(i)], false, true);
  hold.pass([control(-1)], false, false);
  hold.flush();
  assert.equal(hold.dropped, 0);
  assert.equal(sent.at(-1), -1);
});

test('every data publication that passes while a key turn waits is told (held, or sent past the bound), and no other (review 41)', () => {
  // The history marks these held (peer/group.ts): a restart publishes them again. Told when the hold
  // takes them, not when they were written: a payload the engine held first reaches the hold later.
  const told: number[] = [];
  const hold = new UnsavedHold<Item>(() => undefined, (o) => told.push(o.n));
  hold.pass([data(1), control(2)], false, false);
  assert.deepEqual(told, [], 'no key turn waiting: nothing to tell');
  hold.pass([control(3)], false, true);
  const big: Item = { t: { kind: 'publish', topic: 'data', bytes: new Uint8Array(MAX_HELD_DATA_BYTES) }, n: 5 };
  hold.pass([data(4), big, unicast(6)], false, false);
  assert.deepEqual(told, [4, 5], 'held, and sent at once past the bound under the unsaved key');
  hold.pass([data(7)], true, false);
  assert.deepEqual(told, [4, 5], 'once saved, nothing more');
});
