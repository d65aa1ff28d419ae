/**
 * @module peer/message-times
 * The earliest time a received chat or file message can have been sent, as this
 * member knows it (docs/protocol.md §13 "Message times"). Pure: group.ts gives
 * the roster's admission times and when the message arrived; history.ts lists the
 * message no earlier than this (`shownTime`) and marks a larger move (`claimedAt`).
 *
 * Invariants:
 * - Never later than the message's arrival: a floor moves a date moved back, never
 *   an honest one past when it came.
 * - An admission counts as no later than when this member took it in (`authorLearnedAt`),
 *   or than its own join for the members its own Admit listed: those admission
 *   times came from its admitter, and nothing signs them (review 34: a lying
 *   admitter dated an honest member's admission a year ahead, and every message of
 *   it was listed a year late, marked). Capped at its own join for all, a member
 *   admitted hours after it dated its first message, by reconciliation, to before
 *   its own admission, unmarked (review 40).
 * - The live bound only for a message that came published (`liveSince`: its
 *   arrival, whether opened at once or held until its key came), never for one
 *   brought by reconciliation, which may be as old as it says.
 */

/** A shown time later than the signed one by at most this is clock skew, not marked (`claimedAt`). */
export const CLOCK_SKEW_MS = 2 * 60_000;
/** How long after its signing a message published live may honestly arrive (a held reseal, a stalled path); older is a date moved back. */
export const LIVE_LATENESS_MS = 5 * 60_000;

/** When this member joined: its own clock's record, or its admission if its admitter dated that earlier. */
export function ownJoinTime(joinedAt: number, selfAdmittedAt: number | null): number {
  return selfAdmittedAt === null ? joinedAt : Math.min(selfAdmittedAt, joinedAt);
}

/**
 * The earliest time a message that arrived at `at` can have been sent: not before its author's
 * admission (`authorAdmittedAt`, null when the roster does not list it; no later than
 * `authorLearnedAt`, or `ownJoin` when null), and, when it came live (`liveSince`), not more
 * than LIVE_LATENESS_MS before it arrived; each less CLOCK_SKEW_MS.
 */
export function earliestSendTime(o: { at: number; authorAdmittedAt: number | null; authorLearnedAt: number | null; ownJoin: number; liveSince: number | null }): number {
  const admission = o.authorAdmittedAt === null ? -Infinity : Math.min(o.authorAdmittedAt, o.authorLearnedAt ?? o.ownJoin) - CLOCK_SKEW_MS;
  return Math.min(o.at, Math.max(admission, o.liveSince === null ? -Infinity : o.liveSince - LIVE_LATENESS_MS));
}

/** A file message dated after this member joined: a re-share (made for newcomers) does not bring it here. */
export function datedAfterJoin(at: number, ownJoin: number): boolean {
  return at > ownJoin + CLOCK_SKEW_MS;
}
