/**
 * @module peer/unsaved-hold
 * What leaves the device while a key this member made from fresh randomness is not
 * on disk (docs/architecture.md "Persistence"). A turn that makes such a key (a TEK
 * refresh, an exclusion or reseal's TEK′ and KEKs, a slot nobody held) saves the
 * state before its transmits go out (peer/group.ts `drive`). When that save fails (a
 * full disk), sending them anyway let other members take a key the device would
 * forget on a restart; restarted from the state before, the member made the same
 * version again with another key, and the group split on two keys of one version
 * and one creator (review 32; `test/unit/attacks/unsaved-fresh-key.test.ts`).
 *
 * Invariants:
 * - The transmits of a turn that made a key of ours and could not be saved are held,
 *   in order, until a write of the state succeeds; then they go out first, before any
 *   later transmit.
 * - While such a turn is held, no control publication or unicast leaves (each may carry
 *   or announce the held key: a heartbeat sealed under it, a grant of it); they are
 *   dropped, as a lossy network would, and the engine repeats what matters (heartbeats,
 *   grants asked again). Data publications are held after the turn, in order, at most
 *   MAX_HELD_DATA of them; past that, dropped.
 * - Held transmits live in memory only: a restart finds the state file's keys, and no
 *   other member saw the key that was lost.
 * - With nothing held, every transmit goes out as it comes, saved or not.
 */
import type { Transmit } from '../core/types.js';

/** Data publications held behind a held key turn at most (a user's sends fail sooner: their history line cannot be written either). */
export const MAX_HELD_DATA = 1000;

const isData = (t: Transmit): boolean => t.kind === 'publish' && t.topic === 'data';

export class UnsavedHold<O extends { t: Transmit }> {
  private held: O[] = [];
  private heldData = 0;
  /** Transmits dropped while a key turn was held (for the log). */
  dropped = 0;

  constructor(private readonly send: (o: O) => void) {}

  /** Whether a key turn waits for a successful write. */
  holding(): boolean {
    return this.held.length > 0;
  }

  /**
   * One turn's transmits, in the engine's order. `saved`: the state file is current now;
   * `madeKey`: this turn made a key of ours (its save was attempted in the turn).
   */
  pass(outgoing: readonly O[], saved: boolean, madeKey: boolean): void {
    if (saved) {
      this.flush();
      for (const o of outgoing) this.send(o);
      return;
    }
    if (madeKey) {
      this.held.push(...outgoing);
      return;
    }
    if (this.held.length === 0) {
      for (const o of outgoing) this.send(o);
      return;
    }
    for (const o of outgoing) {
      if (isData(o.t) && this.heldData < MAX_HELD_DATA) {
        this.held.push(o);
        this.heldData++;
      } else this.dropped++;
    }
  }

  /** A write succeeded: everything held goes out, in order. */
  flush(): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.heldData = 0;
    for (const o of held) this.send(o);
  }

  /** The runtime stops: what is held is lost with it (never sent after a stop). */
  clear(): void {
    this.held = [];
    this.heldData = 0;
  }
}
