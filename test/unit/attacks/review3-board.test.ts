// Review 3 (whiteboard model, app/api/board-model.ts rule 5): a signed clear names in `seen`
// what its author had seen, but nothing bounds those numbers, so one member's clear with
// seen[victim] = 2^52 erases every object the victim will ever draw (and every object whose
// winning version the victim writes), on every screen, for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boardObjects } from '../../../app/api/board-model.js';
import type { BoardEntry, ShapeOp } from '../../../app/api/contract.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { parseBody, signMessage } from '../../../app/peer/payload.js';
import { checkAuthorship, MAX_FUTURE_MS } from '../../../app/peer/authorship.js';

const G = '0123456789abcdef0123456789abcdef';
const A = 'a'.repeat(64); // the victim
const M = 'd'.repeat(64); // mallory, a member
const C = 'c'.repeat(64);
const peerOf = (key: string) => `peer-${key[0]}`;
const rect = (id: string, by: string, over: Partial<ShapeOp> = {}): ShapeOp => ({ id, by, v: 1, n: 5, kind: 'rect', x: 10, y: 10, w: 100, h: 50, z: 1, color: '#112233', width: 2, ...over });
const shape = (author: string, seq: number, op: ShapeOp, sentAt = seq): BoardEntry => ({ group: G, sender: peerOf(author), sentAt, author, seq, shape: op });
const clear = (author: string, seq: number, sentAt: number, seen: Record<string, number>): BoardEntry => ({
  group: G,
  sender: peerOf(author),
  sentAt,
  author,
  seq,
  stroke: { id: 'clr', tool: 'clear', color: '#000000', width: 2, points: [] },
  seen,
});

test('review3: a clear cannot reach objects its author could not have seen (seen[victim] far past anything sent)', () => {
  // Alice has sent 3 entries; mallory clears claiming to have seen Alice's entry 2^52.
  const before = [shape(A, 1, rect('r1', A)), shape(A, 2, rect('r2', A)), shape(A, 3, rect('r3', A))];
  const evil = clear(M, 1, 100, { [A]: 2 ** 52, [C]: 2 ** 52 });
  // Written long after the clear, by Alice, then by Carol: these the clear never saw.
  const later = shape(A, 10, rect('after', A), 200);
  const carol = shape(C, 1, rect('carols', C), 300);
  const board = boardObjects([...before, evil, later, carol]).map((o) => o.id);
  assert.ok(board.includes('after'), `Alice's object drawn after the clear must stay on the board (board: ${JSON.stringify(board)})`);
  assert.ok(board.includes('carols'), `Carol's object drawn after the clear must stay on the board (board: ${JSON.stringify(board)})`);
});

test('review3: a clear dated ahead is refused at receipt (live or re-shared); seen is bounded by schema', () => {
  const seed = new Uint8Array(32).fill(4);
  const me = { key: Buffer.from(nodeCrypto.ed25519PublicKey(seed)).toString('hex'), sign: (m: Uint8Array) => nodeCrypto.ed25519Sign(seed, m) };
  const ctx = { group: G, crypto: nodeCrypto, rosterState: () => 'member' as const, now: 1_000_000 };
  const body = { t: 'stroke' as const, stroke: { id: 'clr', tool: 'clear' as const, color: '#000000', width: 2, points: [] }, seen: { [A]: 3 } };
  const at = (t: number, id: string) => signMessage(G, me, { s: 1, k: 1, at: t, id }, body);
  for (const boardShare of [false, true]) {
    const ahead = checkAuthorship(ctx, at(ctx.now + MAX_FUTURE_MS + 1, '1'.repeat(32)), { from: me.key, tekVersion: 1, boardShare });
    assert.equal(!ahead.ok && ahead.reason, 'invalid');
    assert.equal(checkAuthorship(ctx, at(ctx.now + MAX_FUTURE_MS, '2'.repeat(32)), { from: me.key, tekVersion: 1, boardShare }).ok, true);
  }
  assert.ok(parseBody(JSON.stringify({ ...body, seen: { [A]: 2 ** 32 } })), 'seen up to 2^32');
  assert.equal(parseBody(JSON.stringify({ ...body, seen: { [A]: 2 ** 32 + 1 } })), null, 'seen above 2^32');
  const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [i.toString(16).padStart(64, '0'), 1]));
  assert.equal(parseBody(JSON.stringify({ ...body, seen: many })), null, 'more than 1000 authors');
});
