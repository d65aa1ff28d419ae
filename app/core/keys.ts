/**
 * @module core/keys
 * Every key derivation of the protocol, each with its own domain label, so that no
 * key is ever used for two purposes. Known-answer vectors: test/vectors/keys.json.
 *
 * - revisionStep (003 [0056], [0071], claims 6–7): K_{r+1} = SHA-256("conclave/v1/revision"
 *   ‖ K_r). One-way: K_r cannot be computed from K_{r+1}.
 * - mergeContributions (003 [0083]): concurrent versions of one key combine as
 *   HKDF(XOR of the contributions); order-independent, needs every contribution.
 * - wrapKey / replaceKey (003 [0073], Table 2): TEK' travels under a KEK; a
 *   replacement KEK travels under a key bound to both the old KEK and TEK'.
 * - dataKey: the AEAD key for application packets under a TEK (003 [0070]).
 * - controlKey: the AEAD key sealing control messages under a TEK (issue 15 §4;
 *   docs/protocol.md §14): a sibling of dataKey under its own label.
 */
import type { CryptoProvider } from './crypto-provider.js';
import { concat, toHex, utf8, xorBytes } from './bytes.js';

export const KEY_BYTES = 32;
const EMPTY = new Uint8Array(0);
const L = (s: string): Uint8Array => utf8(`conclave/v1/${s}`);

export function revisionStep(c: CryptoProvider, key: Uint8Array): Uint8Array {
  // One SHA-256 over a domain label and the key: one-way, and cheap enough that every
  // member can step the TEK on every join of a 1,000-member group.
  if (key.length !== KEY_BYTES) return c.sha256(concat(REVISION_LABEL, key));
  // The input is built in one scratch buffer (providers are synchronous and keep nothing),
  // and wiped after: no allocation per step, no key bytes left behind.
  REVISION_INPUT.set(key, REVISION_LABEL.length);
  const next = c.sha256(REVISION_INPUT);
  REVISION_INPUT.fill(0, REVISION_LABEL.length);
  return next;
}
const REVISION_LABEL = L('revision');
const REVISION_INPUT = concat(REVISION_LABEL, new Uint8Array(KEY_BYTES));

/** Steps `key` from revision `from` to revision `to` (to ≥ from). */
export function advanceRevision(c: CryptoProvider, key: Uint8Array, from: number, to: number): Uint8Array {
  let k = key;
  for (let r = from; r < to; r++) k = revisionStep(c, k);
  return k;
}

export function mergeContributions(c: CryptoProvider, keys: Uint8Array[]): Uint8Array {
  let x: Uint8Array = new Uint8Array(KEY_BYTES);
  for (const k of keys) x = xorBytes(x, k);
  return c.hkdf(x, EMPTY, L('merge'), KEY_BYTES);
}

export function wrapKey(c: CryptoProvider, kek: Uint8Array, context: Uint8Array): Uint8Array {
  return c.hkdf(kek, context, L('wrap-tek'), KEY_BYTES);
}

export function replaceKey(c: CryptoProvider, oldKek: Uint8Array, tekPrime: Uint8Array, context: Uint8Array): Uint8Array {
  return c.hkdf(concat(oldKek, tekPrime), context, L('replace-kek'), KEY_BYTES);
}

export function dataKey(c: CryptoProvider, tek: Uint8Array): Uint8Array {
  return c.hkdf(tek, EMPTY, L('data'), KEY_BYTES);
}

export function controlKey(c: CryptoProvider, tek: Uint8Array): Uint8Array {
  return c.hkdf(tek, EMPTY, L('control'), KEY_BYTES);
}

/** Pairwise sealing key between two identities for one context (admission, fetch). */
export function pairwiseKey(c: CryptoProvider, sharedSecret: Uint8Array, context: Uint8Array): Uint8Array {
  return c.hkdf(sharedSecret, context, L('pairwise'), KEY_BYTES);
}

/** 8 hex characters identifying key bytes without revealing them. */
export function fingerprint(c: CryptoProvider, key: Uint8Array): string {
  return toHex(c.sha256(concat(L('fingerprint'), key))).slice(0, 8);
}

/** Short tag of a creator set, used in packet headers (003 FIG. 8). */
export function creatorsTag(c: CryptoProvider, creators: readonly string[]): Uint8Array {
  return c.sha256(utf8(`conclave/v1/creators:${[...creators].sort().join(',')}`)).slice(0, 8);
}
