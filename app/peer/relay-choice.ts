/**
 * @module peer/relay-choice
 * Which relays a peer behind a NAT asks for a reservation (issue 16 §3;
 * docs/network.md "Relays"): the relays it knows, in the order it learnt them,
 * each with its run of failed reservations. It reads no clock: every call that
 * needs the time takes `now`.
 *
 * Invariants:
 * - At most `max` relays are known. One that failed `evictAfter` reservations in
 *   a row (an old invite's relay that is gone, one that refuses, a dead one a
 *   member announced) gives its place to a relay learnt while the list is full,
 *   so it cannot hold a place a working relay needs; while nothing needs the
 *   place it stays known, backed off (review 7: an outsider who exhausted a
 *   public relay's reservations for two minutes made every member forget the
 *   invite's relay for good). A bootstrap relay (`--relay`, pinned) is never
 *   forgotten, only backed off.
 * - At most `perSource` relays are known from one announcing peer (a member's
 *   relayed addresses, its own relay service): one member cannot fill the list
 *   (review 7). peer/reachability learns relays from members only.
 * - A relay whose reservation failed is not offered again for `retryMs`,
 *   doubling with each failure in a row up to `maxBackoffMs`; a success clears
 *   its record. `pick` never offers a relay in back-off, so one that refuses
 *   does not shadow the ones after it (it used to be asked every 3 s for ever,
 *   and the relays after the first two were never asked).
 */

export interface RelayChoiceOptions {
  max: number;
  retryMs: number;
  maxBackoffMs: number;
  evictAfter: number;
  perSource: number;
}

export const DEFAULT_RELAY_CHOICE: RelayChoiceOptions = { max: 8, retryMs: 3000, maxBackoffMs: 5 * 60_000, evictAfter: 6, perSource: 2 };

interface RelayRecord {
  failures: number;
  retryAt: number;
  pinned: boolean;
  /** The peer whose announcement taught it (none: configured, or a relay this peer dialled through). */
  source: string | undefined;
}

export class RelayChoice {
  private readonly relays = new Map<string, RelayRecord>();

  private readonly options: RelayChoiceOptions;

  constructor(options: Partial<RelayChoiceOptions> = {}) {
    this.options = { ...DEFAULT_RELAY_CHOICE, ...options };
  }

  /**
   * Adds a relay (its address up to `/p2p/RELAY`), in place of one that keeps failing if the
   * list is full; false when known already, when `source` taught `perSource` already, or when
   * the list is full of relays that do not keep failing.
   */
  learn(relay: string, pinned = false, source?: string): boolean {
    if (this.relays.has(relay)) return false;
    if (source !== undefined && [...this.relays.values()].filter((r) => r.source === source).length >= this.options.perSource) return false;
    if (this.relays.size >= this.options.max) {
      const failing = [...this.relays].filter(([, r]) => !r.pinned && r.failures >= this.options.evictAfter).sort(([, a], [, b]) => b.failures - a.failures)[0];
      if (!failing) return false;
      this.relays.delete(failing[0]);
    }
    this.relays.set(relay, { failures: 0, retryAt: 0, pinned, source });
    return true;
  }

  get size(): number {
    return this.relays.size;
  }

  all(): string[] {
    return [...this.relays.keys()];
  }

  /** Up to `want` relays to ask now: not held already, not in back-off, in the order learnt. */
  pick(now: number, held: readonly string[], want: number): string[] {
    if (want <= 0) return [];
    return [...this.relays].filter(([r, rec]) => !held.includes(r) && rec.retryAt <= now).slice(0, want).map(([r]) => r);
  }

  failed(relay: string, now: number): void {
    const rec = this.relays.get(relay);
    if (!rec) return;
    rec.failures += 1;
    rec.retryAt = now + Math.min(this.options.retryMs * 2 ** (rec.failures - 1), this.options.maxBackoffMs);
  }

  succeeded(relay: string): void {
    const rec = this.relays.get(relay);
    if (rec) {
      rec.failures = 0;
      rec.retryAt = 0;
    }
  }

  /** A change of network: every relay may be worth asking again at once. */
  clearBackoff(): void {
    for (const rec of this.relays.values()) rec.retryAt = 0;
  }
}
