/**
 * @module core/params
 * Group parameters, participant IDs and slot numbering.
 *
 * - Participant ID (003 [0048], [0051], claim 10): W symbols of log2(V) bits, taken
 *   most-significant-bit first from SHA-256("conclave/v1/participant-id" ‖ identity key).
 * - Slots: index 0 is the TEK; the KEK for (symbol s, value v) is 1 + s·V + v. A member
 *   holds the TEK and the W KEKs (s, id[s]) (003 [0052], [0054]).
 * Invariants: V is a power of two between 2 and 256; W·log2(V) ≤ 256 (one hash).
 */
import { LocalProtocolError } from './errors.js';
import type { CryptoProvider } from './crypto-provider.js';
import type { GroupParams, SlotRef } from './types.js';
import { concat, utf8 } from './bytes.js';

export const TEK_SLOT = 0;

export const DEFAULT_PARAMS: GroupParams = {
  W: 16,
  V: 16,
  heartbeatMs: 1000,
  graceMs: 120_000,
  listenMs: 1500,
  refreshRevisionMs: 0,
  refreshVersionMs: 0,
  failoverIntervals: 3,
  fetchAfterMs: 2000,
  panelSize: 0,
  policy: { exclude: 'any-member' },
};

export function bitsPerSymbol(V: number): number {
  return Math.log2(V);
}

export function validateParams(p: GroupParams): void {
  const bits = bitsPerSymbol(p.V);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new LocalProtocolError('V must be a power of two from 2 to 256');
  if (!Number.isInteger(p.W) || p.W < 1 || p.W * bits > 256) throw new LocalProtocolError('W·log2(V) must be between 1 and 256 bits');
  for (const k of ['heartbeatMs', 'graceMs', 'listenMs', 'fetchAfterMs'] as const) {
    if (!(p[k] > 0)) throw new LocalProtocolError(`${k} must be positive`);
  }
  if (!(p.refreshRevisionMs >= 0) || !(p.refreshVersionMs >= 0)) throw new LocalProtocolError('refresh intervals must be ≥ 0');
  if (!Number.isInteger(p.failoverIntervals) || p.failoverIntervals < 1) throw new LocalProtocolError('failoverIntervals must be ≥ 1');
  if (p.panelSize !== 0 && p.panelSize < 4) throw new LocalProtocolError('a fractional-key panel needs at least 4 members (004 section V)');
}

/** W symbols from the identity key's hash (003 [0048]). */
export function participantId(crypto: CryptoProvider, identityKey: Uint8Array, W: number, V: number): number[] {
  const h = crypto.sha256(concat(utf8('conclave/v1/participant-id'), identityKey));
  return symbolsFromBytes(h, W, V);
}

/** Reads W symbols of log2(V) bits, MSB first. Also used for explicit hex IDs in scenarios. */
export function symbolsFromBytes(bytes: Uint8Array, W: number, V: number): number[] {
  const bits = bitsPerSymbol(V);
  const out: number[] = [];
  let bitPos = 0;
  for (let s = 0; s < W; s++) {
    let v = 0;
    for (let b = 0; b < bits; b++, bitPos++) {
      const byte = bytes[bitPos >> 3] ?? 0;
      v = (v << 1) | ((byte >> (7 - (bitPos & 7))) & 1);
    }
    out.push(v);
  }
  return out;
}

export function kekSlot(symbol: number, value: number, V: number): number {
  return 1 + symbol * V + value;
}

export function slotRef(slot: number, V: number): SlotRef {
  if (slot === TEK_SLOT) return { kind: 'tek' };
  const i = slot - 1;
  return { kind: 'kek', symbol: Math.floor(i / V), value: i % V };
}

/** The W KEK slots a participant ID selects (003 [0052]). */
export function slotsOf(id: readonly number[], V: number): number[] {
  return id.map((value, symbol) => kekSlot(symbol, value, V));
}

export function slotName(slot: number, V: number): string {
  const r = slotRef(slot, V);
  return r.kind === 'tek' ? 'TEK' : `KEK(${r.symbol},${r.value})`;
}

export function idToString(id: readonly number[]): string {
  return id.map((v) => v.toString(16)).join('');
}
