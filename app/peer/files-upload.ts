/**
 * @module peer/files-upload
 * A file on its way in from a client (issue 18 §1; docs/api.md "Files"):
 * `file.begin` plans it (a fresh file ID and content key, files-chunks.ts),
 * `file.chunk` takes its bytes in order and seals each chunk to the store as
 * soon as it is full, `file.finish` hands back the file message's body once
 * every byte came. Only the body's signing and sending are left to the group.
 *
 * Invariants:
 * - At most MAX_UPLOADS uploads at once, each of the size declared at `begin`
 *   (never more than the peer's limit); bytes must come in order and never past
 *   the declared size. One chunk of plaintext is in memory per upload.
 * - An upload idle IDLE_MS is dropped with its chunks.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { FileBody } from './payload.js';
import type { FileStore } from './files-store.js';
import { chunkCount, chunkSizeFor } from './files-chunks.js';

const MAX_UPLOADS = 8;
const IDLE_MS = 5 * 60_000;

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly kind: 'too-large' | 'busy' | 'unknown' | 'order' | 'incomplete',
    message: string,
  ) {
    super(message);
  }
}

interface Upload {
  group: string;
  meta: { name: string; size: number; mime: string; thumb?: string };
  fid: string;
  /** The on-disk name: the handle of this peer's file message (author + fid). */
  handle: string;
  fidBytes: Uint8Array;
  key: Uint8Array;
  chunk: number;
  count: number;
  received: number;
  buffer: Uint8Array;
  filled: number;
  index: number;
  plainHash: Hash;
  hashes: Uint8Array;
  lastAt: number;
  store: FileStore;
}

export interface UploadHost {
  maxBytes: number;
  store(group: string): FileStore;
  seal(key: Uint8Array, fid: Uint8Array, index: number, count: number, plain: Uint8Array): Uint8Array;
  /** The handle this peer's file message with file ID `fid` will have (files-chunks.ts `fileHandle`): the chunks' on-disk name. */
  handle(fid: string): string;
}

export class FileUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly host: UploadHost) {}

  begin(group: string, meta: { name: string; size: number; mime: string; thumb?: string }, now: number): string {
    if (meta.size > this.host.maxBytes) throw new UploadError('too-large', `the file is ${meta.size} bytes, over this peer's limit of ${this.host.maxBytes}`);
    if (this.uploads.size >= MAX_UPLOADS) throw new UploadError('busy', `at most ${MAX_UPLOADS} uploads at once`);
    const id = randomBytes(16).toString('hex');
    const chunk = chunkSizeFor(meta.size);
    const count = chunkCount(meta.size, chunk);
    const fidBytes = new Uint8Array(randomBytes(16));
    const fid = Buffer.from(fidBytes).toString('hex');
    this.uploads.set(id, {
      group,
      meta,
      fid,
      handle: this.host.handle(fid),
      fidBytes,
      key: new Uint8Array(randomBytes(32)),
      chunk,
      count,
      received: 0,
      buffer: new Uint8Array(Math.min(chunk, meta.size)),
      filled: 0,
      index: 0,
      plainHash: createHash('sha256'),
      hashes: new Uint8Array(count * 32),
      lastAt: now,
      store: this.host.store(group),
    });
    return id;
  }

  /** Takes the next bytes of an upload (`offset`: bytes taken before); seals every chunk filled. */
  chunk(id: string, offset: number, bytes: Uint8Array, now: number): number {
    const u = this.get(id);
    if (offset !== u.received) throw new UploadError('order', `expected the bytes from offset ${u.received}, got ${offset}`);
    if (u.received + bytes.length > u.meta.size) throw new UploadError('order', `more bytes than the ${u.meta.size} declared`);
    u.lastAt = now;
    u.plainHash.update(bytes);
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, u.buffer.length - u.filled);
      u.buffer.set(bytes.subarray(at, at + take), u.filled);
      u.filled += take;
      at += take;
      u.received += take;
      const want = Math.min(u.chunk, u.meta.size - u.index * u.chunk);
      if (u.filled === want) this.sealNext(u, want);
    }
    return u.received;
  }

  private sealNext(u: Upload, length: number): void {
    const sealed = this.host.seal(u.key, u.fidBytes, u.index, u.count, u.buffer.subarray(0, length));
    u.store.write({ fid: u.handle, chunk: u.chunk }, u.index, sealed);
    u.hashes.set(createHash('sha256').update(sealed).digest(), u.index * 32);
    u.index++;
    u.filled = 0;
  }

  /** The file message's body once every byte came; the chunks are on disk and marked whole. */
  finish(id: string): { group: string; body: FileBody } {
    const u = this.get(id);
    if (u.received !== u.meta.size) throw new UploadError('incomplete', `${u.received} of ${u.meta.size} bytes received`);
    this.uploads.delete(id);
    u.store.markDone(u.handle);
    const body: FileBody = {
      t: 'file',
      fid: u.fid,
      name: u.meta.name,
      size: u.meta.size,
      mime: u.meta.mime,
      sha256: u.plainHash.digest('hex'),
      key: Buffer.from(u.key).toString('hex'),
      chunk: u.chunk,
      count: u.count,
      hashes: Buffer.from(u.hashes).toString('base64'),
      ...(u.meta.thumb ? { thumb: u.meta.thumb } : {}),
    };
    return { group: u.group, body };
  }

  cancel(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    this.uploads.delete(id);
    u.store.remove(u.handle);
  }

  expire(now: number): void {
    for (const [id, u] of this.uploads) if (now - u.lastAt > IDLE_MS) this.cancel(id);
  }

  clear(): void {
    this.uploads.clear();
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (!u) throw new UploadError('unknown', 'no such upload (finished, cancelled, or dropped after 5 idle minutes)');
    return u;
  }
}
