/**
 * @module core/engine/timers
 * The engine's scalar deadlines as one table (quinn-proto's TimerTable): one kind,
 * one deadline, no flags spread over the rooms. Deadlines that exist once per item
 * (a table's completion, a claim on a silent holder's key, a fetch, a leaver's
 * exclusion, a newcomer's key request) stay with their item and are read by
 * `nextDeadline` in engine.ts.
 *
 * Invariant: a timer that is not armed is `null`; nothing here reads a clock.
 */
export type TimerKind =
  /** end of the listening phase before creating a group (003 [0059]) */
  | 'listen'
  /** next heartbeat of the keys this member holds (003 [0059]) */
  | 'heartbeat'
  /** one more exclusion after concurrent tables (docs/protocol.md §8.2) */
  | 'reseal'
  /** failover checks and grace-window expiry, every half heartbeat */
  | 'housekeeping'
  /** batched MemberAdmitted announcement */
  | 'announce'
  /** the same announcement once more, a few heartbeats later */
  | 'reannounce';

export const TIMER_KINDS: readonly TimerKind[] = ['listen', 'heartbeat', 'reseal', 'housekeeping', 'announce', 'reannounce'];

export class TimerTable {
  private readonly at: Record<TimerKind, number | null> = { listen: null, heartbeat: null, reseal: null, housekeeping: null, announce: null, reannounce: null };

  get(kind: TimerKind): number | null {
    return this.at[kind];
  }
  set(kind: TimerKind, deadline: number | null): void {
    this.at[kind] = deadline;
  }
  stop(kind: TimerKind): void {
    this.at[kind] = null;
  }
  /** Armed and due at `now`. */
  due(kind: TimerKind, now: number): boolean {
    const t = this.at[kind];
    return t !== null && now >= t;
  }
  /** The earliest armed deadline, or null. */
  earliest(): number | null {
    let d: number | null = null;
    for (const k of TIMER_KINDS) {
      const t = this.at[k];
      if (t !== null && (d === null || t < d)) d = t;
    }
    return d;
  }
}

/**
 * Per slot, the last time its holder was heard (EngineCore.heardAt): a Map<number, number>'s
 * get/has/set, over a Float64Array for slot numbers below SLOT_TIMES_MAX (a flag byte says
 * which are set) and a Map beyond. Set on every key of every heartbeat: storing a time here
 * allocates nothing.
 */
export class SlotTimes {
  private at = new Float64Array(0);
  private known = new Uint8Array(0);
  private other: Map<number, number> | null = null;

  get(slot: number): number | undefined {
    if (!inArray(slot)) return this.other?.get(slot);
    return slot < this.known.length && this.known[slot] === 1 ? this.at[slot] : undefined;
  }
  has(slot: number): boolean {
    if (!inArray(slot)) return this.other?.has(slot) ?? false;
    return slot < this.known.length && this.known[slot] === 1;
  }
  set(slot: number, t: number): this {
    if (!inArray(slot)) {
      (this.other ??= new Map()).set(slot, t);
      return this;
    }
    if (slot >= this.at.length) {
      const n = Math.min(SLOT_TIMES_MAX, Math.max(16, 2 * this.at.length, slot + 1));
      const at = new Float64Array(n);
      const known = new Uint8Array(n);
      at.set(this.at);
      known.set(this.known);
      this.at = at;
      this.known = known;
    }
    this.at[slot] = t;
    this.known[slot] = 1;
    return this;
  }
}
/** Slots kept in the array: every slot of a valid group (V·W ≤ 8,192, plus the TEK's 0). */
const SLOT_TIMES_MAX = 8193;
function inArray(slot: number): boolean {
  return Number.isInteger(slot) && slot >= 0 && slot < SLOT_TIMES_MAX;
}

/**
 * Per member key, a time (EngineCore.lastSeen, lastHeartbeatSentAt): a Map<MemberKey, number>'s
 * get/set, the times kept in one Float64Array and the Map holding only each key's place in it
 * (a small integer), so storing a time allocates nothing. Grows as the Map would: one place
 * per key ever set.
 */
export class KeyTimes {
  private readonly place = new Map<string, number>();
  private at = new Float64Array(16);

  get(key: string): number | undefined {
    const i = this.place.get(key);
    return i === undefined ? undefined : this.at[i];
  }
  set(key: string, t: number): this {
    let i = this.place.get(key);
    if (i === undefined) {
      i = this.place.size;
      if (i >= this.at.length) {
        const grown = new Float64Array(2 * this.at.length);
        grown.set(this.at);
        this.at = grown;
      }
      this.place.set(key, i);
    }
    this.at[i] = t;
    return this;
  }
}
