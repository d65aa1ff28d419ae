/**
 * @module peer/payload
 * The application payload the engine carries opaquely inside group data: a chat
 * message, a whiteboard stroke, or a re-shared board (for newcomers), each with a
 * sender-chosen message ID (the key that makes catch-up and re-delivery
 * idempotent).
 *
 * Invariants: `decodePayload` validates size, UTF-8, JSON shape and the stroke
 * schema of the API contract; anything else comes back as null (a peer's bad
 * payload is dropped and never crashes or reaches history).
 */
import { z } from 'zod';
import { Stroke } from '../api/contract.js';

/** The engine seals at most 64 KiB of payload per data message (core/wire LIMITS.payloadBytes). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const MessageId = z.string().regex(/^[0-9a-f]{32}$/);

const ChatPayload = z.object({ v: z.literal(1), t: z.literal('chat'), id: MessageId, text: z.string().min(1).max(16000), name: z.string().max(64) }).strict();
const StrokePayload = z.object({ v: z.literal(1), t: z.literal('stroke'), id: MessageId, stroke: Stroke }).strict();
/** The current board, re-shared by the admitting member for a newcomer (who cannot read older traffic). */
const BoardItem = z.object({ mid: MessageId, sender: z.string().min(1).max(200), sentAt: z.number().finite(), stroke: Stroke }).strict();
const BoardPayload = z.object({ v: z.literal(1), t: z.literal('board'), id: MessageId, items: z.array(BoardItem).max(2000) }).strict();
export type BoardItem = z.infer<typeof BoardItem>;
const AppPayload = z.union([ChatPayload, StrokePayload, BoardPayload]);
export type AppPayload = z.infer<typeof AppPayload>;

export function encodePayload(payload: AppPayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(payload));
}

export function decodePayload(bytes: Uint8Array): AppPayload | null {
  if (bytes.length === 0 || bytes.length > MAX_PAYLOAD_BYTES) return null;
  try {
    const parsed = AppPayload.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
