// SeqRanges (app/peer/seq-ranges.ts) against a plain set of numbers: every operation keeps the
// ranges sorted, disjoint and non-adjacent, and says what the set says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeqRanges, type Range } from '../../app/peer/seq-ranges.js';

/** The runs of consecutive numbers in `set`, as sorted ranges. */
function runsOf(set: Set<number>): Range[] {
  const out: Range[] = [];
  for (const n of [...set].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), lo: fc.integer({ min: 1, max: 60 }), len: fc.integer({ min: -2, max: 8 }) }),
  fc.record({ kind: fc.constant('remove' as const), lo: fc.integer({ min: 0, max: 62 }), len: fc.constant(0) }),
);

test('SeqRanges: add, addRange, remove, of, has and missing agree with a set of numbers', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 5 })), { maxLength: 8 }), fc.integer({ min: 0, max: 80 }), (ops, alsoRanges, upTo) => {
      const r = new SeqRanges();
      const model = new Set<number>();
      for (const o of ops) {
        if (o.kind === 'add') {
          if (o.len === 0) r.add(o.lo);
          else r.addRange(o.lo, o.lo + o.len);
          for (let n = o.lo; n <= o.lo + o.len; n++) model.add(n);
        } else {
          r.remove(o.lo);
          model.delete(o.lo);
        }
        assert.deepEqual(r.list(), runsOf(model));
      }
      for (let n = 0; n <= 72; n++) assert.equal(r.has(n), model.has(n), `has(${n})`);
      assert.equal(r.max, Math.max(0, ...model));
      assert.equal(r.min, model.size ? Math.min(...model) : 0);
      const also = SeqRanges.of(alsoRanges.map(([lo, len]) => [lo + len, lo] as Range).concat(alsoRanges.map(([lo, len]) => [lo, lo + len] as Range)));
      const alsoSet = new Set(alsoRanges.flatMap(([lo, len]) => Array.from({ length: len + 1 }, (_, i) => lo + i)));
      assert.deepEqual(also.list(), runsOf(alsoSet), 'of: reversed ranges are empty; the rest merged');
      const lacking = new Set<number>();
      for (let n = 1; n <= upTo; n++) if (!model.has(n) && !alsoSet.has(n)) lacking.add(n);
      assert.deepEqual(r.missing(upTo, also, 1000), runsOf(lacking));
      assert.deepEqual(r.missing(upTo, also, 2), runsOf(lacking).slice(0, 2));
      assert.deepEqual(r.missing(upTo, undefined, 1000), runsOf(new Set([...Array(upTo).keys()].map((i) => i + 1).filter((n) => !model.has(n)))));
    }),
    { numRuns: 500 },
  );
});
