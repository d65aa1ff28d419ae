/**
 * @module peer/state-file
 * When one group's state file is written (docs/protocol.md §11 "Persistence"):
 * the group record with the engine's snapshot, sealed, written atomically and
 * fsynced by `profile.saveGroup`.
 *
 * Invariants:
 * - Nothing is written unless the record changed since the last write (the
 *   snapshot and the bookkeeping are compared as JSON): most inputs (heartbeats
 *   above all) leave it as it was.
 * - A change that shows (`schedule`: an engine event other than data or a
 *   refusal, an admission, an API change) is saved 150 ms later, several changes
 *   in one write. An input that showed nothing (`touch`: a heartbeat, which at
 *   most moves soft state that the next heartbeats restore) is compared, and
 *   saved if it changed, within 10 s. Comparing costs a whole snapshot of the
 *   engine, so it is not done after every input: in an idle ten-member group
 *   every member gets about ten heartbeats a second, and a comparison 150 ms
 *   after each was most of the CPU its state file cost.
 * - No data message changes the record: `lastDataAt` (read by nothing since
 *   catch-up.ts asks by per-author sequence numbers kept in the history log) is
 *   no longer moved, and its lazy save cost fifty chatting peers about 3 % of
 *   their CPU (a snapshot, a seal and two fsyncs per peer every 10 s;
 *   docs/performance.md "Round sixteen").
 * - Soft state alone is not written by a timer: when the only difference from
 *   the last write is in the engine's slot directory (`slotDir`: who holds which
 *   other slot at which version and revision, learnt from heartbeats and restored
 *   by the next heartbeats after a restart), the timers leave the file as it is;
 *   the directory rides along with the next write that something else causes, and
 *   with `save()`. Measured: after a join, a thirty-member group's idle members
 *   rewrote and fsynced their state files about once every 8 s each for the
 *   revisions other members' slots stepped to (docs/performance.md "Idle CPU").
 * - `save()` (API changes, stop, and a roster change before any client is told
 *   of it: peer/group.ts) writes at once if anything changed.
 * - A failed write is logged, never thrown, except by `saveOrThrow` (a group's
 *   first write, before anything of it is announced: group.create, group.join).
 *   It is reported (`onFailure`, named by its disk error's code, never a path)
 *   and tried again every RETRY_MS until a write succeeds, which is reported too:
 *   the user sees that this device's copy of the group is behind (group.storage).
 */
import type { GroupRecord, Profile } from '../store/profile.js';
import { toBase64 } from '../store/seal.js';
import { storageFailure } from '../api/handler.js';

const SAVE_DELAY_MS = 150;
/** The engine snapshot's soft part (core/state.ts `PersistentState`), not worth a write of its own. */
const SOFT_FIELDS = ['slotDir'] as const;

function dropSoft(state: unknown): void {
  if (state && typeof state === 'object') for (const f of SOFT_FIELDS) delete (state as Record<string, unknown>)[f];
}

/**
 * The record as JSON with the snapshot's soft fields left out. The snapshot is
 * core/state.ts's JSON; one that does not parse is compared whole.
 */
function withoutSoftState(rest: GroupRecord, snapshot: Uint8Array): string {
  let engine: unknown;
  try {
    engine = JSON.parse(new TextDecoder().decode(snapshot));
  } catch {
    return JSON.stringify(rest);
  }
  dropSoft(engine);
  // An exclusion contest's shadow (core/engine/exclusion-contest.ts) has the same soft part (review 26).
  if (engine && typeof engine === 'object') dropSoft((engine as { contest?: { shadow?: unknown } }).contest?.shadow);
  return JSON.stringify({ ...rest, snapshot: engine });
}
const LAZY_SAVE_MS = 10_000;
/** After a failed write, the next try (whether or not anything changed meanwhile). */
const RETRY_MS = 5_000;

export class StateFile {
  private saveTimer: NodeJS.Timeout | null = null;
  private lazySaveTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Why the last write failed, while no write has succeeded since (null: the file is current or nothing failed). */
  private failure: string | null = null;
  /** The record as last written (JSON), and the same without soft state. */
  private saved: { contents: string; hard: string } | null = null;
  private stopped = false;
  /** Snapshots taken to compare (written or not): for tests and benchmarks. */
  snapshots = 0;

  constructor(
    private readonly profile: Profile,
    private readonly record: GroupRecord,
    private readonly snapshot: () => Uint8Array,
    private readonly log: (line: string) => void,
    /** A write failed (its cause), or succeeded after failing (null). Called on each change only. */
    private readonly onFailure: (failure: string | null) => void = () => undefined,
  ) {}

  /** Why the group's state could not be written, while that lasts (null: saved). */
  unsaved(): string | null {
    return this.failure;
  }

  /** A change that shows: a save 150 ms from now, unless one is already due. */
  schedule(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save('timer');
    }, SAVE_DELAY_MS);
  }

  /** An input that showed nothing: compared (and saved if it changed) within 10 s. */
  touch(): void {
    this.lazy();
  }

  private lazy(): void {
    if (this.lazySaveTimer || this.stopped) return;
    this.lazySaveTimer = setTimeout(() => {
      this.lazySaveTimer = null;
      if (!this.stopped) this.save('lazy');
    }, LAZY_SAVE_MS);
    this.lazySaveTimer.unref?.();
  }

  /** Writes the state file if it changed since the last write. From a timer, a change to soft state alone is not written. */
  save(from: 'now' | 'timer' | 'lazy' = 'now'): void {
    try {
      this.write(from);
    } catch (err) {
      const cause = storageFailure(err) ?? describeError(err);
      this.log(`group ${this.record.group.slice(0, 8)}: could not save state: ${cause}`);
      this.noteFailure(cause);
      this.retryLater();
      return;
    }
    this.noteFailure(null);
  }

  /** `save()` that throws the write's error (the API handler names a disk error as `storage`). */
  saveOrThrow(): void {
    this.write('now');
  }

  private write(from: 'now' | 'timer' | 'lazy'): void {
    this.snapshots++;
    const snapshot = this.snapshot();
    this.record.snapshot = toBase64(snapshot);
    const contents = JSON.stringify(this.record);
    const hard = withoutSoftState(this.record, snapshot);
    if (this.saved && (from === 'now' ? this.saved.contents === contents : this.saved.hard === hard)) return;
    this.profile.saveGroup(this.record);
    this.saved = { contents, hard };
  }

  /** Cancels pending saves, saves once more, and schedules nothing after. */
  stop(): void {
    if (this.stopped) return;
    this.cancelTimers();
    this.save();
    this.stopped = true;
  }

  /** Cancels pending saves and writes nothing more, not even at stop (a group abandoned before its first write). */
  discard(): void {
    this.cancelTimers();
    this.stopped = true;
  }

  private noteFailure(failure: string | null): void {
    if (failure === this.failure) return;
    this.failure = failure;
    this.onFailure(failure);
  }

  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.save('now');
    }, RETRY_MS);
    this.retryTimer.unref?.();
  }

  private cancelTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.lazySaveTimer) clearTimeout(this.lazySaveTimer);
    this.lazySaveTimer = null;
  }
}

/** An error that is no known disk failure, named by its code or class (never its message, which may hold a path). */
function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,32}$/.test(code) ? code : err instanceof Error ? err.name : 'error';
}
