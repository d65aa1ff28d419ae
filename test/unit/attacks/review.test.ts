// Red-team review of the issue 14 hardening (gate.ts, authorization.ts, the rooms;
// docs/protocol.md §12). Each test asserts the SECURE outcome. The first nine were holes
// in the first hardening (they were `todo` until fixed); the rest are regression tests
// for attacks that were already refused. Attackers speak the wire only (forge.ts); where the
// harm is invisible through the public API (transient maps), the test peeks at the
// engine's core and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../../app/core/engine.js';
import { MsgType, decodeMessage, encodeTableHeader, dataAad, type Message } from '../../../app/core/wire.js';
import { concat, utf8 } from '../../../app/core/bytes.js';
import { dataKey, wrapKey } from '../../../app/core/keys.js';
import { decodeState } from '../../../app/core/state.js';
import type { MemberKey, Transmit } from '../../../app/core/types.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import {
  Attacker,
  assertRejectedUnchanged,
  GROUP,
  PARAMS,
  commitTek,
  deps,
  drain,
  groupBytes,
  honestGroup,
  identity,
  meteredCrypto,
  tableId,
  tekOf,
  type Group,
  type Id,
} from './forge.js';

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);
const ZERO_NONCE = new Uint8Array(24);

type TableMsg = Extract<Message, { type: typeof MsgType.Table }>;
type DataMsg = Extract<Message, { type: typeof MsgType.Data }>;

/** KEK slot index of (symbol, value). */
function slotOf(g: Group, symbol: number, value: number): number {
  return 1 + symbol * g.params.V + value;
}

/** The KEK slots `member`'s participant ID selects, as `e` computes them. */
function slotsOfMember(g: Group, e: GroupEngine, member: MemberKey): number[] {
  return e.participantIdOf(member).map((v, s) => slotOf(g, s, v));
}

/** The version `e` holds for KEK `slot` (undefined: not held). */
function heldKekVersion(g: Group, e: GroupEngine, slot: number): { version: number; revision: number; creators: MemberKey[] } | undefined {
  const v = e.keyTable(g.net.now).slots.find((s) => s.held && s.slot.kind === 'kek' && slotOf(g, s.slot.symbol, s.slot.value) === slot);
  return v ? { version: v.version, revision: v.revision, creators: [...v.creators] } : undefined;
}

/** Table publications by `from` since log index `since`, decoded. */
function tablesPublished(g: Group, from: MemberKey, since = 0): TableMsg[] {
  return g.net.log
    .slice(since)
    .filter((s) => s.from === from && s.t.kind === 'publish' && s.t.topic === 'control' && g.net.opener.typeOf(s.t.bytes) === MsgType.Table)
    .map((s) => g.net.open(s.t.bytes) as TableMsg);
}

/** TEK' out of a table publication for someone who holds `kek` for `slot` at (version, revision); null if no entry opens. */
function openEntry(m: TableMsg, slot: number, kek: Uint8Array): Uint8Array | null {
  const id = tableId(encodeTableHeader(m.header));
  for (const e of m.entries) {
    if (e.slot !== slot) continue;
    const k = wrapKey(nodeCrypto, kek, concat(id, utf8(`${e.slot}:${e.kekVersion}:${e.kekRevision}`)));
    const pt = nodeCrypto.open(k, ZERO_NONCE, e.sealed, LABEL('table-entry'));
    if (pt && nodeCrypto.sha256(pt).length === 32) {
      const c = commitTek(m.header.excluder, m.header.newVersion, m.header.createdAt, pt);
      if (c.every((b, i) => b === m.header.tekCommitment[i])) return pt;
    }
  }
  return null;
}

/** The group's member `name` restored onto a crypto provider that counts SHA-256 calls (as in dos.test.ts). */
function metered(g: Group, name: string): { victim: GroupEngine; budget: { left: number } } {
  const budget = { left: Infinity };
  const id: Id = g.ids[name]!;
  const victim = GroupEngine.restore(deps(`${name}-metered`, { crypto: meteredCrypto(budget) }), id, g.e[name]!.snapshot(), g.net.now);
  drain(victim);
  return { victim, budget };
}

/** Unicasts from `from` to `to` of one type in the network log since `since`. */
function unicastsLogged(g: Group, from: MemberKey, to: MemberKey, type: number, since = 0): Transmit[] {
  return g.net.log.slice(since).filter((s) => s.from === from && s.t.kind === 'unicast' && s.t.to === to && s.t.bytes[2] === type).map((s) => s.t);
}

// ============================================================================ (a)+(b) KEK poisoning

// Hole (rows H1, F2; breaks "keys come only from where they may" and the §7.1 coalition
// argument). A member M heartbeats a NEW version (v+1, creators [M]) of a KEK slot that
// M's own participant ID does not select but the victim's does. Nothing checks that the
// announcer could hold that slot: the victim records M as the slot's owner, schedules a
// fetch from M, and F2 accepts M's FetchReply because the version "was announced by its
// holder" (M itself). The victim now holds a KEK whose bytes M chose. When M is later
// excluded, the unusable set is computed from M's *ID* (its slots), which does not
// include the poisoned slot, so the excluder (here the victim) seals TEK' under the
// poisoned KEK, and M reads every TEK' after its exclusion; the replacement set never
// removes it either. Secure: a KEK version is learned and fetched only from a member
// whose ID selects that slot (and whose creators all select it); the victim keeps its
// own KEK and the excluded M cannot open any entry of the exclusion table.
test('member: a KEK version announced for a slot outside its own ID is not installed, and M reads no TEK\' after its exclusion', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const mId = g.ids.m!;
  const m = new Attacker(mId);
  g.net.engines.delete(mId.key); // from now on M acts only through crafted messages
  const victim = g.e.b!;
  const bKey = g.ids.b!.key;
  const mSlots = new Set(slotsOfMember(g, victim, mId.key));
  const slot = slotsOfMember(g, victim, bKey).find((s) => !mSlots.has(s));
  assert.ok(slot !== undefined, 'precondition: the victim has a KEK slot that M does not');
  const held = heldKekVersion(g, victim, slot);
  assert.ok(held, 'the victim holds that KEK');
  const forged = { slot, version: held.version + 1, revision: 0, creators: [mId.key] };
  victim.receive(mId.key, 'control', m.heartbeat({ sentAt: g.net.now + 1, keys: [forged] }), g.net.now);
  const since = g.net.log.length;
  g.net.run(g.net.now + g.params.fetchAfterMs + 2 * g.params.heartbeatMs);
  const asked = unicastsLogged(g, bKey, mId.key, MsgType.FetchRequest, since).length;
  const poison = m.bytes(32);
  if (asked > 0) victim.receive(mId.key, 'unicast', m.fetchReply(m.sealFor(bKey, 'fetch', forged, poison)), g.net.now);
  drain(victim);
  // The victim, honest, now excludes M.
  const before = g.net.log.length;
  victim.exclude([mId.key], g.net.now);
  g.net.settle();
  const readable = tablesPublished(g, bKey, before).map((t) => openEntry(t, slot, poison)).filter((x) => x !== null);
  assert.equal(readable.length, 0, 'the excluded M opens no entry of its own exclusion table');
  assert.equal(heldKekVersion(g, victim, slot)?.creators.includes(mId.key) ?? false, false, 'the victim holds no KEK version created by M for a slot M does not hold');
});

// ============================================================================ (a)+(b)+(c) fetched TEK past revision 0

// Hole (row F2 "unreadTable"; T1 "new version = base + 1, not older than current − 1").
// Under `any-member` a member M publishes a refresh table whose base is FAR ahead of the
// group (base v+50 → v+51), with no entries: nobody can read it, so the victim fetches
// TEK v+51 from M. M answers with a key of its choosing at revision 1: installFetched
// takes it because a table for that version is known but unread and the revision is past
// 0 (the "known gap"). Worse than the known gap says: the victim jumps 50 versions onto
// M's key, so when an honest admin then excludes M, that table (v → v+1) is rejected at
// the victim as `stale`: M is never blocked there and keeps reading everything the victim
// sends after its exclusion. Secure: a fetched TEK is installed only if it opens the
// commitment of a table whose base we hold (or is a revision step of a key we read);
// a table whose base is ahead of ours is never a reason to install a key; the victim
// follows the exclusion and M cannot open the victim's later data.
test('member: a fetched TEK for an unread table far ahead is not installed; the victim follows M\'s exclusion', () => {
  const g = honestGroup(['a', 'b', 'c', 'm']);
  const mId = g.ids.m!;
  const m = new Attacker(mId);
  g.net.engines.delete(mId.key);
  const victim = g.e.b!;
  const bKey = g.ids.b!.key;
  const cur = tekOf(victim);
  const t = m.table({ kind: 'refresh', targets: [], base: { version: cur.version + 50, creators: [mId.key] }, blocklist: victim.blocklist(), recipients: [], createdAt: g.net.now });
  victim.receive(mId.key, 'control', t.bytes, g.net.now);
  const since = g.net.log.length;
  g.net.run(g.net.now + g.params.fetchAfterMs + 2 * g.params.heartbeatMs);
  assert.ok(unicastsLogged(g, bKey, mId.key, MsgType.FetchRequest, since).length > 0, 'precondition: the victim asked M for the table\'s TEK');
  const k = m.bytes(32);
  const info = { slot: 0, version: cur.version + 51, revision: 1, creators: [mId.key] };
  victim.receive(mId.key, 'unicast', m.fetchReply(m.sealFor(bKey, 'fetch', info, k)), g.net.now);
  drain(victim);
  // An honest member excludes M; the victim then sends.
  g.e.a!.exclude([mId.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const before = g.net.log.length;
  victim.send(utf8('after M was excluded'), g.net.now);
  g.net.settle();
  const sent = g.net.log.slice(before).filter((s) => s.from === bKey && s.t.kind === 'publish' && s.t.bytes[2] === MsgType.Data);
  let mReads = 0;
  for (const s of sent) {
    const d = decodeMessage(groupBytes, 'data', s.t.bytes) as DataMsg;
    if (d.tekVersion !== info.version || d.revision !== info.revision) continue;
    if (nodeCrypto.open(dataKey(nodeCrypto, k), d.nonce, d.ciphertext, dataAad(groupBytes, d))) mReads++;
  }
  assert.equal(mReads, 0, 'M reads nothing the victim sends after M\'s exclusion');
  assert.ok(victim.isBlocked(mId.key), 'the victim follows M\'s exclusion');
  assert.equal(tekOf(victim).creators.includes(mId.key), false, 'the victim does not send under a TEK M made');
});

// ============================================================================ (e) hash bomb in replaced KEKs

// Hole (row T1 "at most 20,000 hash steps to read"; deriveReplacements is not bounded).
// Under `any-member`, a member M excludes one member T (authorized) and lists T's KEK
// slot that the victim shares with T as replaced at revision 2^32-1. The victim reads
// TEK' (here through a pairwise entry), applies the table, and deriveReplacements steps
// its KEK from its revision to 2^32-1 (≈ 4·10^9 SHA-256, hours of frozen event loop)
// before deriving the replacement. checkReplaced checks slots, not revisions.
// Secure: a replaced revision more than MAX_REVISION_JUMP past the one we hold (or past
// the directory's) is rejected before anything is applied, or the replacement is
// fetched instead of derived; one table costs a bounded number of hashes.
test('member: a table replacing a shared KEK at revision 2^32-1 costs a bounded number of hashes', () => {
  const g = honestGroup(['a', 'b', 'c', 'd', 'm']);
  const m = new Attacker(g.ids.m!);
  const bKey = g.ids.b!.key;
  const bSlots = new Set(slotsOfMember(g, g.e.b!, bKey));
  let target: MemberKey | undefined;
  let shared: number | undefined;
  for (const n of ['a', 'c', 'd']) {
    const s = slotsOfMember(g, g.e.b!, g.ids[n]!.key).find((x) => bSlots.has(x));
    if (s !== undefined) {
      target = g.ids[n]!.key;
      shared = s;
      break;
    }
  }
  assert.ok(target && shared !== undefined, 'precondition: some member shares a KEK slot with the victim');
  const { victim, budget } = metered(g, 'b');
  const kek = heldKekVersion(g, victim, shared)!;
  const t = m.table({
    targets: [target],
    base: tekOf(victim),
    blocklist: [...victim.blocklist(), target],
    recipients: [bKey],
    createdAt: g.net.now,
    replaced: [{ slot: shared, version: kek.version, revision: 2 ** 32 - 1 }],
  });
  let threw: unknown = null;
  budget.left = 200_000;
  try {
    victim.receive(m.key, 'control', t.bytes, g.net.now);
  } catch (err) {
    threw = err;
  } finally {
    budget.left = Infinity;
  }
  assert.equal(threw, null, `receive() of one table needed more than 200,000 hashes (${String(threw)})`);
});

// ============================================================================ sybils through KeyRequest

// Hole (rows M1, A7). M1 makes a MemberAdmitted carry a fresh certificate (admittedAt
// within the grace window), so that a member cannot add an identity "admitted at 0" and
// take over the fractional-key panel (the longest-standing members). But onKeyRequest
// adds any certified requester it does not know to the roster with the certificate's
// admittedAt, without that freshness check: M signs a certificate for its sybil with
// admittedAt = 0 and the sybil sends a KeyRequest to the TEK owner, which records it as a
// member admitted at 0 (and grants it keys). The entry is also local to the members the
// sybil asked (nobody announces it): the rosters, hence the panels, diverge.
// Secure: a KeyRequest never adds a roster entry with an admission time outside the
// grace window (better: the roster grows only through Admit / MemberAdmitted).
test('member: a sybil certified "admitted at 0" does not enter the roster through a KeyRequest', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const m = new Attacker(g.ids.m!);
  const sybil = new Attacker(identity('sybil-review'));
  const owner = g.e.a!;
  const now = g.net.now + 2 * g.params.graceMs; // the group has run for a while: 0 is long past
  owner.receive(sybil.key, 'unicast', sybil.keyRequest([0], m.certify(sybil.key, 0)), now);
  drain(owner);
  const roster = decodeState(owner.snapshot()).roster;
  const entry = roster[sybil.key];
  assert.ok(entry === undefined || Math.abs(now - entry.admittedAt) <= g.params.graceMs, `the sybil is in the roster admitted at ${entry?.admittedAt} (now ${now})`);
});

// ============================================================================ joiners

/** A joiner that asked `contacts` and whose request nobody answered yet (its messages dropped), restored from its snapshot. */
function restoredJoiner(g: Group, name: string): { id: Id; joiner: GroupEngine } {
  const id = identity(name);
  const first = GroupEngine.join(deps(name), id, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now });
  drain(first);
  const joiner = GroupEngine.restore(deps(`${name}-restored`), id, first.snapshot(), g.net.now);
  drain(joiner);
  return { id, joiner };
}

// Hole (rows H1, H3, A5; docs/protocol.md §8.3 says "the app creates every group at once,
// so an outsider who knows an ID can never pull a member into another instance"). The
// app saves a joining group's snapshot too (app/peer/state-file.ts); restoreState turns a
// `joining` state into `listening`, i.e. a listen-first creator without a creation
// window. In that state ANY heartbeat that names a TEK makes it ask its sender for
// admission, and A5 then accepts the sender's Admit because it was asked: an outsider
// with the group ID moves a restarted joiner into its own instance and installs its TEK.
// Secure: a restored joiner resumes joining through its own contacts (and its credential);
// a stranger's heartbeat is rejected and its Admit installs nothing.
test('outsider: a joiner restored mid-join does not adopt the group of whoever heartbeats first', () => {
  const g = honestGroup(['a', 'b']);
  const { id, joiner } = restoredJoiner(g, 'newcomer-restored');
  const mallory = new Attacker(identity('mallory-review'));
  const tek = { slot: 0, version: 9, revision: 0, creators: [mallory.key] };
  joiner.receive(mallory.key, 'control', mallory.heartbeat({ sentAt: g.net.now, keys: [tek] }), g.net.now);
  drain(joiner);
  const admit = mallory.admit({
    victim: id.key,
    params: g.params,
    roster: [{ key: mallory.key, name: 'mallory', admittedAt: 0 }],
    owners: [{ ...tek, owner: mallory.key }],
    grants: [mallory.sealFor(id.key, 'grant', tek, mallory.bytes(32))],
    admittedAt: g.net.now,
  });
  joiner.receive(mallory.key, 'unicast', admit, g.net.now);
  drain(joiner);
  assert.notDeepEqual(joiner.tekInfo()?.creators, [mallory.key], 'the joiner does not hold the outsider\'s TEK');
  assert.notEqual(joiner.state(), 'member', 'the joiner is not a member of the outsider\'s instance');
});

// Honest behaviour too strict / lost (same cause). A joiner restarted before its admission
// came back is restored as a listen-first creator: if nobody heartbeats within listenMs it
// CREATES a second instance of the group under the same ID, and since restored engines
// have no creation-race window (H3) that split never heals.
// Secure: a restored joiner keeps joining (retries its contacts) and never creates.
test('honest: a joiner restored mid-join never creates a second instance of the group', () => {
  const g = honestGroup(['a', 'b']);
  const { id, joiner } = restoredJoiner(g, 'newcomer-split');
  g.net.add(id, joiner);
  g.net.offline.add(g.ids.a!.key); // its contact is away for a moment
  g.net.offline.add(g.ids.b!.key);
  g.net.run(g.net.now + g.params.listenMs + 2 * g.params.heartbeatMs);
  const created = (g.net.events.get(id.key) ?? []).some((e) => e.type === 'group-created');
  assert.equal(created, false, 'the restored joiner did not create its own group');
});

// Honest behaviour too strict (row A7: "the certificate is always checked (admitter a
// member, not blocked)"). A newcomer N is admitted by B, which does not own the TEK; B
// leaves right after (before its batched MemberAdmitted went out). N's KeyRequests to the
// TEK owner carry B's certificate; B is now `left` (then blocked), so every holder refuses
// them forever: N never gets the TEK and stays `joining` with a certificate, so it never
// asks for admission again either (and a member it is unknown to answers its fetches with
// a JoinRefused that A6 makes it ignore). Secure: a certificate from an admitter that was
// a member when it signed still counts (e.g. admittedAt before the admitter's departure),
// or a joiner whose requests are refused starts its admission over with other contacts;
// either way N becomes a member within a bounded time.
test('honest: a newcomer whose admitter leaves right after admitting it still becomes a member', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const n = identity('newcomer-orphan');
  g.gate.allowed.add(n.key);
  const joiner = GroupEngine.join(deps(n.name), n, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.b!.key, g.ids.a!.key], now: g.net.now });
  const req = drain(joiner).out.find((t) => t.kind === 'unicast' && t.to === g.ids.b!.key);
  assert.ok(req);
  g.e.b!.receive(n.key, 'unicast', req.bytes, g.net.now); // b admits n (its Admit is in b's outbox)
  g.e.b!.leave(g.net.now); // and leaves at once
  g.net.add(n, joiner);
  g.net.settle();
  g.net.run(g.net.now + 40 * g.params.heartbeatMs);
  assert.equal(joiner.state(), 'member', 'the newcomer became a member');
});

// ============================================================================ (e) tables that never expire

/** The engine's transient table map (not visible through the public API). */
function tableCount(e: GroupEngine): number {
  return (e as unknown as { core: { tables: Map<string, unknown> } }).core.tables.size;
}

// Hole (rows T1, F1; "bounds everywhere: per-sender state"). expireTick drops only
// APPLIED tables; a table that is never read (no entries) stays in `core.tables` forever,
// and while the group stays on the same TEK version each one re-sends a FetchRequest to
// its author every fetchAfterMs. Under `any-member`, a member M publishes N distinct
// refresh tables on the current base (authorized; each costs one signature): the victim
// keeps N tables and sends N FetchRequests per fetchAfterMs for as long as the TEK does
// not move (memory and traffic linear in what M sends, at no cost to M). Honest losing
// siblings (undone tables) leak the same way.
// Secure: tables not applied are dropped after the grace window (and at most a few per
// excluder are kept); fetches for them stop.
test('member: unread tables do not accumulate past the grace window', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const mId = g.ids.m!;
  const m = new Attacker(mId);
  g.net.engines.delete(mId.key);
  const victim = g.e.b!;
  const base = tableCount(victim);
  const N = 50;
  for (let i = 0; i < N; i++) {
    const t = m.table({ kind: 'refresh', targets: [], base: tekOf(victim), blocklist: victim.blocklist(), recipients: [], createdAt: g.net.now + i });
    victim.receive(mId.key, 'control', t.bytes, g.net.now);
  }
  drain(victim);
  g.net.run(g.net.now + g.params.graceMs + 4 * g.params.fetchAfterMs, 500);
  const since = g.net.log.length;
  g.net.run(g.net.now + 4 * g.params.fetchAfterMs, 500);
  const requests = unicastsLogged(g, g.ids.b!.key, mId.key, MsgType.FetchRequest, since).length;
  assert.ok(tableCount(victim) <= base + 4, `the victim still keeps ${tableCount(victim) - base} of M's unread tables after the grace window`);
  assert.ok(requests <= 4, `the victim still sends ${requests} FetchRequests to M for them`);
});

// ============================================================================ (c) an admitter's blocklist

// Hole (row A5; T1 "under `admins` only an admin's header blocklist is merged"). Under
// the `admins` policy an ordinary member M may admit (the admission hook is local), and
// the Admit it sends carries a roster and a blocklist the newcomer adopts unchecked. M
// lists the admin as blocked: the newcomer now rejects everything from the admin,
// including its exclusion tables (`blocked`), i.e. a non-admin changed a member's
// blocklist and put it outside the admins' control. Secure: a newcomer takes a
// blocklist entry only with evidence (the signed header of the authorized table that
// blocked it), or at least never blocks an admin / a member it then hears from;
// under `admins`, a non-admin's Admit cannot block anyone.
test('admins policy: a non-admin admitter cannot block the admin at its newcomer', () => {
  const aId = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [aId.key] } };
  const g = honestGroup(['a', 'b', 'm'], { params });
  const mId = g.ids.m!;
  const m = new Attacker(mId);
  const n = identity('newcomer-of-m');
  const joiner = GroupEngine.join(deps(n.name), n, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [mId.key], now: g.net.now });
  drain(joiner);
  const victimTek = { ...tekOf(g.e.b!), revision: tekOf(g.e.b!).revision + 1 };
  const admit = m.admit({
    victim: n.key,
    params,
    roster: [mId.key, g.ids.b!.key].map((key) => ({ key, name: '', admittedAt: 0 })),
    blocklist: [aId.key],
    grants: [m.sealFor(n.key, 'grant', victimTek, m.bytes(32))],
    admittedAt: g.net.now,
  });
  joiner.receive(mId.key, 'unicast', admit, g.net.now);
  drain(joiner);
  assert.equal(joiner.isBlocked(aId.key), false, 'the newcomer does not block the admin on a non-admin\'s word');
});

// ============================================================================ regressions (refused today)

// Checked, holds (row T1, (h) replays): the excluder's own signed Table, replayed after it
// was applied (and after the group moved on by another exclusion), changes nothing.
test('replay: an applied exclusion table re-injected later is rejected and changes nothing', () => {
  const g = honestGroup(['a', 'b', 'c', 'x', 'y']);
  const since = g.net.log.length;
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const first = g.net.log.slice(since).find((s) => s.from === g.ids.a!.key && s.t.kind === 'publish' && s.t.topic === 'control' && g.net.opener.typeOf(s.t.bytes) === MsgType.Table);
  assert.ok(first);
  g.e.a!.exclude([g.ids.y!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  for (const when of [g.net.now, g.net.now + 10 * g.params.graceMs]) {
    assertRejectedUnchanged(g.e.b!, g.ids.a!.key, () => g.e.b!.receive(g.ids.a!.key, 'control', first.t.bytes, when), `old table replayed at ${when}`);
  }
});

// Checked, holds (row F2): a member's FetchReply that answers no request of ours is
// rejected, even for a TEK version it announced itself; and a heartbeat that is not newer
// than the sender's last one is a replay.
test('member: an unsolicited FetchReply and a replayed heartbeat change nothing', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const m = new Attacker(g.ids.m!);
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const info = { ...cur, revision: cur.revision + 1 };
  const reply = m.fetchReply(m.sealFor(g.ids.b!.key, 'fetch', info, m.bytes(32)));
  assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'unicast', reply, g.net.now), 'unsolicited FetchReply');
  const hb = m.heartbeat({ sentAt: g.net.now + 5, keys: [] });
  victim.receive(m.key, 'control', hb, g.net.now);
  drain(victim);
  assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', hb, g.net.now), 'replayed heartbeat');
});

// Checked, holds (rows A7, D1): an excluded member keeps its genuine admission
// certificate, but a KeyRequest with it gets no key, and its data is refused.
test('excluded: a KeyRequest with its genuine old certificate gets no key', () => {
  const g = honestGroup(['a', 'b', 'x']);
  const xId = g.ids.x!;
  const x = new Attacker(xId);
  const cert = x.certify(xId.key, 0); // any certificate it could hold; the admitter check is moot once blocked
  g.e.a!.exclude([xId.key], g.net.now);
  g.net.settle();
  g.net.engines.delete(xId.key);
  const victim = g.e.a!;
  const got = assertRejectedUnchanged(victim, xId.key, () => victim.receive(xId.key, 'unicast', x.keyRequest([0], cert), g.net.now), 'KeyRequest from an excluded member');
  assert.equal(got.out.filter((t) => t.kind === 'unicast' && t.to === xId.key && (t.bytes[2] === MsgType.KeyGrant || t.bytes[2] === MsgType.FetchReply)).length, 0);
  assertRejectedUnchanged(victim, xId.key, () => victim.receive(xId.key, 'data', x.data({ params: g.params, tekVersion: tekOf(victim).version, sentAt: g.net.now }), g.net.now), 'data from an excluded member');
});
