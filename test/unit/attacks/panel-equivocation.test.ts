// Review 31's open finding: an equivocating panel member blamed its victim.
// The liar signs one commitment F for the victim and another for everyone else, and
// withholds its reveal from the victim. The honest members' commitment digests then
// disagree with the victim's: before, each refused the victim's reveal, timed out on
// it and named the victim as the member that went silent (the panel hook suspects
// such a member and replaces it by recovery), while the liar, whose every message they
// accepted, stayed. Now the members that see a digest disagree forward the signed
// commitments they hold; two commitments signed by one member for one round are proof,
// so every honest member names the liar a cheater, ends the round at once naming it,
// and names nobody else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberKey } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { COMMIT_RECORD_BYTES, decodeSigned, encodeSigned, seal, sealTarget } from '../../../app/fractional/wire.js';
import { encodeFrame } from '../../../app/fractional/panel-frames.js';
import { identities, initialized, PanelNet, seededRng } from '../fractional/harness.js';
import { FORM_DELAY, HookNet, openedFrame, TIMEOUT } from '../fractional/hook-net.js';

function equivocationNet(shuffle?: string): { net: PanelNet; liar: MemberKey; victim: MemberKey; honest: MemberKey[] } {
  const ids = identities(5, 'equivocation');
  const net = initialized(new PanelNet(ids, { label: 'equivocation', ...(shuffle ? { shuffle } : {}), processTimeoutMs: 5_000 }));
  const liar = ids[1]!.key;
  const victim = ids[3]!.key;
  net.intercept = (m) => {
    if (m.from !== liar || m.to !== victim) return m.bytes;
    const kind = net.decode(m).body.kind;
    if (kind === 'commit') return net.forge(m, (x) => (x.body.kind === 'commit' ? { ...x, body: { ...x.body, f: x.body.f.double() } } : x));
    if (kind === 'reveal') return null; // withheld from the victim
    return m.bytes;
  };
  return { net, liar, victim, honest: ids.map((i) => i.key).filter((k) => k !== liar) };
}

for (const shuffle of [undefined, 'a', 'b', 'c']) {
  test(`panel: an equivocating member is proven a cheater by every honest member, and its victim is named by none (delivery ${shuffle ?? 'in order'})`, () => {
    const { net, liar, victim, honest } = equivocationNet(shuffle);
    net.session(honest[0]!).startRound(net.now);
    net.run();
    net.advance(6_000); // past every deadline: whatever still waits times out
    net.run();
    for (const k of honest) {
      assert.equal(net.eventsOf(k, 'round-complete').length, 0, 'no key from a round with two commitments');
      const blamed = net.eventsOf(k, 'failed').flatMap((f) => f.missing);
      assert.ok(!blamed.includes(victim) || k === victim, `${k.slice(0, 8)} names the victim as missing: ${JSON.stringify(net.eventsOf(k, 'failed'))}`);
      assert.ok(
        net.eventsOf(k, 'cheater').some((e) => e.member === liar && e.process === 'round'),
        `${k.slice(0, 8)}${k === victim ? ' (the victim)' : ''} did not prove the liar cheated; failed: ${JSON.stringify(net.eventsOf(k, 'failed').map((f) => [f.reason, f.missing.map((m) => m.slice(0, 8))]))}`,
      );
      assert.ok(net.eventsOf(k, 'cheater').every((e) => e.member === liar), 'only the liar is named a cheater');
      const failed = net.eventsOf(k, 'failed');
      assert.equal(failed.length, 1);
      assert.deepEqual(failed[0]!.missing, [liar], 'the round ends naming the liar');
    }
  });
}

test('panel: forwarded commitments that agree, or that are not signed by their member, prove nothing', () => {
  const ids = identities(5, 'equivocation-honest');
  const [a, b, c] = ids.map((i) => i.key) as [MemberKey, MemberKey, MemberKey];
  const net = initialized(new PanelNet(ids, { label: 'equivocation-honest' }));
  let bRecord: Uint8Array | null = null;
  let injected = false;
  net.intercept = (m) => {
    const kind = net.decode(m).body.kind;
    if (m.from === b && m.to === a && kind === 'commit') bRecord = net.plaintext(m); // b's genuine commitment, signed to a
    if (m.from === a && m.to === c && kind === 'reveal' && !injected && bRecord) {
      // a sends c, while c still waits for a's reveal, b's genuine commitment, then a copy whose signature is broken,
      // then one with another F that b never signed (a re-signed it: the signer is not b)
      injected = true;
      const genuine = bRecord;
      const broken = genuine.slice();
      broken[broken.length - 1]! ^= 1;
      const decoded = decodeSigned(nobleCrypto, genuine);
      assert.ok(decoded.ok && decoded.value.body.kind === 'commit');
      const { signed: _, ...unsigned } = decoded.value;
      const other = { ...unsigned, body: { ...decoded.value.body, f: decoded.value.body.f.double() } };
      const resigned = encodeSigned(nobleCrypto, net.seeds.get(a)!, other);
      net.queue.unshift(
        { from: a, to: c, bytes: net.forge(m, (x) => ({ ...x, body: { kind: 'evidence', record: resigned } })) },
        { from: a, to: c, bytes: net.forge(m, (x) => ({ ...x, body: { kind: 'evidence', record: broken } })) },
        { from: a, to: c, bytes: net.forge(m, (x) => ({ ...x, body: { kind: 'evidence', record: genuine } })) },
      );
      net.queue.push(m); // the reveal itself comes last
      return null;
    }
    return m.bytes;
  };
  net.session(a).startRound(net.now);
  net.run();
  assert.ok(injected, 'the evidence was delivered during the round');
  for (const id of ids) assert.equal(net.eventsOf(id.key, 'round-complete').length, 1, `${id.key.slice(0, 8)} made the key`);
  for (const id of ids) assert.deepEqual(net.eventsOf(id.key, 'cheater'), [], 'nobody is named a cheater');
  const refused = net.eventsOf(c, 'rejected').filter((r) => r.reason === 'bad-signature' && r.detail.startsWith('evidence'));
  assert.equal(refused.length, 2, 'the broken copy and the one b never signed are refused');
  const evidence = net.sent.filter((m) => net.decode(m).body.kind === 'evidence');
  assert.deepEqual(evidence, [], 'honest members forward nothing when every digest agrees');
});

test('panel wire: evidence carries exactly one signed commit record; any other length is refused as decode', () => {
  const [a, b] = identities(2, 'evidence-wire');
  const base = { mode: 'G' as const, epoch: new Uint8Array(16), iteration: 2, timestamp: 1, sender: a!.key, recipient: b!.key };
  for (const length of [0, COMMIT_RECORD_BYTES - 1, COMMIT_RECORD_BYTES + 1, 1000]) {
    const record = encodeSigned(nobleCrypto, a!.seed, { ...base, body: { kind: 'evidence', record: new Uint8Array(length) } });
    const decoded = decodeSigned(nobleCrypto, record);
    assert.ok(!decoded.ok && decoded.reason === 'decode', `length ${length}`);
  }
  const ok = decodeSigned(nobleCrypto, encodeSigned(nobleCrypto, a!.seed, { ...base, body: { kind: 'evidence', record: new Uint8Array(COMMIT_RECORD_BYTES).fill(7) } }));
  assert.ok(ok.ok && ok.value.body.kind === 'evidence' && ok.value.body.record.every((x) => x === 7));
});

test('panel hooks: after an equivocation the liar is left out of the next panel and its victim stays on it', () => {
  const ids = identities(7, 'equivocation-hooks');
  const net = new HookNet(ids, 5);
  const liar = ids[1]!;
  const victim = ids[3]!;
  let attacking = true;
  net.intercept = (m) => {
    if (!attacking || m.from !== liar.key || m.to !== victim.key) return m.bytes;
    const opened = openedFrame(victim.seed, m.bytes);
    if (!opened) return m.bytes;
    const { frame, message: decoded } = opened;
    const body = decoded.body;
    if (body.kind === 'reveal') return null;
    if (body.kind !== 'commit') return m.bytes;
    const { signed: _, ...message } = decoded;
    const forged = encodeSigned(nobleCrypto, liar.seed, { ...message, body: { ...body, f: body.f.double() } });
    return encodeFrame({ ...frame, bytes: seal(nobleCrypto, seededRng('forge'), sealTarget(nobleCrypto, victim.key)!, forged) });
  };
  net.updateAll();
  net.advance(FORM_DELAY + 500); // the panel forms, initializes and starts its first round: the liar equivocates in it
  attacking = false;
  net.advance(2 * TIMEOUT + 3 * FORM_DELAY);
  const honest = ids.map((i) => i.key).filter((k) => k !== liar.key);
  const cheaters = [...net.events.entries()].filter(([k]) => honest.includes(k)).flatMap(([, evs]) => evs.flatMap((e) => (e.kind === 'rejected' && e.text.startsWith('cheater') ? [e.from] : [])));
  assert.ok(cheaters.length > 0 && cheaters.every((k) => k === liar.key), `the liar, and only it, is named a cheater: ${cheaters.map((k) => k?.slice(0, 8)).join(', ')}`);
  for (const [k, h] of net.live()) {
    if (k === liar.key || !h.panel) continue;
    assert.ok(!h.panel.includes(liar.key), `${k.slice(0, 8)}: the liar is still on the panel`);
    assert.ok(h.panel.includes(victim.key), `${k.slice(0, 8)}: the victim was put off the panel (${h.panel.map((x) => x.slice(0, 8)).join(', ')})`);
  }
  assert.ok(net.live().some(([k, h]) => k !== liar.key && h.panel), 'a panel runs');
  assert.notEqual(net.readyRound(), null, 'the new panel completed a round');
});
