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
 * - `lastDataAt` moves with every data message (shown to clients; reconciliation,
 *   catch-up.ts, no longer depends on it: it asks by per-author sequence numbers
 *   kept in the history log). A change to it alone is saved within 10 s, not
 *   150 ms after.
 * - `save()` (API changes, stop) writes at once if anything changed.
 * - A failed write is logged, never thrown: the next change tries again.
 */
import type { GroupRecord, Profile } from '../store/profile.js';
import { toBase64 } from '../store/seal.js';

const SAVE_DELAY_MS = 150;
const LAZY_SAVE_MS = 10_000;

export class StateFile {
  private saveTimer: NodeJS.Timeout | null = null;
  private lazySaveTimer: NodeJS.Timeout | null = null;
  /** The record as last written, without `lastDataAt` (JSON), and that `lastDataAt`. */
  private saved: { contents: string; lastDataAt: number } | null = null;
  private stopped = false;
  /** Snapshots taken to compare (written or not): for tests and benchmarks. */
  snapshots = 0;

  constructor(
    private readonly profile: Profile,
    private readonly record: GroupRecord,
    private readonly snapshot: () => Uint8Array,
    private readonly log: (line: string) => void,
  ) {}

  /** A change that shows: a save 150 ms from now, unless one is already due. */
  schedule(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save(false);
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
      if (!this.stopped) this.save();
    }, LAZY_SAVE_MS);
    this.lazySaveTimer.unref?.();
  }

  /**
   * Writes the state file if it changed since the last write. With `eager`
   * false (the 150 ms timer), a change to `lastDataAt` alone is left for the lazy save.
   */
  save(eager = true): void {
    try {
      this.snapshots++;
      this.record.snapshot = toBase64(this.snapshot());
      const { lastDataAt, ...rest } = this.record;
      const contents = JSON.stringify(rest);
      if (this.saved && this.saved.contents === contents) {
        if (this.saved.lastDataAt === lastDataAt) return;
        if (!eager) return this.lazy();
      }
      this.profile.saveGroup(this.record);
      this.saved = { contents, lastDataAt };
    } catch (err) {
      this.log(`group ${this.record.group.slice(0, 8)}: could not save state: ${err instanceof Error ? err.name : 'error'}`);
    }
  }

  /** Cancels pending saves, saves once more, and schedules nothing after. */
  stop(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.lazySaveTimer) clearTimeout(this.lazySaveTimer);
    this.lazySaveTimer = null;
    this.save();
    this.stopped = true;
  }
}
