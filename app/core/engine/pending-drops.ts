/**
 * @module core/engine/pending-drops
 * The in-memory side of the wait before a groundless block is dropped under `admins`
 * (admin-races.ts; docs/protocol.md §8.2 "Concurrent exclusions of an admin"): which blocked
 * members wait (an index of the roster's persisted `dropAt`), when this member last beat (a gap
 * restarts every wait), and the data packets kept from waiting members.
 *
 * Invariants: `members` holds exactly the blocked members whose roster entry has `dropAt`
 * once `loaded`; `kept` only holds packets from members in `members`, bounded by admin-races.ts.
 */
import type { MemberKey } from '../types.js';
import type { MsgType, Message } from '../wire.js';

export class PendingDrops {
  /** Blocked members whose roster entry has `dropAt`. */
  readonly members = new Set<MemberKey>();
  /** `members` was rebuilt from the roster (once per engine: after a restart the wait goes on). */
  loaded = false;
  /** When settleTick last ran (null until it has: a restart restarts every wait). */
  lastSettleAt: number | null = null;
  /** Data packets from waiting members, read if their block is dropped. */
  /** `via`: the catch-up server that brought it (its share; null: live). */
  kept: { from: MemberKey; msg: Extract<Message, { type: typeof MsgType.Data }>; at: number; opens: boolean; via: MemberKey | null }[] = [];
}
