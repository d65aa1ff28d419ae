/**
 * @module peer/key-panel
 * What a peer answers to `keys.table` (docs/ui.md, "Key panel"): the engine's key
 * table view, the inputs the engine refused, and the libp2p peer ID of every member
 * key the answer names — the peer converts, so a client never re-implements base58.
 *
 * Rejections (the engine's typed `rejected` events, issue 14 §7 "watch it refuse")
 * are kept as aggregates per (reason, sender): a flood of refused inputs from one
 * sender is one entry with a count, never a flood of entries. Each is marked
 * `expected` when the input was only late, repeated or early (`expectedRefusal`):
 * an honest group's joins make such refusals at every member, and the panel shows
 * them apart from attempts at what a sender may not do.
 *
 * The log is the engine's, with the peer's own entries merged in by time
 * (reconciliation's gaps found and closed, catch-up.ts).
 *
 * Invariants:
 * - At most MAX_REJECTION_KINDS aggregates are kept; a new (reason, sender) pair
 *   beyond that evicts the one heard from least recently, an out-of-date or repeated
 *   one first: late and repeated inputs never push out a forgery's line. Memory per
 *   group is bounded whatever a sender does (issue 14 §4: bounded per-sender state).
 * - Only what the refusal's reason and the roster now say marks it expected: a
 *   sender that is no current member never gets `before-admission`.
 * - A detail is cut to MAX_DETAIL characters: it comes from remote input.
 * - Nothing here feeds back into the engine: it is a view, and it is not persisted.
 */
import type { ExpectedRefusal, KeysTable, Rejection } from '../api/contract.js';
import type { EngineEvent, KeyTableView, MemberKey } from '../core/types.js';

export const MAX_REJECTION_KINDS = 32;
const MAX_DETAIL = 160;

type RejectedEvent = Extract<EngineEvent, { type: 'rejected' }>;

/**
 * Whether a refusal is one an honest group makes too (docs/ui.md "Live log"): `stale` (under a
 * key revision not held here, or for a step this member is past: a newcomer refuses what was
 * sealed before its join's revision step), `replay` (a copy already taken, an announcement not
 * newer than the last), or `not-member` from a sender that is a current member now (its
 * messages came before its admission did). Each changed nothing either way. Every other reason
 * is an attempt at what the sender may not do, or bytes no member makes: undefined.
 */
export function expectedRefusal(r: Pick<Rejection, 'reason' | 'from'>, isCurrentMember: (key: MemberKey) => boolean): ExpectedRefusal | undefined {
  if (r.reason === 'stale') return 'out-of-date';
  if (r.reason === 'replay') return 'repeat';
  if (r.reason === 'not-member' && isCurrentMember(r.from)) return 'before-admission';
  return undefined;
}

export class RejectionLog {
  /** Keyed by `${reason} ${from}`; Map order is least recently heard first. */
  private readonly byKind = new Map<string, Rejection>();

  note(ev: RejectedEvent): void {
    const id = `${ev.reason} ${ev.from}`;
    const detail = ev.detail.slice(0, MAX_DETAIL);
    const known = this.byKind.get(id);
    this.byKind.delete(id);
    if (known) {
      this.byKind.set(id, { ...known, count: known.count + 1, lastAt: Math.max(known.lastAt, ev.at), detail });
      return;
    }
    if (this.byKind.size >= MAX_REJECTION_KINDS) {
      const lateOrRepeated = [...this.byKind.entries()].find(([, r]) => expectedRefusal(r, () => false) !== undefined);
      this.byKind.delete(lateOrRepeated ? lateOrRepeated[0] : this.byKind.keys().next().value!);
    }
    this.byKind.set(id, { reason: ev.reason, from: ev.from, count: 1, firstAt: ev.at, lastAt: ev.at, detail });
  }

  /** Every aggregate, most recently heard first, marked `expected` as the roster now says. */
  list(isCurrentMember: (key: MemberKey) => boolean = () => false): Rejection[] {
    return [...this.byKind.values()].reverse().map((r) => {
      const expected = expectedRefusal(r, isCurrentMember);
      return expected ? { ...r, expected } : r;
    });
  }
}

/** The `keys.table` result: the engine's view, the rejections, and a peer ID for every key named. */
export function keysTableResult(view: KeyTableView, rejections: Rejection[], peerIdOf: (key: MemberKey) => string, extraLog: KeysTable['log'] = []): KeysTable {
  const keys = new Set<MemberKey>([view.self, ...view.blocklist, ...rejections.map((r) => r.from)]);
  for (const entry of view.tek ? [view.tek, ...view.slots] : view.slots) {
    if (entry.owner) keys.add(entry.owner);
    for (const k of entry.creators) keys.add(k);
    for (const k of entry.basedOn?.creators ?? []) keys.add(k);
    const origin = entry.origin;
    if (origin?.kind === 'single') keys.add(origin.creator);
    else if (origin?.kind === 'panel') for (const k of origin.members) keys.add(k);
    else if (origin?.kind === 'merge') for (const k of origin.creators) keys.add(k);
  }
  const peerIds: Record<string, string> = {};
  for (const key of keys) peerIds[key] = peerIdOf(key);
  const log = extraLog.length === 0 ? view.log : [...view.log, ...extraLog].sort((x, y) => x.at - y.at);
  return { ...view, log, rejections, peerIds };
}
