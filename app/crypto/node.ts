/**
 * @module crypto/node
 * The CryptoProvider on Node's native crypto (OpenSSL) where it is faster:
 * SHA-256, HKDF, Ed25519, X25519 and ChaCha20-Poly1305. XChaCha20-Poly1305 is
 * built from ChaCha20-Poly1305 and an HChaCha20 subkey (draft-irtf-cfrg-xchacha),
 * HChaCha20 from @noble/ciphers. The Ed25519→X25519 maps reuse the noble provider.
 * Invariant: byte-for-byte identical to `nobleCrypto` (test/unit/crypto.test.ts).
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hash,
  hkdfSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import { nobleCrypto } from './noble.js';

const ZERO_SALT = Buffer.alloc(32);
const ONE = Buffer.from([1]);

/** Node key objects are costly to build: one bounded memo per kind of key. */
function keyMemo(make: (raw: Uint8Array) => KeyObject): (raw: Uint8Array) => KeyObject {
  const memo = new Map<string, KeyObject>();
  return (raw) => {
    const id = Buffer.from(raw).toString('hex');
    let k = memo.get(id);
    if (!k) {
      k = make(raw);
      if (memo.size > 65536) memo.clear();
      memo.set(id, k);
    }
    return k;
  };
}
/**
 * Raw keys go in as JWK: Node builds an OKP key from `d` (private) or `x` (public) alone, the
 * raw bytes, as a raw import does (its DER import runs OpenSSL's decoder: about ten times slower,
 * ~0.4 ms per private key). A private JWK must carry `x` as a string; it is not read.
 */
const b64 = (raw: Uint8Array) => Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url');
const okpPrivate = (crv: 'Ed25519' | 'X25519') => (raw: Uint8Array) => createPrivateKey({ key: { kty: 'OKP', crv, d: b64(raw), x: '' }, format: 'jwk' });
const okpPublic = (crv: 'Ed25519' | 'X25519') => (raw: Uint8Array) => createPublicKey({ key: { kty: 'OKP', crv, x: b64(raw) }, format: 'jwk' });
const edKey = keyMemo(okpPrivate('Ed25519'));
const edPub = keyMemo(okpPublic('Ed25519'));
/** The memoized Node key object of a raw Ed25519 public key (also libp2p's verifies: net/ed25519-verify.ts). */
export const ed25519PublicKeyObject = edPub;
const xKey = keyMemo(okpPrivate('X25519'));
const xPub = keyMemo(okpPublic('X25519'));

function u32(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b[4 * i]! | (b[4 * i + 1]! << 8) | (b[4 * i + 2]! << 16) | (b[4 * i + 3]! << 24);
  return out;
}
const SIGMA = u32(new TextEncoder().encode('expand 32-byte k'));

/** XChaCha20 subkey and 12-byte nonce for ChaCha20-Poly1305. */
function xSubkey(key: Uint8Array, nonce: Uint8Array): { k: Buffer; n: Buffer } {
  const out = new Uint32Array(8);
  hchacha(SIGMA, u32(key), u32(nonce.subarray(0, 16)), out);
  const k = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) k.writeUInt32LE(out[i]!, 4 * i);
  const n = Buffer.alloc(12);
  n.set(nonce.subarray(16, 24), 4);
  return { k, n };
}

/** SHA-256 in one call (no Hash object): the revision chain runs it on every join. */
function sha256(data: Uint8Array): Uint8Array {
  const d = hash('sha256', data, 'buffer') as unknown as Buffer;
  return new Uint8Array(d.buffer, d.byteOffset, 32);
}

const HMAC_BLOCK = 64;
/**
 * HMAC-SHA256 (RFC 2104) over one-shot hashes: H((K ^ opad) ‖ H((K ^ ipad) ‖ m1 ‖ m2)).
 * A key longer than the block is hashed first, as RFC 2104 says. Same bytes as createHmac
 * (test/unit/crypto.test.ts), at about a third of its cost for the short inputs of HKDF.
 */
function hmacSha256(key: Uint8Array, m1: Uint8Array, m2?: Uint8Array): Uint8Array {
  const k = key.length > HMAC_BLOCK ? sha256(key) : key;
  const inner = new Uint8Array(HMAC_BLOCK + m1.length + (m2?.length ?? 0));
  const outer = new Uint8Array(HMAC_BLOCK + 32);
  for (let i = 0; i < HMAC_BLOCK; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(m1, HMAC_BLOCK);
  if (m2) inner.set(m2, HMAC_BLOCK + m1.length);
  outer.set(sha256(inner), HMAC_BLOCK);
  return sha256(outer);
}

export const nodeCrypto: CryptoProvider = {
  name: 'node',
  sha256: (data) => sha256(data),
  hkdf(ikm, salt, info, length) {
    // RFC 5869 over hmacSha256 (one-shot hashes): for short outputs several times faster
    // than hkdfSync, which builds key objects on every call, and than createHmac.
    if (length > 32) return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
    const prk = hmacSha256(salt.length ? salt : ZERO_SALT, ikm);
    const okm = hmacSha256(prk, info, ONE);
    return length === 32 ? okm : okm.slice(0, length);
  },
  seal(key, nonce, plaintext, aad) {
    const { k, n } = xSubkey(key, nonce);
    const c = createCipheriv('chacha20-poly1305', k, n, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: plaintext.length });
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return new Uint8Array(Buffer.concat([body, c.getAuthTag()]));
  },
  open(key, nonce, ciphertext, aad) {
    if (key.length !== 32 || nonce.length !== 24 || ciphertext.length < 16) return null;
    try {
      const { k, n } = xSubkey(key, nonce);
      const d = createDecipheriv('chacha20-poly1305', k, n, { authTagLength: 16 });
      d.setAAD(aad, { plaintextLength: ciphertext.length - 16 });
      d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      return new Uint8Array(Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]));
    } catch {
      return null;
    }
  },
  ed25519PublicKey: (seed) => nobleCrypto.ed25519PublicKey(seed),
  ed25519Sign: (seed, message) => new Uint8Array(sign(null, message, edKey(seed))),
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, edPub(publicKey), signature);
    } catch {
      return false;
    }
  },
  x25519SecretFromEd25519Seed: (seed) => nobleCrypto.x25519SecretFromEd25519Seed(seed),
  x25519PublicFromEd25519: (pk) => nobleCrypto.x25519PublicFromEd25519(pk),
  x25519PublicKey: (secret) => nobleCrypto.x25519PublicKey(secret),
  x25519(secret, peerPublic) {
    if (peerPublic.length !== 32) return null;
    try {
      const out = diffieHellman({
        privateKey: xKey(secret),
        publicKey: xPub(peerPublic),
      });
      if (out.every((b) => b === 0)) return null;
      return new Uint8Array(out);
    } catch {
      return null;
    }
  },
};
