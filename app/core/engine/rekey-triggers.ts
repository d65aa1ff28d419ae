/**
 * @module core/engine/rekey-triggers
 * What starts a new table besides an explicit exclusion: a member's Leave (the TEK
 * holder excludes the leaver at once, others after a back-off), a reseal after
 * concurrent tables, and the periodic refreshes of revision and version (002 key
 * lifetimes). Seeds: 003 [0057], [0072]; 002. docs/protocol.md §7.5, §7.6, §8.2.
 */
import { publishControl } from './control-seal.js';
import { addLog, canExclude, currentTekId, emit, info, ownsTek, randomBelow, setRoster, short, tekCoversBlocklist, type EngineCore, type TableState } from './context.js';
import { startTable } from './exclusion.js';
import { isMember } from './authorization.js';
import { relayable, unicastHeader } from './tables.js';
import { creatorsTag } from '../keys.js';
import { toHex } from '../bytes.js';
import { createsWinningTek, scheduleReseal } from './table-apply.js';
import { stepHeld } from './revision.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { MsgType } from '../wire.js';
import { sortedKeys } from '../state.js';
import { fromHex } from '../bytes.js';
import { leaveBody } from './sealing.js';

export function onLeave(core: EngineCore, from: MemberKey, sentAt: number, signature: Uint8Array, now: number): void {
  const r = core.s.roster[from];
  ensure(r?.state === 'member', 'not-member', 'leave from a non-member');
  // L1: a Leave is fresh: sent after the member's (latest) admission and within the grace
  // window, so an old Leave replayed after gossip forgot it cannot remove a rejoined member.
  ensure(sentAt > r.admittedAt && Math.abs(now - sentAt) <= core.s.params.graceMs, 'replay', 'leave older than the member\'s admission or outside the grace window');
  ensure(core.crypto.ed25519Verify(fromHex(from), leaveBody(core, from, sentAt), signature), 'bad-signature', 'leave signature does not verify');
  setRoster(core, from, { ...r, state: 'left', leftAtVersion: core.s.tek?.version ?? 0, leaveProof: { sentAt, signature } });
  emit(core, { type: 'member-left', member: from, at: now });
  addLog(core, now, 'leave', `${r.name || short(from)} left`);
  if (core.s.state !== 'member') return;
  // A remaining member runs the exclusion: the TEK holder at once, others after a back-off (003 [0072]).
  const tekOwner = core.s.tek?.owner;
  const first = tekOwner && tekOwner !== from && core.s.roster[tekOwner]?.state === 'member' ? tekOwner : lowestMember(core, [from]);
  const delay = first === core.self ? 0 : 3 * core.s.params.heartbeatMs + randomBelow(core, core.s.params.heartbeatMs * 2);
  core.leaveExclusions.set(from, now + delay);
}

/** After a restart: every member that left and is not yet blocked gets its exclusion scheduled again (issue 14: pending leave exclusions survive a crash). */
export function rescheduleLeaveExclusions(core: EngineCore, now: number): void {
  for (const [key, r] of Object.entries(core.s.roster)) {
    if (r.state !== 'left' || core.s.blocklist.includes(key) || key === core.self) continue;
    core.leaveExclusions.set(key, now + 3 * core.s.params.heartbeatMs + randomBelow(core, core.s.params.heartbeatMs * 2));
  }
}

/**
 * Under `admins`, on the housekeeping beat of a member that may not exclude: a leaver blocked
 * here that the TEK does not cover is excluded again, with the signed Leave this member kept
 * (T1 lets a non-admin exclude a proven leaver). In a race of admins, a Leave sealed under the
 * TEK of the admin the others excluded reaches only that admin's camp; when the camp comes back
 * to the others' TEK, which never covered the leaver, it held its outgoing data for good
 * (review 20). The usual back-off: the first table from any such member covers it everywhere.
 */
export function uncoveredLeaversTick(core: EngineCore, now: number): void {
  if (core.s.params.policy.exclude !== 'admins' || canExclude(core)) return;
  const cov = core.s.tek?.coverage;
  if (!cov || core.s.blocklist.length === 0) return;
  for (const x of core.s.blocklist) {
    if (cov.includes(x) || core.leaveExclusions.has(x) || x === core.self) continue;
    const r = core.s.roster[x];
    if (r?.state !== 'left' || !r.leaveProof || coveringTableOnItsWay(core, x)) continue;
    core.leaveExclusions.set(x, now + 3 * core.s.params.heartbeatMs + randomBelow(core, core.s.params.heartbeatMs * 2));
    addLog(core, now, 'leave', `${short(x)} left, but the TEK does not cover it: excluding it again with its signed Leave unless a table covers it first`);
  }
}

/**
 * A table newer than our TEK that names `x`, read but not applied yet (its TEK′ is on its way:
 * a completer's publication, a fetch): it will cover x, no new table is needed.
 */
function coveringTableOnItsWay(core: EngineCore, x: MemberKey): boolean {
  const v = core.s.tek?.version ?? 0;
  for (const t of core.tables.values()) if (!t.applied && t.header.newVersion > v && t.header.blocklist.includes(x)) return true;
  return false;
}

/** The leaver's exclusion is still to be made: not blocked here, or blocked without the TEK covering it (uncoveredLeaversTick). */
function leaveStillOpen(core: EngineCore, leaver: MemberKey): boolean {
  if (!core.s.blocklist.includes(leaver)) return true;
  if (core.s.params.policy.exclude !== 'admins' || canExclude(core)) return false;
  const cov = core.s.tek?.coverage;
  return cov !== undefined && !cov.includes(leaver) && core.s.roster[leaver]?.leaveProof !== undefined && !coveringTableOnItsWay(core, leaver);
}

export function leaveTick(core: EngineCore, now: number): void {
  for (const [leaver, at] of core.leaveExclusions) {
    if (now < at) continue;
    core.leaveExclusions.delete(leaver);
    if (!leaveStillOpen(core, leaver)) continue;
    // Under `admins`, a non-admin may exclude a member that announced its own leave (T1), so a
    // leave rekeys even with no admin online; the admin (TEK holder) goes first, others back off.
    startTable(core, 'exclude', [leaver], now);
  }
}

export function lowestMember(core: EngineCore, except: MemberKey[]): MemberKey | undefined {
  return Object.entries(core.s.roster)
    .filter(([k, r]) => r.state === 'member' && !except.includes(k))
    .map(([k]) => k)
    .sort()[0];
}

export function resealTick(core: EngineCore, now: number): void {
  // A reseal is scheduled only when concurrent tables were resolved (applyTable), or a
  // member was seen on a contested TEK (noteContestedTek): a TEK that merely lags behind
  // the blocklist is waiting for a table that is on its way.
  if (!core.timers.due('reseal', now)) return;
  const early = core.resealEarly;
  core.timers.stop('reseal');
  core.resealContestedOnly = false;
  const contested = stillContested(core);
  if (tekCoversBlocklist(core) && contested.length === 0) return;
  if (!canExclude(core)) return;
  if (early && !createsWinningTek(core)) {
    // Scheduled as the creator of a TEK that has since lost (or is known to lose) to a concurrent one: back off.
    scheduleReseal(core, now);
    if (contested.length > 0) scheduleContestedReseal(core, now);
    return;
  }
  const cov = core.s.tek!.coverage ?? [];
  const missing = core.s.blocklist.filter((b) => !cov.includes(b));
  // Re-exclude every member the concurrent tables blocked, so that no slot any of them knew stays in use.
  const concurrent = new Set(missing);
  for (const t of core.tables.values()) if (t.header.newVersion === core.s.tek!.version) for (const x of t.header.targets) concurrent.add(x);
  // And the creators of contested TEKs: the members seen on one get this table's signed header.
  const seenOnContested = new Set<MemberKey>();
  for (const c of contested) {
    concurrent.add(c);
    for (const m of core.contested.get(c)!.seenFrom) seenOnContested.add(m);
    core.contested.delete(c);
    core.contestedResealed.add(c);
  }
  const targets = sortedKeys(concurrent);
  startTable(core, 'exclude', targets, now, true);
  addLog(core, now, 'merge', `resealed after concurrent exclusions of ${targets.map(short).join(', ')}`);
  if (seenOnContested.size === 0 || core.s.state !== 'member') return;
  const tek = core.s.tek!;
  const ours = [...core.tables.values()].find((t: TableState) => t.applied && t.header.excluder === core.self && t.header.newVersion === tek.version);
  if (!ours) return;
  for (const m of seenOnContested) if (m !== core.self && isMember(core, m)) unicastHeader(core, m, ours);
  addLog(core, now, 'merge', `told ${seenOnContested.size} member(s) on a TEK made by ${contested.map(short).join(', ')}, excluded here, of TEK v${tek.version}`);
}

/**
 * Contested TEKs (docs/protocol.md §8.2). T1 refuses every table of an excluded member, so
 * when exclusions chain (each excluder the target of the one before, made before it knew),
 * a member that blocked an excluder before its table arrived refuses it, and one that took
 * the table first has since blocked the author of the other: two camps, each on a TEK made
 * by a member the other camp blocked, each TEK covering its own camp's blocklist. Neither
 * camp reads the other's control messages (sealed under TEKs it refuses), nobody reseals,
 * and the group stayed split for good (10 of 60 seeds of four chained exclusions 10 ms apart
 * in 32). The sign is a current member's sealed control message under a TEK, at our version
 * or later, whose creators tag is that of a member this member blocked: it then reseals once
 * (after 4–6 heartbeats, so that an ordinary race's own reseal goes first and makes this one
 * moot) and hands the reseal's signed header to the members it saw there. Its blocklist,
 * from an author both camps accept, reaches the other camp, which then reseals in turn: the
 * union of the blocklists spreads as after any race. Bounded: one reseal per blocked member
 * for the engine's life, whoever sends such messages.
 */
export function noteContestedTek(core: EngineCore, from: MemberKey, version: number, tag: Uint8Array, now: number): void {
  // A message kept in pendingSealed and offered again after our TEK changed is no new sign:
  // noting it again under each new TEK chained reseals, up to one per member (review 17).
  if (core.openingSealed > 0) return;
  const creator = blockedCreatorOf(core, tag);
  if (creator === undefined) return;
  if (core.contestedResealed.has(creator) || version < core.s.tek!.version) {
    nudgeToward(core, from, creator, now);
    return;
  }
  const known = core.contested.get(creator);
  if (known) {
    known.seenFrom.add(from);
    return;
  }
  core.contested.set(creator, { seenFrom: new Set([from]), ourTek: currentTekId(core), excluders: core.s.roster[creator]?.blockedBy?.filter((k) => k !== core.self) ?? [] });
  addLog(core, now, 'merge', `${short(from)} is on TEK v${version} made by ${short(creator)}, excluded here`);
  scheduleContestedReseal(core, now);
}

function scheduleContestedReseal(core: EngineCore, now: number): void {
  if (core.timers.get('reseal') !== null) return;
  const hb = core.s.params.heartbeatMs;
  core.timers.set('reseal', now + 4 * hb + randomBelow(core, 2 * hb));
  core.resealEarly = false;
  core.resealContestedOnly = true;
}

/** Members one header was sent to by nudgeToward, and when; cleared past this many. */
const MAX_NUDGED = 256;
/** Table headers one nudge sends at most. */
const NUDGE_TABLES = 8;

/**
 * Under `admins`, an admin that sees a current member on a TEK made by a member blocked here,
 * when it will not reseal for it (older than ours, or resealed once already), sends that member
 * the signed headers of the NUDGE_TABLES newest exclusion tables by current admins, oldest
 * first, at most once per 4 heartbeats per member. A member that missed the table excluding the
 * creator (10 % loss) stayed on the excluded admin's TEK, blocking the member that admin
 * excluded and refusing every newer TEK as one its excluded member made (F2): taking the
 * headers one by one, it blocks the creator, drops the blocks only the creator supported
 * (admin-races.ts), takes the tables it refused on the creator's word, and fetches the
 * group's TEK. A header it refuses (sent out of order) comes again with the next nudge.
 */
function nudgeToward(core: EngineCore, member: MemberKey, creator: MemberKey, now: number): void {
  if (core.s.params.policy.exclude !== 'admins' || !canExclude(core) || !isMember(core, member)) return;
  const last = core.nudged.get(member);
  if (last !== undefined && now - last < 4 * core.s.params.heartbeatMs) return;
  // The exclusions from the one that blocked the creator on, oldest first: a lagging member may
  // refuse a later one as long as it blocks that table's admin on the word of an admin an
  // earlier one excludes (chained exclusions: it takes them one by one, admin-races.ts).
  const admins = core.s.params.policy.admins;
  const byCurrentAdmin = [...core.tables.values()].filter((t) => t.header.kind === 'exclude' && admins.includes(t.header.excluder) && !core.s.blocklist.includes(t.header.excluder));
  if (!byCurrentAdmin.some((t) => t.header.targets.includes(creator) || t.header.blocklist.includes(creator))) return;
  const send = byCurrentAdmin.sort((x, y) => y.header.newVersion - x.header.newVersion).slice(0, NUDGE_TABLES).reverse();
  if (!send.every((t) => relayable(core, t))) return;
  if (core.nudged.size >= MAX_NUDGED) core.nudged.clear();
  core.nudged.set(member, now);
  for (const t of send) unicastHeader(core, member, t);
}

/**
 * Contested creators whose sign still stands: our TEK is the one we held when we saw it.
 * Any change of our TEK since (another member's reseal, most often: every member sees the
 * same sign and the first to reseal moves the rest) drops the entry; a real second camp is
 * seen again at its next message. Judging by the version the sign named instead let a
 * member name one far ahead, which no reseal passes, and made every member reseal (review 16).
 */
function stillContested(core: EngineCore): MemberKey[] {
  const ours = currentTekId(core);
  for (const [c, e] of core.contested) {
    if (e.ourTek === ours) continue;
    if (madeByItsExcluders(core, e.excluders)) e.ourTek = ours;
    else core.contested.delete(c);
  }
  return [...core.contested.keys()];
}

/**
 * Under `admins`, a TEK made by the admins whose tables excluded `creator` here does not end
 * its sign: when two admins exclude each other, the camp on one's TEK has blocked the other and
 * refuses its reseals, so only a third admin's reaches it (docs/protocol.md §8.2, "Concurrent
 * exclusions of an admin"); the excluder's own re-exclusions and reseals had put every third
 * admin's reseal off, for 16 s in a 16-member test.
 */
function madeByItsExcluders(core: EngineCore, excluders: readonly MemberKey[]): boolean {
  return core.s.params.policy.exclude === 'admins' && excluders.length > 0 && core.s.tek !== null && core.s.tek.creators.every((k) => excluders.includes(k));
}


/** The blocked member whose creators tag (alone) this is; the map is rebuilt when the blocklist grows. */
function blockedCreatorOf(core: EngineCore, tag: Uint8Array): MemberKey | undefined {
  const bl = core.s.blocklist;
  if (core.blockedTags?.length !== bl.length) {
    const byTag = new Map<string, MemberKey>();
    for (const b of bl) byTag.set(toHex(creatorsTag(core.crypto, [b])), b);
    core.blockedTags = { length: bl.length, byTag };
  }
  return core.blockedTags.byTag.get(toHex(tag));
}

/** Periodic refresh (003 [0057], 002 key lifetimes): the TEK holder bumps revisions and makes new versions. */
export function refreshTick(core: EngineCore, now: number): void {
  if (!ownsTek(core)) return;
  const p = core.s.params;
  if (p.refreshVersionMs > 0 && now >= core.s.lastVersionRefreshAt + p.refreshVersionMs) {
    core.s.lastVersionRefreshAt = now;
    core.s.lastRevisionRefreshAt = now;
    startTable(core, 'refresh', [], now);
    return;
  }
  if (p.refreshRevisionMs > 0 && now >= core.s.lastRevisionRefreshAt + p.refreshRevisionMs) {
    core.s.lastRevisionRefreshAt = now;
    const tek = core.s.tek!;
    stepHeld(core, tek, tek.revision + 1, now, 'periodic revision refresh');
    publishControl(core, { type: MsgType.Revision, keys: [info(core, tek)] });
    addLog(core, now, 'refresh', `TEK revision ${tek.revision}`);
  }
}
