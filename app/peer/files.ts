/**
 * @module peer/files
 * Files and pictures (issue 18 §1; docs/protocol.md §13 "Files"; docs/api.md
 * "Files"): both sides of `/conclave/file/1.0.0` and the bookkeeping of every
 * file of every group this peer runs.
 *
 * A file message travels like chat (signed, numbered, sealed under the TEK,
 * caught up like any message: group.ts, history.ts). It names the file's chunks
 * and carries their content key (files-chunks.ts). The chunks never ride gossip:
 * each member that has the message fetches the chunks it lacks, a few at a time,
 * from the current members connected to it, over unicast streams, checks each
 * against the hash its author signed, and stores it sealed (files-store.ts). A
 * member serves the chunks it holds to any current member that asks.
 *
 * Invariants:
 * - Only current members are served, only by a current member (the stream gate
 *   in transport.ts refuses the protocol to strangers before a byte is read; the
 *   handler checks the group's roster); a member excluded before a file was sent
 *   never had its message, so never had its key, and is refused its chunks.
 * - Every request and reply is bounded (FILE_TRANSFER_BOUNDS): chunks per
 *   request, requests in flight per file, requests and bytes per peer and
 *   window, requests served at once; refusals are typed.
 * - Resumable: a tick every second retries what is missing from whoever holds
 *   it; after a restart the held chunks are found again by hash (store `scan`).
 * - Never kept longer than its message: a file whose author deleted its message
 *   (a tombstone, live or found at start) loses its chunks and is no longer
 *   served; a group this member left or was excluded from loses all its files
 *   (the tick finds it; its history stays as it is).
 * - A newcomer gets the latest file messages re-shared by its admitter
 *   (board-share.ts) and fetches their chunks like any member.
 * - A file over this device's size limit is never fetched (`failed`, with why).
 * - An upload from a client is sealed chunk by chunk as its bytes arrive (one
 *   chunk in memory at a time); the file message goes out only once every chunk
 *   is on disk.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FileStatus } from '../api/contract.js';
import { nodeCrypto } from '../crypto/node.js';
import type { MemberKey } from '../core/types.js';
import { memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { request, serve } from '../net/unicast.js';
import type { GroupRuntime } from './group.js';
import type { FileBody } from './payload.js';
import { isConnected, isCurrentMember, parseJsonFrame, type PeerContext } from './peer-context.js';
import {
  chunkFrame,
  FILE_TRANSFER_BOUNDS as B,
  FileReplyHeader,
  FileRequest,
  fileHandle,
  openChunk,
  parseChunkFrame,
  plainLength,
  PROTOCOL_FILE,
  sealChunk,
  TAG_BYTES,
  type FileRefusal,
} from './files-chunks.js';
import { FileStore } from './files-store.js';
import { FileUploads } from './files-upload.js';

export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;
const TICK_MS = 1000;
const sha256 = (b: Uint8Array): Uint8Array => nodeCrypto.sha256(b);
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

interface Transfer {
  group: string;
  /** The file message's body, `fid` its handle (history.ts): transfers, store and API name files by it. */
  body: FileBody;
  key: Uint8Array;
  /** The file ID its author signed: the chunks' nonces and associated data. */
  fid: Uint8Array;
  hashes: Uint8Array;
  held: boolean[];
  heldCount: number;
  inFlight: Set<number>;
  requests: number;
  state: FileStatus['state'];
  detail?: string;
  /** Members that lack chunks of this file, until when they are not asked again. */
  lacking: Map<MemberKey, number>;
  /** Per member, how many times in a row it lacked them (lackedBy: the back-off doubles with each). */
  lacks: Map<MemberKey, number>;
  nextPeer: number;
}

/** Requests and bytes per peer and window (the server's budget). */
class Budget {
  private readonly windows = new Map<string, { start: number; requests: number; bytes: number }>();
  take(peer: string, now: number): number {
    let w = this.windows.get(peer);
    if (!w || now - w.start >= B.peerWindowMs) {
      if (this.windows.size > 1024) this.windows.clear();
      this.windows.set(peer, (w = { start: now, requests: 0, bytes: 0 }));
    }
    if (w.requests >= B.peerRequests || w.bytes >= B.peerBytes) return w.start + B.peerWindowMs - now;
    w.requests++;
    return 0;
  }
  spent(peer: string, bytes: number): void {
    const w = this.windows.get(peer);
    if (w) w.bytes += bytes;
  }
}

export class Files {
  private readonly transfers = new Map<string, Transfer>();
  private readonly hooked = new WeakSet<GroupRuntime>();
  /** Groups this member left or was excluded from whose files are gone. */
  private readonly dropped = new Set<string>();
  private readonly budget = new Budget();
  private serving = 0;
  /** Requests this member has in flight over every transfer (at most B.inFlightTotal), and per member asked (at most B.inFlightPerPeer). */
  private fetching = 0;
  private readonly fetchingFrom = new Map<MemberKey, number>();
  private timer: NodeJS.Timeout | null = null;
  readonly uploads: FileUploads;

  constructor(
    private readonly ctx: PeerContext,
    readonly maxBytes = DEFAULT_MAX_FILE_BYTES,
  ) {
    this.uploads = new FileUploads({
      maxBytes,
      handle: (fid) => fileHandle(this.ctx.selfKey, fid),
      store: (group) => this.store(group),
      seal: (key, fid, index, count, plain) => sealChunk(nodeCrypto, key, fid, index, count, plain),
    });
  }

  private store(group: string): FileStore {
    return new FileStore(join(this.ctx.profile.dir, 'groups', group, 'files'));
  }

  async serve(): Promise<void> {
    await serve(this.ctx.node, PROTOCOL_FILE, { maxFrameBytes: B.requestBytes, maxFrames: 1, timeoutMs: 10_000 }, (remote, frames) => this.answer(remote.toString(), frames));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.uploads.clear();
  }

  /** Follows a group's file messages (idempotent): those held now and every one kept later. */
  attach(rt: GroupRuntime): void {
    if (this.hooked.has(rt)) return;
    this.hooked.add(rt);
    rt.held.onFile = (body, _author, chunkFid) => this.offer(rt.group, body, chunkFid);
    rt.held.onFileDeleted = (handle) => this.forget(rt.group, handle);
    for (const { body, chunkFid, deleted } of rt.held.files()) {
      if (deleted) this.forget(rt.group, body.fid);
      else this.offer(rt.group, body, chunkFid);
    }
  }

  /** File `handle`'s author deleted it: its chunks go, and it is no longer fetched or served. */
  private forget(group: string, handle: string): void {
    const t = this.transfers.get(`${group}:${handle}`);
    if (t) t.state = 'failed'; // a fetch in flight stores nothing more (see fetch)
    this.transfers.delete(`${group}:${handle}`);
    this.store(group).remove(handle);
  }

  /** This member left `group` or was excluded: every file of it goes from this device. */
  private dropGroup(group: string): void {
    if (this.dropped.has(group)) return;
    this.dropped.add(group);
    for (const [id, t] of this.transfers) {
      if (t.group !== group) continue;
      t.state = 'failed';
      this.transfers.delete(id);
    }
    this.store(group).removeAll();
    this.ctx.log(`group ${group.slice(0, 8)}: left or excluded; its files are deleted from this device`);
  }

  private tick(): void {
    if (this.ctx.stopped()) return;
    for (const rt of this.ctx.groups.values()) {
      const state = rt.engine.state();
      // An exclusion an admins' race may still void keeps the files until it stands (core/engine/exclusion-contest.ts).
      if (state === 'left' || (state === 'excluded' && rt.engine.exclusionContestedUntil() === null)) this.dropGroup(rt.group);
      else if (state === 'excluded') continue;
      else this.attach(rt);
    }
    for (const t of this.transfers.values()) if (t.state === 'fetching') this.pump(t);
    this.uploads.expire(Date.now());
  }

  /** A file message kept (`body.fid`: its handle, `chunkFid`: the fid signed): find what of it this device holds, fetch the rest. */
  private offer(group: string, body: FileBody, chunkFid: string): void {
    const id = `${group}:${body.fid}`;
    if (this.transfers.has(id) || this.dropped.has(group)) return; // a group left keeps no file (review 4)
    const t: Transfer = {
      group,
      body,
      key: Buffer.from(body.key, 'hex'),
      fid: Buffer.from(chunkFid, 'hex'),
      hashes: Buffer.from(body.hashes, 'base64'),
      held: [],
      heldCount: 0,
      inFlight: new Set(),
      requests: 0,
      state: 'fetching',
      lacking: new Map(),
      lacks: new Map(),
      nextPeer: 0,
    };
    this.transfers.set(id, t);
    const store = this.store(group);
    if (store.isDone(body.fid)) {
      t.held = new Array<boolean>(body.count).fill(true);
      t.heldCount = body.count;
      t.state = 'ready';
      return;
    }
    if (body.size > this.maxBytes) {
      t.state = 'failed';
      t.detail = `${body.name} is larger than this device's limit of ${formatBytes(this.maxBytes)}`;
      return;
    }
    t.held = store.scan(body, t.hashes, sha256);
    t.heldCount = t.held.filter(Boolean).length;
    if (t.heldCount === body.count) this.finish(t);
    else setImmediate(() => this.pump(t));
  }

  /** Asks connected current members for missing chunks, up to `inFlight` requests at once. */
  private pump(t: Transfer): void {
    const rt = this.ctx.groups.get(t.group);
    if (!rt || rt.engine.state() !== 'member' || this.ctx.stopped()) return;
    const now = Date.now();
    const peers = rt.engine
      .members()
      .filter((m) => m.state === 'member' && m.key !== this.ctx.selfKey && isConnected(this.ctx.node, m.key) && (t.lacking.get(m.key) ?? 0) <= now)
      .map((m) => m.key);
    if (peers.length === 0) return;
    while (t.requests < B.inFlight && this.fetching < B.inFlightTotal && t.state === 'fetching') {
      const chunks: number[] = [];
      for (let i = 0; i < t.body.count && chunks.length < B.requestChunks; i++) if (!t.held[i] && !t.inFlight.has(i)) chunks.push(i);
      if (chunks.length === 0) return;
      const free = peers.filter((p) => (this.fetchingFrom.get(p) ?? 0) < B.inFlightPerPeer);
      if (free.length === 0) return;
      const peer = free[t.nextPeer++ % free.length]!;
      for (const i of chunks) t.inFlight.add(i);
      t.requests++;
      this.fetching++;
      this.fetchingFrom.set(peer, (this.fetchingFrom.get(peer) ?? 0) + 1);
      void this.fetch(t, peer, chunks).finally(() => {
        t.requests--;
        this.fetching--;
        const left = (this.fetchingFrom.get(peer) ?? 1) - 1;
        if (left <= 0) this.fetchingFrom.delete(peer);
        else this.fetchingFrom.set(peer, left);
        for (const i of chunks) t.inFlight.delete(i);
        if (t.state === 'fetching') setImmediate(() => this.pump(t));
      });
    }
  }

  /** One request to `peer`; what it sends is checked chunk by chunk and stored. */
  private async fetch(t: Transfer, peer: MemberKey, chunks: number[]): Promise<void> {
    const pid = peerOfMemberKey(peer);
    if (!pid) return;
    const limits = { maxFrameBytes: t.body.chunk + TAG_BYTES + 4, maxFrames: chunks.length + 1, timeoutMs: B.timeoutMs };
    const frames = await request(this.ctx.node, pid, PROTOCOL_FILE, json({ v: 1, group: t.group, file: t.body.fid, chunks }), limits);
    if (!frames || frames.length === 0) return this.lackedBy(t, peer);
    const header = FileReplyHeader.safeParse(parseJsonFrame(frames[0]));
    if (!header.success) return this.distrust(t, peer, 'malformed reply header');
    if ('refused' in header.data) {
      // A server at its budget says when to come back; anything else counts as lacking the file.
      if (header.data.refused === 'busy' || header.data.refused === 'rate') t.lacking.set(peer, Date.now() + Math.max(B.lackRetryMs, header.data.retryAfterMs ?? 0));
      else this.lackedBy(t, peer, header.data.retryAfterMs);
      return;
    }
    if (header.data.missing.length > 0 && frames.length === 1) this.lackedBy(t, peer);
    else if (header.data.missing.length > 0) t.lacking.set(peer, Date.now() + B.lackRetryMs);
    else t.lacks.delete(peer);
    if (this.transfers.get(`${t.group}:${t.body.fid}`) !== t) return; // deleted or dropped meanwhile
    const store = this.store(t.group);
    for (const frame of frames.slice(1)) {
      const chunk = parseChunkFrame(frame, t.body, t.hashes, chunks, sha256);
      if (!chunk) return this.distrust(t, peer, 'a chunk that does not match its signed hash');
      if (t.held[chunk.index]) continue;
      store.write(t.body, chunk.index, chunk.sealed);
      t.held[chunk.index] = true;
      t.heldCount++;
    }
    if (t.heldCount === t.body.count) this.finish(t);
    else this.progress(t);
  }

  /** `peer` gave none of the chunks asked (no answer, a refusal, or it lacks them): asked again after a back-off that doubles each time in a row. */
  private lackedBy(t: Transfer, peer: MemberKey, retryAfterMs = 0): void {
    const times = (t.lacks.get(peer) ?? 0) + 1;
    t.lacks.set(peer, times);
    const backoff = Math.min(B.lackRetryMaxMs, B.lackRetryMs * 2 ** Math.min(times - 1, 20));
    t.lacking.set(peer, Date.now() + Math.max(backoff, retryAfterMs));
  }

  private distrust(t: Transfer, peer: MemberKey, why: string): void {
    t.lacking.set(peer, Date.now() + B.peerWindowMs * 6);
    this.ctx.log(`file ${t.body.fid.slice(0, 8)}: ${peer.slice(0, 12)} sent ${why}; not asked again for a minute`);
  }

  /** Every chunk held: the plaintext's hash decides `ready` or `failed`. */
  private finish(t: Transfer): void {
    const store = this.store(t.group);
    const hash = createHash('sha256');
    for (let i = 0; i < t.body.count; i++) {
      const sealed = store.read(t.body, i);
      const plain = sealed && openChunk(nodeCrypto, t.key, t.fid, i, t.body.count, sealed);
      if (!plain) {
        t.held[i] = false;
        t.heldCount--;
        this.progress(t);
        return;
      }
      hash.update(plain);
    }
    if (hash.digest('hex') === t.body.sha256) {
      store.markDone(t.body.fid);
      t.state = 'ready';
    } else {
      t.state = 'failed';
      t.detail = 'the content does not match the hash its sender signed';
      store.remove(t.body.fid);
    }
    this.progress(t);
  }

  private progress(t: Transfer): void {
    this.ctx.emit('file.progress', this.view(t));
  }

  private view(t: Transfer): FileStatus {
    const have = t.state === 'ready' ? t.body.size : t.held.reduce((n, h, i) => (h ? n + plainLength(t.body, i) : n), 0);
    return { group: t.group, file: t.body.fid, state: t.state, have, size: t.body.size, ...(t.detail ? { detail: t.detail } : {}) };
  }

  // ── serving ───────────────────────────────────────────────────────────────

  private answer(remote: string, frames: Uint8Array[]): Uint8Array[] {
    const refuse = (refused: FileRefusal, retryAfterMs?: number): Uint8Array[] => [json(retryAfterMs === undefined ? { v: 1, refused } : { v: 1, refused, retryAfterMs })];
    const from = memberKeyOfPeer(remote);
    const req = FileRequest.safeParse(parseJsonFrame(frames[0]));
    if (!from || !req.success) return refuse('bad-request');
    const rt = this.ctx.groups.get(req.data.group);
    if (!rt || !isCurrentMember(rt, from)) return refuse('not-member');
    const t = this.transfers.get(`${req.data.group}:${req.data.file}`);
    if (!t) return refuse('unknown-file');
    const wait = this.budget.take(from, Date.now());
    if (wait > 0) return refuse('rate', Math.ceil(wait));
    if (this.serving >= B.concurrent) return refuse('busy', 200);
    this.serving++;
    try {
      const store = this.store(t.group);
      const out: Uint8Array[] = [];
      const missing: number[] = [];
      let bytes = 0;
      for (const i of new Set(req.data.chunks)) {
        const sealed = i < t.body.count && t.held[i] ? store.read(t.body, i) : null;
        if (!sealed) missing.push(i);
        else {
          out.push(chunkFrame(i, sealed));
          bytes += sealed.length;
        }
      }
      this.budget.spent(from, bytes);
      return [json({ v: 1, ok: true, missing }), ...out];
    } finally {
      this.serving--;
    }
  }

  // ── the API's side ────────────────────────────────────────────────────────

  status(group: string, fid: string): FileStatus | null {
    const t = this.transfers.get(`${group}:${fid}`);
    return t ? this.view(t) : null;
  }

  /** Up to `length` plaintext bytes from `offset` of a file held whole; null when not `ready`. */
  read(group: string, fid: string, offset: number, length: number): Uint8Array | null {
    const t = this.transfers.get(`${group}:${fid}`);
    if (!t || t.state !== 'ready') return null;
    const end = Math.min(t.body.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    const store = this.store(group);
    for (let i = Math.floor(offset / t.body.chunk); i * t.body.chunk < end; i++) {
      const sealed = store.read(t.body, i);
      const plain = sealed && openChunk(nodeCrypto, t.key, t.fid, i, t.body.count, sealed);
      if (!plain) return null;
      const start = i * t.body.chunk;
      const from = Math.max(offset, start) - start;
      const to = Math.min(end, start + plain.length) - start;
      out.set(plain.subarray(from, to), Math.max(offset, start) - offset);
    }
    return out;
  }

  /** Whether this peer may take a file of `size` bytes (its configured limit). */
  tooLarge(size: number): string | null {
    return size > this.maxBytes ? `the file is ${formatBytes(size)}, over this peer's limit of ${formatBytes(this.maxBytes)}` : null;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
