/**
 * @module fractional/arithmetic
 * The operator ⊙ and the process formulas of seed 004, instantiated once.
 *
 * Choice (004 §I assumptions, §V): ⊙ is addition modulo ℓ, the prime order of the
 * ristretto255 group (ℓ = 2^252 + 27742317777372353535851937790883648493), and
 * its inverse is subtraction modulo ℓ. The seed's p is therefore ℓ, keys are
 * L = 253 bits stored as 32 canonical little-endian bytes, and the scaling
 * factor of 004 §V is λ(n) = (ℓ + 1 − n) mod ℓ, i.e. 1 − n. The same group
 * gives the commitments of 004 §VI: a scalar s is committed to as s·B, B the
 * ristretto255 base point, so sums of scalars map to sums of points.
 *
 * Invariants:
 * - every Scalar is an integer in [0, ℓ); every decoder refuses anything else;
 * - after initialization and after every round, the pads of a panel of n
 *   members add up to (n − 1)·θ (the identity 004 §V relies on); the helpers
 *   below preserve it, and the recovery formula relies on it;
 * - nothing here draws randomness except `drawScalar`, through the injected Rng.
 *
 * Where the seed writes "x ⊙ y" for a step that must remove a value (004 §II.B
 * step 475 and 490, §III step 550), the group's inverse is meant; see
 * docs/fractional.md ("Reading ⊙").
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';
import { ascii, concatBytes, u32 } from './bytes.js';

export type Scalar = bigint;
export type Point = InstanceType<typeof ristretto255.Point>;

const Fn = ristretto255.Point.Fn;
const BASE = ristretto255.Point.BASE;

/** ℓ, the seed's prime p; keys are L = 253 bits (004 §I). */
export const GROUP_ORDER: bigint = Fn.ORDER;
export const SCALAR_BYTES = 32;
export const POINT_BYTES = 32;
export const IDENTITY: Point = ristretto255.Point.ZERO;

/** ⊙ */
export const combine = (a: Scalar, b: Scalar): Scalar => Fn.add(a, b);
/** the inverse of ⊙: a ⊙ b⁻¹ */
export const remove = (a: Scalar, b: Scalar): Scalar => Fn.sub(a, b);
export const sumScalars = (xs: readonly Scalar[]): Scalar => xs.reduce(combine, 0n);
/** k-fold ⊙ of a with itself (k may be negative). */
export const times = (k: number, a: Scalar): Scalar => Fn.mul(Fn.create(BigInt(k)), a);

/** 004 §V: λ = (p + 1 − n) mod p, which cancels the (n − 1)·θ the pads add up to. */
export function lambda(n: number): Scalar {
  return Fn.create(GROUP_ORDER + 1n - BigInt(n));
}

/** A uniform scalar: 64 random bytes reduced mod ℓ (bias below 2^-250). */
export function drawScalar(rng: Rng): Scalar {
  return scalarFromWide(rng(64));
}

/** 64 bytes (little-endian) reduced mod ℓ: a uniform scalar from uniform bytes. */
export function scalarFromWide(bytes: Uint8Array): Scalar {
  if (bytes.length !== 64) throw new Error('a wide scalar needs 64 bytes');
  let n = 0n;
  for (let i = 63; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return Fn.create(n);
}

export const encodeScalar = (s: Scalar): Uint8Array => Fn.toBytes(s);

/** Canonical 32-byte little-endian scalar, or null. */
export function decodeScalar(bytes: Uint8Array): Scalar | null {
  if (bytes.length !== SCALAR_BYTES) return null;
  try {
    return Fn.fromBytes(bytes);
  } catch {
    return null;
  }
}

// ---- commitments (004 §VI) ----

/** s·B; the commitment to a scalar. */
export const commit = (s: Scalar): Point => (s === 0n ? IDENTITY : BASE.multiply(s));
export const encodePoint = (p: Point): Uint8Array => p.toBytes();

/** A canonical ristretto255 encoding, or null. */
export function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== POINT_BYTES) return null;
  try {
    return ristretto255.Point.fromBytes(bytes);
  } catch {
    return null;
  }
}

export const sumPoints = (ps: readonly Point[]): Point => ps.reduce((a, b) => a.add(b), IDENTITY);
/** k·P for a small signed integer k. */
export const timesPoint = (k: number, p: Point): Point => {
  const m = Fn.create(BigInt(k));
  return m === 0n ? IDENTITY : p.multiply(m);
};

// ---- the process formulas ----

/** 004 §II.B step 415 (and 435): the running ring value after adding one more secret. */
export const ringStep = (previous: Scalar, secret: Scalar): Scalar => combine(previous, secret);

/** 004 §II.B step 475: the initiator removes its blind γ from δ_n; the result is θ₁ (or ξ in recovery). */
export const closeRing = (last: Scalar, blind: Scalar): Scalar => remove(last, blind);

/** 004 §II.B step 490: a member's first pad, α = θ₁ with its own ring secret removed. */
export const padFromBinding = (binding: Scalar, ringSecret: Scalar): Scalar => remove(binding, ringSecret);

/** 004 §III step 520: the hidden fractional key HFK = α ⊙ FK. */
export const hideFraction = (pad: Scalar, fraction: Scalar): Scalar => combine(pad, fraction);

/** 004 §III step 545 and §V: θ_{j+1} = λθ_j ⊙ HFK_1 ⊙ … ⊙ HFK_n, which equals FK_1 ⊙ … ⊙ FK_n. */
export function nextBinding(theta: Scalar, hidden: readonly Scalar[]): Scalar {
  return combine(Fn.mul(lambda(hidden.length), theta), sumScalars(hidden));
}

/** 004 §III step 550: the next pad, θ_{j+1} with the member's own FK removed. */
export const nextPad = (nextTheta: Scalar, fraction: Scalar): Scalar => remove(nextTheta, fraction);

/**
 * 004 §IV step 750, in the form that keeps the pad identity: the remaining r
 * members each sent α_l ⊙ β_l, where their recovery pads β add up to (r − 1)·ξ.
 * Removing that with λ(r)·ξ leaves the sum of their pads, and the failed member's
 * pad is what is missing from (n − 1)·θ.
 */
export function recoverPad(theta: Scalar, panelSize: number, xi: Scalar, maskedPads: readonly Scalar[]): Scalar {
  const remainingPads = combine(sumScalars(maskedPads), Fn.mul(lambda(maskedPads.length), xi));
  return remove(times(panelSize - 1, theta), remainingPads);
}

/**
 * 004 §III step 550: SK_j = f(θ_{j+1}) with f a one-way pseudo-random function,
 * here HKDF-SHA256 salted with the panel epoch and bound to the iteration.
 */
export function deriveSharedKey(crypto: CryptoProvider, nextTheta: Scalar, epoch: Uint8Array, iteration: number): Uint8Array {
  return crypto.hkdf(encodeScalar(nextTheta), epoch, concatBytes(SK_INFO, u32(iteration)), 32);
}

const SK_INFO = ascii('conclave/fractional/shared-key/v1');
