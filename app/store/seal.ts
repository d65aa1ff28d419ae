/**
 * @module store/seal
 * Secrets at rest: every secret record is sealed with XChaCha20-Poly1305 under
 * the profile storage key, with a fresh 24-byte nonce and the record's purpose as
 * associated data (so a sealed group state cannot be swapped for another group's
 * file or for a history line).
 *
 * Invariants: `open` returns null for anything that does not authenticate (wrong
 * key, wrong purpose, tampering); it never throws on bad bytes.
 * Sealing runs on Node's native ChaCha20-Poly1305 (crypto/node, the same bytes
 * as @noble's): every chat message a member keeps is sealed once, and the
 * noble cipher and its random source were 4 % of fifty chatting peers' CPU.
 */
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../crypto/node.js';

export interface SealedBox {
  n: string;
  c: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function unb64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export class Sealer {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('storage key must be 32 bytes');
  }

  sealBytes(purpose: string, plaintext: Uint8Array): SealedBox {
    const nonce = randomBytes(24);
    return { n: b64(nonce), c: b64(nodeCrypto.seal(this.key, nonce, plaintext, enc.encode(purpose))) };
  }

  openBytes(purpose: string, box: unknown): Uint8Array | null {
    if (typeof box !== 'object' || box === null) return null;
    const { n, c } = box as Partial<SealedBox>;
    if (typeof n !== 'string' || typeof c !== 'string') return null;
    const nonce = unb64(n);
    const ct = unb64(c);
    if (!nonce || !ct || nonce.length !== 24) return null;
    return nodeCrypto.open(this.key, nonce, ct, enc.encode(purpose));
  }

  sealJson(purpose: string, value: unknown): SealedBox {
    return this.sealBytes(purpose, enc.encode(JSON.stringify(value)));
  }

  openJson(purpose: string, box: unknown): unknown {
    const bytes = this.openBytes(purpose, box);
    if (!bytes) return null;
    try {
      return JSON.parse(dec.decode(bytes));
    } catch {
      return null;
    }
  }
}

export { b64 as toBase64, unb64 as fromBase64 };
