/**
 * @module peer/event-limit
 * How much of what remote input causes reaches the clients and the log (docs/protocol.md
 * §6; issue 19: "a peer that lies can waste only a bounded amount of work"). The engine
 * reports an `undecryptable` event each time a packet it can never read is seen (too
 * old, dropped from the buffer, any packet while excluded) and a `rejected` event for
 * each refused input: a peer replaying old packets, or a catch-up server sending junk
 * credited to anyone, could otherwise put thousands of placeholders in every client's
 * chat and thousands of lines in the log a minute.
 *
 * `WindowLimit` (per group, per window of `windowMs`):
 * - at most `perKey` items per key (a named sender; for log lines a reason and sender)
 *   and `total` in all pass; an item with an id already passed this window (a
 *   replayed packet: its send time) is dropped without counting;
 * - the rest are counted: the first one held back is reported (`firstHidden`), and
 *   the count when the next window opens (`closed`), so two lines a window at most;
 * - memory is bounded by `total` entries whatever the input (a key is remembered
 *   only when one of its items passes), and reset each window.
 * Nothing here feeds back into the engine: it is a view.
 */

export interface WindowLimits {
  readonly windowMs: number;
  readonly perKey: number;
  readonly total: number;
}

/** `chat.undecryptable` placeholders: per sender, and in all. */
export const UNDECRYPTABLE_LIMITS: WindowLimits = { windowMs: 60_000, perKey: 5, total: 30 };
/** Log lines for refused inputs: per (reason, sender), and in all (the key panel keeps every count). */
export const REJECTED_LOG_LIMITS: WindowLimits = { windowMs: 60_000, perKey: 3, total: 30 };

export interface Admission {
  show: boolean;
  /** The first item held back this window. */
  firstHidden: boolean;
  /** The window that just ended, when it held some back: how many, from how many keys (counted up to `total`: `keysAtLeast` past it). */
  closed: { hidden: number; keys: number; keysAtLeast: boolean } | null;
}

export class WindowLimit {
  private windowStart = -Infinity;
  /** Passed this window: per key, the ids of its items. */
  private shown = new Map<string, Set<number>>();
  private shownCount = 0;
  private hidden = 0;
  private hiddenKeys = new Set<string>();
  private keysPast = false;

  constructor(private readonly limits: WindowLimits) {}

  admit(key: string, id: number | null, now: number): Admission {
    let closed: Admission['closed'] = null;
    if (now - this.windowStart >= this.limits.windowMs || now < this.windowStart) {
      if (this.hidden > 0) closed = { hidden: this.hidden, keys: this.hiddenKeys.size, keysAtLeast: this.keysPast };
      this.keysPast = false;
      this.windowStart = now;
      this.shown = new Map();
      this.shownCount = 0;
      this.hidden = 0;
      this.hiddenKeys = new Set();
    }
    const ids = this.shown.get(key);
    if (id !== null && ids?.has(id)) return { show: false, firstHidden: false, closed };
    if ((ids?.size ?? 0) >= this.limits.perKey || this.shownCount >= this.limits.total) {
      this.hidden++;
      // The count stays exact; the keys named in it are bounded.
      if (this.hiddenKeys.size < this.limits.total) this.hiddenKeys.add(key);
      else if (!this.hiddenKeys.has(key)) this.keysPast = true;
      return { show: false, firstHidden: this.hidden === 1, closed };
    }
    const at = id ?? -this.shownCount - 1;
    if (ids) ids.add(at);
    else this.shown.set(key, new Set([at]));
    this.shownCount++;
    return { show: true, firstHidden: false, closed };
  }
}
