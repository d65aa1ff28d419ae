/**
 * @module core/engine/admin-races
 * Under the `admins` policy: which blocks rest on an admin that the remaining admins
 * excluded at the same moment, and dropping them (docs/protocol.md §8.2, "Concurrent
 * exclusions of an admin").
 *
 * Two admins that exclude each other at once (or each the previous one's target) split the
 * members: a member that took y's table first blocks x on y's word, then takes the other
 * admin's table that excludes y and refuses y's tables from then on (T1: an excluded member
 * authors nothing). The remaining admins took the other table first, refuse y's for good,
 * and never block x. Under `any-member` the first camp reseals and its blocklist spreads
 * (§8.2, contested TEKs); under `admins` a camp of non-admins may not reseal, its TEK never
 * covers x, and it held its outgoing data for good. So a block is dropped when the group's
 * remaining authority has decided against it: every member whose table named it (its
 * supporters) is excluded by a current admin's table that does not name it (made without
 * knowing of, or refusing, that supporter's exclusion of it).
 *
 * Invariants: only under `admins`; only members blocked while members (never leavers, never
 * this member: an excluded member erased its secrets); a supporter is an excluder whose table's
 * exclusion of the member this engine took (its targets; its whole blocklist when trusted,
 * applyBlocklist); a supporter whose own exclusion named the member (a table made after its
 * exclusion of it) stays one for good, so a block made before its author's exclusion stands.
 * Supporters persist with the roster entry (`blockedBy`), at most MAX_SUPPORTERS.
 * Seeds: 003 [0072]–[0075] (who excludes, the blocklist changes with the key).
 */
import type { MemberKey } from '../types.js';
import type { TableHeader } from '../wire.js';
import { addLog, emit, setRoster, short, type EngineCore } from './context.js';

/** Supporters kept per blocked member; a block with this many is never dropped. */
const MAX_SUPPORTERS = 16;

/** Records `h.excluder` as a supporter of every blocked member its table names (taken by applyBlocklist). */
export function noteSupporters(core: EngineCore, h: TableHeader, trusted: boolean): void {
  note(core, h.excluder, h.targets);
  if (trusted) note(core, h.excluder, h.blocklist);
}

function note(core: EngineCore, excluder: MemberKey, named: readonly MemberKey[]): void {
  for (const x of named) {
    const r = core.s.roster[x];
    if (r?.state !== 'excluded' || x === excluder) continue;
    const by = r.blockedBy ?? [];
    if (by.length >= MAX_SUPPORTERS || by.includes(excluder)) continue;
    setRoster(core, x, { ...r, blockedBy: [...by, excluder] });
  }
}

/**
 * `newly` were just blocked by `h`, a current admin's table: each of them stops supporting the
 * blocks `h` does not name, and a block left with no supporter is dropped.
 */
export function dropVoidBlocks(core: EngineCore, h: TableHeader, newly: readonly MemberKey[], now: number): void {
  let named: Set<MemberKey> | null = null;
  const dropped: MemberKey[] = [];
  for (const y of newly) {
    if (core.s.roster[y]?.state !== 'excluded') continue; // a leaver's exclusions stand
    for (const x of core.s.blocklist) {
      const r = core.s.roster[x];
      if (x === core.self || r?.state !== 'excluded' || !r.blockedBy?.includes(y)) continue;
      named ??= new Set([...h.targets, ...h.blocklist]);
      if (named.has(x)) continue;
      const by = r.blockedBy.filter((k) => k !== y);
      setRoster(core, x, { ...r, blockedBy: by });
      if (by.length === 0) dropped.push(x);
    }
  }
  if (dropped.length > 0) reinstate(core, dropped, h.excluder, now);
}

function reinstate(core: EngineCore, members: readonly MemberKey[], by: MemberKey, now: number): void {
  const drop = new Set(members);
  // A new array: blockedSet's cache is keyed on the array and its length.
  core.s.blocklist = core.s.blocklist.filter((b) => !drop.has(b));
  core.blockedTags = null;
  for (const x of members) {
    const { blockedAtVersion: _v, blockedBy: _b, ...rest } = core.s.roster[x]!;
    setRoster(core, x, { ...rest, state: 'member' });
    core.excludedMembers.delete(x);
    core.stillSending.delete(x);
    core.reExcluded.delete(x);
    core.toldExcluded.delete(x);
    core.contested.delete(x);
  }
  emit(core, { type: 'member-reinstated', members: [...members], by, at: now });
  addLog(core, now, 'merge', `${members.map(short).join(', ')} no longer excluded: ${short(by)}, an admin, excluded every admin that excluded them, at the same moment`);
}
