/**
 * @module sim/crypto-memo
 * The simulator's default crypto provider: Node's, with the pure functions that every
 * member computes on the same inputs remembered across the whole simulation. In a
 * simulated group every member verifies the same signatures (a table header, a
 * MemberAdmitted batch, an admission certificate), steps the same revision chains
 * (SHA-256), derives the same control keys from them (HKDF) and maps the same member
 * keys to X25519, and every holder of a KEK opens the same TEK' sealed under it (a table
 * entry): N members, N identical computations (and each peer's public key is derived
 * twice, by the simulator and by its engine). Each is a pure function of its
 * input, so the second and later members get the first one's answer; every member still
 * asks, every check still runs and decides exactly as before, and the reports are byte
 * for byte the same.
 *
 * Invariants: an answer is reused only for the same input bytes: a verify compares public
 * key, message and signature byte for byte (no hash of them stands in), and an AEAD open
 * compares key, nonce, ciphertext and associated data byte for byte; SHA-256 and HKDF find
 * an answer by a hash of their whole input and compare that input byte for byte (with the
 * lengths that split it); the X25519 map is keyed by its whole input, one char per byte,
 * and only inputs up to MAX_MEMO_INPUT bytes are remembered; every remembered key is
 * handed out as a fresh copy (members erase their keys in place), an opened plaintext too;
 * each memo is bounded
 * (cleared at MAX_ENTRIES). Only the simulator uses it: the bench measures CPU with a
 * provider of its own, so every computation is paid there (docs/performance.md).
 * docs/performance.md "Round three" and "The simulator".
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import { equalBytes, toHex } from '../core/bytes.js';

const MAX_ENTRIES = 200_000;
/** Inputs remembered by SHA-256 and HKDF at most (a revision step is 52 bytes, a control key 53). */
const MAX_MEMO_INPUT = 128;

/** The bytes as a string of as many chars (one per byte, 0–255): equal strings only for equal bytes. */
function bytesKey(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Remembers `value` under `id` (the memo bounded: cleared when full) and returns it. */
function remember<T>(memo: Map<string, T>, id: string, value: T): T {
  if (memo.size >= MAX_ENTRIES) memo.clear();
  memo.set(id, value);
  return value;
}

/** Byte equality through Node's memcmp (a table's ciphertext is kilobytes; no secret is timed here). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

interface Opening {
  key: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  aad: Uint8Array;
  plain: Uint8Array | null;
}

interface Remembered {
  n: number;
  /** The parts, concatenated (one object to read on a hit), and where each ends. */
  bytes: Uint8Array;
  ends: number[];
  out: Uint8Array;
  /** Another input of the same hash. */
  next: Remembered | null;
}

/**
 * Answers of a pure function of (n, byte strings), found by a 32-bit FNV-1a hash of n, every
 * part's length and every byte, then compared part by part, byte for byte: no string is built
 * per call (SHA-256 is asked 1.45 million times in the 1,000-member run). Bounded (cleared at
 * MAX_ENTRIES); the parts are kept as one copy, the answer is the caller's to copy.
 */
class InputMemo {
  private readonly byHash = new Map<number, Remembered>();
  private entries = 0;

  get(n: number, ...parts: Uint8Array[]): Uint8Array | undefined {
    for (let r = this.byHash.get(hashOf(n, parts)) ?? null; r; r = r.next) if (r.n === n && sameParts(r, parts)) return r.out;
    return undefined;
  }

  remember(n: number, parts: Uint8Array[], out: Uint8Array): Uint8Array {
    if (this.entries >= MAX_ENTRIES) {
      this.byHash.clear();
      this.entries = 0;
    }
    const h = hashOf(n, parts);
    const ends: number[] = [];
    let total = 0;
    for (const p of parts) ends.push((total += p.length));
    const bytes = new Uint8Array(total);
    for (let j = 0; j < parts.length; j++) bytes.set(parts[j]!, j === 0 ? 0 : ends[j - 1]);
    this.byHash.set(h, { n, bytes, ends, out, next: this.byHash.get(h) ?? null });
    this.entries++;
    return out;
  }
}

function hashOf(n: number, parts: readonly Uint8Array[]): number {
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  for (const p of parts) {
    h = Math.imul(h ^ p.length, 0x01000193);
    for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p[i]!, 0x01000193);
  }
  return h;
}

function sameParts(r: Remembered, parts: readonly Uint8Array[]): boolean {
  if (r.ends.length !== parts.length) return false;
  const b = r.bytes;
  let o = 0;
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j]!;
    if (r.ends[j]! - o !== p.length) return false;
    for (let i = 0; i < p.length; i++) if (b[o + i] !== p[i]) return false;
    o += p.length;
  }
  return true;
}

interface Answer {
  publicKey: Uint8Array;
  message: Uint8Array;
  ok: boolean;
}

/** `base` with its Ed25519 verify and public key, SHA-256, HKDF and Ed25519→X25519 map remembered (same answers, same bytes). */
export function memoizedVerify(base: CryptoProvider): CryptoProvider {
  const memo = new Map<string, Answer[]>();
  let entries = 0;
  // The birational map of a member key (~0.1 ms in JS): every grantor and joiner asks it of the same keys.
  const xPublics = new Map<string, Uint8Array | null>();
  // Every member steps the same revision chains and derives the same control keys from them.
  const hashes = new InputMemo();
  const derived = new InputMemo();
  // A member's public key from its seed: the simulator derives it for the peer, its engine again.
  const publics = new Map<string, Uint8Array>();
  // Every holder of a KEK opens the same sealed TEK' (a table entry): by tag, then the whole input.
  const openings = new Map<string, Opening[]>();
  let opened = 0;
  return {
    ...base,
    name: `${base.name}+verify-memo`,
    sha256(data) {
      if (data.length > MAX_MEMO_INPUT) return base.sha256(data);
      return (hashes.get(0, data) ?? hashes.remember(0, [data], base.sha256(data))).slice();
    },
    hkdf(ikm, salt, info, length) {
      if (ikm.length + salt.length + info.length > MAX_MEMO_INPUT) return base.hkdf(ikm, salt, info, length);
      return (derived.get(length, ikm, salt, info) ?? derived.remember(length, [ikm, salt, info], base.hkdf(ikm, salt, info, length))).slice();
    },
    ed25519PublicKey(seed) {
      const id = bytesKey(seed);
      return (publics.get(id) ?? remember(publics, id, base.ed25519PublicKey(seed))).slice();
    },
    x25519PublicFromEd25519(publicKey) {
      // The key is the whole input: the same string only for the same bytes.
      const id = bytesKey(publicKey);
      const pub = xPublics.has(id) ? xPublics.get(id)! : remember(xPublics, id, base.x25519PublicFromEd25519(publicKey));
      return pub?.slice() ?? null;
    },
    open(key, nonce, ciphertext, aad) {
      if (ciphertext.length < 16) return base.open(key, nonce, ciphertext, aad);
      const id = bytesKey(ciphertext.subarray(ciphertext.length - 16));
      const seen = openings.get(id);
      if (seen) for (const o of seen) if (same(o.ciphertext, ciphertext) && same(o.key, key) && same(o.nonce, nonce) && same(o.aad, aad)) return o.plain?.slice() ?? null;
      const plain = base.open(key, nonce, ciphertext, aad);
      if (opened >= MAX_ENTRIES) {
        openings.clear();
        opened = 0;
      }
      const o = { key: key.slice(), nonce: nonce.slice(), ciphertext: ciphertext.slice(), aad: aad.slice(), plain: plain?.slice() ?? null };
      if (seen) seen.push(o);
      else openings.set(id, [o]);
      opened++;
      return plain;
    },
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
