/**
 * @module store/files
 * The two ways the store touches the disk:
 * - `writeFileAtomic`: write a temporary file, fsync it, rename it over the
 *   target, fsync the directory. A crash leaves the old or the new file, never a
 *   torn one.
 * - `AppendLog`: an append-only log of one JSON line per record, each write
 *   followed by fsync, so a record handed to `append` survives `kill -9`. A torn
 *   last line (crash mid-write) is skipped on read and reported as such.
 *
 * Invariant: nothing here knows about secrets; callers seal records first
 * (store/seal.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function readFileIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface LogRead<T> {
  records: T[];
  /** Lines that did not parse (a torn last write, or corruption). */
  skipped: number;
}

export class AppendLog {
  private fd: number | null = null;

  constructor(readonly path: string) {}

  /** `sync`: fsync after the write (a record that must survive a machine crash); a kill -9 loses no written line either way. */
  append(record: unknown, sync = true): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    if (sync) fsyncSync(this.fd);
  }

  read<T>(parse: (value: unknown) => T | null): LogRead<T> {
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    const records: T[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      let value: T | null = null;
      try {
        value = parse(JSON.parse(line));
      } catch {
        value = null;
      }
      if (value === null) skipped++;
      else records.push(value);
    }
    return { records, skipped };
  }

  /** Replace the whole log atomically (used only to bound the catch-up traffic log). */
  rewrite(records: unknown[]): void {
    this.close();
    writeFileAtomic(this.path, records.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
