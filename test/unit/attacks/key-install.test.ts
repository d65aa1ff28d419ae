// Hostile tests, issue 14 "Why" §1: keys come only from where they may. An outsider
// with nothing but the group ID and its own Ed25519 key must not be able to install a
// key at a member or a joiner. Each test asserts the SECURE outcome; a `todo` marks an
// attack that still succeeds (the lead removes it with the fix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../../app/core/engine.js';
import { MsgType, decodeMessage } from '../../../app/core/wire.js';
import {
  Attacker,
  GROUP,
  assertRejectedUnchanged,
  deps,
  drain,
  groupBytes,
  honestGroup,
  identity,
  tekOf,
  unicastsTo,
} from './forge.js';

// Attack: an unsolicited FetchReply sealed pairwise under the outsider's own identity,
// claiming TEK version current+1, is installed by the victim (onFetchReply checks neither
// membership, nor an outstanding fetch, nor a signed commitment). Secure: rejected, the
// victim's TEK and state unchanged.
test('outsider: an unsolicited FetchReply with TEK v+1 is not installed', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const info = { slot: 0, version: cur.version + 1, revision: 0, creators: [mallory.key] };
  const bytes = mallory.fetchReply(mallory.sealFor(g.ids.b!.key, 'fetch', info, mallory.bytes(32)));
  assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', bytes, g.net.now), 'forged FetchReply');
});

// Attack: the same through one of the victim's KEK slots: a KEK the attacker knows
// survives every later exclusion (it carries the next TEK'). Secure: rejected, unchanged.
test('outsider: an unsolicited FetchReply for one of the victim\'s KEK slots is not installed', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const kek = victim.keyTable(g.net.now).slots.find((s) => s.held && s.slot.kind === 'kek')!;
  assert.ok(kek.slot.kind === 'kek');
  const slot = 1 + kek.slot.symbol * g.params.V + kek.slot.value;
  const info = { slot, version: kek.version + 1, revision: 0, creators: [mallory.key] };
  const bytes = mallory.fetchReply(mallory.sealFor(g.ids.b!.key, 'fetch', info, mallory.bytes(32)));
  assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', bytes, g.net.now), 'forged KEK FetchReply');
});

// Attack: an unsolicited KeyGrant (the message owners answer KeyRequests with) sealed
// by the outsider, TEK v+1: installGrant takes it. Secure: rejected, unchanged.
test('outsider: an unsolicited KeyGrant with TEK v+1 is not installed at a member', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.c!;
  const cur = tekOf(victim);
  const info = { slot: 0, version: cur.version + 1, revision: 0, creators: [mallory.key] };
  const bytes = mallory.keyGrant([mallory.sealFor(g.ids.c!.key, 'grant', info, mallory.bytes(32))]);
  assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', bytes, g.net.now), 'forged KeyGrant');
});

// Attack: a joiner waiting for its admission (it asked `a`) takes a KeyGrant from
// anyone and, holding "a TEK", declares itself a member under the attacker's key.
// Secure: the grant is rejected, the joiner stays 'joining' without a TEK.
test('outsider: a joiner does not become a member through an unsolicited KeyGrant', () => {
  const g = honestGroup(['a', 'b']);
  const mallory = new Attacker(identity('mallory'));
  const n = identity('newcomer');
  const joiner = GroupEngine.join(deps('newcomer'), n, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now });
  drain(joiner);
  const info = { slot: 0, version: 7, revision: 0, creators: [mallory.key] };
  const bytes = mallory.keyGrant([mallory.sealFor(n.key, 'grant', info, mallory.bytes(32))]);
  joiner.receive(mallory.key, 'unicast', bytes, g.net.now);
  const { events } = drain(joiner);
  assert.equal(joiner.state(), 'joining');
  assert.equal(joiner.tekInfo(), null);
  assert.ok(events.some((e) => e.type === 'rejected' && e.from === mallory.key));
});

// Attack: a joiner that asked `a` for admission accepts an Admit from anyone whose
// certificate is self-signed by that sender, and adopts its parameters, roster and keys.
// Secure: an Admit from a member it did not ask is rejected; the joiner keeps waiting.
test('outsider: a joiner rejects an Admit from someone it did not ask', () => {
  const g = honestGroup(['a', 'b']);
  const mallory = new Attacker(identity('mallory'));
  const n = identity('newcomer');
  const joiner = GroupEngine.join(deps('newcomer'), n, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now });
  drain(joiner);
  const info = { slot: 0, version: 1, revision: 0, creators: [mallory.key] };
  const bytes = mallory.admit({
    victim: n.key,
    params: { ...g.params, heartbeatMs: 1 },
    roster: [{ key: mallory.key, name: 'mallory', admittedAt: 0 }],
    owners: [{ ...info, owner: mallory.key }],
    grants: [mallory.sealFor(n.key, 'grant', info, mallory.bytes(32))],
    admittedAt: 1,
  });
  joiner.receive(mallory.key, 'unicast', bytes, g.net.now);
  const { events } = drain(joiner);
  assert.equal(joiner.state(), 'joining');
  assert.equal(joiner.tekInfo(), null);
  assert.equal(joiner.params.heartbeatMs, g.params.heartbeatMs, 'the attacker\'s parameters are not adopted');
  assert.ok(events.some((e) => e.type === 'rejected' && e.from === mallory.key));
});

// Regression (refused today): an outsider's KeyRequest with a certificate it signed
// itself gets no key; its FetchRequest gets no key either.
test('outsider: KeyRequest with a self-signed certificate and FetchRequest get no key', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.a!;
  const req = mallory.keyRequest([0], mallory.certify(mallory.key, 0));
  const got1 = assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', req, g.net.now), 'KeyRequest');
  const cur = tekOf(victim);
  const got2 = assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', mallory.fetchRequest(0, cur.version, cur.creators), g.net.now), 'FetchRequest');
  for (const bytes of [...unicastsTo(got1.out, mallory.key), ...unicastsTo(got2.out, mallory.key)]) {
    const m = decodeMessage(groupBytes, 'unicast', bytes);
    assert.ok(m.type !== MsgType.KeyGrant && m.type !== MsgType.FetchReply && m.type !== MsgType.Admit, 'no key-carrying reply to an outsider');
  }
});

// Regression (refused today): a member's own KeyRequest for a slot its ID does not select is refused.
test('member: a KeyRequest for a KEK slot outside its own ID is refused', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const bId = g.ids.b!;
  const b = new Attacker(bId);
  const victim = g.e.a!;
  const mine = new Set(victim.participantIdOf(bId.key).map((v, s) => 1 + s * g.params.V + v));
  const other = [...Array(g.params.V * g.params.W).keys()].map((i) => i + 1).find((s) => !mine.has(s))!;
  const req = b.keyRequest([other], b.certify(bId.key, 0));
  assertRejectedUnchanged(victim, bId.key, () => victim.receive(bId.key, 'unicast', req, g.net.now), 'KeyRequest for a foreign slot');
});
