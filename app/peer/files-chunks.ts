/**
 * @module peer/files-chunks
 * How a file's content is cut and sealed (issue 18 §1; docs/protocol.md §13
 * "Files"): the chunk plan for a size, the sealing of one chunk under the file's
 * content key, and the frames of `/conclave/file/1.0.0` with their bounds. Pure
 * apart from the injected crypto provider: no I/O, no clock, no randomness.
 *
 * A file of `size` bytes is `count = ceil(size / chunk)` chunks of `chunk` bytes
 * (the last one shorter). `chunk` is 256 KiB, or larger for a file that would
 * need more than 512 chunks (rounded up to 64 KiB), so a file message carries at
 * most 512 chunk hashes. Chunk i is sealed with XChaCha20-Poly1305 under the
 * content key (fresh, random, one per file), nonce = file ID (16) ‖ u64 BE i,
 * associated data = domain ‖ file ID ‖ u32 BE i ‖ u32 BE count: a chunk cannot be
 * moved to another index, another file, or a file cut short. Each nonce is used
 * once because each key seals one file.
 *
 * Invariants:
 * - The file message (signed by its author) carries the SHA-256 of every sealed
 *   chunk: a receiver checks a chunk's hash before it keeps it, so a member that
 *   holds the key still cannot serve altered content; the plaintext's SHA-256 is
 *   checked once the file is whole.
 * - Every frame of the stream protocol is parsed by schema or by its fixed
 *   layout, bounded in size and count; anything else is a typed refusal or null.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CryptoProvider } from '../core/crypto-provider.js';
import { FILE_BOUNDS, type FileBody } from './payload.js';

export const PROTOCOL_FILE = '/conclave/file/1.0.0';
const DOMAIN = new TextEncoder().encode('conclave/file-chunk/v1\0');
export const BASE_CHUNK = 256 * 1024;
export const TAG_BYTES = 16;

/** Bounds of the file stream protocol, per server and per asker. */
export const FILE_TRANSFER_BOUNDS = {
  /** Chunks asked for in one request. */
  requestChunks: 4,
  /** Requests in flight per file at once: 1 MiB at most queued ahead of chat on a connection (bench/files.ts: chat p95 0.4 s, against 1.6 s with 2 × 8 chunks). */
  inFlight: 1,
  /** A server answers one peer at most this many requests and bytes per window… */
  peerRequests: 400,
  peerBytes: 512 * 1024 * 1024,
  peerWindowMs: 10_000,
  /** …and serves at most this many requests at once, refusing more with `busy`. */
  concurrent: 8,
  requestBytes: 4096,
  timeoutMs: 60_000,
  /** A member that said it lacks chunks of a file is not asked for that file again for this long… */
  lackRetryMs: 3000,
  /** …doubled each time it lacked them again, up to this (an insider's file nobody serves is asked for ever less often). */
  lackRetryMaxMs: 10 * 60_000,
  /** Requests in flight at once over every file of every group (1,000 unserved file messages made 1,900 requests a second)… */
  inFlightTotal: 16,
  /** …and to any one member (one that takes its time holds no more than this of them). */
  inFlightPerPeer: 2,
} as const;

/** The chunk size for a file of `size` bytes: 256 KiB, or more so that at most 512 chunks cover it. */
export function chunkSizeFor(size: number): number {
  const need = Math.ceil(size / FILE_BOUNDS.maxChunks);
  if (need <= BASE_CHUNK) return BASE_CHUNK;
  return Math.ceil(need / (64 * 1024)) * 64 * 1024;
}

export function chunkCount(size: number, chunk: number): number {
  return Math.ceil(size / chunk);
}

/** Plaintext length of chunk `index` of a file. */
export function plainLength(f: Pick<FileBody, 'size' | 'chunk'>, index: number): number {
  return Math.max(0, Math.min(f.chunk, f.size - index * f.chunk));
}

function nonceOf(fid: Uint8Array, index: number): Uint8Array {
  const n = new Uint8Array(24);
  n.set(fid, 0);
  new DataView(n.buffer).setUint32(20, index);
  return n;
}

function aadOf(fid: Uint8Array, index: number, count: number): Uint8Array {
  const a = new Uint8Array(DOMAIN.length + 16 + 8);
  a.set(DOMAIN, 0);
  a.set(fid, DOMAIN.length);
  const v = new DataView(a.buffer);
  v.setUint32(DOMAIN.length + 16, index);
  v.setUint32(DOMAIN.length + 20, count);
  return a;
}

type Seal = Pick<CryptoProvider, 'seal' | 'open'>;

export function sealChunk(crypto: Seal, key: Uint8Array, fid: Uint8Array, index: number, count: number, plain: Uint8Array): Uint8Array {
  return crypto.seal(key, nonceOf(fid, index), plain, aadOf(fid, index, count));
}

/** The chunk's plaintext, or null when it does not authenticate (wrong key, index, file or count; tampered). */
export function openChunk(crypto: Seal, key: Uint8Array, fid: Uint8Array, index: number, count: number, sealed: Uint8Array): Uint8Array | null {
  return crypto.open(key, nonceOf(fid, index), sealed, aadOf(fid, index, count));
}

const HANDLE_DOMAIN = 'conclave/file-handle/v1\0';

/**
 * The name this peer gives the file of one file message (docs/protocol.md §13.1):
 * the first 16 bytes of SHA-256(domain ‖ author key ‖ fid), hex. A file ID is
 * whatever its author wrote, so two authors may use one (review 3: a member
 * re-sending another's `fid` with its own key and content); the handle binds it
 * to its signer, so each file card resolves to its own message's body. Used for
 * the API (`file` of file.status/file.read, the card's `file.id`), the transfer
 * protocol's `file`, and the on-disk name `<handle>.enc` (hex only). The chunks'
 * nonce and associated data still use the signed `fid`.
 */
export function fileHandle(author: string, fid: string): string {
  const h = createHash('sha256');
  h.update(HANDLE_DOMAIN);
  h.update(Buffer.from(author, 'hex'));
  h.update(Buffer.from(fid, 'hex'));
  return h.digest('hex').slice(0, 32);
}

/** The SHA-256 the file message names for sealed chunk `index` (32 bytes). */
export function chunkHash(hashes: Uint8Array, index: number): Uint8Array {
  return hashes.subarray(index * 32, index * 32 + 32);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

// ── frames of /conclave/file/1.0.0 ────────────────────────────────────────

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

/** The one request frame: these chunks of file `file` of group `group`. */
export const FileRequest = z
  .object({
    v: z.literal(1),
    group: Hex(32),
    file: Hex(32),
    chunks: z
      .array(z.number().int().min(0).max(FILE_BOUNDS.maxChunks - 1))
      .min(1)
      .max(FILE_TRANSFER_BOUNDS.requestChunks),
  })
  .strict();
export type FileRequest = z.infer<typeof FileRequest>;

export const FileRefusal = z.enum(['bad-request', 'not-member', 'unknown-file', 'rate', 'busy']);
export type FileRefusal = z.infer<typeof FileRefusal>;

/** The reply's first frame; then one frame per chunk sent: u32 BE index ‖ sealed chunk. */
export const FileReplyHeader = z.union([
  z.object({ v: z.literal(1), ok: z.literal(true), missing: z.array(z.number().int().min(0).max(FILE_BOUNDS.maxChunks - 1)).max(FILE_TRANSFER_BOUNDS.requestChunks) }).strict(),
  z.object({ v: z.literal(1), refused: FileRefusal, retryAfterMs: z.number().int().min(0).max(600_000).optional() }).strict(),
]);
export type FileReplyHeader = z.infer<typeof FileReplyHeader>;

export function chunkFrame(index: number, sealed: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + sealed.length);
  new DataView(out.buffer).setUint32(0, index);
  out.set(sealed, 4);
  return out;
}

/**
 * A chunk frame of a reply to `asked`, checked against the file message: the index
 * was asked for, the length is the sealed chunk's, the hash is the one its author
 * signed. Null for anything else (the asker drops it and notes the server).
 */
export function parseChunkFrame(frame: Uint8Array, f: Pick<FileBody, 'size' | 'chunk' | 'count'>, hashes: Uint8Array, asked: readonly number[], sha256: (b: Uint8Array) => Uint8Array): { index: number; sealed: Uint8Array } | null {
  if (frame.length < 4 + TAG_BYTES) return null;
  const index = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
  if (!asked.includes(index) || index >= f.count) return null;
  const sealed = frame.subarray(4);
  if (sealed.length !== plainLength(f, index) + TAG_BYTES) return null;
  if (!sameBytes(sha256(sealed), chunkHash(hashes, index))) return null;
  return { index, sealed };
}
