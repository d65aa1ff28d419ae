// Deterministic Ed25519 signers for tests that sign application messages:
// signer(n) has the seed of 32 bytes of `n`, so tests get stable member keys.
import { nodeCrypto } from '../../app/crypto/node.js';

export type Signer = { key: string; sign(m: Uint8Array): Uint8Array };

/** The signer whose seed is 32 bytes of `n`. */
export function signer(n: number): Signer {
  const seed = new Uint8Array(32).fill(n);
  return { key: Buffer.from(nodeCrypto.ed25519PublicKey(seed)).toString('hex'), sign: (m) => nodeCrypto.ed25519Sign(seed, m) };
}
