// Files (issue 18 §1): chunk plan, chunk sealing and its associated data, the
// bounds and hostile frames of /conclave/file, uploads in order, the store's
// recovery after a torn write, file message schemas; search at 10,000 messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../../app/crypto/node.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { chunkFrame, chunkSizeFor, FileReplyHeader, FileRequest, openChunk, parseChunkFrame, sealChunk } from '../../app/peer/files-chunks.js';
import { FileStore } from '../../app/peer/files-store.js';
import { FileUploads, UploadError } from '../../app/peer/files-upload.js';
import { FILE_BOUNDS, parseBody } from '../../app/peer/payload.js';
import { searchMessages } from '../../app/peer/search.js';
import type { ChatMessage } from '../../app/api/contract.js';

const sha256 = (b: Uint8Array) => nodeCrypto.sha256(b);

test('chunk plan: 256 KiB, larger only past 512 chunks, never more than 512', () => {
  assert.equal(chunkSizeFor(0), 256 * 1024);
  assert.equal(chunkSizeFor(50 * 1024 * 1024), 256 * 1024);
  for (const size of [128 * 1024 * 1024 + 1, 1024 ** 3, FILE_BOUNDS.maxBytes]) {
    const c = chunkSizeFor(size);
    assert.ok(Math.ceil(size / c) <= FILE_BOUNDS.maxChunks && c % (64 * 1024) === 0 && c <= FILE_BOUNDS.maxChunk, `size ${size}`);
  }
});

test('a sealed chunk opens only under its key, index, file and count (both providers agree)', () => {
  const key = new Uint8Array(randomBytes(32));
  const fid = new Uint8Array(randomBytes(16));
  const plain = new Uint8Array(randomBytes(1000));
  const sealed = sealChunk(nodeCrypto, key, fid, 3, 5, plain);
  assert.deepEqual(sealChunk(nobleCrypto, key, fid, 3, 5, plain), sealed);
  assert.deepEqual(openChunk(nodeCrypto, key, fid, 3, 5, sealed), plain);
  assert.equal(openChunk(nodeCrypto, key, fid, 2, 5, sealed), null, 'moved to another index');
  assert.equal(openChunk(nodeCrypto, key, fid, 3, 4, sealed), null, 'a file cut short');
  assert.equal(openChunk(nodeCrypto, key, new Uint8Array(randomBytes(16)), 3, 5, sealed), null, 'another file');
  assert.equal(openChunk(nodeCrypto, new Uint8Array(randomBytes(32)), fid, 3, 5, sealed), null, 'another key');
  const flipped = sealed.slice();
  flipped[7]! ^= 1;
  assert.equal(openChunk(nodeCrypto, key, fid, 3, 5, flipped), null, 'tampered');
});

test('hostile frames: requests and reply headers by schema, chunk frames by index, length and signed hash', () => {
  const ok = { v: 1, group: 'a'.repeat(32), file: 'b'.repeat(32), chunks: [0, 1] };
  assert.ok(FileRequest.safeParse(ok).success);
  for (const bad of [
    { ...ok, chunks: [] },
    { ...ok, chunks: Array.from({ length: 9 }, (_, i) => i) },
    { ...ok, chunks: [-1] },
    { ...ok, chunks: [FILE_BOUNDS.maxChunks] },
    { ...ok, chunks: [0.5] },
    { ...ok, group: 'A'.repeat(32) },
    { ...ok, extra: 1 },
    { ...ok, v: 2 },
  ])
    assert.equal(FileRequest.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 80));
  assert.equal(FileReplyHeader.safeParse({ v: 1, refused: 'because' }).success, false);
  assert.equal(FileReplyHeader.safeParse({ v: 1, ok: true, missing: Array.from({ length: 9 }, (_, i) => i) }).success, false);

  const f = { size: 300 * 1024, chunk: 256 * 1024, count: 2 };
  const key = new Uint8Array(randomBytes(32));
  const fid = new Uint8Array(randomBytes(16));
  const sealed = [0, 1].map((i) => sealChunk(nodeCrypto, key, fid, i, 2, new Uint8Array(randomBytes(i === 0 ? 256 * 1024 : 44 * 1024))));
  const hashes = new Uint8Array(64);
  sealed.forEach((s, i) => hashes.set(sha256(s), i * 32));
  assert.equal(parseChunkFrame(chunkFrame(1, sealed[1]!), f, hashes, [1], sha256)?.index, 1);
  assert.equal(parseChunkFrame(chunkFrame(1, sealed[1]!), f, hashes, [0], sha256), null, 'not asked for');
  assert.equal(parseChunkFrame(chunkFrame(0, sealed[1]!), f, hashes, [0], sha256), null, 'wrong length for its index');
  const other = sealChunk(nodeCrypto, key, fid, 1, 2, new Uint8Array(44 * 1024));
  assert.equal(parseChunkFrame(chunkFrame(1, other), f, hashes, [1], sha256), null, 'a member with the key serving other content');
  assert.equal(parseChunkFrame(new Uint8Array(3), f, hashes, [0], sha256), null, 'short frame');
  assert.equal(parseChunkFrame(chunkFrame(7, sealed[0]!), f, hashes, [7], sha256), null, 'index past the count');
});

function uploads(dir: string, maxBytes = 10 * 1024 * 1024): FileUploads {
  return new FileUploads({ maxBytes, store: () => new FileStore(dir), seal: (k, fid, i, n, p) => sealChunk(nodeCrypto, k, fid, i, n, p), handle: (fid) => fid });
}

test('uploads: in order only, never past the declared size or the limit; the body describes what was stored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-files-unit-'));
  try {
    const u = uploads(dir);
    assert.throws(() => u.begin('g', { name: 'x', size: 11 * 1024 * 1024, mime: 'a/b' }, 0), (e: unknown) => e instanceof UploadError && e.kind === 'too-large');
    const bytes = new Uint8Array(randomBytes(600 * 1024));
    const id = u.begin('g', { name: 'x.bin', size: bytes.length, mime: 'application/octet-stream' }, 0);
    assert.throws(() => u.chunk(id, 5, bytes.subarray(0, 10), 0), (e: unknown) => e instanceof UploadError && e.kind === 'order');
    u.chunk(id, 0, bytes.subarray(0, 100_000), 0);
    assert.throws(() => u.finish(id), (e: unknown) => e instanceof UploadError && e.kind === 'incomplete');
    u.chunk(id, 100_000, bytes.subarray(100_000), 0);
    assert.throws(() => u.chunk(id, bytes.length, new Uint8Array(1), 0), (e: unknown) => e instanceof UploadError);
    const { body } = u.finish(id);
    assert.equal(body.sha256, createHash('sha256').update(bytes).digest('hex'));
    const parsed = parseBody(JSON.stringify(body));
    assert.equal(parsed?.t, 'file');
    assert.equal(parseBody(JSON.stringify({ ...body, count: body.count + 1 })), null, 'inconsistent count refused');
    assert.equal(parseBody(JSON.stringify({ ...body, thumb: 'data:text/html;base64,AAAA' })), null, 'a thumbnail is a picture');
    // What the store holds is what the body names, chunk by chunk.
    const store = new FileStore(dir);
    const hashes = Buffer.from(body.hashes, 'base64');
    assert.deepEqual(store.scan(body, hashes, sha256), [true, true, true]);
    // A torn write (the file cut inside the last chunk) leaves that chunk missing, the others held.
    const path = join(dir, `${body.fid}.enc`);
    truncateSync(path, statSync(path).size - 10);
    assert.deepEqual(store.scan(body, hashes, sha256), [true, true, false]);
    // Expiry drops an idle upload.
    const idle = u.begin('g', { name: 'y', size: 10, mime: 'a/b' }, 0);
    u.expire(10 * 60_000);
    assert.throws(() => u.chunk(idle, 0, new Uint8Array(10), 0), (e: unknown) => e instanceof UploadError && e.kind === 'unknown');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search: every word, case and accents folded, newest first, deleted never; 10,000 messages timed', () => {
  const words = ['apple', 'banana', 'cherry', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  const messages: ChatMessage[] = Array.from({ length: 10_000 }, (_, i) => ({
    id: i.toString(16).padStart(32, '0'),
    group: 'a'.repeat(32),
    sender: 'p',
    senderName: 'P',
    text: `message ${i} about ${words[i % words.length]} and ${words[(i * 7) % words.length]} ${'lorem ipsum '.repeat(8)}`,
    sentAt: i,
    receivedAt: i,
  }));
  messages[17] = { ...messages[17]!, text: 'Le Café de la Gare, rendez-vous à 8h' };
  messages[18] = { ...messages[18]!, text: 'cafe gare deleted', deleted: true };
  const started = performance.now();
  const found = searchMessages(messages, 'cafe GARE', 50);
  const ms = performance.now() - started;
  assert.deepEqual(found.map((m) => m.id), [messages[17]!.id]);
  assert.equal(searchMessages(messages, 'apple', 5)[0]!.sentAt, 9992, 'newest first');
  assert.equal(searchMessages(messages, '   ', 5).length, 0);
  console.log(`# search over 10,000 messages: ${ms.toFixed(1)} ms`);
});
