/**
 * Whom periodic reconciliation asks (peer/catch-up.ts `turnOrder`): every member
 * takes its fellow members in turn starting after itself, so members whose
 * sessions run in step each ask a different member (in one roster order for all,
 * a thirty-member group's sessions went to a few members, the rest served none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { turnOrder } from '../../app/peer/catch-up.js';

const key = (i: number) => i.toString(16).padStart(2, '0').repeat(32);

test('each member begins its turn after itself and wraps around; itself is never in it', () => {
  const keys = [key(5), key(1), key(9), key(3)];
  assert.deepEqual(turnOrder(keys, key(3)), [key(5), key(9), key(1)]);
  assert.deepEqual(turnOrder(keys, key(9)), [key(1), key(3), key(5)]);
  assert.deepEqual(turnOrder(keys, key(0)), [key(1), key(3), key(5), key(9)], 'a member not in the list begins with the smallest after it');
});

test('members whose sessions run in step ask different members at every step', () => {
  const members = Array.from({ length: 30 }, (_, i) => key(i * 7 + 1));
  for (let step = 0; step < 29; step++) {
    const asked = members.map((self) => turnOrder(members, self)[step]);
    assert.equal(new Set(asked).size, members.length, `step ${step}: every member asked by exactly one`);
  }
});
