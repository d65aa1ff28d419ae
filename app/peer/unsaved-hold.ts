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
 * - From a turn that made a key of ours and could not be saved (whether or not it sent
 *   anything) until a write of the state succeeds, no control publication or unicast of
 *   the group leaves: each may carry or announce the held key (a table, a heartbeat sealed
 *   under it, a grant of it). They are held, in order, and go out first once a write
 *   succeeds, before any later transmit. A Leave made meanwhile is never dropped (review 37:
 *   dropped, it never went out, and the others kept the leaver as a member): it goes out at
 *   once with everything held (below).
 * - Data publications are never dropped here (a chat message the API acknowledged; review 37:
 *   past a cap, the first version dropped them). They are held in order behind the key turn,
 *   so that the receivers get the key first, up to MAX_HELD_DATA_BYTES; past that they go out
 *   as they come, and one sealed under the held TEK waits at a receiver, or is caught up from
 *   this member's traffic log, until the key arrives.
 * - At most MAX_HELD control messages and unicasts that no key turn made are held; past that,
 *   the oldest of them are dropped (heartbeats and grants the engine repeats); a key turn's own
 *   are never dropped and do not count (review 38: once key turns alone filled the bound, every
 *   later message, a Leave too, was dropped as it came).
 * - A leave sends everything held at once (peer/group.ts `leave`): the others then block this
 *   member, so no key it made and forgets can split them, and a Leave held until a write
 *   succeeded was lost with a stop before it (review 38).
 * - Held transmits live in memory only: a restart finds the state file's keys, and no other
 *   member saw the key that was lost. An own message held then is not lost with them (review
 *   38: it was): every data publication that passes while a key turn waits is told to
 *   `onData` (held, or sent at once past the bound under the unsaved key), the history marks
 *   it held until it is published under a saved key, and after a restart peer/group.ts
 *   publishes it again (`republishHeld`).
 * - With no key turn waiting, every transmit goes out as it comes, saved or not.
 */
import type { Transmit } from '../core/types.js';

/**
 * Control messages and unicasts held behind an unsaved key turn at most: about twenty minutes of
 * one member's heartbeats, the newest kept, so that a disk full for hours does not end in a burst
 * of thousands of stale messages to every member.
 */
export const MAX_HELD = 256;
/** Bytes of data publications held behind an unsaved key turn at most; past that they are sent at once. */
export const MAX_HELD_DATA_BYTES = 32 * 1024 * 1024;

const isData = (t: Transmit): boolean => t.kind === 'publish' && t.topic === 'data';

export class UnsavedHold<O extends { t: Transmit }> {
  private held: { o: O; keyTurn: boolean }[] = [];
  private heldControl = 0;
  private heldDataBytes = 0;
  /** A key turn waits for a successful write (set even when that turn sent nothing: review 37). */
  private pending = false;
  /** Transmits dropped past MAX_HELD (a count for tests and diagnostics). */
  dropped = 0;

  /** `onData`: a data publication passed while a key turn waited (held, or sent past the bound). */
  constructor(
    private readonly send: (o: O) => void,
    private readonly onData: (o: O) => void = () => undefined,
  ) {}

  /** Whether a key turn waits for a successful write. */
  holding(): boolean {
    return this.pending;
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
    if (madeKey) this.pending = true;
    if (!this.pending) {
      for (const o of outgoing) this.send(o);
      return;
    }
    for (const o of outgoing) {
      if (isData(o.t)) {
        this.onData(o);
        if (this.heldDataBytes + o.t.bytes.length > MAX_HELD_DATA_BYTES) {
          this.send(o);
          continue;
        }
        this.heldDataBytes += o.t.bytes.length;
      } else if (!madeKey) this.heldControl++;
      this.held.push({ o, keyTurn: madeKey });
    }
    while (this.heldControl > MAX_HELD) {
      const oldest = this.held.findIndex((h) => !h.keyTurn && !isData(h.o.t));
      if (oldest < 0) break;
      this.held.splice(oldest, 1);
      this.heldControl--;
      this.dropped++;
    }
  }

  /** A write succeeded: everything held goes out, in order. */
  flush(): void {
    const held = this.held;
    this.clear();
    for (const h of held) this.send(h.o);
  }

  /** The runtime stops: what is held is lost with it (never sent after a stop). */
  clear(): void {
    this.pending = false;
    this.held = [];
    this.heldControl = 0;
    this.heldDataBytes = 0;
  }
}
