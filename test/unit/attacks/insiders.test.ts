// Hostile tests, issue 14 "Why" §6 and "Also": admission is certified end to end,
// signed gossip cannot be re-injected later, and a departed member keeps no keys.
// Each test asserts the SECURE outcome; a `todo` marks an attack that still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType, decodeMessage } from '../../../app/core/wire.js';
import { GroupEngine } from '../../../app/core/engine.js';
import { Attacker, PARAMS, assertRejectedUnchanged, deps, drain, groupBytes, honestGroup, identity, tekOf, unicastsTo, type Group } from './forge.js';

/** Keys `att` can open from unicasts addressed to it in `out` (grants, fetch replies, admissions). */
function keysReaching(att: Attacker, from: string, out: ReturnType<typeof drain>['out']): number {
  let n = 0;
  for (const bytes of unicastsTo(out, att.key)) {
    const m = decodeMessage(groupBytes, 'unicast', bytes);
    const sealed = m.type === MsgType.KeyGrant || m.type === MsgType.Admit ? m.grants.map((s) => ({ s, p: 'grant' as const })) : m.type === MsgType.FetchReply && m.key ? [{ s: m.key, p: 'fetch' as const }] : [];
    for (const { s, p } of sealed) if (att.openFrom(from, p, s)) n++;
  }
  return n;
}

// Attack (uncertified members): a member announces an identity of its own in a
// MemberAdmitted (no admission certificate; the sender picks admittedAt = 0); the
// victim adds it to the roster, and the TEK owner then grants it keys on a KeyRequest
// without checking its (garbage) certificate, because roster members skip that check.
// The sybil survives its sponsor's exclusion. Secure: an identity without a valid
// certificate from an admitter who was a member gets no key and no roster entry.
test('member: a sybil announced without a certificate gets no keys and no roster entry', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const m = new Attacker(g.ids.m!);
  const sybil = new Attacker(identity('sybil'));
  const owner = g.e.a!; // created the group: owns the TEK
  owner.receive(m.key, 'control', m.memberAdmitted([{ key: sybil.key, name: 'sybil', admittedAt: 0 }], [], true), g.net.now);
  drain(owner);
  const garbage = { admitter: m.key, member: sybil.key, admittedAt: 0, signature: new Uint8Array(64) };
  owner.receive(sybil.key, 'unicast', sybil.keyRequest([0, ...owner.participantIdOf(sybil.key).map((v, s) => 1 + s * g.params.V + v)], garbage), g.net.now);
  const { out } = drain(owner);
  assert.equal(keysReaching(sybil, g.ids.a!.key, out), 0, 'no key reaches the sybil');
  assert.ok(!owner.members().some((x) => x.key === sybil.key && x.state === 'member'), 'the sybil is not a member');
});

/**
 * Under the `admins` policy with the admin offline a leaver is not excluded, so it stays
 * `left` (not blocked): the setting in which old signed gossip about it can be replayed.
 */
function leftWithoutExclusion(): { g: Group; leaveBytes: Uint8Array; admittedBytes: Uint8Array } {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'l'], { params });
  const lKey = g.ids.l!.key;
  const admittedBytes = g.net.published(a.key, MsgType.MemberAdmitted).find((bytes) => {
    const msg = g.net.open(bytes);
    return msg?.type === MsgType.MemberAdmitted && msg.members.some((x) => x.key === lKey);
  });
  assert.ok(admittedBytes, 'a announced l');
  g.net.offline.add(a.key);
  g.e.l!.leave(g.net.now);
  g.net.settle();
  g.net.engines.delete(lKey);
  const leaveBytes = g.net.published(lKey, MsgType.Leave)[0];
  assert.ok(leaveBytes);
  g.net.run(g.net.now + 2 * params.heartbeatMs);
  return { g, leaveBytes, admittedBytes };
}

// Attack (replay of MemberAdmitted): MemberAdmitted has no freshness; re-injected after
// gossip's dedup window, an old announcement makes a member that left a member again.
// Secure: the stale announcement is rejected; the leaver stays departed.
test('replay: an old MemberAdmitted re-injected after a leave does not re-add the leaver', () => {
  const { g, admittedBytes } = leftWithoutExclusion();
  const c = g.e.c!;
  const lKey = g.ids.l!.key;
  assert.equal(c.members().find((x) => x.key === lKey)?.state, 'left');
  c.receive(g.ids.a!.key, 'control', admittedBytes, g.net.now + 600_000);
  drain(c);
  assert.equal(c.members().find((x) => x.key === lKey)?.state, 'left');
});

// Attack (replay of Leave): Leave has no freshness; after the leaver is re-admitted, its
// old signed Leave re-injected later makes the members drop it again.
// Secure: a Leave older than the sender's current admission is rejected as a replay.
test('replay: an old Leave re-injected after gossip forgot it is rejected', () => {
  // A leaver is now always excluded (even under `admins` with no admin online), so it can
  // never rejoin under the same identity: the replay that matters is an old Leave of a
  // member that is still a member, re-injected once gossip's dedup window is over. The
  // engine-level freshness rule (L1): sent after the member's admission, within the grace window.
  const g = honestGroup(['a', 'b', 'c']);
  const b = new Attacker(g.ids.b!);
  const c = g.e.c!;
  for (const sentAt of [0, g.net.now - g.params.graceMs - 1].filter((t) => t >= 0)) {
    assertRejectedUnchanged(c, b.key, () => c.receive(b.key, 'control', b.leave(sentAt), g.net.now), `Leave dated ${sentAt}`);
    assert.equal(c.members().find((x) => x.key === b.key)?.state, 'member');
  }
});

// Attack (secrets after leaving): eraseSecrets clears the TEK and KEKs but not the KEKs
// retired by a table (kept for the grace window), so a member that left still holds key
// material. Secure: after leave(), exportKeyMaterial() is empty.
test('leave: no key material remains after leaving (retired KEKs included)', () => {
  const g = honestGroup(['a', 'b', 'c', 'd', 'x']);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const xSlots = new Set(g.e.a!.participantIdOf(g.ids.x!.key).map((v, s) => `${s}:${v}`));
  const sharing = ['a', 'b', 'c', 'd'].filter((n) => g.e[n]!.participantIdOf(g.ids[n]!.key).some((v, s) => xSlots.has(`${s}:${v}`)));
  assert.ok(sharing.length > 0, 'precondition: a member shared a KEK with the excluded one');
  for (const n of sharing) {
    g.e[n]!.leave(g.net.now);
    assert.deepEqual(g.e[n]!.exportKeyMaterial(), [], `${n} holds no key after leaving`);
  }
});

// Issue 14 "Also": pending leave exclusions were not saved. A member that left must still
// be excluded if every member that would run its exclusion crashes and restarts before
// doing so. Secure: the exclusion is derived from the roster after a restart.
test('leave: a pending leave exclusion survives a crash of every member', () => {
  const g = honestGroup(['a', 'b', 'c', 'l']);
  const before = tekOf(g.e.a!);
  g.e.l!.leave(g.net.now);
  g.net.settle();
  g.net.engines.delete(g.ids.l!.key);
  // Everyone crashes before any exclusion ran (no tick since the Leave), then restarts.
  for (const n of ['a', 'b', 'c']) {
    const snap = g.e[n]!.snapshot();
    g.e[n] = g.net.add(g.ids[n]!, GroupEngine.restore(deps(`${n}-again`), g.ids[n]!, snap, g.net.now));
    assert.equal(g.e[n]!.blocklist().includes(g.ids.l!.key), false, `${n}: not excluded before the restart`);
  }
  g.net.run(g.net.now + 10 * g.params.heartbeatMs);
  for (const n of ['a', 'b', 'c']) {
    assert.ok(g.e[n]!.blocklist().includes(g.ids.l!.key), `${n}: the leaver is excluded after the restart`);
    assert.ok(tekOf(g.e[n]!).version > before.version, `${n}: on a TEK the leaver never knew`);
  }
});
