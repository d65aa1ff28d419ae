// Hostile tests, issue 14 "Why" §3, §4, §7, the direct-header rule and the `panel`
// field: only a current, authorized member can make the group change its key. Each
// test asserts the SECURE outcome; a `todo` marks an attack that still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../../app/core/engine.js';
import type { MemberKey } from '../../../app/core/types.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { FractionalPanel } from '../../../app/fractional/panel-hook.js';
import { SeededRandom } from '../../../app/sim/random.js';
import { Attacker, GROUP, PARAMS, assertRejectedUnchanged, deps, drain, honestGroup, identity, identitySorted, tekOf, type Group } from './forge.js';

function blocked(e: GroupEngine, k: MemberKey): boolean {
  return e.isBlocked(k);
}

/** Honest members of `g` other than `except`. */
function others(g: Group, except: string[]): string[] {
  return Object.keys(g.e).filter((n) => !except.includes(n));
}

/** The attacker `m`'s exclusion of `c` on the victim's TEK, claiming a panel origin. */
function panelExclusionOfC(g: Group, m: Attacker, victim: GroupEngine, panel: { round: number; members: MemberKey[] }) {
  return m.table({
    targets: [g.ids.c!.key],
    base: tekOf(victim),
    blocklist: [g.ids.c!.key],
    recipients: others(g, ['c', 'm']).map((n) => g.ids[n]!.key),
    createdAt: g.net.now,
    panel,
  });
}

// Attack: a member that left signs an exclusion table on the current base with pairwise
// entries for everyone, listing itself in the blocklist: authorizeTable accepts an
// excluder in state 'left', so every member adopts the leaver's TEK' and excludes the
// honest target. Secure: a departed identity authors nothing: rejected, unchanged.
test('leaver: an exclusion table signed after leaving is not adopted', () => {
  const g = honestGroup(['a', 'b', 'c', 'l']);
  const leaver = new Attacker(g.ids.l!);
  g.e.l!.leave(g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 10 * g.params.heartbeatMs); // the remaining members run the leaver's exclusion
  g.net.engines.delete(leaver.key);
  const victim = g.e.b!;
  assert.ok(blocked(victim, leaver.key), 'the leave was followed by its exclusion');
  const cur = tekOf(victim);
  const t = leaver.table({
    targets: [g.ids.c!.key],
    base: cur,
    blocklist: [...victim.blocklist(), leaver.key, g.ids.c!.key],
    recipients: ['a', 'b', 'c'].map((n) => g.ids[n]!.key),
    createdAt: g.net.now,
  });
  assertRejectedUnchanged(victim, leaver.key, () => victim.receive(leaver.key, 'control', t.bytes, g.net.now), 'table from a leaver');
  assert.ok(!blocked(victim, g.ids.c!.key), 'the honest target is not excluded');
});

// Attack: within the grace window an excluded member signs a "concurrent" table on the
// base its exclusion replaced, for the same new version; its key sorts below its
// excluder's, so it wins the sibling tie-break and its TEK' is installed, and its table
// excludes an honest member (Quiet's "forged removal" by a removed member).
// Secure: an excluded identity authors nothing: rejected, TEK unchanged, target kept.
test('excluded: a "concurrent" table in the grace window does not win the tie-break', () => {
  const a = identity('a');
  const x = identitySorted('x', a.key, true);
  const g = honestGroup(['a', 'b', 'c', 'x'], { ids: { x } });
  const base = tekOf(g.e.b!);
  g.e.a!.exclude([x.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.engines.delete(x.key);
  const victim = g.e.b!;
  assert.ok(blocked(victim, x.key));
  assert.equal(tekOf(victim).version, base.version + 1);
  const mallory = new Attacker(x);
  const t = mallory.table({
    targets: [g.ids.c!.key],
    base,
    blocklist: [g.ids.c!.key],
    recipients: ['a', 'b', 'c'].map((n) => g.ids[n]!.key),
    createdAt: g.net.now,
  });
  assertRejectedUnchanged(victim, x.key, () => victim.receive(x.key, 'control', t.bytes, g.net.now), 'concurrent table from an excluded member');
  assert.ok(!blocked(victim, g.ids.c!.key));
});

// Attack (admins policy, Quiet #3431): a non-admin's heartbeat claiming the TEK at
// revision+1 makes it the TEK owner at every member. Secure: a non-admin never becomes
// the TEK owner at another member.
test('admins policy: a non-admin claiming revision+1 does not become the TEK owner', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'n'], { params });
  const n = new Attacker(g.ids.n!);
  const victim = g.e.b!;
  const cur = tekOf(victim);
  victim.receive(n.key, 'control', n.heartbeat({ sentAt: g.net.now + 10_000, keys: [{ ...cur, revision: cur.revision + 1 }] }), g.net.now);
  drain(victim);
  assert.notEqual(victim.keyTable(g.net.now).tek?.owner, n.key, 'the non-admin is not the TEK owner');
});

// Attack, carried through: once the owner, the non-admin signs a refresh table, which
// authorizeTable accepts from the TEK owner; every member adopts its TEK'.
// Secure: under `admins`, only admins refresh: rejected, TEK unchanged.
test('admins policy: a non-admin cannot refresh the group key', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'n'], { params });
  const n = new Attacker(g.ids.n!);
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const stepped = { ...cur, revision: cur.revision + 1 };
  victim.receive(n.key, 'control', n.heartbeat({ sentAt: g.net.now + 10_000, keys: [stepped] }), g.net.now);
  drain(victim);
  const t = n.table({ kind: 'refresh', targets: [], base: stepped, blocklist: victim.blocklist(), recipients: [g.ids.a!.key, g.ids.b!.key], createdAt: g.net.now });
  assertRejectedUnchanged(victim, n.key, () => victim.receive(n.key, 'control', t.bytes, g.net.now), 'refresh by a non-admin');
});

// Regression (refused today): under `admins`, a non-admin's exclusion table is refused.
test('admins policy: a non-admin\'s exclusion table is refused', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'n'], { params });
  const n = new Attacker(g.ids.n!);
  const victim = g.e.b!;
  const t = n.table({ targets: [g.ids.c!.key], base: tekOf(victim), blocklist: [g.ids.c!.key], recipients: [g.ids.a!.key, g.ids.b!.key], createdAt: g.net.now });
  assertRejectedUnchanged(victim, n.key, () => victim.receive(n.key, 'control', t.bytes, g.net.now), 'exclusion by a non-admin');
});

// Attack (admins policy): when the admin is silent, failover hands a non-admin the TEK
// owner role (and with it the right to refresh). Secure: a non-admin never takes the TEK.
test('admins policy: failover does not hand a non-admin the TEK owner role', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c'], { params });
  g.net.offline.add(a.key);
  g.net.run(g.net.now + (params.failoverIntervals + 4) * params.heartbeatMs);
  for (const n of ['b', 'c']) {
    const owner = g.e[n]!.keyTable(g.net.now).tek?.owner ?? null;
    assert.ok(owner === null || owner === a.key, `${n}: TEK owner is ${owner?.slice(0, 8)}, not an admin`);
  }
});

// Attack (admins policy): a member's leave is followed by an exclusion only if an admin is
// online; otherwise the leaver keeps the TEK (and its KEKs) forever.
// Secure: the leave still rekeys (the remaining members stop using keys the leaver knew).
test('admins policy: a leave rekeys even when no admin is online', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'l'], { params });
  const before = tekOf(g.e.b!);
  g.net.offline.add(a.key);
  g.e.l!.leave(g.net.now);
  g.net.settle();
  g.net.engines.delete(g.ids.l!.key);
  g.net.run(g.net.now + 20 * params.heartbeatMs);
  for (const n of ['b', 'c']) assert.ok(tekOf(g.e[n]!).version > before.version, `${n} no longer uses the TEK the leaver knew`);
});

// Attack: the `panel` field of a table header is never verified: a member claims its
// TEK' came from a fractional-key panel round (in a group that runs no panel), and the
// victim records a panel origin with creators of the attacker's choosing (the creators
// decide concurrent tie-breaks). Secure: a header whose panel field cannot be verified is
// rejected, unchanged.
test('member: a table header with an unverifiable `panel` field is rejected', () => {
  const g = honestGroup(['a', 'b', 'c', 'm']);
  const m = new Attacker(g.ids.m!);
  const victim = g.e.b!;
  const members = ['a', 'b', 'c', 'm'].map((n) => g.ids[n]!.key).sort();
  const t = panelExclusionOfC(g, m, victim, { round: 42, members });
  assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', t.bytes, g.net.now), 'table with a forged panel origin');
});

// Attack (the direct-header rule): on gossip the author is preserved at every hop, so a
// table whose `from` is its excluder is taken as "direct" and its header signature is
// never checked. Secure: a header whose signature does not verify is rejected, whoever
// delivers it.
test('member: a table whose header signature does not verify is rejected even from its excluder', () => {
  const g = honestGroup(['a', 'b', 'c', 'm']);
  const m = new Attacker(g.ids.m!);
  const victim = g.e.b!;
  const t = m.table({
    targets: [g.ids.c!.key],
    base: tekOf(victim),
    blocklist: [g.ids.c!.key],
    recipients: [g.ids.a!.key, g.ids.b!.key],
    createdAt: g.net.now,
    signature: 'zero',
  });
  assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', t.bytes, g.net.now), 'table with a bad header signature');
});

// Regression (refused today): the same bad signature relayed by another member is rejected.
test('member: a relayed table whose header signature does not verify is rejected', () => {
  const g = honestGroup(['a', 'b', 'c', 'm']);
  const m = new Attacker(g.ids.m!);
  const victim = g.e.b!;
  const t = m.table({ targets: [g.ids.c!.key], base: tekOf(victim), blocklist: [g.ids.c!.key], recipients: [g.ids.a!.key, g.ids.b!.key], createdAt: g.net.now, signature: 'zero' });
  const relay = g.ids.a!.key;
  assertRejectedUnchanged(victim, relay, () => victim.receive(relay, 'control', t.bytes, g.net.now), 'relayed table with a bad signature');
});

// H2 with T1: a non-admin that runs a leaver's exclusion (no admin online) must not become
// the TEK's holder under `admins`: otherwise every member would reject its heartbeats and
// its periodic refreshes (a non-admin may not refresh), and the group would split.
test('admins policy: a non-admin that excludes a leaver does not hold the TEK afterwards', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'l'], { params });
  g.net.offline.add(a.key);
  g.e.l!.leave(g.net.now);
  g.net.settle();
  g.net.engines.delete(g.ids.l!.key);
  g.net.run(g.net.now + 20 * params.heartbeatMs);
  for (const n of ['b', 'c']) {
    const owner = g.e[n]!.keyTable(g.net.now).tek?.owner ?? null;
    assert.ok(owner === null || owner === a.key, `${n}: the TEK's holder is an admin or nobody, not ${owner}`);
    assert.equal(g.e[n]!.rejectedCount().get('not-authorized') ?? 0, 0, `${n}: no honest heartbeat was refused`);
  }
  // The admin comes back and takes the TEK over; everyone stays on one TEK.
  g.net.offline.delete(a.key);
  g.net.run(g.net.now + 10 * params.heartbeatMs);
  const teks = new Set(['a', 'b', 'c'].map((n) => g.e[n]!.tekInfo()?.fingerprint));
  assert.equal(teks.size, 1, 'one TEK');
});

test('admins policy: a group is created only by one of its admins', () => {
  const a = identity('a');
  const b = identity('b');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  assert.throws(() => GroupEngine.create(deps('b'), b, { group: GROUP, name: 'g', params, now: 0 }), /creator must be one of the admins/);
});

// Attack (review 12): in a group that runs a fractional-key panel, a member signs a table
// whose `panel` names every current member (up to 64 on the wire) as the TEK's creators,
// where the panel is at most `panelSize`. Creators decide tie-breaks (§8.2), and a
// losing excluder hands its header to each creator of the TEK that beats it, so a wide
// creator list buys one unicast per listed member from every losing excluder. Secure: a
// panel origin that lists more members than the panel has, repeats one, or omits the
// table's own excluder (a panel member signs its panel's table) is rejected, unchanged.
test('member: a panel table whose creator list the panel cannot have is rejected', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'm'];
  const params = { ...PARAMS, panelSize: 4 };
  const g = honestGroup(names, { params, panel: (id) => new FractionalPanel({ crypto: nodeCrypto, rng: new SeededRandom(`panel:${id.name}`).asRng() }, id.seed, { processTimeoutMs: 10 * params.heartbeatMs }) });
  const m = new Attacker(g.ids.m!);
  const victim = g.e.b!;
  const keys = (ns: string[]) => ns.map((n) => g.ids[n]!.key).sort();
  const forged: Array<[string, MemberKey[]]> = [
    ['every member listed', keys(names)],
    ['a member listed twice', [...keys(['a', 'b', 'm']), g.ids.a!.key].sort()],
    ['the excluder not listed', keys(['a', 'b', 'c', 'd'])],
  ];
  for (const [what, members] of forged) {
    const t = panelExclusionOfC(g, m, victim, { round: 3, members });
    assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', t.bytes, g.net.now), `panel table: ${what}`);
  }
});
