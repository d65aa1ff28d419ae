// Hostile tests, issue 14 "Why" §2 and §8: a member never leaves its group, drops its
// TEK or rejoins because of an unauthenticated claim. Each test asserts the SECURE
// outcome; a `todo` marks an attack that still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../../app/core/wire.js';
import { Attacker, NOT_A_MEMBER, assertRejectedUnchanged, drain, honestGroup, identity, tekOf, unicastsTo } from './forge.js';

// Attack: one heartbeat from a key that is not in the roster, claiming TEK version
// current+1, makes a member drop its TEK and ask that sender for admission
// (startMergeJoin); nothing is rejected, so gossip relays it to every member.
// Secure: rejected ('not-member'), TEK and state unchanged, no JoinRequest to the sender.
test('outsider: a heartbeat claiming a higher TEK version does not move a member out of its group', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const hb = mallory.heartbeat({ sentAt: g.net.now, keys: [{ slot: 0, version: cur.version + 1, revision: 0, creators: [mallory.key] }] });
  const { out } = assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'control', hb, g.net.now), 'heartbeat from a non-member');
  assert.equal(victim.state(), 'member');
  assert.equal(unicastsTo(out, mallory.key, MsgType.JoinRequest).length, 0, 'no JoinRequest to the attacker');
});

// Attack, carried through: after the heartbeat the victim is 'joining' and accepts the
// attacker's Admit (certificate signed by the sender itself), adopting its parameters,
// roster and keys: the victim now talks in the attacker's group.
// Secure: the victim stays a member of its group with its TEK, roster and parameters.
test('outsider: heartbeat then Admit does not make a member adopt the attacker\'s group', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const victimKey = g.ids.b!.key;
  const cur = tekOf(victim);
  const members = victim.members().map((m) => m.key);
  const fake = { slot: 0, version: cur.version + 1, revision: 0, creators: [mallory.key] };
  victim.receive(mallory.key, 'control', mallory.heartbeat({ sentAt: g.net.now, keys: [fake] }), g.net.now);
  drain(victim);
  const admit = mallory.admit({
    victim: victimKey,
    params: { ...g.params, graceMs: 1 },
    roster: [{ key: mallory.key, name: 'mallory', admittedAt: 0 }],
    owners: [{ ...fake, owner: mallory.key }],
    grants: [mallory.sealFor(victimKey, 'grant', fake, mallory.bytes(32))],
    admittedAt: 1,
  });
  victim.receive(mallory.key, 'unicast', admit, g.net.now + 1);
  drain(victim);
  assert.equal(victim.state(), 'member');
  assert.deepEqual(tekOf(victim), cur, 'TEK unchanged');
  assert.equal(victim.params.graceMs, g.params.graceMs, 'parameters unchanged');
  assert.ok(!victim.members().some((m) => m.key === mallory.key && m.state === 'member'), 'the attacker is not in the roster');
  assert.deepEqual(victim.members().map((m) => m.key), members);
});

// Attack: a JoinRefused("not a member of this group") from any member makes the victim
// drop its TEK and rejoin through that member (onJoinRefused → startMergeJoin).
// Secure: an unauthenticated refusal never drops a member's TEK: rejected, unchanged.
test('member: JoinRefused("not a member") from a member does not make the victim drop its TEK', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const m = new Attacker(g.ids.c!);
  const victim = g.e.b!;
  const { out } = assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'unicast', m.joinRefused(NOT_A_MEMBER), g.net.now), 'JoinRefused from a member');
  assert.equal(victim.state(), 'member');
  assert.equal(unicastsTo(out, m.key, MsgType.JoinRequest).length, 0);
});

// Regression (refused today): the same refusal from an outsider is ignored.
test('outsider: JoinRefused("not a member") is rejected', () => {
  const g = honestGroup(['a', 'b']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', mallory.joinRefused(NOT_A_MEMBER), g.net.now), 'JoinRefused from an outsider');
  assert.equal(victim.state(), 'member');
});

// Regression (refused today): a non-member's heartbeat whose TEK loses the tie, its
// Revision, its Leave, its MemberAdmitted and its signed Table are all rejected unchanged.
test('outsider: losing heartbeat, Revision, Leave, MemberAdmitted and Table are rejected and change nothing', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const now = g.net.now;
  const recv = (ch: 'control' | 'unicast', bytes: Uint8Array, what: string) => assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, ch, bytes, now), what);
  recv('control', mallory.heartbeat({ sentAt: now, keys: [{ slot: 0, version: Math.max(1, cur.version - 1), revision: 0, creators: [mallory.key] }] }), 'losing heartbeat');
  recv('control', mallory.revision([{ ...cur, revision: cur.revision + 1 }]), 'Revision');
  recv('control', mallory.leave(now), 'Leave');
  recv('control', mallory.memberAdmitted([{ key: identity('sybil').key, name: 'sybil', admittedAt: 0 }]), 'MemberAdmitted');
  const t = mallory.table({ targets: [g.ids.c!.key], base: cur, blocklist: [g.ids.c!.key], recipients: [g.ids.a!.key, g.ids.b!.key], createdAt: now });
  recv('control', t.bytes, 'Table');
  assert.equal(g.e.b!.state(), 'member');
});
