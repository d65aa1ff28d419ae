/**
 * @module peer/payload
 * The application payload the engine carries opaquely inside group data (docs/
 * protocol.md §13 "Signed application messages"): one signed message (chat or a
 * whiteboard stroke), a re-shared board (signed strokes of several authors,
 * for a newcomer), or the group's latest file messages re-shared for a newcomer
 * (`files`, at most FILE_SHARE_MAX). The engine authenticates who *carried* a packet; the signature
 * here says who *wrote* it, so a message keeps its author when a catch-up
 * server, a board re-share or any other member forwards it. A third payload,
 * `rcpt`, carries a delivery receipt (receipts.ts, §13.2): signed too, but with
 * no sequence number, and never kept.
 *
 * A signed message `{ a, s, k, at, id, skip?, b, sig }`: author's member key
 * (the Ed25519 identity key), its per-author per-group sequence number (issue 19
 * §1), the TEK version it held when it signed, its clock, the message ID, the
 * numbers it declares unused after a crash (`skip`, inclusive), the body as JSON
 * text, and the Ed25519 signature over `signingBytes` (domain, group and all of
 * the above). The body is verified as bytes and parsed after: no canonical JSON.
 *
 * Body kinds (`t`) are versioned by `BODY_KINDS`: 2.0 chat and stroke; 2.1 adds
 * react, edit, delete and a chat's `re` (reply); 2.2 adds shape (a whiteboard
 * object's version, app/api/board-model.ts) and file (issue 18 §1: a file's
 * name, size, type, hashes and content key; its chunks travel apart, see
 * files-chunks.ts). A kind this peer does not know is held for numbering and not
 * shown (issue 18 §2).
 *
 * Invariants:
 * - `decodePayload` validates size, UTF-8, JSON shape and the body schemas of the
 *   API contract; anything else comes back as null (dropped, never a throw).
 * - `verifyMessage` checks the signature against `a` before anything of the body
 *   is believed; unsigned (v1) payloads from the network are refused.
 */
import { createHash } from 'node:crypto';
import { signedHead, u64 } from './signed-bytes.js';
import { z } from 'zod';
import { ShapeOp, Stroke } from '../api/contract.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import { Receipt } from './receipts.js';

/** The engine seals at most 64 KiB of payload per data message (core/wire LIMITS.payloadBytes). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** A body's JSON text; leaves room in one payload for the envelope. */
export const MAX_BODY_CHARS = 60 * 1024;
const DOMAIN = new TextEncoder().encode('conclave/app-message/v2\0');

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
const MessageId = Hex(32);
const MemberKeyHex = Hex(64);
const Seq = z.number().int().min(1).max(2 ** 48);

/** Bounds of a clear's `seen`: a number seen is at most 2^32, and at most this many authors are named. */
export const SEEN_BOUNDS = { maxSeq: 2 ** 32, maxAuthors: 1000 } as const;
/** The `seen` of a clear: per author (member key), the last sequence number its author had seen. */
const Seen = z
  .record(MemberKeyHex, z.number().int().min(1).max(SEEN_BOUNDS.maxSeq))
  .refine((r) => Object.keys(r).length <= SEEN_BOUNDS.maxAuthors, 'too many authors');
/** A chat message; `re`: the message ID of the message it replies to (body version 2.1). */
export const ChatBody = z.object({ t: z.literal('chat'), text: z.string().min(1).max(16000), name: z.string().max(64), re: MessageId.optional() }).strict();
export const StrokeBody = z.object({ t: z.literal('stroke'), stroke: Stroke, seen: Seen.optional() }).strict();
/** One version of a whiteboard object (body version 2.2): signed with its creator named (`by`), never left out. */
export const ShapeBody = z.object({ t: z.literal('shape'), op: ShapeOp.extend({ by: MemberKeyHex }).strict() }).strict();
/** One emoji (a grapheme of at most 16 UTF-16 units, no spaces, no ASCII letters or digits). */
export const Emoji = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[^\s\p{L}\p{N}\p{P}]+$/u, 'an emoji');
/** Adds (`on`) or withdraws this author's `emoji` on message `target` (body version 2.1). */
export const ReactBody = z.object({ t: z.literal('react'), target: MessageId, emoji: Emoji, on: z.boolean() }).strict();
/** Replaces the text of `target`; only its author's edit counts (body version 2.1). */
export const EditBody = z.object({ t: z.literal('edit'), target: MessageId, text: z.string().min(1).max(16000) }).strict();
/** Deletes `target` for good, leaving a tombstone; only its author's delete counts (body version 2.1). */
export const DeleteBody = z.object({ t: z.literal('delete'), target: MessageId }).strict();
/** A picture's thumbnail, inline: a small JPEG, PNG or WebP as a data URL. */
export const MAX_THUMB_CHARS = 24 * 1024;
const Thumb = z.string().max(MAX_THUMB_CHARS).regex(/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$/);
/** Bounds of a file message (body version 2.2; files-chunks.ts plans the chunks). */
export const FILE_BOUNDS = { maxBytes: 2 ** 31, minChunk: 64 * 1024, maxChunk: 8 * 1024 * 1024, maxChunks: 512 } as const;
/**
 * A file (issue 18 §1): `fid` names its chunks, `key` is the fresh content key they
 * are sealed under (here, inside the TEK-sealed message, so only a member that
 * could read this message can read the file), `sha256` the plaintext's hash,
 * `hashes` the SHA-256 of each sealed chunk, concatenated, base64.
 */
export const FileBody = z
  .object({
    t: z.literal('file'),
    fid: MessageId,
    name: z.string().min(1).max(255),
    size: z.number().int().min(0).max(FILE_BOUNDS.maxBytes),
    mime: z.string().max(127).regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i),
    sha256: Hex(64),
    key: Hex(64),
    chunk: z.number().int().min(FILE_BOUNDS.minChunk).max(FILE_BOUNDS.maxChunk),
    count: z.number().int().min(0).max(FILE_BOUNDS.maxChunks),
    hashes: z.string().max(Math.ceil((FILE_BOUNDS.maxChunks * 32) / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/),
    thumb: Thumb.optional(),
  })
  .strict();
export type FileBody = z.infer<typeof FileBody>;

/** A file body's numbers agree: `count` chunks of `chunk` bytes cover `size`, one hash each. */
export function fileBodyConsistent(f: FileBody): boolean {
  if (f.count !== Math.ceil(f.size / f.chunk)) return false;
  return Buffer.from(f.hashes, 'base64').length === f.count * 32 && Buffer.from(f.hashes, 'base64').toString('base64') === f.hashes;
}

/**
 * A body of a kind this peer does not know (a newer peer's): verified and kept for
 * its author's numbering, so reconciliation sees no gap, but never shown.
 */
export interface UnknownBody {
  t: 'unknown';
  kind: string;
}
/** Body kinds by the version of this message format that introduced them (docs/protocol.md §13). */
export const BODY_KINDS = { chat: '2.0', stroke: '2.0', react: '2.1', edit: '2.1', delete: '2.1', shape: '2.2', file: '2.2' } as const;
const Body = z.discriminatedUnion('t', [ChatBody, StrokeBody, ReactBody, EditBody, DeleteBody, ShapeBody, FileBody]);
/** A body this peer writes and understands. */
export type Body = z.infer<typeof Body>;
/** A body as verified on receipt: a known one or an unknown kind. */
export type ReceivedBody = Body | UnknownBody;
export type ChatAction = z.infer<typeof ReactBody> | z.infer<typeof EditBody> | z.infer<typeof DeleteBody>;

export const SignedMessage = z
  .object({
    a: MemberKeyHex,
    s: Seq,
    k: z.number().int().min(0).max(2 ** 32 - 1),
    at: z.number().int().min(0).max(2 ** 53 - 1),
    id: MessageId,
    skip: z.tuple([Seq, Seq]).optional(),
    b: z.string().min(2).max(MAX_BODY_CHARS),
    sig: Hex(128),
  })
  .strict();
export type SignedMessage = z.infer<typeof SignedMessage>;

const MsgPayload = z.object({ v: z.literal(2), t: z.literal('msg'), m: SignedMessage }).strict();
/** The current board, re-shared for a newcomer (who cannot read older traffic): each stroke or object version as its author signed it. */
const BoardPayload = z.object({ v: z.literal(2), t: z.literal('board'), items: z.array(SignedMessage).max(2000) }).strict();
/** A delivery receipt (receipts.ts, §13.2): ephemeral, signed, no sequence number, never kept. */
const RcptPayload = z.object({ v: z.literal(2), t: z.literal('rcpt'), r: Receipt }).strict();
/** At most this many file messages are re-shared with a newcomer (board-share.ts), and at most this many ride one payload. */
export const FILE_SHARE_MAX = 50;
/** At most this many of the authors' deletes of file messages go with a file re-share (review 30; about 300 bytes each). */
export const FILE_DELETE_SHARE_MAX = 500;
/** The group's latest file messages, re-shared for a newcomer (issue 18 §1): each as its author signed it. */
const FilesPayload = z.object({ v: z.literal(2), t: z.literal('files'), items: z.array(SignedMessage).max(FILE_SHARE_MAX) }).strict();
const AppPayload = z.discriminatedUnion('t', [MsgPayload, BoardPayload, FilesPayload, RcptPayload]);
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

/** What the author signs: domain ‖ group (16) ‖ author (32) ‖ seq ‖ TEK version ‖ time ‖ ID (16) ‖ skip ‖ body. */
export function signingBytes(group: string, m: Omit<SignedMessage, 'sig'>): Uint8Array {
  const body = new TextEncoder().encode(m.b);
  const { bytes: out, view: w, at } = signedHead(DOMAIN, group, m.a, 8 + 4 + 8 + 16 + 16 + body.length);
  u64(w, at, m.s);
  w.setUint32(at + 8, m.k);
  u64(w, at + 12, m.at);
  out.set(Buffer.from(m.id, 'hex'), at + 20);
  u64(w, at + 36, m.skip?.[0] ?? 0);
  u64(w, at + 44, m.skip?.[1] ?? 0);
  out.set(body, at + 52);
  return out;
}

export interface Signer {
  readonly key: string;
  sign(message: Uint8Array): Uint8Array;
}

/** Signs `body` as the next message of `signer` in `group`; without an `id`, it gets its derived one (`messageIdFor`). */
export function signMessage(group: string, signer: Signer, fields: { s: number; k: number; at: number; id?: string; skip?: [number, number] }, body: Body): SignedMessage {
  const { id, ...rest } = fields;
  const content = { a: signer.key, ...rest, b: JSON.stringify(body) };
  if (content.b.length > MAX_BODY_CHARS) throw new RangeError('message body too large');
  const unsigned = { ...content, id: id ?? messageIdFor(group, content) };
  const sig = Buffer.from(signer.sign(signingBytes(group, unsigned))).toString('hex');
  return { ...unsigned, sig };
}

const ID_DOMAIN = new TextEncoder().encode('conclave/message-id/v2\0');
const NO_ID = '0'.repeat(32);

/**
 * The ID an author gives its message (docs/protocol.md §13 "Message IDs"): the first 16 bytes of
 * SHA-256 over a domain label and the message's signing bytes with the ID field zero, as hex. It
 * binds author, number and content: no other author can give a message of its own this ID, and
 * nobody can compute it before the message exists (review 30: an ID derived from author and number
 * alone could be posted under before its author wrote it). A message whose ID is so derived owns
 * the ID (replies and reactions name their target by ID alone). Peers from before used random IDs.
 */
export function messageIdFor(group: string, m: Omit<SignedMessage, 'sig' | 'id'>): string {
  const bytes = signingBytes(group, { ...m, id: NO_ID });
  return createHash('sha256').update(ID_DOMAIN).update(bytes).digest().subarray(0, 16).toString('hex');
}

/** Whether `m`'s ID is the one its author and content give it (`messageIdFor`). */
export function ownsItsId(group: string, m: SignedMessage): boolean {
  const { sig: _sig, id, ...rest } = m;
  return id === messageIdFor(group, rest);
}

export type Verified = { ok: true; body: ReceivedBody } | { ok: false; reason: 'bad-signature' | 'decode'; detail: string };

/** Checks the signature against the author's key, then parses the body (never throws). */
export function verifyMessage(crypto: Pick<CryptoProvider, 'ed25519Verify'>, group: string, m: SignedMessage): Verified {
  const { sig, ...unsigned } = m;
  if (m.skip && m.skip[0] > m.skip[1]) return { ok: false, reason: 'decode', detail: 'skip range is reversed' };
  if (!crypto.ed25519Verify(Buffer.from(m.a, 'hex'), signingBytes(group, unsigned), Buffer.from(sig, 'hex'))) {
    return { ok: false, reason: 'bad-signature', detail: `message ${m.id.slice(0, 8)} seq ${m.s}: signature does not verify` };
  }
  const body = parseBody(m.b);
  return body ? { ok: true, body } : { ok: false, reason: 'decode', detail: 'signed body does not match its schema' };
}

/**
 * A body from its JSON text: a known kind that matches its schema, or an
 * unknown kind (a lowercase name not in `BODY_KINDS`) as `UnknownBody`; a
 * known kind that does not match, or anything else, is null.
 */
export function parseBody(text: string): ReceivedBody | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const known = Body.safeParse(raw);
  if (known.success) return known.data.t === 'file' && !fileBodyConsistent(known.data) ? null : known.data;
  const t = typeof raw === 'object' && raw !== null ? (raw as { t?: unknown }).t : undefined;
  if (typeof t === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(t) && !Object.hasOwn(BODY_KINDS, t)) return { t: 'unknown', kind: t };
  return null;
}
