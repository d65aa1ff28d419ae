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
 * - Nothing from a sender in no roster of the group is marked expected, whatever
 *   its reason (review 35: an outsider's packets under an old revision read grey).
 * - `before-admission` only for refusals that all came within ADMISSION_NEWS_MS after
 *   the sender's admission (less ADMISSION_SKEW_MS of clock skew): not a stranger's
 *   probing before it was invited, nor a departed member's later input (review 35).
 * - A detail is cut to MAX_DETAIL characters: it comes from remote input.
 * - Nothing here feeds back into the engine: it is a view, and it is not persisted.
 */
import type { ExpectedRefusal, KeysTable, Rejection } from '../api/contract.js';
import type { EngineEvent, KeyTableView, MemberKey } from '../core/types.js';

export const MAX_REJECTION_KINDS = 32;
const MAX_DETAIL = 160;

type RejectedEvent = Extract<EngineEvent, { type: 'rejected' }>;

/** What the panel needs of the roster: a key's state and admission time, null for a key in no roster. */
export type RosterLookup = (key: MemberKey) => { state: 'member' | 'left' | 'excluded'; admittedAt: number | null } | null;

/** The roster lookup of an engine (its `rosterState` and `rosterAdmittedAt`). */
export function rosterLookupOf(engine: { rosterState(key: MemberKey): 'member' | 'left' | 'excluded' | null; rosterAdmittedAt(key: MemberKey): number | null }): RosterLookup {
  return (key) => {
    const state = engine.rosterState(key);
    return state === null ? null : { state, admittedAt: engine.rosterAdmittedAt(key) };
  };
}

/** How long after a member's admission its first messages may reach a member before the admission does. */
export const ADMISSION_NEWS_MS = 5 * 60_000;
/**
 * How far before its admission (the admitter's clock against ours) a refusal may come and still
 * count as early news: clocks a second apart. A larger skew makes an honest race read red (a false
 * alarm); a larger bound would let a stranger's probes shortly before its invite read grey (review 35).
 */
export const ADMISSION_SKEW_MS = 1000;

/**
 * Whether a refusal is one an honest group makes too (docs/ui.md "Live log"), from a sender the
 * roster knows: `stale` (under a key revision not held here, or for a step this member is past:
 * a newcomer refuses what was sealed before its join's revision step), `replay` (a copy already
 * taken, an announcement not newer than the last), or `not-member` in the minutes after the
 * sender's admission (its messages came before its admission did). Each changed nothing either
 * way. A sender in no roster, and every other reason, is an attempt at what the sender may not
 * do or bytes no member makes: undefined.
 */
export function expectedRefusal(r: Pick<Rejection, 'reason' | 'from' | 'firstAt' | 'lastAt'>, roster: RosterLookup): ExpectedRefusal | undefined {
  const known = roster(r.from);
  if (!known) return undefined;
  if (r.reason === 'stale') return 'out-of-date';
  if (r.reason === 'replay') return 'repeat';
  const admitted = known.admittedAt;
  if (r.reason === 'not-member' && admitted !== null && r.firstAt >= admitted - ADMISSION_SKEW_MS && r.lastAt <= admitted + ADMISSION_NEWS_MS) return 'before-admission';
  return undefined;
}

export class RejectionLog {
  /** Keyed by `${reason} ${from}`; Map order is least recently heard first. */
  private readonly byKind = new Map<string, Rejection>();

  /** `roster`: the group's, as it is when asked (nobody known by default: nothing expected). */
  constructor(private readonly roster: RosterLookup = () => null) {}

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
      const expected = [...this.byKind.entries()].find(([, r]) => expectedRefusal(r, this.roster) !== undefined);
      this.byKind.delete(expected ? expected[0] : this.byKind.keys().next().value!);
    }
    this.byKind.set(id, { reason: ev.reason, from: ev.from, count: 1, firstAt: ev.at, lastAt: ev.at, detail });
  }

  /** Every aggregate, most recently heard first, marked `expected` as the roster now says. */
  list(): Rejection[] {
    return [...this.byKind.values()].reverse().map((r) => {
      const expected = expectedRefusal(r, this.roster);
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
