/**
 * @module core/engine/authorization
 * Who may say what: the rows of the authorization table (docs/protocol.md §12) that
 * more than one room needs. The gate (gate.ts) applies the sender row of every message
 * before its room sees it; the rooms apply the message-specific rows, citing their IDs.
 *
 * Invariants: every function here only reads state and throws a RemoteProtocolError
 * (a typed rejection) when a rule is broken; none mutates anything, so a message that
 * fails here changes nothing. Seeds: 003 [0067] (admission control), [0072]–[0075]
 * (who excludes); issue 3 §5 (policies); issue 14.
 */
import type { MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { TEK_SLOT } from '../params.js';
import { MsgType, type KeyInfo, type Message, type TableHeader } from '../wire.js';
import { sameCreators, sortedKeys } from '../state.js';
import { MAX_REVISION_JUMP, heldKey, pidOf, short, type EngineCore } from './context.js';
import { leaveBody } from './sealing.js';
import { fromHex } from '../bytes.js';

/** A current member: in the roster as a member and not blocked. */
export function isMember(core: EngineCore, key: MemberKey): boolean {
  return core.s.roster[key]?.state === 'member' && !core.s.blocklist.includes(key);
}

/**
 * The sender row of each message type (§12, column "who"). Messages a newcomer or a
 * joiner legitimately gets from peers it does not know as members yet are checked by
 * their room instead (JoinRequest: the admission policy; Admit, JoinRefused: the contact
 * asked; KeyRequest: the certificate; Data: the TEK itself).
 */
export function authorizeSender(core: EngineCore, from: MemberKey, m: Message): void {
  // An excluded member's heartbeat goes on to its room, which answers it with the signed
  // header of its exclusion (003 [0075]) and then rejects it; everything else stops here.
  // The detail text is built only for a rejection: this runs for every message.
  if (m.type !== MsgType.Heartbeat && core.s.blocklist.includes(from)) throw new RemoteProtocolError('blocked', `${typeName(m)} from an excluded member`);
  switch (m.type) {
    case MsgType.Revision:
    case MsgType.MemberAdmitted:
    case MsgType.FetchRequest:
    case MsgType.FetchReply:
    case MsgType.Leave:
    case MsgType.RosterRequest:
      // R1, M1, F1, F2, L1, M2: members only (a joiner ignores what it cannot check yet).
      // M3 (RosterReply) is the asked peer's, member or not: checked in roster-sync.ts.
      if (core.s.state === 'member' && core.s.roster[from]?.state !== 'member') throw new RemoteProtocolError('not-member', `${typeName(m)} from a non-member`);
      return;
    default:
      return;
  }
}

/**
 * T1 for a Table sent by unicast on its own (a fetch reply's table is F2's): only a current
 * member sends one, or it is this member's own exclusion notice (003 [0075], tellExcluded),
 * which anyone may pass on: it only says what its authorized excluder signed. Otherwise a
 * non-member forwarding a genuine table became a "publisher" of it, the first member asked
 * for its TEK′, and could add unsigned entries to it (review 6, lead 1).
 */
export function authorizeUnicastTable(core: EngineCore, from: MemberKey, blocklist: readonly MemberKey[]): void {
  if (core.s.state !== 'member' || isMember(core, from) || blocklist.includes(core.self)) return;
  throw new RemoteProtocolError('not-member', 'table by unicast from a non-member');
}

/** H1, R1, M1: no key may jump more revision steps than MAX_REVISION_JUMP in one message (each step is a hash). */
export function checkRevisionJump(core: EngineCore, k: KeyInfo): void {
  const base = heldKey(core, k.slot) ?? core.s.slotDir[String(k.slot)];
  // Cheapest test first (this runs for every key of every heartbeat): a jump within bounds passes whoever made the key.
  if (!base || base.version !== k.version || k.revision - base.revision <= MAX_REVISION_JUMP) return;
  if (!sameCreators(base.creators, sortedKeys(k.creators))) return;
  throw new RemoteProtocolError('invalid', `revision ${k.revision} is more than ${MAX_REVISION_JUMP} steps past ${base.revision}`);
}

/** H2: who may own (heartbeat, step, refresh) the TEK: anyone under `any-member`, only admins under `admins`. */
export function mayOwnTek(core: EngineCore, key: MemberKey): boolean {
  const p = core.s.params.policy;
  return p.exclude === 'any-member' || p.admins.includes(key);
}

/**
 * The header carries a Leave signed by `t`, a member of this roster, after its admission (L1):
 * only the first Leave naming `t` is tried, one signature check per member asked about (review
 * 23: every Leave naming it was tried, for every time a blocklist named it, and one table cost
 * a receiver thousands of checks, again on every replay).
 */
export function carriesLeaveOf(core: EngineCore, h: TableHeader, t: MemberKey): boolean {
  const r = core.s.roster[t];
  const l = h.leaves?.find((x) => x.member === t);
  if (!l || r?.state !== 'member' || l.sentAt <= r.admittedAt) return false;
  return core.crypto.ed25519Verify(fromHex(t), leaveBody(core, t, l.sentAt), l.signature);
}

/**
 * T1: who may change keys by a table (issue 3 §5, issue 14). The excluder is a current
 * member, or a member that left whose table builds on the TEK it knew when it left (made
 * just before its Leave); an excluded identity authors nothing, "concurrent" or not.
 * Exclusions follow the policy; under `admins` a non-admin may exclude only members that
 * announced their own leave (so a leave rekeys with no admin online). Refreshes: any
 * member under `any-member`, admins under `admins`. A header never lists its own excluder
 * as blocked, and names a panel only in a group that runs one: at most panelSize distinct
 * current members, its excluder among them.
 */
export function authorizeTable(core: EngineCore, h: TableHeader): void {
  const excluder = core.s.roster[h.excluder];
  ensure(!core.s.blocklist.includes(h.excluder), 'blocked', 'table from an excluded member');
  const leftJustBefore = excluder?.state === 'left' && excluder.leftAtVersion !== undefined && h.newVersion <= excluder.leftAtVersion + 1;
  ensure(excluder && (excluder.state === 'member' || leftJustBefore), 'not-member', excluder?.state === 'left' ? 'table from a member that left' : 'table from a non-member');
  ensure(!h.blocklist.includes(h.excluder), 'invalid', 'a table cannot list its own excluder as blocked');
  const p = core.s.params.policy;
  const admin = p.exclude === 'any-member' || p.admins.includes(h.excluder);
  if (h.kind === 'exclude') {
    ensure(h.targets.length > 0, 'invalid', 'exclusion without targets');
    ensure(!h.targets.includes(h.excluder), 'invalid', 'a member cannot exclude itself');
    // A leaver this member saw leave, or whose own signed Leave the header carries.
    const proven = (t: MemberKey) => carriesLeaveOf(core, h, t);
    // A proven Leave counts only for a member of this roster: a key that never was one, "leaving" by
    // its own signature, let a non-admin block it at one member that no admin ever heard of, whose
    // TEK then never covered its blocklist (review 19).
    const onlyLeavers = admin || h.targets.every((t) => core.s.roster[t]?.state === 'left' || (core.s.roster[t]?.state === 'member' && proven(t)));
    ensure(admin || onlyLeavers, 'not-authorized', `${short(h.excluder)} is not an admin and the group lets only admins exclude`);
  } else {
    ensure(h.targets.length === 0, 'invalid', 'a refresh excludes nobody');
    ensure(admin, 'not-authorized', `${short(h.excluder)} may not refresh the group key under this policy`);
  }
  if (h.panel) {
    ensure(core.s.params.panelSize >= 4 && core.panel !== undefined, 'invalid', 'a panel origin in a group that runs no panel');
    // A panel is at most panelSize members, its table signed by one of them (004 section V);
    // a wider list would make every losing excluder hand its header to each (§8.2, review 12).
    const listed = new Set(h.panel.members);
    ensure(h.panel.members.length <= core.s.params.panelSize && listed.size === h.panel.members.length, 'invalid', `a panel of ${h.panel.members.length} listed (${listed.size} distinct) where the panel has at most ${core.s.params.panelSize}`);
    ensure(listed.has(h.excluder), 'invalid', 'a panel table signed by a member off its panel');
    for (const m of h.panel.members) ensure(m === core.self || isMember(core, m), 'invalid', `panel member ${short(m)} is not a member`);
  }
}

/**
 * T1 (review 7): an exclusion the table's own base TEK is known here to cover, which the table's
 * blocklist omits; null if none. The base is known by the table that made it, applied here (so
 * it made a TEK this member held); its exclusions are those every member that holds the base
 * learned with it: applyBlocklist takes a table's targets, and its whole blocklist when its
 * excluder is trusted. A member holds a TEK only with its table (installed from it, or fetched
 * with it: F2), so an honest table on that base lists them all; one that omits any is planted
 * (it would hold every member's data until a reseal, and again after each reseal, §8.2).
 */
export function omittedBaseExclusion(core: EngineCore, h: TableHeader): MemberKey | null {
  const baseCreators = sortedKeys(h.base.creators);
  let listed: Set<MemberKey> | null = null;
  for (const o of core.tables.values()) {
    const b = o.header;
    if (!o.applied || b.newVersion !== h.base.version || !sameCreators(b.panel ? sortedKeys(b.panel.members) : [b.excluder], baseCreators)) continue;
    const known = mayOwnTek(core, b.excluder) ? [...b.targets, ...b.blocklist] : b.targets;
    const has = (listed ??= new Set(h.blocklist));
    const missing = known.find((x) => !has.has(x));
    if (missing !== undefined) return missing;
  }
  return null;
}

/** Whether `key`'s participant ID selects `slot` (everyone holds the TEK; a KEK only its W holders by ID, 003 [0054]). */
export function selects(core: EngineCore, key: MemberKey, slot: number): boolean {
  if (slot === TEK_SLOT) return true;
  const V = core.s.params.V;
  return pidOf(core, key)[Math.floor((slot - 1) / V)] === (slot - 1) % V;
}

/**
 * H2, H4: the holder a peer names for a key, kept only if it may hold it: a KEK's holder
 * is a member whose ID selects the slot; under `admins`, the TEK's holder is an admin.
 */
export function claimedOwner(core: EngineCore, slot: number, owner: MemberKey | null): MemberKey | null {
  if (owner === null) return null;
  if (slot === TEK_SLOT) return mayOwnTek(core, owner) ? owner : null;
  return selects(core, owner, slot) ? owner : null;
}

/** H1 for the TEK entry of a heartbeat: under `admins`, only an admin announces itself as the TEK's holder. */
export function authorizeHeldKeys(core: EngineCore, from: MemberKey, keys: readonly KeyInfo[]): void {
  for (const k of keys) {
    checkRevisionJump(core, k);
    // The detail text is built only for a rejection: this runs for every key of every heartbeat.
    if (k.slot === TEK_SLOT) {
      if (!mayOwnTek(core, from)) throw new RemoteProtocolError('not-authorized', `${short(from)} is not an admin and may not hold the TEK under this policy`);
    }
    // H4: only a member whose ID selects a KEK slot can hold that KEK, so only it announces one.
    else if (!selects(core, from, k.slot)) throw new RemoteProtocolError('not-authorized', `${short(from)} announces a KEK slot its ID does not select`);
  }
}

function typeName(m: Message): string {
  const name = Object.entries(MsgType).find(([, v]) => v === m.type)?.[0] ?? 'message';
  return name;
}
