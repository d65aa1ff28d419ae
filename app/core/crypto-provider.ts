/**
 * @module core/crypto-provider
 * The crypto the engine needs, as an injected interface (STYLE §4, "providers,
 * not imports"). Two implementations live in app/crypto: one on @noble/*, one on
 * Node's native crypto where it is faster; they produce identical bytes (tested
 * against each other). Randomness is injected separately (`Rng`).
 *
 * Invariants: every function is deterministic given its inputs; none keeps state.
 */

export interface CryptoProvider {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** HKDF-SHA256 (RFC 5869). */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** XChaCha20-Poly1305: 32-byte key, 24-byte nonce; returns ciphertext ‖ 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Returns null when the tag does not verify (never throws on bad input). */
  open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null;
  /** Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** Returns false for any malformed key or signature (never throws). */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** X25519 secret of an Ed25519 seed (RFC 8032 clamped scalar, as libsodium does). */
  x25519SecretFromEd25519Seed(seed: Uint8Array): Uint8Array;
  /** X25519 public key of an Ed25519 public key (birational map); null if invalid. */
  x25519PublicFromEd25519(publicKey: Uint8Array): Uint8Array | null;
  x25519PublicKey(secret: Uint8Array): Uint8Array;
  /** Raw X25519; null for a low-order or malformed peer key. */
  x25519(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array | null;
}

/** Injected randomness: returns n fresh bytes. The simulator seeds it; real peers use the OS CSPRNG. */
export type Rng = (n: number) => Uint8Array;
