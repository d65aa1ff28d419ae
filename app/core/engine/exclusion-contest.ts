/**
 * @module core/engine/exclusion-contest
 * Under `admins`, a non-admin excluded by an admin whose own exclusion is racing (docs/protocol.md
 * §8.2 "An exclusion that falls with its excluder"; review 20's ghost).
 *
 * Admin x excludes member m while admin y excludes x. A member that took x's table first blocks
 * m on x's word and drops that block once y's table shows x excluded (admin-races.ts); the
 * members that took y's first never block m. m itself, taking x's table, used to erase its
 * secrets for good: every other member soon counted it as a member again, and it never learnt
 * so (a silent member until invited again). Now m keeps, in memory only, its state from just
 * before x's table (`ContestStart`, set by exclusion.ts applyBlocklist) in a *shadow*: a copy of
 * its engine core that hears the group's control traffic and publishes nothing. When the shadow
 * takes an admin's table that excludes x, at a version no older than x's table, and stays a
 * member itself, m is a member again: the shadow's core becomes its own, as after a restart.
 * Otherwise, DROP_AFTER_HEARTBEATS heartbeats after the exclusion, the shadow is erased.
 *
 * Invariants:
 * - Only a non-admin under `admins`, excluded by a trusted (admin's) table (exclusion.ts); admins
 *   never drop a block, so an excluded admin is not brought back this way.
 * - The shadow sends nothing and raises nothing: its transmits and events are dropped after
 *   every input; it is never ticked and has no panel hook (004). It takes no table of x's that
 *   names m (`contestedExcluder`: x's table, its completers' copies, x's reseals all carry x's
 *   word alone), and once it holds x excluded, no table of x's at all (T1). Another admin's
 *   table that names m excludes the shadow too: that admin's word stands at every member.
 * - It hears control and unicast input only (never data): what can exclude x.
 * - Its secrets are erased when the contest ends either way; they are never persisted (a
 *   restart during the contest ends it: the member stays excluded, as before this module).
 * - Nothing here widens what a member may do: the shadow judges every input by the same gate,
 *   and what brings m back is a signed table of a current admin that excludes x and keeps m,
 *   which the other non-admins obey too (admin-races.ts).
 * Seeds: 003 [0072]–[0075] (who excludes; the blocklist changes with the key).
 */
import type { MemberKey } from '../types.js';
import { decodeState } from '../state.js';
import { EngineCore, eraseSecrets, type ContestStart, type EngineDeps, type Identity } from './context.js';
import { DROP_AFTER_HEARTBEATS } from './admin-races.js';
import { receive, type Channel } from './gate.js';

export class ExclusionContest {
  private readonly shadow: EngineCore;
  readonly excluder: MemberKey;
  /** When the shadow is erased if nothing voided the exclusion. */
  readonly until: number;
  private readonly version: number;

  constructor(deps: EngineDeps, identity: Identity, start: ContestStart, heartbeatMs: number) {
    // No panel hook (004): the shadow takes part in nothing; the member gets it back when it resumes.
    this.shadow = new EngineCore({ ...deps, panel: undefined }, identity, decodeState(start.pre));
    this.shadow.contestedExcluder = start.excluder;
    this.excluder = start.excluder;
    this.version = start.version;
    this.until = start.at + DROP_AFTER_HEARTBEATS * heartbeatMs;
  }

  /**
   * One control or unicast input to the shadow. Returns the admin whose table excluded the
   * excluder when that voids this member's exclusion (the shadow is then the member's state),
   * else null.
   */
  feed(from: MemberKey, channel: Channel, bytes: Uint8Array, now: number): MemberKey | null {
    if (channel === 'data') return null;
    const sh = this.shadow;
    try {
      receive(sh, from, channel, bytes, now);
    } catch {
      // The gate turns bad input into a rejection; nothing the shadow hears may end the contest early.
    }
    sh.outbox = [];
    sh.events = [];
    if (sh.s.state !== 'member' || sh.s.blocklist.includes(sh.self)) return null;
    const x = sh.s.roster[this.excluder];
    if (x?.state !== 'excluded' || !sh.s.blocklist.includes(this.excluder)) return null;
    if (x.blockedAtVersion === undefined || x.blockedAtVersion < this.version) return null;
    return x.excludedBy ?? null;
  }

  /** The shadow's core, to resume as this member (its tables in flight with it); the contest is over. */
  take(): EngineCore {
    return this.shadow;
  }

  /** The contest ended without voiding the exclusion: the shadow's secrets are erased. */
  end(): void {
    eraseSecrets(this.shadow);
  }
}
