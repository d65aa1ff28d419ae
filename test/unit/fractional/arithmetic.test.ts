// The arithmetic of ⊙ = addition mod ℓ (004 §V) and the n ≥ 4 rule, shown on the bare formulas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scalar } from '../../../app/fractional/arithmetic.js';
import {
  commit,
  decodePoint,
  decodeScalar,
  encodeScalar,
  GROUP_ORDER,
  lambda,
  hideFraction,
  nextBinding,
  nextPad,
  recoverPad,
  remove,
  sumScalars,
  times,
} from '../../../app/fractional/arithmetic.js';
import { bareRun, coalitionView } from './bare.js';

const scalar = fc.bigInt({ min: 0n, max: GROUP_ORDER - 1n });
const scalars = (n: number) => fc.array(scalar, { minLength: n, maxLength: n });

test('λ(n) = p + 1 − n cancels the (n − 1)·θ that the pads add up to (004 §V)', () => {
  for (const n of [2, 3, 4, 5, 32]) {
    assert.equal((lambda(n) + BigInt(n - 1)) % GROUP_ORDER, 0n);
    assert.equal(lambda(n), GROUP_ORDER + 1n - BigInt(n));
  }
});

test('scalars decode only canonically: ℓ − 1 yes, ℓ and 2^256 − 1 no, 31 bytes no', () => {
  assert.equal(decodeScalar(encodeScalar(GROUP_ORDER - 1n)), GROUP_ORDER - 1n);
  const le = (x: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn));
  assert.equal(decodeScalar(le(GROUP_ORDER)), null);
  assert.equal(decodeScalar(new Uint8Array(32).fill(0xff)), null);
  assert.equal(decodeScalar(new Uint8Array(31)), null);
  assert.equal(decodePoint(new Uint8Array(32).fill(0xff)), null);
});

test('property: initialization and a round keep Σα = (n − 1)·θ and give θ₂ = ΣFK', () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 9 }).chain((n) => fc.tuple(scalar, scalars(n), scalars(n))), ([gamma, v, fk]) => {
      const run = bareRun(gamma, v, fk);
      const n = v.length;
      assert.equal(run.theta1, sumScalars(v));
      assert.equal(sumScalars(run.pads1), times(n - 1, run.theta1));
      assert.equal(run.theta2, sumScalars(fk));
      assert.equal(sumScalars(run.pads2), times(n - 1, run.theta2));
    }),
    { numRuns: 60 },
  );
});

test('property: commitments are additive, so θ·B is the sum of the published F_i', () => {
  fc.assert(
    fc.property(scalars(5), (fk) => {
      assert.ok(commit(sumScalars(fk)).equals(fk.map(commit).reduce((a, b) => a.add(b))));
    }),
    { numRuns: 20 },
  );
});

test('property: recovery rebuilds a missing pad from masked pads whose masks add up to (r − 1)·ξ (004 §IV)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 8 }).chain((n) => fc.tuple(scalar, scalars(n), scalars(n), fc.nat(n - 1))), ([gamma, v, fk, failed]) => {
      const run = bareRun(gamma, v, fk);
      const remaining = run.pads2.filter((_, i) => i !== failed);
      const u = remaining.map((_, i) => v[(i + 1) % v.length]!); // any recovery ring secrets
      const xi = sumScalars(u);
      const masked = remaining.map((a, i) => a + remove(xi, u[i]!));
      assert.equal(recoverPad(run.theta2, run.n, xi, masked), run.pads2[failed]);
    }),
    { numRuns: 40 },
  );
});

/** The fractional attack of 004 §V: member 0 turns rogue and leaks its pad; member 1 uses it with what it already knows. */
function fractionalAttack(run: ReturnType<typeof bareRun>): Scalar {
  const leakedPad = run.pads2[0]!; // α_{0,j+1}, released by the rogue
  const rogueFraction = remove(run.theta2, leakedPad); // FK_0 = θ_{j+1} ⊙ α_0⁻¹
  // Member 1 knows θ_{j+1} and its own FK_1; what is left of θ is "the other members' FK".
  return remove(remove(run.theta2, rogueFraction), run.fractions[1]!);
}

test('n = 3: a rogue member that leaks its pad lets another member compute the third FK (the attack succeeds)', () => {
  fc.assert(
    fc.property(scalar, scalars(3), scalars(3), (gamma, v, fk) => {
      const run = bareRun(gamma, v, fk);
      assert.equal(fractionalAttack(run), run.fractions[2]);
    }),
    { numRuns: 30 },
  );
});

test('n ≥ 4: the same attack yields only the sum of the others\' FKs, and the view fits every value of FK_2', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 8 }).chain((n) => fc.tuple(scalar, scalars(n), scalars(n), scalar.filter((d) => d !== 0n))),
      ([gamma, v, fk, d]) => {
        const run = bareRun(gamma, v, fk);
        const outsiders = fk.slice(2);
        assert.equal(fractionalAttack(run), sumScalars(outsiders));
        // Another execution: members 2 and 3 shift their ring secrets and FKs by ±d.
        const shift = (xs: Scalar[]) => xs.map((x, i) => (i === 2 ? x + d : i === 3 ? remove(x, d) : x) % GROUP_ORDER);
        const other = bareRun(gamma, shift(v), shift(fk));
        assert.deepEqual(coalitionView(other, [0, 1]), coalitionView(run, [0, 1]), 'rogue + observer see exactly the same scalars');
        assert.notEqual(other.fractions[2], run.fractions[2], 'yet FK_2 differs: the view does not determine it');
      },
    ),
    { numRuns: 30 },
  );
});

test('n = 3: the same shift cannot hide, because the third member has no one to balance it', () => {
  fc.assert(
    fc.property(scalar, scalars(3), scalars(3), scalar.filter((d) => d !== 0n), (gamma, v, fk, d) => {
      const run = bareRun(gamma, v, fk);
      const shift = (xs: Scalar[]) => xs.map((x, i) => (i === 2 ? (x + d) % GROUP_ORDER : x));
      const other = bareRun(gamma, shift(v), shift(fk));
      assert.notDeepEqual(coalitionView(other, [0, 1]), coalitionView(run, [0, 1]));
    }),
    { numRuns: 30 },
  );
});

test('a single member alone never learns another FK, for n = 3 too: its view fits any split of two others', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 6 }).chain((n) => fc.tuple(scalar, scalars(n), scalars(n), scalar.filter((d) => d !== 0n))), ([gamma, v, fk, d]) => {
      const run = bareRun(gamma, v, fk);
      // Member 0 alone: members 1 and 2 move d between their ring secrets and between their FKs.
      const shift = (xs: Scalar[]) => xs.map((x, i) => (i === 1 ? (x + d) % GROUP_ORDER : i === 2 ? remove(x, d) : x));
      const other = bareRun(gamma, shift(v), shift(fk));
      assert.deepEqual(coalitionView(other, [0]), coalitionView(run, [0]));
      assert.notEqual(other.fractions[1], run.fractions[1]);
    }),
    { numRuns: 30 },
  );
});

test('what the panel sees: HFK_{i,j} − θ_j is FK_{i,j} − FK_{i,j−1}, so one secret (v_i) hides all of member i\'s FKs', () => {
  fc.assert(
    fc.property(scalar, scalars(4), scalars(4), scalars(4), (gamma, v, fk1, fk2) => {
      const run = bareRun(gamma, v, fk1);
      const hidden2 = run.pads2.map((a, i) => hideFraction(a, fk2[i]!));
      const theta3 = nextBinding(run.theta2, hidden2);
      assert.equal(theta3, sumScalars(fk2));
      for (let i = 0; i < 4; i++) {
        assert.equal(remove(hidden2[i]!, run.theta2), remove(fk2[i]!, fk1[i]!));
        assert.equal(remove(run.hidden[i]!, run.theta1), remove(fk1[i]!, v[i]!));
        assert.equal(nextPad(theta3, fk2[i]!), remove(theta3, fk2[i]!));
      }
    }),
    { numRuns: 20 },
  );
});
