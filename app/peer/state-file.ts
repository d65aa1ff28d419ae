/**
 * @module peer/state-file
 * When one group's state file is written (docs/protocol.md §11 "Persistence"):
 * the group record with the engine's snapshot, sealed, written atomically and
 * fsynced by `profile.saveGroup`.
 *
 * Invariants:
 * - Engine state is saved 150 ms after every change and on stop — only when it
 *   changed: most inputs (heartbeats above all) leave it as it was. Without the
 *   comparison, a member of a ten-member group rewrote and fsynced an unchanged
 *   file several times a second, which stalled its event loop whenever the disk
 *   was busy.
 * - `lastDataAt` moves with every data message (shown to clients; reconciliation,
 *   catch-up.ts, no longer depends on it: it asks by per-author sequence numbers
 *   kept in the history log). A change to it alone is saved within 10 s, not
 *   150 ms after.
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

  constructor(
    private readonly profile: Profile,
    private readonly record: GroupRecord,
    private readonly snapshot: () => Uint8Array,
    private readonly log: (line: string) => void,
  ) {}

  /** A save 150 ms from now, unless one is already due. */
  schedule(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save(false);
    }, SAVE_DELAY_MS);
  }

  /**
   * Writes the state file if it changed since the last write. With `eager`
   * false (the timer), a change to `lastDataAt` alone is left for the lazy save.
   */
  save(eager = true): void {
    try {
      this.record.snapshot = toBase64(this.snapshot());
      const { lastDataAt, ...rest } = this.record;
      const contents = JSON.stringify(rest);
      if (this.saved && this.saved.contents === contents) {
        if (this.saved.lastDataAt === lastDataAt) return;
        if (!eager) {
          this.lazySaveTimer ??= setTimeout(() => {
            this.lazySaveTimer = null;
            if (!this.stopped) this.save();
          }, LAZY_SAVE_MS);
          return;
        }
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
