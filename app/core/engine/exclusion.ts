/**
 * @module core/engine/exclusion
 * Exclusion and refresh tables end to end: building and publishing one (startTable),
 * taking one in (onTable: authenticate, authorize, check, then index), applying its
 * blocklist, reading TEK', completing the table when the plan names this member, and
 * fetching TEK' when nothing opens.
 *
 * Invariants: the blocklist changes together with the key (003 [0075]); a table is
 * authorized by the group's policy before any state changes (authorizeTable); an
 * excluded member erases its secrets at once. Seeds: 003 [0072]–[0079].
 * docs/protocol.md §7, §9.
 */
import { ENTRY_AAD, LABEL, MAX_TABLES_PER_EXCLUDER, ONE_HOP_PAIRWISE_MAX, ONE_HOP_ROSTER_MAX, RESEAL_PAIRWISE_MAX, possibleHolders, rosterInKeyOrder, MAX_VERSION_AHEAD, ZERO_NONCE, addLog, blockedSet, canExclude, cmpKey, emit, eraseSecrets, heldKey, randomBelow, sendFetchRequest, setRoster, short, type EngineCore, type TableState } from './context.js';
import { addEntries, unicastHeader, checkReplaced, commitTek, headerId, headerSignatureOk, makeEntries, newTableState, pairwiseEntryKey, plannedSymbols, publishTable, readTekPrime, relayable, replacedKeks, takeEntries, unusableSlots } from './tables.js';
import { planCompletion } from './completion-plan.js';
import { authorizeTable, carriesLeaveOf, isMember, mayOwnTek, omittedBaseExclusion } from './authorization.js';
import { applyTable, scheduleReseal, tableIsMoot } from './table-apply.js';
import { pairwise } from './sealing.js';
import { settleBlocks } from './admin-races.js';
import { type MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { concat, equalBytes, toHex } from '../bytes.js';
import { TEK_SLOT, slotsOf } from '../params.js';
import { KEY_BYTES, creatorsTag } from '../keys.js';
import { LIMITS, type MsgType, encodeTableHeader, type Message, type LeaveProof, type PairwiseEntry, type TableHeader } from '../wire.js';
import { encodeState, sameCreators, sortedKeys } from '../state.js';

/**
 * Most targets one table names: the wire's LIMITS.targets, and 255 because a header counts
 * its leave proofs (one per target at most) in one byte. A receiver refuses a longer list.
 */
const TARGETS_PER_TABLE = Math.min(LIMITS.targets, 255);

/**
 * Starts an exclusion (targets ≠ []) or a periodic version refresh (targets = []).
 * `oneHop` (a reseal, docs/protocol.md §8.2): no completion plan; every member the
 * excluder's usable KEKs miss gets TEK' pairwise, up to RESEAL_PAIRWISE_MAX of them; past
 * that, a plan whose completers the resealer reaches itself (two deliveries at most).
 * More targets than one table may name (an exclusion of many, a reseal after large
 * concurrent exclusions) go out as a chain of tables, each on the TEK the one before made
 * here, each naming at most TARGETS_PER_TABLE (review 6: a longer header is refused by
 * every receiver, so the exclusion would never land).
 */
export function startTable(core: EngineCore, kind: 'exclude' | 'refresh', targets: MemberKey[], now: number, oneHop = false): void {
  if (targets.length <= TARGETS_PER_TABLE) return startOneTable(core, kind, targets, now, oneHop);
  for (let i = 0; i < targets.length && core.s.state === 'member'; i += TARGETS_PER_TABLE) startOneTable(core, kind, targets.slice(i, i + TARGETS_PER_TABLE), now, oneHop);
}

function startOneTable(core: EngineCore, kind: 'exclude' | 'refresh', targets: MemberKey[], now: number, oneHop: boolean): void {
  const tek = core.s.tek!;
  const panelKey = core.panel?.takeKey(kind, targets, now) ?? null;
  const tekPrime = panelKey ? panelKey.key : core.rng(KEY_BYTES);
  if (!panelKey && core.s.params.panelSize >= 4 && core.panel) {
    emit(core, { type: 'panel-fallback', reason: 'no panel key available: this TEK version has a single creator', at: now });
    addLog(core, now, 'fallback-single', 'TEK version from a single creator: no fresh panel key here (this member is off the panel, the panel is not ready, or a removed member knew its key)');
  }
  const blocklist = sortedKeys([...core.s.blocklist, ...targets]);
  const header: TableHeader = {
    kind,
    excluder: core.self,
    targets,
    base: { version: tek.version, creators: tek.creators },
    newVersion: tek.version + 1,
    createdAt: now,
    blocklist,
    tekCommitment: new Uint8Array(32),
    panel: panelKey ? { round: panelKey.round, members: sortedKeys(panelKey.members) } : null,
    replaced: replacedKeks(core, targets),
    plan: [],
    ...leaveProofsFor(core, kind, targets, blocklist, now),
  };
  const unusable = unusableSlots(core, header);
  const ownUsable = slotsOf(core.selfId, core.s.params.V).filter((s) => !unusable.has(s) && heldKey(core, s));
  // One hop where it is cheap (§7.1): a completer's publication is a second delivery, and on
  // loaded peers each delivery costs most of a second (fifty real peers: 2-4 s, not 0.3 s).
  const tryOneHop = oneHop || core.rosterSize <= ONE_HOP_ROSTER_MAX;
  let { plan, pairwiseFor } = planCompletion(core, blocklist, unusable, ownUsable, tryOneHop ? 0 : undefined);
  if (oneHop && pairwiseFor.length > RESEAL_PAIRWISE_MAX) ({ plan, pairwiseFor } = planCompletion(core, blocklist, unusable, ownUsable, 255, true));
  else if (!oneHop && tryOneHop && pairwiseFor.length > ONE_HOP_PAIRWISE_MAX) ({ plan, pairwiseFor } = planCompletion(core, blocklist, unusable, ownUsable));
  header.plan = plan;
  header.tekCommitment = commitTek(core, header, tekPrime);
  const headerBytes = encodeTableHeader(header);
  const headerSignature = core.crypto.ed25519Sign(core.seed, concat(LABEL('table'), core.groupBytes, headerBytes));
  const t = newTableState(core, header, headerBytes, headerSignature, now);
  t.tekPrime = tekPrime;
  core.tables.set(t.idHex, t);
  t.blocklistApplied = true;
  applyBlocklist(core, header, now);
  applyTable(core, t, now);
  const entries = makeEntries(core, t, null);
  const pairwiseEntries: PairwiseEntry[] = [];
  for (const m of pairwiseFor.slice(0, LIMITS.pairwise)) {
    const pk = pairwise(core, m);
    if (pk) pairwiseEntries.push({ member: m, sealed: core.crypto.seal(pairwiseEntryKey(core, t, pk, m), ZERO_NONCE, tekPrime, ENTRY_AAD) });
  }
  addEntries(core, t, { entries, pairwise: pairwiseEntries }, core.self);
  t.completed = true;
  publishTable(core, t, entries, pairwiseEntries);
  const what = kind === 'exclude' ? `excluded ${targets.map(short).join(', ')}` : 'refreshed the TEK version';
  const extra = pairwiseEntries.length > 0 ? `, ${pairwiseEntries.length} pairwise` : '';
  addLog(core, now, kind === 'exclude' ? 'exclude' : 'refresh', `${what}: TEK v${header.newVersion} (${entries.length} entries, ${plan.length} completers planned${extra})`);
}

/** `relayed`: the table came inside a fetch reply (its entries are anyone's, §8.5). */
export function onTable(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.Table }>, now: number, relayed = false): void {
  if (core.s.state !== 'member') return; // a joiner gets the current TEK with its admission
  const h = m.header;
  const { headerBytes, id } = headerId(core, h);
  if (h.excluder === core.contestedExcluder && (h.targets.includes(core.self) || h.blocklist.includes(core.self))) throw new RemoteProtocolError('stale', 'a table of the admin whose exclusion of this member is contested (exclusion-contest.ts)');
  let t = core.tables.get(id);
  if (!t) {
    // Validate everything about the header before any state changes. A header that
    // comes from its excluder itself is authenticated by the transport (`from`); its
    // signature is checked before this member relays it (relayable()).
    // T1: the header's signature is checked on every first sight, whoever relayed it (gossip
    // keeps the author, so "sent by its excluder" proves nothing about the header itself).
    ensure(headerSignatureOk(core, h, headerBytes, m.headerSignature), 'bad-signature', 'table header signature does not verify');
    authorizeTable(core, h);
    ensure(h.newVersion === h.base.version + 1, 'invalid', 'a table makes exactly the next version');
    // T1: a table far ahead of our TEK is refused (versions are the signer's choice: no jump to 2^32).
    if (core.s.tek) ensure(h.newVersion <= core.s.tek.version + MAX_VERSION_AHEAD, 'invalid', `table for TEK v${h.newVersion}, more than ${MAX_VERSION_AHEAD} versions past v${core.s.tek.version}`);
    if (core.s.tek && h.newVersion < core.s.tek.version - 1) {
      // An old table brings no key, but its signed, authorized blocklist still counts: a member
      // that jumped past it (a fetched newer TEK) still learns whom it excluded, and then
      // sends nothing under a TEK that does not exclude them (it reseals first).
      const before = core.s.blocklist.length;
      applyBlocklist(core, h, now);
      if (core.s.blocklist.length === before) throw new RemoteProtocolError('stale', `table for TEK v${h.newVersion}, current is v${core.s.tek.version}`);
      addLog(core, now, 'merge', `old table of TEK v${h.newVersion} by ${short(h.excluder)}: its exclusions taken, its key ignored`);
      if (core.s.state === 'member') scheduleReseal(core, now);
      return;
    }
    checkReplaced(core, h);
    // T1: no honest lag omits an exclusion its own base TEK covers (review 7, §8.2).
    const omitted = omittedBaseExclusion(core, h);
    if (omitted !== null) throw new RemoteProtocolError('invalid', `table on TEK v${h.base.version} omits ${short(omitted)}, whom that TEK's table excluded`);
    // Bounded per author: at most MAX_TABLES_PER_EXCLUDER tables of one excluder kept at once.
    let kept = 0;
    for (const x of core.tables.values()) if (x.header.excluder === h.excluder) kept++;
    ensure(kept < MAX_TABLES_PER_EXCLUDER, 'not-authorized', `${short(h.excluder)} has ${kept} tables in flight already`);
    t = newTableState(core, h, headerBytes, m.headerSignature, now, id);
  } else if (!equalBytes(t.headerSignature, m.headerSignature)) {
    ensure(headerSignatureOk(core, h, headerBytes, m.headerSignature), 'bad-signature', 'table header signature does not verify');
  }
  // T1 for the entries (§8.5): who may add which, how many; throws before anything changes.
  const taken = takeEntries(core, t, from, relayed, m);
  const known = core.tables.get(id);
  if (known && taken.entries.length === 0 && taken.pairwise.length === 0) throw new RemoteProtocolError('replay', 'table brings nothing new');
  // Apply.
  if (!known) core.tables.set(id, t);
  addEntries(core, t, taken, relayed ? null : from);
  // Publishers are whom a fetch of TEK′ asks first: current members only (a leaver's table still counts, review 6).
  if (from !== core.self && isMember(core, from)) t.publishers.add(from);
  core.lastSeen.set(from, now);
  if (!t.blocklistApplied) {
    t.blocklistApplied = true;
    applyBlocklist(core, t.header, now);
  }
  if (core.s.state !== 'member') return; // we were excluded by it
  progressTable(core, t, now);
  // A table older than our TEK (one that crossed ours), or a concurrent one that loses to
  // ours, may have blocked members our TEK was not made against: reseal (docs/protocol.md
  // §8.2). A concurrent one that would win is applied once readable instead.
  const tek = core.s.tek;
  const v = t.header.newVersion;
  if (tek && !t.applied && (v < tek.version || (v === tek.version && cmpKey(t.header.excluder, tek.creators[0] ?? '') > 0))) scheduleReseal(core, now);
}

/**
 * An excluded member still heartbeating two intervals after its table missed every
 * publication of it: a member that published the table sends it the signed header (no
 * entries) so it learns of its exclusion (003 [0075]). At most once per heartbeat
 * interval per member; a heartbeat that merely crossed the table gets no answer.
 */
export function tellExcluded(core: EngineCore, member: MemberKey, now: number, sealed?: { tekVersion: number; nonce: Uint8Array }): void {
  if (sealed) noteStillSending(core, member, sealed, now);
  const last = core.toldExcluded.get(member);
  const hb = core.s.params.heartbeatMs;
  if (last !== undefined && now - last < hb) return;
  // A table this member published, else one it holds, if it is one of the three lowest-keyed
  // current members: a small group's exclusion has one publisher, the excluder (§7.1), and a
  // target it could not tell itself would stay a member for good (review 12).
  // The newest first: an older one may come from a member the target itself has blocked since
  // (chained exclusions, §8.2), which it would refuse; a later reseal's excluder it accepts.
  const tables = [...core.tables.values()].filter((x) => x.header.blocklist.includes(member)).sort((x, y) => y.header.newVersion - x.header.newVersion);
  // A designated teller sends the newest it holds, applied or not: a member that took the TEK by
  // fetch holds the table's signed header without having applied it (review 16: after a lossy
  // chained race no designated teller had applied one, and the target never learnt).
  const t = tables.find((x) => x.published) ?? (lowRank(core, false) >= 0 ? tables[0] : undefined);
  if (!t || now - t.firstSeen < 2 * hb || !relayable(core, t)) return;
  core.toldExcluded.set(member, now);
  unicastHeader(core, member, t);
}

/** Sealed messages of an excluded member, a heartbeat apart, before the lowest-keyed excluder excludes it once more. */
const STILL_SENDING_BEFORE_REEXCLUSION = 5;

/**
 * An excluded member that still sends, after its exclusion, under a TEK nobody here opens, has
 * refused every notice: after chained exclusions (§8.2) every table that excluded it may come
 * from members it blocked itself, whose tables it refuses (T1), and it stayed on a TEK of its
 * own, a member in its own eyes (review 16). The lowest-keyed current member that may exclude
 * then excludes it once more by a table of its own, from an excluder the target has no reason
 * to refuse, and sends it that header; the second and third lowest-keyed after 3 and 6 more
 * messages, if none has (review 18: the lowest could be offline or restarted), and a member
 * that sees another's re-exclusion makes none. Counted only (review 17): a member this engine saw
 * excluded while a member (a key put on the blocklist that never was one costs nothing); a
 * message sealed under a TEK version at or past the one that blocked it (an old message
 * replayed by anyone counts nothing), not seen before, at most one a heartbeat; one such
 * table per excluded member, and none for exclusions seen before a restart.
 */
function noteStillSending(core: EngineCore, member: MemberKey, sealed: { tekVersion: number; nonce: Uint8Array }, now: number): void {
  if (core.reExcluded.has(member) || !core.excludedMembers.has(member) || !canExclude(core)) return;
  const rank = lowRank(core, true);
  if (rank < 0) return;
  const blockedAt = core.s.roster[member]?.blockedAtVersion;
  if (blockedAt === undefined || sealed.tekVersion < blockedAt) return;
  const e = core.stillSending.get(member) ?? { count: 0, lastAt: -Infinity, nonces: [] };
  const id = toHex(sealed.nonce);
  if (e.nonces.includes(id) || now - e.lastAt < core.s.params.heartbeatMs) return;
  e.nonces.push(id);
  if (e.nonces.length > STILL_SENDING_BEFORE_REEXCLUSION + 6) e.nonces.shift();
  e.count++;
  e.lastAt = now;
  core.stillSending.set(member, e);
  // The lowest-keyed first; the next two only if it has not acted (offline, restarted: review 18).
  if (e.count < STILL_SENDING_BEFORE_REEXCLUSION + 3 * rank) return;
  core.stillSending.delete(member);
  core.reExcluded.add(member);
  startTable(core, 'exclude', [member], now);
  const ours = [...core.tables.values()].find((x) => x.header.excluder === core.self && x.header.newVersion === core.s.tek?.version && x.header.targets.includes(member));
  if (ours && core.s.state === 'member') {
    core.toldExcluded.set(member, now);
    unicastHeader(core, member, ours);
  }
  addLog(core, now, 'exclude', `${short(member)} still sends ${e.count} heartbeats after its exclusion: excluded again by this member's own table`);
}

/**
 * This member's rank among the three lowest-keyed current members (blocked ones left out),
 * counting only those that may exclude under the group's policy when `excluders`; −1 if it is
 * not one of them.
 */
function lowRank(core: EngineCore, excluders: boolean): number {
  const p = core.s.params.policy;
  let seen = 0;
  for (const key of rosterInKeyOrder(core)) {
    if (core.s.roster[key]?.state !== 'member' || core.s.blocklist.includes(key)) continue;
    if (excluders && p.exclude !== 'any-member' && !p.admins.includes(key)) continue;
    if (key === core.self) return seen;
    if (++seen >= 3) return -1;
  }
  return -1;
}

/** Signed Leaves a table carries besides its targets': recent leavers of its blocklist (their Leave within the grace window). */
const LEAVES_BESIDE_TARGETS = 32;

/**
 * T1: under `admins`, an exclusion carries the signed Leaves of its targets that left, for
 * members that missed them (a non-admin may exclude only those), and of the recent leavers its
 * blocklist names: a member that missed such a Leave takes it from the table (a non-admin's
 * blocklist only with it) and records a leaver, never a block with supporters (review 22: a
 * Leave during an admin race reached one camp only; the next leave's table covered it and nobody
 * told the other camp; and a losing admin's exclusion of a leaver, taken as a block with
 * supporters, was dropped and the leaver "reinstated").
 */
function leaveProofsFor(core: EngineCore, kind: 'exclude' | 'refresh', targets: MemberKey[], blocklist: readonly MemberKey[], now: number): { leaves?: LeaveProof[] } {
  if (kind !== 'exclude' || core.s.params.policy.exclude !== 'admins') return {};
  const leaves: LeaveProof[] = [];
  for (const t of targets) {
    const p = core.s.roster[t]?.leaveProof;
    if (p) leaves.push({ member: t, sentAt: p.sentAt, signature: p.signature });
  }
  let beside = 0;
  for (const b of blocklist) {
    if (targets.includes(b) || beside >= LEAVES_BESIDE_TARGETS || leaves.length >= 255) continue;
    const r = core.s.roster[b];
    if (r?.state !== 'left' || !r.leaveProof || now - r.leaveProof.sentAt > core.s.params.graceMs) continue;
    leaves.push({ member: b, sentAt: r.leaveProof.sentAt, signature: r.leaveProof.signature });
    beside++;
  }
  return leaves.length > 0 ? { leaves } : {};
}

/** [0075]: the blocklist changes together with the key change. */
export function applyBlocklist(core: EngineCore, h: TableHeader, now: number): void {
  // The header carries the excluder's whole blocklist: taking the union heals a member
  // that missed (or refused, in a race) an earlier table. Under the admins policy only
  // an admin's list is taken beyond its own targets.
  const p = core.s.params.policy;
  const trusted = p.exclude === 'any-member' || p.admins.includes(h.excluder);
  // Runs for every table taken and every old table seen again: the common answer (nothing new) without allocating.
  const blocked = blockedSet(core);
  // Someone else's re-exclusion (noteStillSending: one target, blocked already, a version past
  // the one that blocked it): this member does not make another (review 18: each member that
  // became the lowest-keyed, as others left or were excluded, made one more).
  if (h.targets.length === 1 && h.excluder !== core.self) {
    const t = h.targets[0]!;
    const at = core.s.roster[t]?.blockedAtVersion;
    // Not one by the member whose table excluded it here, when the target is an admin (it may have
    // excluded that member in turn; a non-admin cannot, review 21): two admins that
    // excluded each other refuse each other's tables, so the excluder's own re-exclusion never
    // reaches a target that blocked it, and it suppressed every third admin's (6 of 40 lossy runs).
    if (blocked.has(t) && at !== undefined && h.newVersion > at && (core.s.roster[t]?.excludedBy !== h.excluder || !mayOwnTek(core, t))) core.reExcluded.add(t);
  }
  const isNew = (t: MemberKey) => !blocked.has(t) && t !== h.excluder;
  const admins = p.exclude === 'admins';
  // A non-admin's blocklist beyond its targets: only members of this roster whose signed Leave it
  // carries (leaveProofsFor), each carried Leave looked at once, at most LEAVES_BESIDE_TARGETS
  // checked per table (review 23: one check per blocklist entry and Leave cost thousands).
  const leaversBeside = !trusted && admins && h.leaves ? provenLeaversBeside(core, h, isNew) : [];
  if (!h.targets.some(isNew) && !(trusted && h.blocklist.some(isNew)) && leaversBeside.length === 0) {
    if (admins) settleBlocks(core, h, trusted, [], now);
    return;
  }
  const wanted = trusted ? [...h.targets, ...h.blocklist] : [...h.targets, ...leaversBeside];
  const newly = [...new Set(wanted)].filter(isNew);
  // Before anything changes: the state an admins' race may bring this member back to (exclusion-contest.ts).
  const pre = newly.includes(core.self) && admins && trusted && !canExclude(core) && core.s.state === 'member' ? encodeState(core.s) : null;
  const leftHere: MemberKey[] = [];
  for (const t of newly) {
    core.s.blocklist.push(t);
    const r = core.s.roster[t];
    if (r?.state === 'member') core.excludedMembers.add(t);
    // Under `admins`, a member blocked while a member gets a list of supporters (admin-races.ts).
    // Under `admins` a non-admin's table excludes only leavers (T1: seen to leave, or by the signed
    // Leave it carries): a leaver here too, with that Leave kept, never a block with supporters
    // (a block with none left may be dropped: admin-races.ts), and this member can exclude it again.
    // A trusted table's Leave for a member this member had not seen leave is checked (once) before
    // it makes a leaver: an unchecked one made an admin's exclusion a block never dropped (review 23).
    const proof = admins ? h.leaves?.find((l) => l.member === t) : undefined;
    const leaver = r?.state === 'left' || (admins && (!trusted || (proof !== undefined && (r?.state !== 'member' || carriesLeaveOf(core, h, t)))));
    if (r && leaver && r.state !== 'left') leftHere.push(t);
    if (r) setRoster(core, t, { ...r, state: leaver ? 'left' : 'excluded', blockedAtVersion: h.newVersion, ...(proof && !r.leaveProof ? { leaveProof: { sentAt: proof.sentAt, signature: proof.signature } } : {}), ...(admins && r.state === 'member' && !leaver ? { blockedBy: [], excludedBy: h.excluder } : {}) });
    else setRoster(core, t, { name: '', admittedAt: 0, state: 'excluded', blockedAtVersion: h.newVersion });
    core.leaveExclusions.delete(t);
  }
  core.s.blocklist.sort();
  if (newly.includes(core.self)) {
    core.s.state = 'excluded';
    emit(core, { type: 'self-excluded', by: h.excluder, at: now });
    addLog(core, now, 'exclude', `this member was excluded by ${short(h.excluder)}`);
    if (pre) core.contest = { pre, excluder: h.excluder, version: h.newVersion, at: now };
    eraseSecrets(core);
    return;
  }
  emit(core, { type: 'member-excluded', members: newly, leftHere, by: h.excluder, at: now });
  if (h.excluder !== core.self) addLog(core, now, 'exclude', `${short(h.excluder)} excluded ${newly.map(short).join(', ')}`);
  // Owners that were excluded no longer hold anything.
  for (const d of Object.values(core.s.slotDir)) if (d.owner && newly.includes(d.owner)) d.owner = null;
  if (core.s.tek && core.s.tek.owner && newly.includes(core.s.tek.owner)) core.s.tek.owner = null;
  for (const k of core.s.keks) if (k.owner && newly.includes(k.owner)) k.owner = null;
  // Under `admins`: who supports each block, and the blocks a current admin's table decides against (admin-races.ts).
  if (admins) settleBlocks(core, h, trusted, newly, now);
}

/** The members a non-admin's blocklist names beside its targets whose Leave it carries and that verify here (applyBlocklist). */
function provenLeaversBeside(core: EngineCore, h: TableHeader, isNew: (t: MemberKey) => boolean): MemberKey[] {
  const listed = new Set(h.blocklist);
  const seen = new Set<MemberKey>();
  const out: MemberKey[] = [];
  for (const l of h.leaves ?? []) {
    if (seen.size >= LEAVES_BESIDE_TARGETS) break;
    if (seen.has(l.member) || !listed.has(l.member) || h.targets.includes(l.member) || !isNew(l.member)) continue;
    seen.add(l.member);
    if (carriesLeaveOf(core, h, l.member)) out.push(l.member);
  }
  return out;
}

/** Reads TEK' if possible, applies the table, and completes it when this member is planned or fetched it (003 [0079]). */
export function progressTable(core: EngineCore, t: TableState, now: number): void {
  if (!t.tekPrime) t.tekPrime = readTekPrime(core, t);
  if (!t.tekPrime) {
    if (t.fetchAt === null) t.fetchAt = now + core.s.params.fetchAfterMs + randomBelow(core, Math.max(2, core.s.params.heartbeatMs));
    return;
  }
  t.fetchAt = null;
  const wasApplied = t.applied;
  applyTable(core, t, now);
  if (t.applied && !wasApplied) applyWaiting(core, t, now);
  if (!t.applied || t.completed || t.completeAt !== null) return;
  const planned = plannedSymbols(core, t);
  if (planned) t.completeAt = now;
  else if (t.fetched) t.completeAt = now + 1 + randomBelow(core, Math.max(2, core.s.params.heartbeatMs));
}

/**
 * Tables read before the TEK they build on was ours (a reseal lands in one hop and can
 * overtake the completions of the table it builds on, §8.2) are applied as soon as it
 * is, instead of fetched. Siblings among them resolve in applyTable.
 * Only a table made on that TEK: its blocklist names every target of the table `base`
 * that made it (its maker had applied it), and its excluder is not blocked since. A table
 * signed before its base existed (planted on a member's next TEK, say by the member that
 * TEK excludes) waits for a fetch as before, and is never installed on top of it (review 5).
 */
function applyWaiting(core: EngineCore, base: TableState, now: number): void {
  const tek = core.s.tek!;
  const madeOnBase = (o: TableState) => base.header.targets.every((x) => o.header.blocklist.includes(x)) && !core.s.blocklist.includes(o.header.excluder);
  const waiting = [...core.tables.values()].filter((o) => !o.applied && o.tekPrime && o.header.base.version === tek.version && sameCreators(sortedKeys(o.header.base.creators), tek.creators) && madeOnBase(o));
  for (const o of waiting) progressTable(core, o, now);
}

export function tablesTick(core: EngineCore, now: number): void {
  // Nothing below acts on a table before one of its deadlines: none due, nothing to do.
  const due = core.tables.earliestDeadline();
  if (due === null || now < due) return;
  for (const t of core.tables.values()) {
    if (t.completeAt !== null && now >= t.completeAt) {
      // Complete the table with the slots nobody covered yet (suppression), then rebroadcast (003 [0073], [0079]).
      t.completeAt = null;
      if (!t.applied || t.completed) continue;
      t.completed = true;
      const entries = makeEntries(core, t, plannedSymbols(core, t));
      if (entries.length > 0) {
        addEntries(core, t, { entries, pairwise: [] }, core.self);
        publishTable(core, t, entries, []);
      }
    }
    if (t.fetchAt !== null && now >= t.fetchAt && tableIsMoot(core, t)) {
      // A sibling with a lower excluder, or a newer version, makes this TEK' useless: no fetch.
      t.fetchAt = null;
    }
    if (t.fetchAt !== null && now >= t.fetchAt) {
      // Still no readable TEK': ask a member who has it, over a unicast (003 [0079]): its
      // publishers first, then any member (any keyed member may answer, 001). A small group's
      // exclusion has one publisher, its excluder (§7.1); if it went down, a member its table
      // did not cover waited for the grace window (review 12).
      const authors = [...new Set([...t.publishers, t.header.excluder, ...possibleHolders(core, TEK_SLOT)])].filter((a) => a !== core.self && !core.s.blocklist.includes(a) && !t.fetchTried.has(a));
      const to = authors[0] ?? t.header.excluder;
      t.fetchTried.add(to);
      if (authors.length <= 1) t.fetchTried.clear();
      t.fetchAt = now + core.s.params.fetchAfterMs;
      sendFetchRequest(core, to, TEK_SLOT, t.header.newVersion, creatorsTag(core.crypto, t.header.panel ? t.header.panel.members : [t.header.excluder]));
    }
  }
}
