/**
 * @module net/ed25519-verify
 * libp2p's Ed25519 signature checks on a key object built once per key.
 *
 * `@libp2p/crypto` 5.x checks an Ed25519 signature by building a Node key object
 * from the raw public key (a JWK import) for every call, then verifying. Gossipsub
 * checks every message it receives under StrictSign that way, with a public key
 * object of its own per message, so every delivery paid for a key import: in a
 * profile of ten idle peers the import was about a third of the check's cost
 * (docs/performance.md "Round twenty"). This module makes `Ed25519PublicKey.verify`
 * take the key object from the bounded memo the engine's own checks use
 * (crypto/node.ts `ed25519PublicKeyObject`); the check itself is Node's, as before.
 *
 * Invariants:
 * - The same answers as the library's method: the same length checks (anything
 *   else is handed to the library's method, which throws its own TypeError), the
 *   same abort check, the same key import (JWK, `x` alone) and `crypto.verify`.
 * - Installed once per process, before any connection (net/node), on the class of
 *   the key `publicKeyFromRaw` returns for 32 bytes; a version whose class lacks a
 *   `verify` method, or whose key lacks `raw`, keeps the library's method.
 */
import { verify } from 'node:crypto';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { ed25519PublicKeyObject } from '../crypto/node.js';

type Data = Uint8Array | { subarray(): Uint8Array };
type Verify = (this: { raw?: unknown }, data: Data, sig: Uint8Array, options?: { signal?: AbortSignal }) => boolean | Promise<boolean>;

let installed: 'memo' | 'library' | null = null;

/** Makes libp2p's Ed25519 public keys verify with a memoized key object (idempotent); returns which method is in force. */
export function installMemoizedEd25519Verify(): 'memo' | 'library' {
  if (installed) return installed;
  const sample = publicKeyFromRaw(new Uint8Array(32).fill(1)) as unknown as { type?: string; raw?: unknown };
  const proto = Object.getPrototypeOf(sample) as { verify?: Verify };
  const library = proto.verify;
  if (sample.type !== 'Ed25519' || !(sample.raw instanceof Uint8Array) || typeof library !== 'function') {
    installed = 'library';
    return installed;
  }
  proto.verify = function verifyWithMemoizedKey(this: { raw?: unknown }, data, sig, options) {
    const raw = this.raw;
    if (!(raw instanceof Uint8Array) || raw.byteLength !== 32 || !(sig instanceof Uint8Array) || sig.byteLength !== 64) return library.call(this, data, sig, options);
    options?.signal?.throwIfAborted();
    return verify(null, data instanceof Uint8Array ? data : data.subarray(), ed25519PublicKeyObject(raw), sig);
  };
  installed = 'memo';
  return installed;
}
