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
 * covers x, and it held its outgoing data for good. So, at a non-admin, a block loses its
 * ground when a current admin's table no older than it does not name it and excludes its last
 * supporter (an admin whose table named it), or finds none standing; it is dropped after a
 * wait of DROP_AFTER_HEARTBEATS heard heartbeats unless a current admin names it meanwhile.
 *
 * Invariants: only under `admins`, and only at members that may not exclude (admins never drop
 * a block: their blocklists merge); only members blocked while members have supporters (never
 * leavers, never keys that never were members, never this member: its own exclusion falls with
 * its excluder's in engine/exclusion-contest.ts); only admins' tables support; a supporter stands while a member, or when it
 * left unless the deciding table excludes it; a table older than a block decides nothing about
 * it; the wait (`dropAt`) is persisted and restarts after a restart or a gap in this member's
 * beats; data from a member whose block waits is kept, bounded, and read only if it is dropped.
 * Supporters persist with the roster entry (`blockedBy`), at most MAX_SUPPORTERS; a block
 * that had more stands for good. docs/protocol.md §8.2, §12 T1, D1; reviews 19–21.
 * Seeds: 003 [0072]–[0075] (who excludes, the blocklist changes with the key).
 */
import type { MemberKey } from '../types.js';
import type { BlockGround, TableHeader } from '../wire.js';
import { addLog, canExclude, emit, pidOf, reject, setRoster, short, type DataMessage, type EngineCore, type TableState } from './context.js';
import { flushHeldOutgoing, onData } from './data.js';
import { openData, samePacket } from './tek-records.js';
import { equalBytes } from '../bytes.js';
import { mayOwnTek } from './authorization.js';
import { RemoteProtocolError } from '../errors.js';
import { relayable, unicastHeader } from './tables.js';

/** Supporters kept per blocked member (each a 64-character key in the persisted roster). */
const MAX_SUPPORTERS = 8;
/** Stands in for every supporter past MAX_SUPPORTERS: a block that had more is never dropped. */
const MANY = '*';

/** Heartbeats a block that lost its ground waits, for a current admin to name it, before it is dropped. */
export const DROP_AFTER_HEARTBEATS = 8;

/**
 * Under `admins`, for every table taken (applyBlocklist; `newly`: the members it blocked here):
 * an admin's table supports the blocks it names; then, at a member that may not exclude, a
 * current admin's table may take a block's ground away (dropVoidBlocks). Non-admins' tables
 * (leavers' exclusions) support nothing and drop nothing: a leaver, or a key that never was a
 * member, is never reinstated (review 19).
 */
export function settleBlocks(core: EngineCore, h: TableHeader, trusted: boolean, newly: readonly MemberKey[], now: number): void {
  if (!trusted) return;
  note(core, h.excluder, h.targets);
  note(core, h.excluder, h.blocklist);
  if (!canExclude(core) && core.s.roster[h.excluder]?.state === 'member' && !core.s.blocklist.includes(h.excluder)) dropVoidBlocks(core, h, newly, now);
}

/** Supporters are recorded only for members blocked while members (applyBlocklist gives them `blockedBy: []`). */
function note(core: EngineCore, excluder: MemberKey, named: readonly MemberKey[]): void {
  for (const x of named) {
    const r = core.s.roster[x];
    const by = r?.blockedBy;
    if (!by || r.state !== 'excluded' || x === excluder || by.includes(excluder) || by.includes(MANY)) continue;
    setRoster(core, x, { ...r, blockedBy: [...by, by.length < MAX_SUPPORTERS ? excluder : MANY] });
  }
}

/**
 * `h` is a current admin's table, `newly` the members it just blocked here. Two ways a block
 * it does not name loses its ground:
 * - a member it blocked (not a leaver) stops supporting it: the table was made without
 *   knowing of, or refusing, that member's exclusion of it;
 * - every supporter left is no longer a member here and the table is no older than the
 *   block (chained exclusions with loss: a supporter's exclusion named it, by an admin since
 *   excluded too).
 * A block with no ground left is dropped after DROP_AFTER_HEARTBEATS, unless a current admin
 * names it meanwhile (settleTick): an admin cut off while another excluded x, that excludes
 * that admin on its old TEK, decides nothing about x, and the admins that took x's exclusion
 * name it in their next table (review 19: dropped at once, x was a member again everywhere and
 * could fetch the TEK made to exclude it). Never a block with none recorded (taken at
 * admission, or a leaver's), nor one that had more than MAX_SUPPORTERS supporters.
 */
function dropVoidBlocks(core: EngineCore, h: TableHeader, newly: readonly MemberKey[], now: number): void {
  let named: Set<MemberKey> | null = null;
  const isNamed = (x: MemberKey) => (named ??= new Set([...h.targets, ...h.blocklist])).has(x);
  const groundless: MemberKey[] = [];
  for (const y of newly) {
    if (core.s.roster[y]?.state !== 'excluded') continue; // a leaver's exclusions stand
    for (const x of core.s.blocklist) {
      const r = core.s.roster[x];
      if (x === core.self || r?.state !== 'excluded' || !r.blockedBy?.includes(y) || isNamed(x)) continue;
      // Only a table no older than the block: one from before it (an admin cut off since) decides nothing about it (review 20).
      if (r.blockedAtVersion === undefined || h.newVersion < r.blockedAtVersion) continue;
      const by = r.blockedBy.filter((k) => k !== y);
      setRoster(core, x, { ...r, blockedBy: by });
      if (by.length === 0) groundless.push(x);
    }
  }
  for (const x of core.s.blocklist) {
    const r = core.s.roster[x];
    if (x === core.self || r?.state !== 'excluded' || !r.blockedBy || groundless.includes(x) || r.dropAt) continue;
    if (r.blockedAtVersion === undefined || h.newVersion < r.blockedAtVersion || isNamed(x) || hasStandingSupporter(core, r.blockedBy, isNamed)) continue;
    groundless.push(x);
  }
  const hb = core.s.params.heartbeatMs;
  for (const x of groundless) {
    const r = core.s.roster[x]!;
    if (r.dropAt) continue;
    setRoster(core, x, { ...r, dropAt: { at: now + DROP_AFTER_HEARTBEATS * hb, by: h.excluder } });
    core.drops.members.add(x);
    addLog(core, now, 'merge', `the exclusion of ${short(x)} rests only on admins excluded since: it ends in ${DROP_AFTER_HEARTBEATS} heartbeats unless a current admin names it`);
  }
}

/**
 * A supporter still a member here; or, judged against a current admin's table (`namedBy`), one
 * that left and that table does not exclude: an admin that left of its own accord decided
 * nothing against its exclusions (review 20: an admin waking from sleep undid them), but one
 * that left just after the remaining admins excluded it is as excluded (review 19: the admin
 * that lost a race, leaving at once, kept a camp's block up for good).
 */
function hasStandingSupporter(core: EngineCore, by: readonly MemberKey[], namedBy?: (k: MemberKey) => boolean): boolean {
  return by.some((k) => {
    const state = core.s.roster[k]?.state;
    if (k === MANY || (state === 'member' && !core.s.blocklist.includes(k))) return true;
    return state === 'left' && namedBy !== undefined && !namedBy(k);
  });
}

/** On the housekeeping beat: drops the groundless blocks whose wait is over; a block a current admin named since stands. */
export function settleTick(core: EngineCore, now: number): void {
  // The index of pending drops is rebuilt from the roster once (after a restart, the wait goes on).
  if (!core.drops.loaded) {
    core.drops.loaded = true;
    for (const x of core.s.blocklist) if (core.s.roster[x]?.dropAt) core.drops.members.add(x);
  }
  // The wait counts only time this member could hear the group: after a restart, or a gap of
  // more than two heartbeats between beats (asleep, suspended), every wait starts again (review
  // 21: a laptop closed through the wait reinstated the member on waking, before it heard the
  // admin that had named it meanwhile, and sent it its held message).
  const hb = core.s.params.heartbeatMs;
  const heard = core.drops.lastSettleAt !== null && now - core.drops.lastSettleAt <= 2 * hb;
  core.drops.lastSettleAt = now;
  if (!heard) {
    for (const x of core.drops.members) {
      const r = core.s.roster[x];
      if (r?.dropAt && r.dropAt.at < now + DROP_AFTER_HEARTBEATS * hb) setRoster(core, x, { ...r, dropAt: { ...r.dropAt, at: now + DROP_AFTER_HEARTBEATS * hb } });
    }
  }
  if (core.drops.kept.length > 0) {
    const grace = core.s.params.graceMs;
    core.drops.kept = core.drops.kept.filter((k) => now - k.at <= grace && core.drops.members.has(k.from));
  }
  if (core.drops.members.size === 0) return;
  const due: MemberKey[] = [];
  let by: MemberKey | undefined;
  for (const x of core.drops.members) {
    const r = core.s.roster[x];
    const p = r?.dropAt;
    if (!p || r.state !== 'excluded' || !r.blockedBy || hasStandingSupporter(core, r.blockedBy)) {
      core.drops.members.delete(x);
      if (r && p) {
        const { dropAt: _d, ...rest } = r;
        setRoster(core, x, rest);
      }
      continue;
    }
    if (now < p.at) continue;
    core.drops.members.delete(x);
    due.push(x);
    by = p.by;
    tellVoided(core, x, p.by);
  }
  if (due.length > 0) reinstate(core, due, by!, now);
}

/**
 * X is a member again here: X itself may have taken the void exclusion and be waiting, silent,
 * for a table that voids it (exclusion-contest.ts), which it cannot fetch. The newest table of
 * the deciding admin that does not name X goes to it, header only (no key), once per block
 * dropped here. Review 24: X cut off during the race never heard it and stayed excluded in its
 * own eyes while every other member took it back. Review 25: sent when the ground was lost,
 * before the wait, it showed a member whose exclusion then stood (an admin named it during the
 * wait) the header of a later table, and made its shadow resume on a void the group had undone.
 */
function tellVoided(core: EngineCore, x: MemberKey, by: MemberKey): void {
  let voiding: TableState | undefined;
  for (const t of core.tables.values()) {
    if (t.header.excluder !== by || t.header.blocklist.includes(x) || t.header.targets.includes(x)) continue;
    if (!voiding || t.header.newVersion > voiding.header.newVersion) voiding = t;
  }
  if (voiding && relayable(core, voiding)) unicastHeader(core, x, voiding);
}

/**
 * For an Admit (wire 4): the ground of every block this member holds that may still be dropped
 * (a member blocked while a member, with its supporters, and the wait when one runs). A joiner
 * took the blocklist without it and never dropped a block its admitter dropped later (review 20).
 */
export function blockGrounds(core: EngineCore): BlockGround[] {
  if (core.s.params.policy.exclude !== 'admins') return [];
  const out: BlockGround[] = [];
  for (const key of core.s.blocklist) {
    const r = core.s.roster[key];
    if (r?.state !== 'excluded' || !r.blockedBy || r.blockedAtVersion === undefined) continue;
    out.push({ key, name: r.name, admittedAt: r.admittedAt, blockedAtVersion: r.blockedAtVersion, blockedBy: r.blockedBy.filter((k) => k !== MANY).slice(0, MAX_SUPPORTERS), many: r.blockedBy.includes(MANY), dropBy: r.dropAt?.by ?? null });
  }
  return out;
}

/**
 * At a joiner that may not exclude (onAdmit): the admitter's grounds for the blocks it handed
 * over, so the rules above apply here as at the admitter; a block whose wait runs there waits
 * here from now. Taken on the admitter's word, as its blocklist is: an admitter that lied could
 * as well have left the block out.
 */
export function takeBlockGrounds(core: EngineCore, grounds: readonly BlockGround[], listed: readonly MemberKey[], blocklist: readonly MemberKey[], now: number): void {
  if (core.s.params.policy.exclude !== 'admins') return;
  // An admin the admitter blocks but A5 does not let it block here is a member here until a table
  // excludes it: with no roster entry, the table that did took it as a key that never was a
  // member, with no supporters, and the block never dropped when the group dropped it (a join
  // through a non-admin during two admins' race blocked the reinstated admin for good, 21 of 54).
  for (const g of grounds) {
    if (g.key !== core.self && listed.includes(g.key) && !blocklist.includes(g.key) && !core.s.roster[g.key]) setRoster(core, g.key, { name: g.name, admittedAt: g.admittedAt, state: 'member' });
  }
  if (mayOwnTek(core, core.self)) return;
  for (const g of grounds) {
    if (g.key === core.self || !blocklist.includes(g.key)) continue;
    const blockedBy = g.many ? [...g.blockedBy, MANY] : g.blockedBy;
    const dropAt = g.dropBy !== null && !g.many ? { at: now + DROP_AFTER_HEARTBEATS * core.s.params.heartbeatMs, by: g.dropBy } : undefined;
    setRoster(core, g.key, { name: g.name, admittedAt: g.admittedAt, state: 'excluded', blockedAtVersion: g.blockedAtVersion, blockedBy, ...(dropAt ? { dropAt } : {}) });
    if (dropAt) core.drops.members.add(g.key);
  }
}

/** Data packets kept from one member whose block waits to be dropped, and from all. */
const KEPT_PER_SENDER = 32;
/** Of them, under a TEK this member lacks (not checkable here). */
const KEPT_UNKNOWN_PER_SENDER = 8;
const KEPT_MAX = 128;

/**
 * Data from a member whose block waits to be dropped (`dropAt`) is refused like any blocked
 * member's, but kept: read if the block is dropped, forgotten if it stands or after the grace
 * window (review 20: what the reinstated member sent during the wait was lost to this camp).
 */
export function keepFromPendingDrop(core: EngineCore, from: MemberKey, msg: DataMessage, now: number): void {
  if (!core.s.roster[from]?.dropAt || !core.s.blocklist.includes(from)) return;
  // Only a packet with the sender's own header, once per nonce, that opens under a TEK held here
  // or names one this member lacks (the sender's camp's, as D1 keeps them), each kind with its
  // own budget: a catch-up server names each packet's author, and 32 junk packets "from" it
  // pushed its real ones out (review 21); junk under made-up TEKs now fills only its own.
  // What a catch-up server brings counts against the server's share, and is kept by its bytes:
  // an insider holds the TEK, so its packets in the author's name open here too (review 44).
  if (!equalBytes(msg.senderId, Uint8Array.from(pidOf(core, from)))) return;
  const opened = openData(core, msg).pt;
  const opens = opened instanceof Uint8Array;
  if (!opens && opened !== 'unknown') return;
  const via = core.inputRelay;
  let sameKind = 0;
  for (const k of core.drops.kept) {
    if (k.from === from && (via === null && k.via === null ? equalBytes(k.msg.nonce, msg.nonce) : samePacket(k.msg, msg))) return;
    if (k.opens === opens && (via === null ? k.from === from && k.via === null : k.via === via)) sameKind++;
  }
  if (sameKind >= (opens ? KEPT_PER_SENDER : KEPT_UNKNOWN_PER_SENDER)) return;
  core.drops.kept.push({ from, msg, at: now, opens, via });
  if (core.drops.kept.length > KEPT_MAX) core.drops.kept.shift();
}

function reinstate(core: EngineCore, members: readonly MemberKey[], by: MemberKey, now: number): void {
  const drop = new Set(members);
  // A new array: blockedSet's cache is keyed on the array and its length.
  core.s.blocklist = core.s.blocklist.filter((b) => !drop.has(b));
  core.blockedTags = null;
  for (const x of members) {
    const { blockedAtVersion: _v, blockedBy: _b, excludedBy: _e, dropAt: _d, ...rest } = core.s.roster[x]!;
    setRoster(core, x, { ...rest, state: 'member' });
    core.excludedMembers.delete(x);
    core.stillSending.delete(x);
    core.reExcluded.delete(x);
    core.toldExcluded.delete(x);
    core.contested.delete(x);
  }
  emit(core, { type: 'member-reinstated', members: [...members], by, at: now });
  addLog(core, now, 'merge', `${members.map(short).join(', ')} no longer excluded: every admin whose table excluded them is excluded here, and ${short(by)}, a current admin, does not name them`);
  // Data held while the TEK did not cover the block goes out now (review 20: held for good when no TEK change followed).
  flushHeldOutgoing(core, now);
  const kept = core.drops.kept.filter((k) => drop.has(k.from));
  core.drops.kept = core.drops.kept.filter((k) => !drop.has(k.from));
  const input = core.inputRelay;
  for (const k of kept) {
    // Read as it came: a served copy keeps its server (data.ts: seen by its bytes, no revision taken).
    core.inputRelay = k.via;
    try {
      onData(core, k.from, k.msg, now);
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) throw err;
      reject(core, k.from, err.reason, err.message, now);
    } finally {
      core.inputRelay = input;
    }
  }
}
