/**
 * @module core/bytes
 * Byte helpers and the bounded binary reader/writer every wire codec uses.
 * Invariant: the Reader never reads past its buffer and never allocates more than
 * the caller's stated limit; any violation is a RemoteProtocolError('decode').
 */
import { RemoteProtocolError } from './errors.js';

/** Char codes of '0'–'9', 'a'–'f'. */
const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Bytes converted per String.fromCharCode call (its arguments are bounded). */
const HEX_CHUNK = 4096;
const HEX_SCRATCH = new Uint8Array(2 * HEX_CHUNK);
/** Char-code buffers of exactly 2n codes for short inputs (a member key's 64 most often): no view per call. */
const HEX_SHORT = 64;
const HEX_SCRATCH_SHORT: Uint8Array[] = [];

/**
 * Lower-case hex. Built from char codes in one call per chunk, so the result is one flat
 * string: a string grown by `+=` is a rope of 2n pieces that every later Map lookup or
 * comparison must flatten first (member keys are looked up on every message).
 */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > HEX_CHUNK) {
    let s = '';
    for (let o = 0; o < bytes.length; o += HEX_CHUNK) s += toHex(bytes.subarray(o, o + HEX_CHUNK));
    return s;
  }
  return hexAt(bytes, 0, bytes.length);
}

/** Hex of the `n` bytes of `bytes` from `from` (n ≤ HEX_CHUNK, in bounds: the caller checked), as toHex. */
function hexAt(bytes: Uint8Array, from: number, n: number): string {
  // One scratch buffer for the char codes (no array per call); fromCharCode copies them out.
  const codes = n <= HEX_SHORT ? (HEX_SCRATCH_SHORT[n] ??= new Uint8Array(2 * n)) : HEX_SCRATCH.subarray(0, 2 * n);
  for (let i = 0; i < n; i++) {
    const b = bytes[from + i]!;
    codes[2 * i] = HEX_CODES[b >> 4]!;
    codes[2 * i + 1] = HEX_CODES[b & 15]!;
  }
  return String.fromCharCode.apply(null, codes as unknown as number[]);
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RemoteProtocolError('decode', 'bad hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RemoteProtocolError('decode', 'bad hex');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** UTF-8 encoding written out, because the engine compiles without DOM or Node globals (no TextEncoder). */
export function utf8(s: string): Uint8Array {
  // ASCII (labels, keys in hex, most names): one pass, no intermediate array.
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (ascii) {
    const a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return a;
  }
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Strict UTF-8 decoding: returns null for malformed input (overlongs, surrogates, truncation). */
export function fromUtf8(b: Uint8Array): string | null {
  // ASCII (most names and texts): one flat string from the char codes, as below would build.
  if (b.length <= HEX_CHUNK) {
    let ascii = true;
    for (let i = 0; i < b.length && ascii; i++) ascii = b[i]! < 0x80;
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    let cp: number;
    let n: number;
    if (c < 0x80) [cp, n] = [c, 0];
    else if (c >= 0xc2 && c < 0xe0) [cp, n] = [c & 31, 1];
    else if (c >= 0xe0 && c < 0xf0) [cp, n] = [c & 15, 2];
    else if (c >= 0xf0 && c < 0xf5) [cp, n] = [c & 7, 3];
    else return null;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (d & 63);
    }
    if ((n === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff))) return null;
    s += String.fromCodePoint(cp);
    i += n + 1;
  }
  return s;
}

/**
 * Writes into one growing buffer (doubled when full): one allocation per few hundred bytes
 * and one copy out at `finish`, not a number array and a Uint8Array per field run (a
 * 1,000-member Admit made ~3,000 of each). `raw` copies its bytes in at once.
 */
export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;
  private room(n: number): Uint8Array {
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    return this.buf;
  }
  u8(v: number): this {
    this.room(1)[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    const b = this.room(2);
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    const b = this.room(4);
    b[this.len++] = (v >>> 24) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
    return this;
  }
  /** Unsigned integer up to 2^53, as 8 bytes big-endian. */
  u64(v: number): this {
    const hi = Math.floor(v / 2 ** 32);
    return this.u32(hi).u32(v >>> 0);
  }
  /** Unsigned LEB128 integer below 2^32 (1–5 bytes): small counters stay small. */
  varint(v: number): this {
    let x = v >>> 0;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    return this.u8(x);
  }
  raw(b: Uint8Array): this {
    this.room(b.length).set(b, this.len);
    this.len += b.length;
    return this;
  }
  /** u32 length prefix, then bytes. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  str(s: string): this {
    // ASCII (names, labels): written in place, no intermediate array; the same bytes as utf8(s).
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (!ascii) return this.bytes(utf8(s));
    const b = this.u32(s.length).room(s.length);
    for (let i = 0; i < s.length; i++) b[this.len++] = s.charCodeAt(i);
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class Reader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}
  private need(n: number): void {
    if (n < 0 || this.off + n > this.buf.length) throw new RemoteProtocolError('decode', 'truncated message');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.off]! << 8) | this.buf[this.off + 1]!;
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const b = this.buf;
    const o = this.off;
    this.off += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }
  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    if (hi >= 2 ** 21) throw new RemoteProtocolError('decode', 'integer too large');
    return hi * 2 ** 32 + lo;
  }
  varint(): number {
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (v > 0xffffffff) throw new RemoteProtocolError('decode', 'varint too large');
        if (i > 0 && b === 0) throw new RemoteProtocolError('decode', 'varint not minimal');
        return v;
      }
    }
    throw new RemoteProtocolError('decode', 'varint too long');
  }
  /** Takes the next `n` bytes (bounds checked) and returns where they start. */
  private take(n: number): number {
    this.need(n);
    const at = this.off;
    this.off += n;
    return at;
  }
  raw(n: number): Uint8Array {
    const at = this.take(n);
    return this.buf.slice(at, at + n);
  }
  bytes(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new RemoteProtocolError('decode', `field of ${n} bytes exceeds limit ${max}`);
    return this.raw(n);
  }
  /** The next `n` bytes without a copy: only for reads that keep nothing of them (hex, text). */
  view(n: number): Uint8Array {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }
  /** The next `n` bytes as lower-case hex, read in place (no view: a member key per roster entry). */
  hex(n: number): string {
    return n <= HEX_CHUNK ? hexAt(this.buf, this.take(n), n) : toHex(this.view(n));
  }
  str(max: number): string {
    const n = this.u32();
    if (n > max) throw new RemoteProtocolError('decode', `field of ${n} bytes exceeds limit ${max}`);
    const s = fromUtf8(this.view(n));
    if (s === null) throw new RemoteProtocolError('decode', 'invalid utf-8');
    return s;
  }
  /** A count prefix (u16) bounded by `max`. */
  count(max: number): number {
    const n = this.u16();
    if (n > max) throw new RemoteProtocolError('decode', `count ${n} exceeds limit ${max}`);
    return n;
  }
  done(): void {
    if (this.off !== this.buf.length) throw new RemoteProtocolError('decode', 'trailing bytes');
  }
  get offset(): number {
    return this.off;
  }
}
