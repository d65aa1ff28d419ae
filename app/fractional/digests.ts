/**
 * @module fractional/digests
 * Digests that let panel members notice that they no longer see the same public
 * values (an equivocating sender, or a panel split by a crash). Each digest is a
 * domain-separated SHA-256 over fixed-size encodings, so equal inputs give equal
 * bytes on every member.
 *
 * Seed: 004 §VI (all members must check the same published values).
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import type { Point } from './arithmetic.js';
import { commit, encodePoint, type Scalar } from './arithmetic.js';
import { ascii, concatBytes, fromHex, u32 } from './bytes.js';

const STATE_DOMAIN = ascii('conclave/fractional/state/v1');
const COMMIT_DOMAIN = ascii('conclave/fractional/commitments/v1');

/** The public state after a process: who is on the panel, θ·B and every pad commitment A_i. */
export function stateDigest(crypto: CryptoProvider, epoch: Uint8Array, members: readonly MemberKey[], theta: Scalar, pads: readonly Point[]): Uint8Array {
  return crypto.sha256(
    concatBytes(STATE_DOMAIN, epoch, ...members.map((m) => fromHex(m)!), encodePoint(commit(theta)), ...pads.map(encodePoint)),
  );
}

/** The commitments F_i of one round, in panel order. */
export function commitmentsDigest(crypto: CryptoProvider, epoch: Uint8Array, iteration: number, commitments: readonly Point[]): Uint8Array {
  return crypto.sha256(concatBytes(COMMIT_DOMAIN, epoch, u32(iteration), ...commitments.map(encodePoint)));
}
