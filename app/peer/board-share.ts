/**
 * @module peer/board-share
 * Re-sharing the whiteboard and the latest files with a newcomer. A newcomer
 * cannot read traffic from before its admission (the TEK revision steps on every
 * join, 003 [0070]), yet it should see the current board and the pictures and
 * files shared before it came (issue 18 §1). The member that admitted it
 * re-shares the board's support (the strokes and versions now on it, and what
 * keeps deleted objects deleted), then the group's newest FILE_SHARE_MAX file
 * messages not deleted by their authors and their authors' deletes of the
 * newest FILE_DELETE_SHARE_MAX deleted ones, under the current
 * key, in chunks that fit one payload (`board` and `files` payloads; their
 * messages keep their authors and IDs). Chat text is not re-shared. A file
 * message carries its content key, so the newcomer can then fetch and open its
 * chunks from any current member (files.ts serves current members).
 *
 * When: the TEK's holder stepped the revision while granting, so it shares
 * 1.5 s after the admission; any other admitter waits for the holder's step to
 * reach it (`tekStepped`, then 0.7 s to settle), at most 6 s after the
 * admission: after a fixed 1.5 s it shared the board under the old revision
 * whenever the step took longer (a busy machine).
 *
 * Each stroke and file message goes out as its author signed it (payload.ts):
 * the receiver checks every author's signature, so the sharer cannot add, alter
 * or re-date one (nor change a file's key, ID or hashes).
 * Strokes kept unsigned (profiles older than signing) are not re-shared. What is
 * shared is the board's support (app/api/board-model.ts `boardSupport`): every
 * counting version of every object on the board, so the newcomer computes the
 * same board.
 *
 * Kept for catch-up only for the newcomers it was made for (traffic.ts `for`):
 * served to every asker, as it was, a share reached members who joined later
 * (sealed under an older revision: "too old") or who had erased its key since
 * (after a leave stepped the TEK, the old one expires; a restart re-asks from
 * the start), and each showed a "this device cannot decrypt" placeholder from
 * the sharer (issue 18 §6).
 *
 * Invariants:
 * - One share timer per group; a later admission restarts the 6 s bound.
 * - Nothing is shared by a member that is not (or no longer) a current member,
 *   or once the group is stopped; an item too large for one chunk is skipped.
 * - No item by an author the receiver refuses (an excluded member): each one read as
 *   the sharer's own misdeed in the newcomer's key panel (review 35).
 */
import { encodePayload, FILE_SHARE_MAX, type SignedMessage } from './payload.js';
import type { KeptStroke } from './history.js';
import type { MemberKey } from '../core/types.js';

const BOARD_SHARE_DELAY_MS = 1500;
const BOARD_SHARE_SETTLE_MS = 700;
const BOARD_SHARE_MAX_WAIT_MS = 6000;
const BOARD_CHUNK_BYTES = 56 * 1024;

export interface BoardShareHost {
  now(): number;
  /** True while this member may publish in the group (a current member, not stopped). */
  canShare(): boolean;
  strokes(): KeptStroke[];
  /** The newest file messages not deleted (at most FILE_SHARE_MAX), oldest first, then the authors' deletes of deleted ones, as signed. */
  files?(): SignedMessage[];
  /** Whether a receiver takes an item by `author` (authorship.ts: a member's or a departed member's, not an excluded one's). */
  authorTaken(author: MemberKey): boolean;
  /** Publishes one re-share payload on the group's data topic, kept for catch-up only for `newcomers`. */
  send(payload: Uint8Array, newcomers: MemberKey[]): void;
  log(line: string): void;
}

export class BoardShare {
  private timer: NodeJS.Timeout | null = null;
  private deadline = 0;
  /** Admitted since the last share: the members this share is for. */
  private newcomers: MemberKey[] = [];

  constructor(private readonly host: BoardShareHost) {}

  /** This member admitted `newcomer`; `holdsTek`: it is the TEK's holder (it stepped the revision itself). */
  admitted(holdsTek: boolean, newcomer: MemberKey): void {
    if (!this.newcomers.includes(newcomer)) this.newcomers.push(newcomer);
    this.schedule(holdsTek ? BOARD_SHARE_DELAY_MS : BOARD_SHARE_MAX_WAIT_MS, true);
  }

  /** The TEK changed here: a share waiting for the holder's step goes out once it settles. */
  tekStepped(): void {
    if (this.timer) this.schedule(BOARD_SHARE_SETTLE_MS, false);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number, fresh: boolean): void {
    const now = this.host.now();
    if (fresh || this.deadline === 0) this.deadline = now + BOARD_SHARE_MAX_WAIT_MS;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.deadline = 0;
      this.share();
    }, Math.max(0, Math.min(delayMs, this.deadline - now)));
  }

  private share(): void {
    const newcomers = this.newcomers;
    this.newcomers = [];
    if (!this.host.canShare()) return;
    const taken = (m: SignedMessage): boolean => this.host.authorTaken(m.a);
    this.sendChunked('board', this.host.strokes().flatMap((s) => (s.signed && taken(s.signed) ? [s.signed] : [])), newcomers);
    this.sendChunked('files', (this.host.files?.() ?? []).filter(taken), newcomers);
  }

  /** `items` in payloads of at most BOARD_CHUNK_BYTES (and FILE_SHARE_MAX files) each. */
  private sendChunked(t: 'board' | 'files', items: SignedMessage[], newcomers: MemberKey[]): void {
    const maxItems = t === 'files' ? FILE_SHARE_MAX : Infinity;
    let chunk: SignedMessage[] = [];
    let size = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      try {
        this.host.send(encodePayload({ v: 2, t, items: chunk }), newcomers);
      } catch (err) {
        this.host.log(`${t} not re-shared: ${err instanceof Error ? err.message : 'error'}`);
      }
      chunk = [];
      size = 0;
    };
    for (const item of items) {
      const bytes = Buffer.byteLength(JSON.stringify(item)) + 1;
      if (bytes > BOARD_CHUNK_BYTES) continue; // a single item too large to re-share
      if (size + bytes > BOARD_CHUNK_BYTES || chunk.length >= maxItems) flush();
      chunk.push(item);
      size += bytes;
    }
    flush();
  }
}
