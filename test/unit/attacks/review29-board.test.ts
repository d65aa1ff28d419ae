// Review 29 (insiders, red team): the board model asked every signed clear about every object
// (rule 5), so N clears that reach nothing and N objects cost N² (16,000 of each: 1.5 s for one
// computation, run by the peer on board.state and by the renderer on every entry). Now one index
// per computation answers each object with a binary search; these tests hold it to the rule it
// replaces (any clear that `reaches`) and to the cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boardObjects, clearIndex, reachedByAClear, reaches } from '../../../app/api/board-model.js';
import type { BoardEntry } from '../../../app/api/contract.js';
import { SeededRandom } from '../../../app/sim/random.js';

const A = 'aa'.repeat(32);
const M = 'bb'.repeat(32);
const clear = (sentAt: number, seen: Record<string, number>, i: number): BoardEntry => ({ group: 'g', sender: 'pM', sentAt, author: M, seq: i + 1, stroke: { id: `c${i}`, tool: 'clear', color: '#000000', width: 1, points: [] }, seen });

test('review29: the clear index answers as asking every clear does', () => {
  const rng = new SeededRandom('review29-board');
  const authors = [A, M, 'cc'.repeat(32)];
  for (let round = 0; round < 200; round++) {
    const clears = Array.from({ length: rng.int(0, 12) }, (_, i) => {
      const seen: Record<string, number> = {};
      for (const a of authors) if (rng.int(0, 2) > 0) seen[a] = rng.int(0, 20);
      return clear(rng.int(0, 100), seen, i);
    });
    const index = clearIndex(clears);
    for (let q = 0; q < 40; q++) {
      const win = { author: authors[rng.int(0, authors.length - 1)]!, seq: rng.int(0, 22), sentAt: rng.int(0, 110) };
      assert.equal(reachedByAClear(index, win), clears.some((c) => reaches(c, win)), JSON.stringify({ win, clears: clears.map((c) => [c.sentAt, c.seen]) }));
    }
  }
});

test('review29: clears that reach nothing cost each object a lookup, not a pass over every clear', () => {
  const n = 16_000;
  const entries: BoardEntry[] = [];
  for (let i = 0; i < n; i++) entries.push({ group: 'g', sender: 'pA', sentAt: 10_000 + i, author: A, seq: i + 1, stroke: { id: `s${i}`, tool: 'pen', color: '#000000', width: 1, points: [{ x: i, y: i }] } });
  for (let i = 0; i < n; i++) entries.push(clear(1, { [A]: 1 }, i)); // dated before every object: they reach nothing
  let asked = 0;
  const counted = entries.map((e) => (e.stroke?.tool === 'clear' ? new Proxy(e, { get: (t, k) => (k === 'seen' && asked++, Reflect.get(t, k)) }) : e));
  assert.equal(boardObjects(counted).length, n, 'the board stays whole');
  assert.ok(asked <= 4 * n, `the clears' seen maps were read ${asked} times for ${n} objects`);
});
