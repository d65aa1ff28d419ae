/**
 * @module crypto/noble
 * The CryptoProvider on @noble/* (pure JS, audited): SHA-256, HKDF-SHA256,
 * XChaCha20-Poly1305, Ed25519 and X25519 (with the Ed25519→X25519 maps), plus the
 * OS random source for real peers. Invariant: never throws on malformed remote
 * input; verification and decryption failures come back as false / null.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';

const montgomeryCache = new Map<string, Uint8Array | null>();

export const nobleCrypto: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(data),
  hkdf: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  seal: (key, nonce, plaintext, aad) => xchacha20poly1305(key, nonce, aad).encrypt(plaintext),
  open(key, nonce, ciphertext, aad) {
    try {
      return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
    } catch {
      return null;
    }
  },
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Verify(publicKey, message, signature) {
    try {
      return ed25519.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  },
  x25519SecretFromEd25519Seed: (seed) => ed25519.utils.toMontgomerySecret(seed),
  x25519PublicFromEd25519(publicKey) {
    // Memoized: a pure map on public data, costly (a field inversion and a point check) and asked often.
    const id = publicKey.length === 32 ? String.fromCharCode(...publicKey) : null;
    if (id !== null && montgomeryCache.has(id)) return montgomeryCache.get(id)!;
    let out: Uint8Array | null;
    try {
      out = ed25519.utils.toMontgomery(publicKey);
    } catch {
      out = null;
    }
    if (id !== null) {
      if (montgomeryCache.size > 100_000) montgomeryCache.clear();
      montgomeryCache.set(id, out);
    }
    return out;
  },
  x25519PublicKey: (secret) => x25519.getPublicKey(secret),
  x25519(secret, peerPublic) {
    try {
      return x25519.getSharedSecret(secret, peerPublic);
    } catch {
      return null;
    }
  },
};

/** The operating system's CSPRNG, for real peers (never used by the engine directly). */
export const systemRng: Rng = (n) => randomBytes(n);
