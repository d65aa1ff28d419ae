// Roster catch-up (docs/protocol.md §5 "Roster catch-up", rows M2, M3 of §12): a member that
// missed every announcement of a newcomer (not yet in the mesh, a partition, a restart) learns
// it from a member whose heartbeat counts more roster entries than its own, or from the
// newcomer itself once its control messages open under the current TEK; each admission it
// takes is the admitter's own signature, checked as the original announcement was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../app/core/engine.js';
import { LIMITS, MsgType, decodeMessage, encodeMessage, type AdmissionProof } from '../../app/core/wire.js';
import type { EngineEvent, MemberKey } from '../../app/core/types.js';
import { Attacker, GROUP, assertRejectedUnchanged, deps, drain, groupBytes, honestGroup, identity, unicastsTo, type Group } from './attacks/forge.js';

/** `victim` never receives a MemberAdmitted (nor a KeyRequest, which would tell it too). */
function deafToAdmissions(g: Group, victim: string): void {
  const e = g.e[victim]!;
  const receive = e.receive.bind(e);
  e.receive = (from, channel, bytes, now) => {
    if (channel === 'control' && g.net.opener.typeOf(bytes) === MsgType.MemberAdmitted) return;
    if (channel === 'unicast' && bytes[2] === MsgType.KeyRequest) return;
    receive(from, channel, bytes, now);
  };
}

function admit(g: Group, name: string, contact: string): { key: MemberKey; engine: GroupEngine } {
  const d = identity(name);
  g.gate.allowed.add(d.key);
  const engine = g.net.add(d, GroupEngine.join(deps(name, { admission: g.gate }), d, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids[contact]!.key], now: g.net.now }));
  g.ids[name] = d;
  g.e[name] = engine;
  return { key: d.key, engine };
}

const notMemberFrom = (events: EngineEvent[], from: MemberKey) => events.filter((ev) => ev.type === 'rejected' && ev.from === from && ev.reason === 'not-member');

test('a member that missed every announcement of a newcomer catches up within a few heartbeats', () => {
  const g = honestGroup(['a', 'b', 'c']);
  deafToAdmissions(g, 'b');
  const d = admit(g, 'd', 'a');
  g.net.settle();
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  assert.equal(d.engine.state(), 'member');
  assert.ok(g.e.c!.members().some((m) => m.key === d.key && m.state === 'member'), 'c heard the announcement');
  assert.ok(
    g.e.b!.members().some((m) => m.key === d.key && m.state === 'member'),
    `b learns d although it dropped both announcements (b rejected d ${notMemberFrom(g.net.eventsOf(g.ids.b!.key), d.key).length} times as not-member)`,
  );
  // Once caught up, b takes d's control messages: no further not-member rejections.
  const before = notMemberFrom(g.net.eventsOf(g.ids.b!.key), d.key).length;
  g.net.run(g.net.now + 5 * g.params.heartbeatMs);
  assert.equal(notMemberFrom(g.net.eventsOf(g.ids.b!.key), d.key).length, before, 'no not-member rejection of d once b knows it');
});

test('a chain of missed admissions (d admitted by a, e by d) is caught up in one go', () => {
  const g = honestGroup(['a', 'b', 'c']);
  deafToAdmissions(g, 'b');
  const d = admit(g, 'd', 'a');
  g.net.settle();
  g.net.run(g.net.now + 2 * g.params.heartbeatMs);
  const e = admit(g, 'e', 'd');
  g.net.settle();
  g.net.run(g.net.now + 14 * g.params.heartbeatMs);
  assert.equal(e.engine.state(), 'member');
  for (const k of [d.key, e.key]) assert.ok(g.e.b!.members().some((m) => m.key === k && m.state === 'member'), `b knows ${k.slice(0, 8)}`);
  const caughtUp = g.net.eventsOf(g.ids.b!.key).filter((ev) => ev.type === 'member-admitted');
  assert.deepEqual(new Set(caughtUp.map((ev) => ev.type === 'member-admitted' && ev.by)), new Set([g.ids.a!.key, d.key]), 'each by its own admitter');
});

test("a newcomer's control message that opens under the current TEK is rejected as opened (the peer layer does not strike it); an outsider's is not", () => {
  const g = honestGroup(['a', 'b', 'c']);
  deafToAdmissions(g, 'b');
  const d = admit(g, 'd', 'a');
  g.net.settle();
  const b = g.e.b!;
  drain(b);
  b.receive(d.key, 'control', new Attacker(identity('d')).heartbeat({ sentAt: g.net.now + 1, keys: [] }), g.net.now);
  const got = drain(b);
  const rejected = got.events.find((ev) => ev.type === 'rejected' && ev.from === d.key);
  assert.ok(rejected?.type === 'rejected' && rejected.reason === 'not-member' && rejected.opened === true, JSON.stringify(rejected));
  assert.ok(unicastsTo(got.out, d.key, MsgType.RosterRequest).length === 1, 'b asks d how it got in');
  const outsider = new Attacker(identity('x'));
  b.receive(outsider.key, 'control', outsider.heartbeat({ sentAt: g.net.now + 1, keys: [] }), g.net.now);
  const x = drain(b).events.find((ev) => ev.type === 'rejected' && ev.from === outsider.key);
  assert.ok(x?.type === 'rejected' && x.opened === undefined, 'an outsider holds no key');
});

/** b asks c (c's heartbeats count more roster entries than b's roster for 4 heartbeats). */
function bAsksC(g: Group): void {
  const b = g.e.b!;
  const c = new Attacker(g.ids.c!);
  const later = g.net.now + 4 * g.params.heartbeatMs;
  drain(b);
  b.receive(g.ids.c!.key, 'control', c.heartbeat({ sentAt: g.net.now + 7, keys: [], rosterCount: 99 }), g.net.now);
  assert.equal(unicastsTo(drain(b).out, g.ids.c!.key, MsgType.RosterRequest).length, 0, 'not at once: an announcement may be on its way');
  b.receive(g.ids.c!.key, 'control', c.heartbeat({ sentAt: later, keys: [], rosterCount: 99 }), later);
  assert.equal(unicastsTo(drain(b).out, g.ids.c!.key, MsgType.RosterRequest).length, 1, 'b asks c');
}

const reply = (proofs: AdmissionProof[]) => encodeMessage(groupBytes, { type: MsgType.RosterReply, proofs });

test('M3: a reply nobody asked for, or with a proof its admitter did not sign, changes nothing', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const x = identity('x');
  const forged: AdmissionProof = { kind: 'announcement', admitter: g.ids.a!.key, members: [{ key: x.key, name: 'x', admittedAt: g.net.now }], signature: new Uint8Array(64) };
  const signedByC = new Attacker(g.ids.c!).certify(x.key, g.net.now);
  const claimedByA: AdmissionProof = { kind: 'certificate', certificate: { ...signedByC, admitter: g.ids.a!.key }, name: 'x' };
  assertRejectedUnchanged(g.e.b!, g.ids.c!.key, () => g.e.b!.receive(g.ids.c!.key, 'unicast', reply([forged]), g.net.now), 'an unasked reply');
  bAsksC(g);
  const got = assertRejectedUnchanged(g.e.b!, g.ids.c!.key, () => g.e.b!.receive(g.ids.c!.key, 'unicast', reply([claimedByA, forged]), g.net.now), 'a forged proof');
  assert.ok(got.events.some((ev) => ev.type === 'rejected' && ev.reason === 'bad-signature'));
  assert.ok(!g.e.b!.members().some((m) => m.key === x.key));
  // The request was used up: the same reply again is not asked for.
  assertRejectedUnchanged(g.e.b!, g.ids.c!.key, () => g.e.b!.receive(g.ids.c!.key, 'unicast', reply([]), g.net.now), 'a second reply');
});

test('M3: a genuine old admission of a member excluded since is never taken again', () => {
  const g = honestGroup(['a', 'b', 'c', 'e']);
  const announced = g.net
    .published(g.ids.a!.key, MsgType.MemberAdmitted)
    .map((bytes) => g.net.open(bytes))
    .find((m) => m?.type === MsgType.MemberAdmitted && m.members.some((x) => x.key === g.ids.e!.key));
  assert.ok(announced?.type === MsgType.MemberAdmitted);
  g.e.a!.exclude([g.ids.e!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  assert.ok(g.e.b!.isBlocked(g.ids.e!.key));
  bAsksC(g);
  const proof: AdmissionProof = { kind: 'announcement', admitter: g.ids.a!.key, members: announced.members, signature: announced.signature };
  drain(g.e.b!);
  g.e.b!.receive(g.ids.c!.key, 'unicast', reply([proof]), g.net.now);
  assert.ok(!drain(g.e.b!).events.some((ev) => ev.type === 'member-admitted'));
  assert.equal(g.e.b!.members().find((m) => m.key === g.ids.e!.key)?.state, 'excluded');
});

test('M2: only a member asks, and at most once per two heartbeats', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const request = encodeMessage(groupBytes, { type: MsgType.RosterRequest, known: [] });
  assertRejectedUnchanged(g.e.a!, identity('x').key, () => g.e.a!.receive(identity('x').key, 'unicast', request, g.net.now), 'a stranger asks');
  drain(g.e.a!);
  g.e.a!.receive(g.ids.b!.key, 'unicast', request, g.net.now);
  assert.equal(unicastsTo(drain(g.e.a!).out, g.ids.b!.key, MsgType.RosterReply).length, 1);
  assertRejectedUnchanged(g.e.a!, g.ids.b!.key, () => g.e.a!.receive(g.ids.b!.key, 'unicast', request, g.net.now + 1), 'asked again at once');
});

test('wire: a roster reply is bounded (proofs, members named in all)', () => {
  const cert = new Attacker(identity('c')).certify(identity('x').key, 1);
  const many = Array.from({ length: LIMITS.rosterProofs + 1 }, (): AdmissionProof => ({ kind: 'certificate', certificate: cert, name: '' }));
  assert.throws(() => decodeMessage(groupBytes, 'unicast', reply(many)), /exceed/);
  const members = Array.from({ length: 600 }, (_, i) => ({ key: identity(`m${i}`).key, name: '', admittedAt: 1 }));
  const batch: AdmissionProof = { kind: 'announcement', admitter: cert.admitter, members, signature: new Uint8Array(64) };
  assert.throws(() => decodeMessage(groupBytes, 'unicast', reply([batch, batch])), /exceeds limit/);
  const ok = decodeMessage(groupBytes, 'unicast', reply([batch, { kind: 'certificate', certificate: cert, name: 'x' }]));
  assert.ok(ok.type === MsgType.RosterReply && ok.proofs.length === 2);
});

test('a member offline during an admission learns the newcomer after the admitter and the newcomer both restarted (review 39)', () => {
  // The proofs of admissions were kept in memory only: once every member that held the newcomer's
  // proof had restarted, nobody could show it to the member that missed it, which refused the
  // newcomer's messages as `not-member` for good. They are saved with the snapshot now.
  const g = honestGroup(['a', 'b']);
  const b = g.ids.b!.key;
  g.net.offline.add(b);
  const c = admit(g, 'c', 'a');
  g.net.settle();
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  assert.equal(c.engine.state(), 'member');
  for (const name of ['a', 'c']) {
    const id = g.ids[name]!;
    const restarted = GroupEngine.restore(deps(`${name}-restarted`, { admission: g.gate }), id, g.e[name]!.snapshot(), g.net.now);
    g.net.engines.delete(id.key);
    g.e[name] = g.net.add(id, restarted);
  }
  g.net.offline.delete(b);
  g.net.run(g.net.now + 16 * g.params.heartbeatMs);
  assert.ok(
    g.e.b!.members().some((m) => m.key === c.key && m.state === 'member'),
    `b learns c (b rejected c ${notMemberFrom(g.net.eventsOf(b), c.key).length} times as not-member)`,
  );
  const before = notMemberFrom(g.net.eventsOf(b), c.key).length;
  g.net.run(g.net.now + 5 * g.params.heartbeatMs);
  assert.equal(notMemberFrom(g.net.eventsOf(b), c.key).length, before, 'and takes its messages from then on');
});

test("a newcomer's data packet that came before its admission was known is taken when reconciliation brings it again (review 39)", () => {
  // The engine opened it, the host refused its message as from no member, and its nonce was kept
  // as seen: the copy reconciliation brought once the newcomer was known was dropped as a replay,
  // and the message never arrived. A sender the roster does not list leaves no nonce seen.
  const g = honestGroup(['a', 'b', 'c']);
  deafToAdmissions(g, 'b');
  const d = admit(g, 'd', 'a');
  g.net.settle();
  assert.equal(d.engine.state(), 'member');
  assert.ok(!g.e.b!.members().some((m) => m.key === d.key), 'b has not learnt d yet');
  d.engine.send(new TextEncoder().encode('hello from d'), g.net.now);
  g.net.settle();
  const packet = g.net.log.find((s) => s.from === d.key && s.t.kind === 'publish' && s.t.topic === 'data')!.t as { bytes: Uint8Array };
  const dataAtB = () => g.net.eventsOf(g.ids.b!.key).filter((ev) => ev.type === 'data' && ev.from === d.key).length;
  assert.equal(dataAtB(), 1, 'b opened it live (its host refuses the message: d is in no roster here)');
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  assert.ok(g.e.b!.members().some((m) => m.key === d.key && m.state === 'member'), 'b learnt d by roster catch-up');
  const b = g.e.b!;
  drain(b);
  b.receive(d.key, 'data', packet.bytes, g.net.now); // the copy reconciliation brings
  const got = drain(b).events;
  assert.ok(got.some((ev) => ev.type === 'data' && ev.from === d.key), `taken, not dropped: ${JSON.stringify(got.map((ev) => (ev.type === 'rejected' ? ev.reason : ev.type)))}`);
  // A copy of a known member's packet is still a replay.
  b.receive(d.key, 'data', packet.bytes, g.net.now);
  assert.ok(drain(b).events.some((ev) => ev.type === 'rejected' && ev.reason === 'replay'));
});
