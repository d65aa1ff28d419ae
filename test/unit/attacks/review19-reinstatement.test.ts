// Review 19 (uncommitted change "admin races": exclusion.ts applyBlocklist + admin-races.ts
// noteSupporters/dropVoidBlocks). Under `admins`, a block is now DROPPED (the member is back to
// 'member', event `member-reinstated`) when a current admin's table newly blocks every member
// whose table named it (`blockedBy`) without naming it. Nothing checks that the dropped block
// and the admin's table were concurrent, nor that the dropped key was ever a member:
//
// 1. A sleeper key (non-admin insider). T1 lets a non-admin exclude a member "whose own signed
//    Leave the header carries", and checks only the signature: any fresh key K the insider n
//    made can sign its own Leave. n unicasts to a non-admin victim b a table on an old TEK that
//    excludes K (b takes an old table's blocklist: K is blocked at b, roster entry created,
//    blockedBy = [n]); the admins never see it. When an admin later excludes n (legitimately),
//    b drops K's block: K, never admitted, is a 'member' at b, and b answers K's FetchRequest
//    with the TEK that was made to exclude n. n reads the group after its exclusion.
// 2. A stale admin table. A current admin's exclusion of admin m0 made on a TEK from before m0
//    excluded x (an admin cut off through two of m0's exclusions makes one; so can a malicious
//    admin) reinstates x at every member, the admin a included; every later table (a's own
//    re-exclusion of m0) omits x, which the current TEK's base table names, so it is refused
//    as `invalid` (omittedBaseExclusion) and the group holds its outgoing data for good; and x,
//    keeping its key, fetches the TEK that was made to exclude it. At HEAD (before the change)
//    x stays excluded, a reseals, b's message goes out.
// Secure: a block is never dropped for a key this member never saw as a member, nor for a
// table that is not concurrent with the block it drops; a key blocked here is never handed a
// TEK. Both tests fail on the change as written.
//
// 3. (Older than the change, the enabler of 1) the same plant alone makes the victim hold its
//    outgoing data until an admin happens to exclude n: b blocks K, its TEK does not cover K,
//    b may not reseal and no admin knows of K. Fails at HEAD as well.
//
// Attacks that held (passing): an excluded ex-admin's table excluding the admin that excluded
// it, alone or relayed by a non-admin insider, reinstates nobody (T1 refuses a blocked author
// before applyBlocklist); a non-admin insider holding an excluded ex-admin's key can only ADD
// itself as a supporter (its table "excludes" the ex-admin by its signed Leave), never remove
// one; under `any-member` nothing records `blockedBy` and nothing is reinstated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, commitTek, groupBytes, honestGroup, identity, tekOf, type Group, type Id } from './forge.js';
import { fetchTekAs, tekKeyOf } from './tek-leak.js';
import { concat, fromHex, toHex, utf8 } from '../../../app/core/bytes.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { MsgType, encodeMessage, encodeTableHeader, type TableHeader } from '../../../app/core/wire.js';
import type { MemberKey } from '../../../app/core/types.js';

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);

/** `id`'s own signed Leave, as a member signs one (sealing.ts leaveBody). */
function leaveSignature(id: Id, sentAt: number): Uint8Array {
  return nodeCrypto.ed25519Sign(id.seed, concat(LABEL('leave'), groupBytes, fromHex(id.key), utf8(String(sentAt))));
}

/** A header-only exclusion table by `by` of `targets`, carrying each target's own signed Leave (a non-admin's exclusion of leavers, T1). */
function exclusionWithLeaves(by: Id, o: { targets: Id[]; base: { version: number; creators: MemberKey[] }; createdAt: number }): Uint8Array {
  const header: TableHeader = {
    kind: 'exclude',
    excluder: by.key,
    targets: o.targets.map((t) => t.key).sort(),
    base: o.base,
    newVersion: o.base.version + 1,
    createdAt: o.createdAt,
    blocklist: o.targets.map((t) => t.key).sort(),
    tekCommitment: commitTek(by.key, o.base.version + 1, o.createdAt, new Uint8Array(32).fill(7)),
    panel: null,
    replaced: [],
    plan: [],
    leaves: o.targets.map((t) => ({ member: t.key, sentAt: o.createdAt, signature: leaveSignature(t, o.createdAt) })),
  };
  const headerSignature = nodeCrypto.ed25519Sign(by.seed, concat(LABEL('table'), groupBytes, encodeTableHeader(header)));
  return encodeMessage(groupBytes, { type: MsgType.Table, header, headerSignature, entries: [], pairwise: [] });
}


function dataPublished(g: Group, from: string, since: number): number {
  return g.net.log.slice(since).filter((s) => s.from === g.ids[from]!.key && s.t.kind === 'publish' && s.t.topic === 'data').length;
}

/** A group under `admins` (admin a only), its TEK moved to v4 by three ordinary exclusions. */
function adminsGroup(): Group {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'n', 'd1', 'd2', 'd3'], { params });
  for (const d of ['d1', 'd2', 'd3']) {
    g.e.a!.exclude([g.ids[d]!.key], g.net.now);
    g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  }
  return g;
}

test('a non-admin plants a never-admitted key; when an admin excludes it, that key is a member at the victim and fetches the new TEK', () => {
  const g = adminsGroup();
  const victim = g.e.b!;
  const sleeper = identity('sleeper');
  // n, a current non-admin member, before anyone excludes it: an old table, unicast to b only.
  victim.receive(g.ids.n!.key, 'unicast', exclusionWithLeaves(g.ids.n!, { targets: [sleeper], base: { version: 0, creators: [g.ids.a!.key] }, createdAt: g.net.now }), g.net.now);
  // Before the fix the plant was taken (T1 counted a Leave proven by its own signature for any
  // key); now a proven Leave counts only for a member of the roster, so it is refused outright.
  // Even a block taken for a key that never was a member gets no supporters (admin-races.ts), so
  // it could never be dropped.
  assert.notEqual(victim.rosterState(sleeper.key), 'member', 'the planted key is no member');
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  // The admin excludes n, for whatever reason.
  g.e.a!.exclude([g.ids.n!.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  assert.equal(victim.rosterState(g.ids.n!.key), 'excluded');
  const got = fetchTekAs(victim, g.ids.b!.key, new Attacker(sleeper), g.net.now);
  const outcome = {
    reinstated: g.net.eventsOf(g.ids.b!.key).some((e) => e.type === 'member-reinstated' && e.members.includes(sleeper.key)),
    sleeperAtB: victim.rosterState(sleeper.key),
    sleeperGotTheTek: got !== null && tekKeyOf(victim).includes(toHex(got)),
  };
  // At af7f2f5: { reinstated: true, sleeperAtB: 'member', sleeperGotTheTek: true }.
  assert.deepEqual({ ...outcome, sleeperAtB: outcome.sleeperAtB === 'member' }, { reinstated: false, sleeperAtB: false, sleeperGotTheTek: false }, 'the excluded insider, through a key never admitted, gets no membership and no TEK');
});

test('a current admin excluding admin m0 on a TEK from before m0 excluded x: x is not reinstated, the group does not hold its data, x gets no TEK', () => {
  const ids = ['a', 'm0', 'm1'].map((n) => identity(n).key);
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: ids } };
  const g = honestGroup(['a', 'm0', 'm1', 'b', 'c', 'x', 'd'], { params });
  const old = tekOf(g.e.b!);
  // m0, an admin, excludes x, then d: the group is at v3 and blocks x on m0's word.
  g.e.m0!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  g.e.m0!.exclude([g.ids.d!.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  for (const n of ['a', 'b', 'c']) assert.ok(g.e[n]!.isBlocked(g.ids.x!.key));
  // m1, a current admin that missed both (cut off), excludes m0 on the TEK it holds: v1.
  const m1 = new Attacker(g.ids.m1!);
  g.net.offline.add(m1.key);
  const t = m1.table({ targets: [g.ids.m0!.key], base: old, blocklist: [], recipients: ['a', 'b', 'c', 'd'].map((n) => g.ids[n]!.key), createdAt: g.net.now });
  for (const n of ['a', 'b', 'c']) g.e[n]!.receive(m1.key, 'unicast', t.unicast, g.net.now);
  g.net.run(g.net.now + 40 * g.params.heartbeatMs);
  const since = g.net.log.length;
  g.e.b!.send(utf8('after m0 left the admins'), g.net.now);
  g.net.run(g.net.now + 20 * g.params.heartbeatMs);
  const got = fetchTekAs(g.e.b!, g.ids.b!.key, new Attacker(g.ids.x!), g.net.now);
  const outcome = {
    m0Blocked: ['a', 'b', 'c'].filter((n) => g.e[n]!.isBlocked(g.ids.m0!.key)),
    xBlocked: ['a', 'b', 'c'].filter((n) => g.e[n]!.isBlocked(g.ids.x!.key)),
    bSent: dataPublished(g, 'b', since),
    xGotTheTek: got !== null && tekKeyOf(g.e.b!).includes(toHex(got)),
  };
  // Now: { m0Blocked: [a, b, c], xBlocked: [], bSent: 0, xGotTheTek: true }; at HEAD as expected.
  assert.deepEqual(outcome, { m0Blocked: ['a', 'b', 'c'], xBlocked: ['a', 'b', 'c'], bSent: 1, xGotTheTek: false });
});

test('older than the change: the same plant alone makes the victim hold its outgoing data (no admin knows the planted key)', () => {
  const g = adminsGroup();
  const victim = g.e.b!;
  victim.receive(g.ids.n!.key, 'unicast', exclusionWithLeaves(g.ids.n!, { targets: [identity('sleeper')], base: { version: 0, creators: [g.ids.a!.key] }, createdAt: g.net.now }), g.net.now);
  g.net.run(g.net.now + 2 * g.params.heartbeatMs);
  const since = g.net.log.length;
  victim.send(utf8('hello'), g.net.now);
  g.net.run(g.net.now + 60 * g.params.heartbeatMs);
  assert.equal(dataPublished(g, 'b', since), 1, "b's message goes out: a key that was never a member cannot be excluded by a non-admin's 'leaver' table");
});

// --- attacks that held

test('held: an excluded ex-admin excluding the admin that excluded it (sent by itself or relayed by a non-admin) reinstates nobody', () => {
  const ids = ['a', 'e'].map((n) => identity(n).key);
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: ids } };
  const g = honestGroup(['a', 'e', 'b', 'n', 'x'], { params });
  const before = tekOf(g.e.b!);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  g.e.a!.exclude([g.ids.e!.key], g.net.now);
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  const e = new Attacker(g.ids.e!);
  g.net.offline.add(e.key);
  // e signs an exclusion of a: on the current TEK, and on one from before either exclusion.
  for (const base of [tekOf(g.e.b!), before]) {
    const t = e.table({ targets: [g.ids.a!.key], base, blocklist: [], recipients: [g.ids.b!.key], createdAt: g.net.now });
    g.e.b!.receive(e.key, 'unicast', t.unicast, g.net.now);
    g.e.b!.receive(g.ids.n!.key, 'unicast', t.unicast, g.net.now);
  }
  // n, holding e's key, "excludes" e by e's own signed Leave: it may only add itself as a supporter.
  g.e.b!.receive(g.ids.n!.key, 'unicast', exclusionWithLeaves(g.ids.n!, { targets: [g.ids.e!], base: { version: 0, creators: [g.ids.a!.key] }, createdAt: g.net.now }), g.net.now);
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  assert.deepEqual(g.net.eventsOf(g.ids.b!.key).filter((ev) => ev.type === 'member-reinstated'), []);
  for (const k of ['x', 'e']) assert.ok(g.e.b!.isBlocked(g.ids[k]!.key), `${k} stays blocked`);
  assert.ok(!g.e.b!.isBlocked(g.ids.a!.key));
});

test('held: under any-member, two members excluding each other record no supporters and reinstate nobody', () => {
  const g = honestGroup(['a', 'b', 'c', 'd', 'e']);
  // Simultaneous: both tables built before either is delivered.
  g.e.b!.exclude([g.ids.c!.key], g.net.now);
  g.e.c!.exclude([g.ids.b!.key], g.net.now);
  g.net.run(g.net.now + 20 * g.params.heartbeatMs);
  for (const n of ['a', 'd', 'e']) {
    assert.deepEqual(g.net.eventsOf(g.ids[n]!.key).filter((ev) => ev.type === 'member-reinstated'), [], `${n}: nobody reinstated`);
    assert.ok(!new TextDecoder().decode(g.e[n]!.snapshot()).includes('blockedBy'), `${n}: no blockedBy in the snapshot`);
    assert.ok(g.e[n]!.isBlocked(g.ids.c!.key), `${n}: c excluded (b's table reached everyone first)`);
  }
});
