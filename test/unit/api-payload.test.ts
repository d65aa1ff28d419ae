/** Application payloads (peer/payload.ts) and whiteboard semantics (peer/board.ts) as the API exposes them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePayload, encodePayload, MAX_PAYLOAD_BYTES } from '../../app/peer/payload.js';
import { boardState } from '../../app/peer/board.js';
import type { BoardStroke, Stroke } from '../../app/api/contract.js';

const id = 'ab'.repeat(16);
const pen = (sid: string): Stroke => ({ id: sid, color: '#112233', width: 2, tool: 'pen', points: [{ x: 1, y: 2 }] });

test('payloads round trip and anything malformed or unsigned decodes to null', () => {
  const m = { a: 'cd'.repeat(32), s: 1, k: 0, at: 5, id, b: JSON.stringify({ t: 'chat', text: 'hello', name: 'alice' }), sig: 'ef'.repeat(64) };
  const msg = { v: 2 as const, t: 'msg' as const, m };
  assert.deepEqual(decodePayload(encodePayload(msg)), msg);
  const board = { v: 2 as const, t: 'board' as const, items: [m] };
  assert.deepEqual(decodePayload(encodePayload(board)), board);
  assert.equal(decodePayload(encodePayload({ ...board, items: [{ ...m, id: 'x' }] })), null);
  const enc = new TextEncoder();
  const v1chat = { v: 1, t: 'chat', id, text: 'x', name: '' };
  for (const bad of ['', 'null', '{}', JSON.stringify(v1chat), JSON.stringify({ ...msg, extra: 1 }), JSON.stringify({ ...msg, m: { ...m, sig: 'ab' } }), JSON.stringify({ ...msg, m: { ...m, s: 0 } })]) {
    assert.equal(decodePayload(enc.encode(bad)), null, bad);
  }
  assert.equal(decodePayload(new Uint8Array([0xff, 0xfe])), null);
  assert.equal(decodePayload(new Uint8Array(MAX_PAYLOAD_BYTES + 1)), null);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodePayload(bytes) === null || typeof decodePayload(bytes) === 'object'));
});

test('board: pen and erase add, undo removes its target, clear empties; order of arrival does not matter', () => {
  const g = '00'.repeat(16);
  const at = (stroke: Stroke, sentAt: number, sender = 'p1'): BoardStroke => ({ group: g, sender, stroke, sentAt });
  const items = [
    at(pen('a'), 1),
    at(pen('b'), 2),
    at({ ...pen('u'), tool: 'undo', points: [], target: 'a' }, 3),
    at({ ...pen('c'), tool: 'clear', points: [] }, 4),
    at(pen('d'), 5),
    at({ ...pen('e'), tool: 'erase' }, 6, 'p2'),
    at({ ...pen('u2'), tool: 'undo', points: [], target: 'nothing' }, 7),
  ];
  const ids = (b: BoardStroke[]) => b.map((s) => s.stroke.id);
  assert.deepEqual(ids(boardState(items.slice(0, 3))), ['b']);
  assert.deepEqual(ids(boardState(items)), ['d', 'e']);
  fc.assert(
    fc.property(fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }), (shuffled) => {
      assert.deepEqual(ids(boardState(shuffled)), ['d', 'e']);
    }),
  );
});
