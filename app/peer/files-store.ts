/**
 * @module peer/files-store
 * Where a file's sealed chunks live on this device (issue 18 §1):
 * `<profile>/groups/<group>/files/<handle>.enc` (the file message's handle,
 * files-chunks.ts `fileHandle`; the `fid` parameters below are handles), chunk
 * i at byte i × (chunk + 16),
 * as it travelled — sealed under the file's content key, which is kept only in
 * the sealed history log (inside the file message). `<fid>.done` marks a file
 * whose every chunk and whose plaintext hash were checked.
 *
 * Invariants:
 * - What is held is what authenticates: after a restart or a crash mid-write, the
 *   chunks held are found again by checking each slot against the hash its
 *   author signed (`scan`); a torn or never-written slot is simply missing, and
 *   is fetched again (resumable without a journal).
 * - Nothing here is in the clear: a chunk is written sealed, read sealed.
 * - Removed with its message: `remove` when its author deletes the file message,
 *   `removeAll` when this member leaves the group or is excluded (files.ts).
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { mkdirDurable, writeFileAtomic } from '../store/files.js';
import { join } from 'node:path';
import type { FileBody } from './payload.js';
import { chunkHash, plainLength, sameBytes, TAG_BYTES } from './files-chunks.js';

const FID = /^[0-9a-f]{32}$/;

export class FileStore {
  constructor(private readonly dir: string) {}

  private path(fid: string, ext: 'enc' | 'done'): string {
    if (!FID.test(fid)) throw new RangeError('bad file id');
    return join(this.dir, `${fid}.${ext}`);
  }

  isDone(fid: string): boolean {
    return existsSync(this.path(fid, 'done'));
  }

  /**
   * Marks a file whole. Chunks are written without fsync (a slot lost to a crash is found
   * missing by `scan` and fetched again), but `.done` makes them trusted without a scan, so the
   * chunks are fsynced first and `.done` is written atomically, its directory fsynced (review 32:
   * after a machine crash `.done` could outlive the chunks, and the file showed ready and could
   * not be read or served).
   */
  markDone(fid: string): void {
    // A 0-byte file is whole before any chunk was written: its folder may not exist yet (review 4).
    mkdirDurable(this.dir);
    const enc = this.path(fid, 'enc');
    if (existsSync(enc)) {
      const fd = openSync(enc, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    writeFileAtomic(this.path(fid, 'done'), '');
  }

  write(f: Pick<FileBody, 'fid' | 'chunk'>, index: number, sealed: Uint8Array): void {
    mkdirDurable(this.dir);
    const fd = openSync(this.path(f.fid, 'enc'), existsSync(this.path(f.fid, 'enc')) ? 'r+' : 'w+', 0o600);
    try {
      writeSync(fd, sealed, 0, sealed.length, index * (f.chunk + TAG_BYTES));
    } finally {
      closeSync(fd);
    }
  }

  /** The sealed chunk `index` as stored (not checked), or null when the file is short of it. */
  read(f: Pick<FileBody, 'fid' | 'chunk' | 'size'>, index: number): Uint8Array | null {
    const path = this.path(f.fid, 'enc');
    if (!existsSync(path)) return null;
    const length = plainLength(f, index) + TAG_BYTES;
    const out = new Uint8Array(length);
    const fd = openSync(path, 'r');
    try {
      const n = readSync(fd, out, 0, length, index * (f.chunk + TAG_BYTES));
      return n === length ? out : null;
    } finally {
      closeSync(fd);
    }
  }

  /** The chunks held, each checked against its signed hash. */
  scan(f: FileBody, hashes: Uint8Array, sha256: (b: Uint8Array) => Uint8Array): boolean[] {
    const held = new Array<boolean>(f.count).fill(false);
    const path = this.path(f.fid, 'enc');
    if (!existsSync(path)) return held;
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      for (let i = 0; i < f.count; i++) {
        const at = i * (f.chunk + TAG_BYTES);
        const length = plainLength(f, i) + TAG_BYTES;
        if (at + length > size) break;
        const buf = new Uint8Array(length);
        if (readSync(fd, buf, 0, length, at) === length) held[i] = sameBytes(sha256(buf), chunkHash(hashes, i));
      }
    } finally {
      closeSync(fd);
    }
    return held;
  }

  remove(fid: string): void {
    rmSync(this.path(fid, 'enc'), { force: true });
    rmSync(this.path(fid, 'done'), { force: true });
  }

  /** Every file of the group (this member left it or was excluded). */
  removeAll(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
