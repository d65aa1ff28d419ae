/**
 * @module core/engine/table-apply
 * Where the TEK is replaced: a readable table on our current TEK installs TEK' and
 * derives the replacement KEKs; a sibling table (same base, same new version, made
 * concurrently) is resolved by the lower excluder key, undoing the loser; a TEK that
 * does not cover the whole blocklist schedules a reseal.
 *
 * Invariants: exactly one TEK is current; the loser of a sibling race stays readable
 * for the grace window but is never sent under; replacement KEKs are
 * HKDF(old KEK at the named revision ‖ TEK', table ID). Seeds: 003 [0073], [0083].
 * docs/protocol.md §7.1, §8.2.
 */
import { keepReadable, recordTek, retireTek, retryPendingData } from './tek-records.js';
import { RESEAL_WINDOW_MS, addLog, canExclude, cmpKey, heldKey, isTekCreator, keyChanged, pidOf, randomBelow, rosterInKeyOrder, scheduleFetch, short, shortFetchDelay, tableCreators, tableThatMade, tekCoversBlocklist, wins, type EngineCore, type TableState } from './context.js';
import { flushHeldOutgoing } from './data.js';
import { type KeyOrigin, type MemberKey } from '../types.js';
import { TEK_SLOT, slotsOf } from '../params.js';
import { advanceRevision, replaceKey } from '../keys.js';
import { type TableHeader } from '../wire.js';
import { unicastHeader } from './tables.js';
import { sameCreators, sortedKeys, type HeldKey } from '../state.js';
import { claimedOwner, omittedBaseExclusion } from './authorization.js';

export function applyTable(core: EngineCore, t: TableState, now: number): void {
  if (t.applied || !t.tekPrime) return;
  // T1 holds at every install, not only on arrival: a table whose excluder is blocked since
  // (read before, or delivered again by anyone) never becomes our TEK (review 5).
  if (core.s.blocklist.includes(t.header.excluder)) return;
  // Nor one that omits an exclusion its base covers, taken before that base was ours (review 7).
  if (omittedBaseExclusion(core, t.header) !== null) return;
  const tek = core.s.tek!;
  const h = t.header;
  const baseTag = sortedKeys(h.base.creators);
  const newCreators = tableCreators(h);
  if (tek.version === h.base.version && sameCreators(tek.creators, baseTag)) {
    installTableTek(core, t, newCreators, now);
    return;
  }
  if (tek.version === h.newVersion && sameCreators(tek.creators, newCreators)) {
    // The table that made the TEK this member already holds (granted or fetched before it read the
    // table): the TEK was made against its blocklist. A joiner granted it took the coverage of its
    // previous TEK, and once it learnt the exclusion it held every message it sent until the next
    // TEK change (random interleavings: a join through a member that took the table just after).
    if (!sameMembers(tek.coverage ?? [], h.blocklist)) {
      tek.coverage = [...h.blocklist];
      flushHeldOutgoing(core, now);
    }
    return;
  }
  if (tek.version === h.newVersion && !sameCreators(tek.creators, newCreators)) {
    // A sibling: another table made the same version from the same base concurrently (003 [0083]).
    const sibling = [...core.tables.values()].find((o) => o.applied && o.header.newVersion === h.newVersion && o !== t);
    // Under `admins`, a member that may not reseal drops a current TEK whose excluder it has
    // blocked since for a sibling from a member it has not: nothing else would replace it (§8.2,
    // "Concurrent exclusions of an admin"; two admins excluding each other left 4 of 15 members
    // on the TEK of the one the rest had excluded).
    const blockedSibling = sibling !== undefined && !canExclude(core) && core.s.blocklist.includes(sibling.header.excluder);
    if (sibling && sibling.undo && sameCreators(sortedKeys(sibling.header.base.creators), baseTag) && (cmpKey(h.excluder, sibling.header.excluder) < 0 || blockedSibling)) {
      // Rule: the table whose excluder has the lower key wins; the other is undone (docs/protocol.md "Concurrent tables").
      const loser = core.s.tek!;
      undoTable(core, sibling, now);
      installTableTek(core, t, newCreators, now);
      keepReadable(core, loser, now);
      // Ours may have lost earlier, to the sibling this one now beats: its creator was told, not this one.
      handOurLosingTable(core, [...core.tables.values()].find((o) => o.header.excluder === core.self && o.header.newVersion === h.newVersion && o !== t && sameCreators(sortedKeys(o.header.base.creators), baseTag)), t);
      addLog(core, now, 'merge', `concurrent TEK v${h.newVersion}: kept ${short(h.excluder)}'s table over ${short(sibling.header.excluder)}'s`);
      scheduleReseal(core, now);
    } else if (sibling) {
      addLog(core, now, 'merge', `concurrent TEK v${h.newVersion}: kept ${short(sibling.header.excluder)}'s table over ${short(h.excluder)}'s`);
      keepReadable(core, { slot: TEK_SLOT, version: h.newVersion, creators: newCreators, revision: 0, key: t.tekPrime!, basedOn: null, origin: { kind: 'single', creator: h.excluder }, owner: h.excluder }, now);
      // A winning sibling on another base (a double race, §8.2) cannot replace ours from here
      // (its KEKs derive from a base we never held): fetch it now rather than after a heartbeat,
      // and if the table we keep is our own, hand it to the winner's creator, who reseals.
      if (wins(core, { version: h.newVersion, creators: newCreators }, tek)) {
        scheduleFetch(core, TEK_SLOT, h.newVersion, newCreators, h.excluder, now, shortFetchDelay(core));
        handOurLosingTable(core, sibling, t);
      }
      scheduleReseal(core, now);
    }
    return;
  }
  if (tek.version + 1 >= h.base.version && jumpOverUnreadBase(core, t, now)) return;
  if (tek.version === h.base.version && wins(core, { version: h.base.version, creators: baseTag }, tek)) {
    // A double race (§8.2): our TEK is a sibling of this table's base that loses to it, so the
    // table, one version past ours, cannot be taken from here, and nothing else brings its TEK
    // before a heartbeat under it, seconds later (four exclusions 20 ms apart in 64 members:
    // 2.8–3.2 s on two seeds of ten): fetch it. Not when our TEK wins: a table on a losing
    // base may come from an excluder others have excluded (chained exclusions), and adopting
    // it split the group for good (review 14).
    scheduleFetch(core, TEK_SLOT, h.newVersion, newCreators, h.excluder, now, shortFetchDelay(core));
  }
  if (tek.version < h.base.version) {
    // We missed an earlier change, or its table is still on its way (a reseal can overtake
    // the completions of the table it builds on): give it half a heartbeat, then fetch.
    scheduleFetch(core, TEK_SLOT, h.newVersion, newCreators, h.excluder, now, shortFetchDelay(core));
  }
}

/**
 * A table one step past a base we cannot read yet (a reseal that overtook the completions
 * of the winner it builds on, §8.2), whose targets include the base's (so it replaces every
 * KEK the base did): we take it at once, skipping its base, instead of fetching the base.
 * Allowed from the TEK the base replaced, or from a sibling of the base that loses to it
 * (undone first). The base's replacement KEKs named at a version we lack are fetched from
 * their owners (deriveReplacements).
 */
function jumpOverUnreadBase(core: EngineCore, t: TableState, now: number): boolean {
  const tek = core.s.tek!;
  const made = (o: TableState) => tableCreators(o.header);
  const baseTable = tableThatMade(core, t.header.base.version, t.header.base.creators);
  if (!baseTable || baseTable.applied || !baseTable.header.targets.every((x) => t.header.targets.includes(x))) return false;
  const bb = baseTable.header.base;
  const onBaseOfBase = tek.version === bb.version && sameCreators(tek.creators, sortedKeys(bb.creators));
  const ours = [...core.tables.values()].find((o) => o.applied && o.undo && o.header.newVersion === tek.version && sameCreators(tek.creators, made(o)));
  const losingSibling = ours !== undefined && tek.version === baseTable.header.newVersion && ours.header.base.version === bb.version && sameCreators(sortedKeys(ours.header.base.creators), sortedKeys(bb.creators)) && cmpKey(baseTable.header.excluder, ours.header.excluder) < 0;
  if (!onBaseOfBase && !losingSibling) return false;
  const from = core.s.tek!;
  if (losingSibling) {
    undoTable(core, ours, now);
    keepReadable(core, from, now);
  }
  installTableTek(core, t, made(t), now);
  if (losingSibling) handOurLosingTable(core, ours, t);
  addLog(core, now, 'merge', `TEK v${t.header.newVersion} by ${short(t.header.excluder)} taken from v${from.version}, over ${short(baseTable.header.excluder)}'s unread v${baseTable.header.newVersion}`);
  // A reseal made before a sibling reached its maker may miss that sibling's targets: as after
  // any resolved race, this member reseals after the back-off if nobody else does (§8.2).
  scheduleReseal(core, now);
  return true;
}

/**
 * Our own table just lost a race to `winner` (§8.2). The winner's creator reseals over every
 * sibling it knows of, but it learns of ours only from messages sealed under our TEK, and
 * those stop as soon as the members around us move to the winner: after a partition heal it
 * often never heard of ours, resealed without our targets, and 2–4 heartbeats later several
 * members resealed at once. So the excluder of a losing table hands it to the creators of
 * each TEK that beats it here (the first winner may lose in turn): its signed header alone,
 * which names the targets (a unicast table from a current member, T1; entries would be
 * refused, §8.5: only their authors send them, and the winner needs none to reseal).
 */
function handOurLosingTable(core: EngineCore, ours: TableState | undefined, winner: TableState): void {
  if (!ours || ours.header.excluder !== core.self) return;
  if (ours.header.targets.every((m) => winner.header.blocklist.includes(m))) return;
  const creators = winner.header.panel ? winner.header.panel.members : [winner.header.excluder];
  for (const c of creators) if (c !== core.self) unicastHeader(core, c, ours);
}

function sameMembers(a: readonly MemberKey[], b: readonly MemberKey[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export function installTableTek(core: EngineCore, t: TableState, creators: MemberKey[], now: number): void {
  const h = t.header;
  const old = core.s.tek!;
  t.undo = { tek: { ...old }, keks: core.s.keks.map((k) => ({ ...k })) };
  retireTek(core, now);
  const origin: KeyOrigin = h.panel ? { kind: 'panel', round: h.panel.round, members: creators } : { kind: 'single', creator: h.excluder };
  core.s.tek = {
    slot: TEK_SLOT,
    version: h.newVersion,
    creators,
    revision: 0,
    key: t.tekPrime!,
    basedOn: { version: old.version, revision: old.revision, creators: old.creators },
    origin,
    owner: claimedOwner(core, TEK_SLOT, h.excluder),
    coverage: [...h.blocklist],
  };
  recordTek(core, core.s.tek, now);
  core.s.slotDir[String(TEK_SLOT)] = { version: h.newVersion, revision: 0, creators, owner: claimedOwner(core, TEK_SLOT, h.excluder) };
  core.heardAt.set(TEK_SLOT, now);
  t.applied = true;
  if (h.kind === 'refresh' || h.excluder === core.self) {
    core.s.lastVersionRefreshAt = now;
    core.s.lastRevisionRefreshAt = now;
  }
  keyChanged(core, TEK_SLOT, h.kind === 'exclude' ? 'exclusion' : 'refresh', now);
  deriveReplacements(core, t, now);
  if (h.panel) {
    addLog(core, now, 'panel-round', `TEK v${h.newVersion} from panel round ${h.panel.round}`);
    core.panel?.consumed(h.panel.round, h.panel.members, now);
  }
  retryPendingData(core, now);
  flushHeldOutgoing(core, now);
  // A TEK that does not exclude everyone this member blocked (a table whose blocklist omits
  // some, e.g. planted by a member on the TEK that excluded them) holds our data until a
  // reseal: schedule it here, on every install path, so the hold is bounded (review 6).
  scheduleReseal(core, now);
}

/**
 * 003 [0073]: every KEK a target knew is replaced. The replacement is derived, not sent:
 * HKDF(old KEK at the header's revision ‖ TEK', table ID), computable exactly by the
 * members that hold the old KEK and can read TEK' (deviation: the seed seals a fresh
 * KEK under the same two keys, which protects it no better and costs an entry per slot
 * and completer). A holder that cannot step to the named revision fetches the new version.
 */
export function deriveReplacements(core: EngineCore, t: TableState, now: number): void {
  const h = t.header;
  const mine = new Set(slotsOf(core.selfId, core.s.params.V));
  for (const r of h.replaced) {
    if (!mine.has(r.slot)) continue;
    const k = heldKey(core, r.slot);
    const owner = replacementOwner(core, r.slot, h, k?.owner ?? core.s.slotDir[String(r.slot)]?.owner ?? null);
    if (k && k.version === r.version && k.revision <= r.revision) {
      const old = advanceRevision(core.crypto, k.key, k.revision, r.revision);
      core.retiredKeks.push({ key: { ...k }, at: now });
      const held: HeldKey = {
        slot: r.slot,
        version: r.version + 1,
        creators: [h.excluder],
        revision: 0,
        key: replaceKey(core.crypto, old, t.tekPrime!, t.id),
        basedOn: { version: r.version, revision: r.revision, creators: k.creators },
        origin: { kind: 'single', creator: h.excluder },
        owner,
      };
      core.s.keks = core.s.keks.filter((x) => x.slot !== r.slot);
      core.s.keks.push(held);
      core.s.slotDir[String(r.slot)] = { version: held.version, revision: 0, creators: [h.excluder], owner };
      core.heardAt.set(r.slot, now);
      keyChanged(core, r.slot, `replaced by the table of TEK v${h.newVersion}`, now);
    } else if (!k || k.version <= r.version) {
      if (owner && owner !== core.self) scheduleFetch(core, r.slot, r.version + 1, [h.excluder], owner, now, core.s.params.fetchAfterMs);
    }
  }
}

/**
 * Owner of a derived replacement: the excluder if it holds the slot (003 [0073]);
 * else the old version's owner if it stays; else the lowest-keyed member holding it.
 */
export function replacementOwner(core: EngineCore, slot: number, h: TableHeader, previous: MemberKey | null): MemberKey | null {
  const V = core.s.params.V;
  const symbol = Math.floor((slot - 1) / V);
  const value = (slot - 1) % V;
  if (pidOf(core, h.excluder)[symbol] === value) return h.excluder;
  if (previous !== null && core.s.roster[previous]?.state === 'member' && !h.blocklist.includes(previous)) return previous;
  for (const key of rosterInKeyOrder(core)) {
    if (core.s.roster[key]?.state === 'member' && pidOf(core, key)[symbol] === value && !h.blocklist.includes(key)) return key;
  }
  return null;
}

export function undoTable(core: EngineCore, t: TableState, now: number): void {
  if (!t.undo) return;
  const tekRecs = core.s.tekRecords.filter((r) => !(r.version === core.s.tek!.version && sameCreators(r.creators, core.s.tek!.creators)));
  core.s.tekRecords = tekRecs;
  core.s.tek = t.undo.tek;
  const rec = core.s.tekRecords.find((r) => r.version === core.s.tek!.version && sameCreators(r.creators, core.s.tek!.creators));
  if (rec) rec.retiredAt = null;
  core.s.keks = t.undo.keks;
  t.applied = false;
  t.undo = null;
  t.completeAt = null;
  keyChanged(core, TEK_SLOT, 'concurrent table lost', now);
}

/** True when this table can no longer become our TEK: our TEK is newer, or a winning sibling exists. */
export function tableIsMoot(core: EngineCore, t: TableState): boolean {
  const tek = core.s.tek;
  if (!tek) return false;
  if (tek.version > t.header.newVersion) return true;
  for (const o of core.tables.values()) {
    if (o === t || o.header.newVersion !== t.header.newVersion) continue;
    if (!sameCreators(sortedKeys(o.header.base.creators), sortedKeys(t.header.base.creators))) continue;
    if (cmpKey(o.header.excluder, t.header.excluder) < 0) return true;
  }
  return false;
}

export function tableWillResolve(core: EngineCore, slot: number, version: number, creators: MemberKey[]): boolean {
  if (slot !== TEK_SLOT) return [...core.tables.values()].some((t) => !t.applied && t.header.replaced.some((r) => r.slot === slot));
  return [...core.tables.values()].some((t) => t.header.newVersion === version && sameCreators(t.header.panel ? sortedKeys(t.header.panel.members) : [t.header.excluder], creators) && t.fetchAt !== null);
}

/**
 * The creator of the current TEK, if no known sibling beats it, reseals after a short
 * window (RESEAL_WINDOW_MS: one expected delivery delay of a table) from the first
 * sibling's arrival, in which the other concurrent tables reach it, so that one reseal
 * covers them all; every other member only after 2–4 heartbeats, in case the creator is
 * gone. docs/protocol.md §8.2. (Counting the window from the creator's own publication
 * instead was faster for exactly simultaneous exclusions but resealed too early for ones a
 * few milliseconds apart, whose siblings arrive up to two deliveries after ours: review 13.)
 */
export function scheduleReseal(core: EngineCore, now: number): void {
  if (tekCoversBlocklist(core)) return;
  const hb = core.s.params.heartbeatMs;
  const pending = core.timers.get('reseal');
  const first = createsWinningTek(core);
  // A back-off set while someone else's TEK was current gives way when this member has since
  // made the current TEK itself (an exclusion of its own after a race: §8.2 "Races in a row").
  const early = now + Math.max(1, Math.min(RESEAL_WINDOW_MS, Math.floor(hb / 10)));
  // Drawn only when used: the RNG's sequence is part of every recorded simulation.
  const deadline = () => (first ? early : now + 2 * hb + randomBelow(core, 2 * hb));
  let at: number | null = null;
  if (pending !== null && !(first && !core.resealEarly && early < pending)) {
    // A pending timer set by a contested TEK alone (4–6 heartbeats, rekey-triggers.ts) gives way to an earlier ordinary one (review 16).
    if (!core.resealContestedOnly) return;
    at = deadline();
    if (at >= pending) return;
  }
  core.timers.set('reseal', at ?? deadline());
  core.resealEarly = first;
  core.resealContestedOnly = false;
}

/** The table by which this member made the current TEK, if it did so by an exclusion of its own. */
function ourCurrentTable(core: EngineCore): TableState | undefined {
  const tek = core.s.tek;
  if (!tek) return undefined;
  return [...core.tables.values()].find((t) => t.applied && t.header.newVersion === tek.version && t.header.excluder === core.self);
}

/**
 * This member made the current TEK and no known sibling table beats it (§8.2: the lower
 * excluder wins), on our base or on another (races in a row: two creators on different
 * bases each resealed, each over the exclusions it knew). A sibling is known from its
 * signed header alone, before its TEK' is readable here, so a creator whose table is about
 * to lose does not reseal on top of it.
 */
export function createsWinningTek(core: EngineCore): boolean {
  if (!isTekCreator(core)) return false;
  const ours = ourCurrentTable(core);
  if (!ours) return true;
  if (tableIsMoot(core, ours)) return false;
  // A sibling on another base that the same rule ranks first: its creator reseals (§8.2 "Races in a row").
  const made = (o: TableState) => tableCreators(o.header);
  const v = ours.header.newVersion;
  return ![...core.tables.values()].some((o) => o !== ours && o.header.newVersion === v && wins(core, { version: v, creators: made(o) }, { version: v, creators: made(ours) }));
}
