/**
 * @module fractional/bytes
 * Small byte helpers for a module that has neither Node's Buffer nor the DOM's
 * TextEncoder (it compiles with lib ES2022 and no globals). Pure functions; the
 * general ones are the engine's (app/core/bytes.ts).
 */
import { concat, equalBytes, fromHex as strictFromHex, toHex } from '../core/bytes.js';

/** Bytes of an ASCII label (domain separators only). */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f);
}

export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Lowercase hex of an even length, or null. */
export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return null;
  return strictFromHex(hex);
}

export { concat as concatBytes, equalBytes as bytesEqual, toHex };
