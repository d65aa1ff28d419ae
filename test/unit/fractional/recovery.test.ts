// Recovery of a failed member's pad (004 §IV, process 700) on the in-memory harness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import type { Scalar } from '../../../app/fractional/arithmetic.js';
import { decodeScalar, encodeScalar, remove, sumScalars } from '../../../app/fractional/arithmetic.js';
import { fromHex, toHex } from '../../../app/fractional/bytes.js';
import { LocalProtocolError } from '../../../app/fractional/errors.js';
import { open, openingKeys } from '../../../app/fractional/wire.js';
import type { Identity } from './harness.js';
import { contains, identities, initialized, PanelNet } from './harness.js';

const scalarOf = (hex: string): Scalar => decodeScalar(fromHex(hex)!)!;

/** Replaces `failed` by a new member and runs the recovery with every remaining member's consent. */
function replace(net: PanelNet, failed: string, newcomer: Identity, consentOrder?: string[]): void {
  const panel = net.session(net.live().find((k) => k !== failed)!).panel.map((k) => (k === failed ? newcomer.key : k));
  net.add(newcomer, panel, { label: 'net' });
  net.session(newcomer.key).startRecovery(failed, newcomer.key, net.now);
  for (const k of consentOrder ?? panel.filter((k) => k !== newcomer.key)) {
    net.session(k).startRecovery(failed, newcomer.key, net.now);
    net.run();
  }
}

test('a member crashes mid-round; after the timeout the panel recovers its pad and the next round works without it', () => {
  const ids = identities(5, 'rec');
  const net = initialized(new PanelNet(ids, { shuffle: 'rec', processTimeoutMs: 10_000 }));
  net.session(ids[0]!.key).startRound(net.now);
  net.run();
  const failed = ids[2]!.key;
  const failedState = net.session(failed).snapshot();
  const padBefore = scalarOf(failedState.pad);
  const oldFraction = remove(scalarOf(failedState.theta), padBefore);

  // Round 3: the member goes down after its commitments left, before any of its reveals arrives.
  net.intercept = (m) => {
    if (m.from !== failed || net.decode(m).body.kind !== 'reveal') return m.bytes;
    net.down.add(failed);
    return null;
  };
  net.session(ids[1]!.key).startRound(net.now);
  net.run();
  net.intercept = null;
  net.advance(10_000);
  for (const k of net.live()) {
    const f = net.eventsOf(k, 'failed');
    assert.deepEqual(f.map((e) => [e.reason, e.missing]), [['timeout', [failed]]], k);
  }

  const crashAt = net.sent.length;
  const [newcomer] = identities(1, 'rec-new');
  replace(net, failed, newcomer!);
  for (const k of net.live()) {
    const r = net.eventsOf(k, 'recovered');
    assert.equal(r.length, 1, k);
    assert.deepEqual([r[0]!.failed, r[0]!.replacement, r[0]!.iteration], [failed, newcomer!.key, 4]);
    assert.ok(r[0]!.members.includes(newcomer!.key) && !r[0]!.members.includes(failed));
  }
  // The replacement holds exactly the failed member's pad (004 §IV: the recovered values are unique).
  assert.equal(scalarOf(net.session(newcomer!.key).snapshot().pad), padBefore);

  net.session(newcomer!.key).startRound(net.now);
  net.run();
  const keys = net.live().map((k) => toHex(net.eventsOf(k, 'round-complete').find((e) => e.round === 5)!.key));
  assert.equal(new Set(keys).size, 1, 'the next round gives one key to the new panel');

  // θ of the new round is the sum of fresh FKs of the current members only.
  const snaps = net.live().map((k) => net.session(k).snapshot());
  const theta = scalarOf(snaps[0]!.theta);
  const fractions = snaps.map((s) => remove(theta, scalarOf(s.pad)));
  assert.equal(theta, sumScalars(fractions));
  assert.ok(!fractions.includes(oldFraction), "the failed member's last FK is not reused");
  assert.notEqual(scalarOf(net.session(newcomer!.key).snapshot().pad), padBefore, 'the recovered pad is spent');

  // Nothing sent since the crash was addressed to the failed member, and it can open none of it.
  const failedKeys = openingKeys(nobleCrypto, ids[2]!.seed);
  for (const m of net.sent.slice(crashAt)) {
    assert.notEqual(m.to, failed);
    assert.equal(open(nobleCrypto, failedKeys, m.bytes).ok, false);
  }
});

test('the initiator itself can be replaced; the next member in ring order leads the recovery', () => {
  const ids = identities(4, 'rec-init');
  const net = initialized(new PanelNet(ids));
  net.down.add(ids[0]!.key);
  const [newcomer] = identities(1, 'rec-init-new');
  replace(net, ids[0]!.key, newcomer!);
  const first = net.sent.find((m) => net.decode(m).body.kind === 'recovery-ring')!;
  assert.equal(first.from, ids[1]!.key);
  net.session(ids[3]!.key).startRound(net.now);
  net.run();
  assert.equal(new Set(net.live().map((k) => toHex(net.eventsOf(k, 'round-complete')[0]!.key))).size, 1);
});

test('consent may come late: messages of a recovery wait until this member agrees to it', () => {
  const ids = identities(5, 'rec-late');
  const net = initialized(new PanelNet(ids, { shuffle: 'late' }));
  const failed = ids[4]!.key;
  net.down.add(failed);
  const [newcomer] = identities(1, 'rec-late-new');
  // Member 1 agrees last, after the others have run their part.
  replace(net, failed, newcomer!, [ids[0]!.key, ids[2]!.key, ids[3]!.key, ids[1]!.key]);
  for (const k of net.live()) assert.equal(net.eventsOf(k, 'recovered').length, 1, k);
  for (const k of net.live()) assert.deepEqual(net.eventsOf(k, 'rejected'), [], k);
});

test('a recovery started during a round abandons the round (superseded) and still completes', () => {
  const ids = identities(4, 'rec-super');
  const net = initialized(new PanelNet(ids));
  const failed = ids[3]!.key;
  net.down.add(failed);
  net.session(ids[0]!.key).startRound(net.now);
  net.run();
  const [newcomer] = identities(1, 'rec-super-new');
  replace(net, failed, newcomer!);
  for (const k of net.live().filter((k) => k !== newcomer!.key)) {
    assert.deepEqual(net.eventsOf(k, 'failed').map((e) => [e.process, e.reason, e.iteration]), [['round', 'superseded', 2]]);
    assert.equal(net.eventsOf(k, 'recovered')[0]!.iteration, 3);
  }
});

test('a remaining member that sends a wrong masked pad is named by the replacement; nothing is recovered', () => {
  const ids = identities(4, 'rec-cheat');
  const net = initialized(new PanelNet(ids));
  const failed = ids[3]!.key;
  const cheater = ids[2]!.key;
  net.down.add(failed);
  net.intercept = (m) =>
    m.from === cheater && net.decode(m).body.kind === 'share'
      ? net.forge(m, (x) => (x.body.kind === 'share' ? { ...x, body: { ...x.body, masked: remove(x.body.masked, 1n) } } : x))
      : m.bytes;
  const [newcomer] = identities(1, 'rec-cheat-new');
  replace(net, failed, newcomer!);
  const named = net.eventsOf(newcomer!.key, 'cheater');
  assert.deepEqual(named.map((e) => [e.member, e.process]), [[cheater, 'recovery']]);
  assert.deepEqual(net.eventsOf(newcomer!.key, 'failed').map((e) => e.reason), ['verification']);
  for (const k of net.live()) assert.equal(net.eventsOf(k, 'recovered').length, 0);
  assert.equal(net.session(newcomer!.key).status, 'fresh');
});

test('a ring value that does not match its sender\'s published D stops the recovery without naming an innocent', () => {
  const ids = identities(5, 'rec-ring');
  const net = initialized(new PanelNet(ids));
  const failed = ids[4]!.key;
  const liar = ids[1]!.key;
  net.down.add(failed);
  net.intercept = (m) =>
    m.from === liar && net.decode(m).body.kind === 'recovery-ring'
      ? net.forge(m, (x) => (x.body.kind === 'recovery-ring' ? { ...x, body: { ...x.body, delta: remove(x.body.delta, 1n) } } : x))
      : m.bytes;
  const [newcomer] = identities(1, 'rec-ring-new');
  replace(net, failed, newcomer!);
  const failures = net.eventsOf(newcomer!.key, 'failed');
  assert.deepEqual(failures.map((e) => e.reason), ['verification']);
  assert.match(failures[0]!.detail, new RegExp(liar));
  assert.deepEqual(net.eventsOf(newcomer!.key, 'cheater'), []);
  for (const k of net.live()) assert.equal(net.eventsOf(k, 'recovered').length, 0);
});

test('recovery commands are checked: the caller cannot replace itself, a stranger, or with a current member', () => {
  const ids = identities(5, 'rec-misuse');
  const net = initialized(new PanelNet(ids));
  const s = net.session(ids[0]!.key);
  const [stranger] = identities(1, 'rec-misuse-x');
  const codeOf = (f: () => void) => {
    try {
      f();
      return 'none';
    } catch (e) {
      assert.ok(e instanceof LocalProtocolError);
      return e.code;
    }
  };
  assert.equal(codeOf(() => s.startRecovery(ids[0]!.key, stranger!.key, net.now)), 'bad-recovery');
  assert.equal(codeOf(() => s.startRecovery(stranger!.key, ids[3]!.key, net.now)), 'bad-recovery');
  assert.equal(codeOf(() => s.startRecovery(ids[2]!.key, ids[3]!.key, net.now)), 'bad-recovery');
  assert.equal(codeOf(() => s.startRecovery(ids[2]!.key, ids[2]!.key, net.now)), 'bad-recovery');
  assert.equal(s.status, 'ready');
});

test('property: any member can be replaced under any delivery order; no pad or FK is sent, θ only in the handover', () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 5 }), fc.nat(4), fc.string({ minLength: 1, maxLength: 5 }), (n, which, label) => {
      const ids = identities(n, `rec-prop/${label}`);
      const net = initialized(new PanelNet(ids, { label, shuffle: label }));
      net.session(ids[0]!.key).startRound(net.now);
      net.run();
      const snaps = ids.map((i) => net.session(i.key).snapshot());
      const theta = scalarOf(snaps[0]!.theta);
      const pads = snaps.map((s) => scalarOf(s.pad));
      const secret = [...pads, ...pads.map((a) => remove(theta, a))].map(encodeScalar);
      const failed = ids[which % n]!.key;
      net.down.add(failed);
      const from = net.sent.length;
      const [newcomer] = identities(1, `rec-prop-new/${label}`);
      replace(net, failed, newcomer!);
      for (const k of net.live()) assert.equal(net.eventsOf(k, 'recovered').length, 1);
      for (const m of net.sent.slice(from)) {
        const plain = net.plaintext(m);
        for (const s of secret) assert.ok(!contains(plain, s) && !contains(plain, s.slice().reverse()), 'a pad or FK in a recovery record');
        if (contains(plain, encodeScalar(theta))) assert.equal(net.decode(m).body.kind, 'handover');
      }
      net.session(newcomer!.key).startRound(net.now);
      net.run();
      const keys = net.live().map((k) => toHex(net.eventsOf(k, 'round-complete').at(-1)!.key));
      assert.equal(new Set(keys).size, 1);
    }),
    { numRuns: 2, seed: 20261121 },
  );
});

