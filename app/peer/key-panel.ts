/**
 * @module peer/key-panel
 * What a peer answers to `keys.table` (docs/ui.md, "Key panel"): the engine's key
 * table view, the inputs the engine refused, and the libp2p peer ID of every member
 * key the answer names — the peer converts, so a client never re-implements base58.
 *
 * Rejections (the engine's typed `rejected` events, issue 14 §7 "watch it refuse")
 * are kept as aggregates per (reason, sender): a flood of refused inputs from one
 * sender is one entry with a count, never a flood of entries.
 *
 * The log is the engine's, with the peer's own entries merged in by time
 * (reconciliation's gaps found and closed, catch-up.ts).
 *
 * Invariants:
 * - At most MAX_REJECTION_KINDS aggregates are kept; a new (reason, sender) pair
 *   beyond that evicts the one heard from least recently. Memory per group is
 *   bounded whatever a sender does (issue 14 §4: bounded per-sender state).
 * - A detail is cut to MAX_DETAIL characters: it comes from remote input.
 * - Nothing here feeds back into the engine: it is a view, and it is not persisted.
 */
import type { KeysTable, Rejection } from '../api/contract.js';
import type { EngineEvent, KeyTableView, MemberKey } from '../core/types.js';

export const MAX_REJECTION_KINDS = 32;
const MAX_DETAIL = 160;

type RejectedEvent = Extract<EngineEvent, { type: 'rejected' }>;

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
    if (this.byKind.size >= MAX_REJECTION_KINDS) this.byKind.delete(this.byKind.keys().next().value!);
    this.byKind.set(id, { reason: ev.reason, from: ev.from, count: 1, firstAt: ev.at, lastAt: ev.at, detail });
  }

  /** Every aggregate, most recently heard first. */
  list(): Rejection[] {
    return [...this.byKind.values()].reverse();
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
