/**
 * @module sim/crypto-memo
 * The simulator's default crypto provider: Node's, with Ed25519 verification
 * remembered across the whole simulation. In a simulated group every member
 * verifies the same signatures (a table header, a MemberAdmitted batch, an
 * admission certificate): N members, N identical verifies, each ~0.1 ms. A verify
 * is a pure function of (public key, message, signature), so the second and later
 * members get the first one's answer; every member still asks, every check still
 * runs and decides exactly as before, and the reports are byte for byte the same.
 *
 * Invariants: an answer is reused only for the same public key, message and
 * signature, compared byte for byte (no hash of them stands in); the memo is
 * bounded (cleared at MAX_ENTRIES). Only the simulator uses it: the bench measures
 * CPU with a provider of its own, so every verify is paid there (docs/performance.md).
 * docs/performance.md "Round three" (the simulator).
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import { equalBytes, toHex } from '../core/bytes.js';

const MAX_ENTRIES = 200_000;

interface Answer {
  publicKey: Uint8Array;
  message: Uint8Array;
  ok: boolean;
}

/** `base` with its Ed25519 verify remembered (same answers, same bytes). */
export function memoizedVerify(base: CryptoProvider): CryptoProvider {
  const memo = new Map<string, Answer[]>();
  let entries = 0;
  return {
    ...base,
    name: `${base.name}+verify-memo`,
    ed25519Verify(publicKey, message, signature) {
      const id = toHex(signature);
      const seen = memo.get(id);
      if (seen) for (const a of seen) if (equalBytes(a.publicKey, publicKey) && equalBytes(a.message, message)) return a.ok;
      const ok = base.ed25519Verify(publicKey, message, signature);
      if (entries >= MAX_ENTRIES) {
        memo.clear();
        entries = 0;
      }
      const answer = { publicKey: Uint8Array.from(publicKey), message: Uint8Array.from(message), ok };
      const list = memo.get(id);
      if (list) list.push(answer);
      else memo.set(id, [answer]);
      entries++;
      return ok;
    },
  };
}
