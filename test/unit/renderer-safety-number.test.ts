// Safety numbers (renderer/src/safety-number.ts): the same on both sides,
// different for another pair, 12 groups of 5 digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safetyNumber } from '../../renderer/src/safety-number.js';

const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const C = 'c3'.repeat(32);

test('both members see the same number; another pair sees another', async () => {
  const ab = await safetyNumber(A, B);
  assert.deepEqual(await safetyNumber(B, A), ab);
  assert.equal(ab.length, 12);
  for (const g of ab) assert.match(g, /^\d{5}$/);
  assert.notDeepEqual(await safetyNumber(A, C), ab);
  assert.deepEqual(await safetyNumber(A.toUpperCase(), B), ab);
});

test('a known answer (keeps the derivation stable across versions)', async () => {
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha512').update(`conclave safety number v1\n${A}\n${B}`).digest();
  const expected = Array.from({ length: 12 }, (_, g) => String(Number(digest.readUIntBE(g * 5, 5) % 100_000)).padStart(5, '0'));
  assert.deepEqual(await safetyNumber(A, B), expected);
});
