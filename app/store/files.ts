/**
 * @module store/files
 * The two ways the store touches the disk:
 * - `writeFileAtomic`: write a temporary file, fsync it, rename it over the
 *   target, fsync the directory. A crash leaves the old or the new file, never a
 *   torn one.
 * - `AppendLog`: an append-only log of one JSON line per record. `append`
 *   writes the line at once (a `kill -9` after it returns loses nothing) and,
 *   with `sync`, fsyncs before returning. `appendDurable` writes the line at
 *   once too and resolves only after an fsync that began after the write: group
 *   commit. Lines written while an fsync is running wait for the next one, which
 *   starts as soon as it ends, so n records appended together cost one or two
 *   fsyncs instead of n, and the fsync runs on libuv's thread pool instead of
 *   stopping the event loop (in a process hosting many peers, every other peer
 *   with it). A torn last line (crash mid-write) is skipped on read and reported
 *   as such.
 *
 * Invariants: nothing here knows about secrets; callers seal records first
 * (store/seal.ts). A promise of `appendDurable` never resolves before its line
 * is fsynced; if the fsync fails it rejects (the record may not be on disk).
 * `close` fsyncs what is still waiting before it closes the file.
 */
import { closeSync, fstatSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Creates `dir` and any missing parents (mode 0700), and fsyncs the parent of each directory it
 * created, so that a machine crash cannot lose a directory whose files were reported durable
 * (review 32: a new group's directory and `groups/` were never fsynced in their parents).
 */
export function mkdirDurable(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.push(d);
    if (d === first || dirname(d) === d) break;
  }
  for (const d of created.reverse()) fsyncDir(dirname(d));
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirDurable(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    // A part-written temporary file would take disk space that is short already (a full disk).
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The write's own error is the one to report.
    }
    throw err;
  }
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

type Waiter = { resolve: () => void; reject: (err: Error) => void };

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already unusable
  }
}

export class AppendLog {
  private fd: number | null = null;
  /** Waiting for the next fsync (their lines are written). */
  private waiting: Waiter[] = [];
  /** Covered by the fsync now running on the thread pool. */
  private syncing: Waiter[] = [];
  private inFlight = false;
  /** Fds given up after a failed write, closed once the fsync running on them ends. */
  private retired: number[] = [];
  /** fsyncs done (sync or group commit): for tests and benchmarks. */
  fsyncs = 0;

  constructor(readonly path: string) {}

  /** `sync`: fsync after the write (a record that must survive a machine crash); a kill -9 loses no written line either way. */
  append(record: unknown, sync = true): void {
    const fd = this.write(record);
    if (sync) this.fsyncNow(fd);
  }

  /** Writes the record now; resolves once an fsync begun after the write has finished (group commit). */
  appendDurable(record: unknown): Promise<void> {
    this.write(record);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.inFlight) this.startSync();
    });
  }

  private write(record: unknown): number {
    if (this.fd === null) this.fd = this.open();
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const fd = this.fd;
    let off = 0;
    try {
      while (off < line.length) off += writeSync(fd, line, off, line.length - off);
    } catch (err) {
      // Part of the line may be written (disk full, EFBIG, EIO): the next write reopens the log,
      // and `open` puts a newline after the fragment, as after a crash (review 32's second pass).
      // The lines waiting for an fsync were written whole: one fsync now settles them. The fd is
      // closed only once no fsync runs on it (review 32's third pass: closed under a queued fsync,
      // its number went to the next file opened, whose flush then resolved this log's records).
      this.fd = null;
      const waiting = this.waiting;
      this.waiting = [];
      try {
        if (waiting.length > 0) {
          fsyncSync(fd);
          this.fsyncs++;
        }
        for (const w of waiting) w.resolve();
      } catch (syncErr) {
        for (const w of waiting) w.reject(syncErr as Error);
      }
      if (this.inFlight) this.retired.push(fd);
      else closeQuietly(fd);
      throw err;
    }
    return fd;
  }

  /**
   * Opens the log for appending. A new file's directory entry is fsynced before anything is
   * written to it. A log whose last line was torn by a crash (no final newline) gets a newline
   * first: otherwise the next record was glued onto the fragment, read back as one bad line and
   * lost at the next start, though its append had been reported durable (review 32).
   */
  private open(): number {
    const dir = dirname(this.path);
    mkdirDurable(dir);
    const existed = existsSync(this.path);
    const fd = openSync(this.path, 'a+', 0o600);
    try {
      if (!existed) fsyncDir(dir);
      const size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) writeSync(fd, '\n');
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return fd;
  }

  /**
   * A synchronous fsync covers every line written so far: those waiting for one are done too.
   * If it fails, so are they, and the batch of the fsync running (review 32's fourth pass: a later
   * fsync's success was taken for theirs, though Linux reports a failed writeback only once).
   */
  private fsyncNow(fd: number): void {
    try {
      fsyncSync(fd);
    } catch (err) {
      const failed = [...this.syncing, ...this.waiting];
      this.syncing = [];
      this.waiting = [];
      for (const w of failed) w.reject(err as Error);
      throw err;
    }
    this.fsyncs++;
    const done = [...this.syncing, ...this.waiting];
    this.syncing = [];
    this.waiting = [];
    for (const w of done) w.resolve();
  }

  /** One fsync on the thread pool for every line waiting; the next batch starts when it ends. */
  private startSync(): void {
    const fd = this.fd;
    if (fd === null || this.waiting.length === 0) return;
    this.inFlight = true;
    this.syncing = this.waiting;
    this.waiting = [];
    fsync(fd, (err) => {
      this.inFlight = false;
      for (const retired of this.retired.splice(0)) closeQuietly(retired);
      const batch = this.syncing; // empty if a synchronous fsync or close() settled it first
      this.syncing = [];
      if (batch.length > 0 && !err) this.fsyncs++;
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.startSync();
    });
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

  /** Fsyncs what is waiting (resolving it), then closes the file. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    if (this.waiting.length > 0 || this.syncing.length > 0) {
      try {
        this.fsyncNow(fd);
      } catch {
        // fsyncNow rejected those waiting for it
      }
    }
    closeSync(fd);
    this.fd = null;
  }
}
