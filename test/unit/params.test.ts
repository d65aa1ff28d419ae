import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_PARAMS, kekSlot, participantId, slotRef, slotsOf, symbolsFromBytes, validateParams } from '../../app/core/params.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { LocalProtocolError } from '../../app/core/errors.js';

test('participant IDs have W symbols below V, and differ between identities', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(2, 4, 16, 256), fc.integer({ min: 1, max: 32 }), (key, V, W) => {
      fc.pre(W * Math.log2(V) <= 256);
      const id = participantId(nobleCrypto, key, W, V);
      assert.equal(id.length, W);
      for (const s of id) assert.ok(s >= 0 && s < V);
    }),
    { numRuns: 100 },
  );
  const a = participantId(nobleCrypto, new Uint8Array(32).fill(1), 16, 16);
  const b = participantId(nobleCrypto, new Uint8Array(32).fill(2), 16, 16);
  assert.notDeepEqual(a, b);
});

test('explicit hex IDs map to symbols most significant bit first', () => {
  assert.deepEqual(symbolsFromBytes(Uint8Array.from([0x0f, 0x0f]), 4, 16), [0, 15, 0, 15]);
  assert.deepEqual(symbolsFromBytes(Uint8Array.from([0b10100000]), 4, 2), [1, 0, 1, 0]);
});

test('slots: the TEK is slot 0, each member holds W KEK slots, one per symbol', () => {
  const V = 16;
  const id = [3, 0, 15, 7];
  const slots = slotsOf(id, V);
  assert.deepEqual(slots, [kekSlot(0, 3, V), kekSlot(1, 0, V), kekSlot(2, 15, V), kekSlot(3, 7, V)]);
  assert.deepEqual(slotRef(0, V), { kind: 'tek' });
  assert.deepEqual(slotRef(kekSlot(2, 15, V), V), { kind: 'kek', symbol: 2, value: 15 });
  assert.equal(new Set(slots).size, 4);
});

test('parameters are validated: V a power of two, W·log2V ≤ 256, panels of at least 4', () => {
  validateParams(DEFAULT_PARAMS);
  assert.throws(() => validateParams({ ...DEFAULT_PARAMS, V: 12 }), LocalProtocolError);
  assert.throws(() => validateParams({ ...DEFAULT_PARAMS, W: 100, V: 16 }), LocalProtocolError);
  assert.throws(() => validateParams({ ...DEFAULT_PARAMS, panelSize: 3 }), /at least 4/);
  assert.throws(() => validateParams({ ...DEFAULT_PARAMS, heartbeatMs: 0 }), LocalProtocolError);
});
