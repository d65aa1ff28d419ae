// The one board model (app/api/board-model.ts) the peer and the UI share: the
// conflict rule (version, then nonce, then author), who may create and change,
// clears that reach only what their author saw, legacy strokes, and the
// property that every order of the same entries gives the same board.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { beats, boardObjects, boardSupport, entryKey, nextVersion, type BoardObject } from '../../app/api/board-model.js';
import type { BoardEntry, ShapeOp, Stroke } from '../../app/api/contract.js';

const G = '0123456789abcdef0123456789abcdef';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const peerOf = (key: string) => `peer-${key[0]}`;

const rect = (id: string, by: string, over: Partial<ShapeOp> = {}): ShapeOp => ({ id, by, v: 1, n: 5, kind: 'rect', x: 10, y: 10, w: 100, h: 50, z: 1, color: '#112233', width: 2, ...over });
const shape = (author: string, seq: number, op: ShapeOp, sentAt = seq): BoardEntry => ({ group: G, sender: peerOf(author), sentAt, author, seq, shape: op });
const stroke = (author: string | null, seq: number, s: Partial<Stroke> & { id: string }, sentAt = seq, seen?: Record<string, number>): BoardEntry => ({
  group: G,
  sender: author ? peerOf(author) : 'old-peer',
  sentAt,
  stroke: { tool: 'pen', color: '#000000', width: 2, points: [{ x: 1, y: 1 }, { x: 5, y: 9 }], ...s },
  ...(author ? { author, seq } : {}),
  ...(seen ? { seen } : {}),
});
const view = (entries: BoardEntry[]) => boardObjects(entries).map((o) => `${o.id}@${o.v}:${o.x},${o.y}`);

test('the conflict rule: higher version, then lower nonce, then lower author key', () => {
  assert.equal(beats({ v: 3, n: 9, author: B, seq: 1 }, { v: 2, n: 0, author: A, seq: 1 }), true);
  assert.equal(beats({ v: 2, n: 1, author: B, seq: 1 }, { v: 2, n: 7, author: A, seq: 1 }), true);
  assert.equal(beats({ v: 2, n: 7, author: A, seq: 9 }, { v: 2, n: 7, author: B, seq: 1 }), true);
  const base = shape(A, 1, rect('r', A));
  // Alice and Bob move the same rectangle at once (both version 2): the lower nonce wins on every screen.
  const alice = shape(A, 2, { ...rect('r', A), v: 2, n: 900, x: 500 });
  const bob = shape(B, 1, { ...rect('r', A), v: 2, n: 100, x: 300 });
  assert.deepEqual(view([base, alice, bob]), ['r@2:300,10']);
  assert.deepEqual(view([bob, alice, base]), ['r@2:300,10']);
  // Same nonce: the lower author key.
  assert.deepEqual(view([base, { ...alice, shape: { ...alice.shape!, n: 100 } }, bob]), ['r@2:500,10']);
});

test('only the creator creates, and no version jumps ahead of the ones held', () => {
  // Bob writes "version 1" of Alice's object: not a creation.
  assert.deepEqual(view([shape(B, 1, rect('r', A))]), []);
  const base = shape(A, 1, rect('r', A));
  // Mallory-style jump to a huge version: does not count without version 2..n-1.
  const jump = shape(B, 1, { ...rect('r', A), v: 1_000_000, n: 0, x: 999 });
  assert.deepEqual(view([base, jump]), ['r@1:10,10']);
  // An honest edit of what is shown (version 2) counts; the jump still waits for its predecessors.
  const edit = shape(C, 1, { ...rect('r', A), v: 2, n: 3, x: 40 });
  assert.deepEqual(view([base, jump, edit]), ['r@2:40,10']);
  // Kind and points are fixed by version 1: a later version cannot turn a rectangle into ink.
  const morph = shape(B, 2, { ...rect('r', A), v: 3, n: 3, kind: 'ink', points: [{ x: 0, y: 0 }] });
  const objs = boardObjects([base, edit, morph]);
  assert.equal(objs[0]!.kind, 'rect');
  assert.equal(objs[0]!.points, undefined);
});

test('a delete is a version; a clear reaches only what its author had seen', () => {
  const base = shape(A, 1, rect('r', A));
  const del = shape(B, 1, { ...rect('r', A), v: 2, n: 1, del: true });
  assert.deepEqual(view([base, del]), []);
  // A version 3 written after the delete (it was seen) brings it back only if it counts: it does.
  assert.deepEqual(view([base, del, shape(A, 2, { ...rect('r', A), v: 3, n: 1 })]), ['r@3:10,10']);
  // Bob clears having seen Alice's 1 only; Alice's concurrent move (her 2) keeps the object.
  const clear = stroke(B, 1, { id: 'c', tool: 'clear', points: [] }, 9e12, { [A]: 1 });
  const move = shape(A, 2, { ...rect('r', A), v: 2, n: 1, x: 77 });
  assert.deepEqual(view([base, clear]), []);
  assert.deepEqual(view([base, clear, move]), ['r@2:77,10']);
  // A clear that saw the move removes it too, when dated at or after it (review 3: the date bounds `seen`).
  assert.deepEqual(view([base, move, { ...clear, sentAt: 2, seen: { [A]: 2 } }]), []);
  // One dated before the move does not reach it, whatever it claims to have seen.
  assert.deepEqual(view([base, move, { ...clear, sentAt: 1, seen: { [A]: 2 } }]), ['r@2:77,10']);
  assert.deepEqual(view([base, move, { ...clear, sentAt: 1, seen: { [A]: 2 ** 52 } }]), ['r@2:77,10']);
});

test('legacy strokes still show: signed pen/erase/undo/clear and unsigned replay', () => {
  const entries = [
    stroke(null, 0, { id: 'old1' }, 1),
    stroke(null, 0, { id: 'old2', tool: 'erase', color: '#ffffff' }, 2),
    stroke(A, 1, { id: 'a1' }, 10),
    stroke(A, 2, { id: 'a2' }, 11),
    stroke(B, 1, { id: 'u', tool: 'undo', points: [], target: 'a2' }, 12), // Bob cannot undo Alice's stroke
    stroke(A, 3, { id: 'u2', tool: 'undo', points: [], target: 'a1' }, 13), // Alice can
  ];
  const objs = boardObjects(entries);
  assert.deepEqual(objs.map((o) => [o.id, o.kind]), [['old1', 'ink'], ['old2', 'erase'], ['a2', 'ink']]);
  assert.deepEqual(boardObjects(entries).find((o) => o.id === 'a2')!.by, A);
  // A legacy stroke can be moved like any object (its version 1 is the stroke).
  const a2 = objs.find((o) => o.id === 'a2')!;
  const moved = boardObjects([...entries, shape(C, 1, nextVersion(a2, { x: 300 }, 4))]).find((o) => o.id === 'a2')!;
  assert.equal(moved.x, 300);
  assert.deepEqual(moved.points, a2.points);
  // A signed clear after the unsigned strokes empties them too.
  assert.deepEqual(view([...entries, stroke(C, 1, { id: 'cl', tool: 'clear', points: [] }, 50, { [A]: 3 })]), []);
});

test('the support of a board rebuilds the same board (what a newcomer is re-shared)', () => {
  const base = shape(A, 1, rect('r', A));
  const entries = [base, shape(B, 1, { ...rect('r', A), v: 2, n: 1, x: 5 }), shape(A, 2, rect('gone', A)), shape(A, 3, { ...rect('gone', A), v: 2, del: true }), stroke(B, 2, { id: 's' })];
  const support = boardSupport(entries);
  assert.deepEqual(view(support), view(entries));
  assert.equal(support.some((e) => e.shape?.id === 'gone' && e.shape.v === 1), false, 'a deleted object’s first version is not re-shared');
  assert.equal(support.some((e) => e.shape?.id === 'gone' && e.shape.del === true), true, 'its delete is (review 30)');
});

// ── property: replicas that edit concurrently and exchange entries in any order converge ──

type Action = { kind: 'create' | 'move' | 'delete' | 'clear' | 'sync' | 'ink'; who: number; pick: number; nonce: number; dx: number; to: number; share: number };

const action = fc.record({
  kind: fc.constantFrom('create', 'move', 'move', 'delete', 'clear', 'sync', 'sync', 'ink'),
  who: fc.integer({ min: 0, max: 2 }),
  pick: fc.nat(),
  nonce: fc.integer({ min: 0, max: 3 }), // few nonces: ties happen
  dx: fc.integer({ min: -50, max: 50 }),
  to: fc.integer({ min: 0, max: 2 }),
  share: fc.double({ min: 0, max: 1, noNaN: true }),
}) as fc.Arbitrary<Action>;

function simulate(actions: Action[]): Map<string, BoardEntry>[] {
  const keys = [A, B, C];
  const replicas = keys.map(() => new Map<string, BoardEntry>());
  const seqs = [0, 0, 0];
  let ids = 0;
  const write = (who: number, e: Omit<BoardEntry, 'author' | 'seq' | 'group' | 'sender' | 'sentAt'>) => {
    const entry: BoardEntry = { group: G, sender: peerOf(keys[who]!), sentAt: 1000 - ids, author: keys[who]!, seq: ++seqs[who]!, ...e };
    replicas[who]!.set(entryKey(entry), entry);
  };
  for (const a of actions) {
    const mine = replicas[a.who]!;
    const shown: BoardObject[] = boardObjects(mine.values()).filter((o) => o.by !== null);
    const target = shown.length > 0 ? shown[a.pick % shown.length]! : null;
    if (a.kind === 'create') write(a.who, { shape: rect(`o${ids++}`, keys[a.who]!, { n: a.nonce, x: a.dx }) });
    else if (a.kind === 'ink') write(a.who, { stroke: { id: `s${ids++}`, tool: 'pen', color: '#000000', width: 2, points: [{ x: a.dx, y: 0 }] } });
    else if (a.kind === 'move' && target) write(a.who, { shape: nextVersion(target, { x: target.x + a.dx }, a.nonce) });
    else if (a.kind === 'delete' && target) write(a.who, { shape: nextVersion(target, { del: true }, a.nonce) });
    else if (a.kind === 'clear') {
      const seen: Record<string, number> = {};
      for (const e of mine.values()) if (e.author) seen[e.author] = Math.max(seen[e.author] ?? 0, e.seq!);
      write(a.who, { stroke: { id: `c${ids++}`, tool: 'clear', color: '#000000', width: 1, points: [] }, seen });
    } else if (a.kind === 'sync') {
      for (const [k, e] of mine) if ((k.length * 7 + e.seq!) % 10 < a.share * 10) replicas[a.to]!.set(k, e);
    }
  }
  return replicas;
}

test('property: random concurrent edits, exchanged in any order, converge to one board', () => {
  fc.assert(
    fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), fc.nat(), (actions, seed) => {
      const replicas = simulate(actions);
      const all = new Map<string, BoardEntry>();
      for (const r of replicas) for (const [k, e] of r) all.set(k, e);
      const entries = [...all.values()];
      const expected = JSON.stringify(boardObjects(entries));
      // Every replica that ends up with all entries, in whatever order they came, draws the same.
      const shuffled = [...entries].sort((x, y) => ((entryKey(x).length * 31 + (x.seq ?? 0) * seed) % 17) - ((entryKey(y).length * 31 + (y.seq ?? 0) * seed) % 17));
      assert.equal(JSON.stringify(boardObjects(shuffled)), expected);
      assert.equal(JSON.stringify(boardObjects([...entries].reverse())), expected);
      // And the re-shared support alone rebuilds it.
      assert.equal(JSON.stringify(boardObjects(boardSupport(entries))), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: any permutation of the same entries gives the same board', () => {
  const entries = simulate([
    { kind: 'create', who: 0, pick: 0, nonce: 1, dx: 1, to: 0, share: 0 },
    { kind: 'sync', who: 0, pick: 0, nonce: 0, dx: 0, to: 1, share: 1 },
    { kind: 'sync', who: 0, pick: 0, nonce: 0, dx: 0, to: 2, share: 1 },
    { kind: 'move', who: 1, pick: 0, nonce: 2, dx: 5, to: 0, share: 0 },
    { kind: 'move', who: 2, pick: 0, nonce: 2, dx: 9, to: 0, share: 0 },
    { kind: 'ink', who: 2, pick: 0, nonce: 0, dx: 3, to: 0, share: 0 },
    { kind: 'clear', who: 1, pick: 0, nonce: 0, dx: 0, to: 0, share: 0 },
    { kind: 'delete', who: 0, pick: 0, nonce: 0, dx: 0, to: 0, share: 0 },
  ]).flatMap((r) => [...r.values()]);
  const unique = [...new Map(entries.map((e) => [entryKey(e), e])).values()];
  const expected = JSON.stringify(boardObjects(unique));
  fc.assert(fc.property(fc.shuffledSubarray(unique, { minLength: unique.length, maxLength: unique.length }), (s) => assert.equal(JSON.stringify(boardObjects(s)), expected)));
});
