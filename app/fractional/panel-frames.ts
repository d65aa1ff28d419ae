/**
 * @module fractional/panel-frames
 * The frames `FractionalPanel` (panel-hook.ts) exchanges inside the engine's
 * `Panel` unicast, defined once with their codec and bounds. docs/fractional.md
 * §10 "Frames".
 *
 * Every frame: tag (1) ‖ panel id (8) ‖ time of formation in ms (u64) ‖ body.
 * - `form` (tag 1): n (1) ‖ n member keys, sent by the initiator to the panel it
 *   forms.
 * - `data` (tag 2): a `PanelSession` datagram (its own signature and encryption,
 *   docs/fractional.md §4), at most MAX_DATA_BYTES.
 * - `recruit` (tag 3): failed key (32) ‖ n (1) ‖ n member keys, the panel with
 *   the replacement in the failed member's place, sent by the recovery initiator
 *   to the replacement (which needs the list before its session exists,
 *   docs/fractional.md §8).
 * - `recover` (tag 4): failed key (32) ‖ replacement key (32), the recovery
 *   initiator's order to the other remaining members; here the time field is
 *   when the order was given.
 *
 * Invariants: `decodeFrame` never throws (null for anything malformed: unknown
 * tag, wrong length, more than MAX_PANEL_SIZE keys, a time beyond 2^53). The
 * transport authenticates the sender of every frame; `form`, `recruit` and
 * `recover` are not signed themselves and are checked by the hook against the
 * view and the running panel.
 */
import type { MemberKey } from '../core/types.js';
import { concatBytes, fromHex, toHex } from './bytes.js';
import { MAX_PANEL_SIZE } from './wire.js';

export const TAG_FORM = 1;
export const TAG_DATA = 2;
export const TAG_RECRUIT = 3;
export const TAG_RECOVER = 4;
export const PANEL_ID_BYTES = 8;
const HEAD_BYTES = 1 + PANEL_ID_BYTES + 8;
const KEY_BYTES = 32;
/** Bound on a data frame: a session envelope is at most 1 355 bytes (docs/fractional.md §4). */
const MAX_DATA_BYTES = 2048;

export type Frame =
  | { tag: typeof TAG_FORM; panelId: string; at: number; members: MemberKey[] }
  | { tag: typeof TAG_DATA; panelId: string; at: number; bytes: Uint8Array }
  | { tag: typeof TAG_RECRUIT; panelId: string; at: number; failed: MemberKey; members: MemberKey[] }
  | { tag: typeof TAG_RECOVER; panelId: string; at: number; failed: MemberKey; replacement: MemberKey };

function encodeKeys(members: readonly MemberKey[]): Uint8Array {
  return concatBytes(Uint8Array.of(members.length), ...members.map((m) => fromHex(m)!));
}

export function encodeFrame(f: Frame): Uint8Array {
  const head = new Uint8Array(HEAD_BYTES);
  head[0] = f.tag;
  head.set(fromHex(f.panelId)!, 1);
  new DataView(head.buffer).setBigUint64(1 + PANEL_ID_BYTES, BigInt(f.at));
  if (f.tag === TAG_DATA) return concatBytes(head, f.bytes);
  if (f.tag === TAG_FORM) return concatBytes(head, encodeKeys(f.members));
  if (f.tag === TAG_RECOVER) return concatBytes(head, fromHex(f.failed)!, fromHex(f.replacement)!);
  return concatBytes(head, fromHex(f.failed)!, encodeKeys(f.members));
}

function decodeKeys(bytes: Uint8Array, at: number): MemberKey[] | null {
  const n = bytes[at];
  if (n === undefined || n > MAX_PANEL_SIZE || bytes.length !== at + 1 + n * KEY_BYTES) return null;
  const out: MemberKey[] = [];
  for (let i = 0; i < n; i++) out.push(toHex(bytes.subarray(at + 1 + i * KEY_BYTES, at + 1 + (i + 1) * KEY_BYTES)));
  return out;
}

/** Never throws: null for anything malformed. */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  if (bytes.length < HEAD_BYTES) return null;
  const tag = bytes[0];
  const panelId = toHex(bytes.subarray(1, 1 + PANEL_ID_BYTES));
  const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getBigUint64(1 + PANEL_ID_BYTES);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const at = Number(big);
  if (tag === TAG_DATA) {
    if (bytes.length === HEAD_BYTES || bytes.length > HEAD_BYTES + MAX_DATA_BYTES) return null;
    return { tag, panelId, at, bytes: bytes.slice(HEAD_BYTES) };
  }
  if (tag === TAG_FORM) {
    const members = decodeKeys(bytes, HEAD_BYTES);
    return members ? { tag, panelId, at, members } : null;
  }
  if (tag === TAG_RECOVER) {
    if (bytes.length !== HEAD_BYTES + 2 * KEY_BYTES) return null;
    const failed = toHex(bytes.subarray(HEAD_BYTES, HEAD_BYTES + KEY_BYTES));
    const replacement = toHex(bytes.subarray(HEAD_BYTES + KEY_BYTES));
    return { tag, panelId, at, failed, replacement };
  }
  if (tag === TAG_RECRUIT) {
    if (bytes.length < HEAD_BYTES + KEY_BYTES) return null;
    const failed = toHex(bytes.subarray(HEAD_BYTES, HEAD_BYTES + KEY_BYTES));
    const members = decodeKeys(bytes, HEAD_BYTES + KEY_BYTES);
    return members ? { tag, panelId, at, failed, members } : null;
  }
  return null;
}
