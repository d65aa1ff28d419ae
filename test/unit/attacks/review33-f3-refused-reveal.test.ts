// Review 33, finding 3: a reveal refused for its commitment digest is answered with this member's
// evidence (n − 2 sealed, signed datagrams). An insider sent every member a reveal with a wrong
// digest, then its genuine one: the round still completed, nobody was named, and it drew the
// answers every round (×10 datagrams out per datagram in at n = 12, ×30 at n = 32). Secure: a
// member's reveal refused for its digest is its last in the round (another is `replay`), so the
// trick costs the attacker the round: it ends at its deadline naming the attacker, once, and the
// panel hook replaces it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identities, initialized, PanelNet } from '../fractional/harness.js';

test('review33 F3: after a reveal refused for its digest, the same member cannot reveal again: the round fails naming it', () => {
  const n = 12;
  const ids = identities(n, 'r33-f3');
  const keys = ids.map((i) => i.key);
  const attacker = keys[1]!;
  const net = initialized(new PanelNet(ids, { label: 'r33-f3', processTimeoutMs: 5_000 }));
  const genuine = new WeakSet<Uint8Array>();
  net.intercept = (m) => {
    if (m.from !== attacker || genuine.has(m.bytes) || net.decode(m).body.kind !== 'reveal') return m.bytes;
    genuine.add(m.bytes);
    net.queue.unshift({ from: attacker, to: m.to, bytes: m.bytes }); // the genuine reveal, right after
    return net.forge(m, (x) => (x.body.kind === 'reveal' ? { ...x, body: { ...x.body, commitDigest: new Uint8Array(32).fill(1) } } : x));
  };
  const before = net.sent.length;
  net.session(keys[0]!).startRound(net.now);
  net.run();
  net.advance(6_000);
  net.run();
  const honest = keys.filter((k) => k !== attacker);
  for (const k of honest) {
    assert.equal(net.eventsOf(k, 'round-complete').length, 0, 'the attacker no longer completes the round with a second reveal');
    assert.ok(net.eventsOf(k, 'rejected').some((r) => r.reason === 'replay' && r.from === attacker), 'its genuine reveal is refused as a second one');
    const failed = net.eventsOf(k, 'failed');
    assert.equal(failed.length, 1);
    assert.deepEqual(failed[0]!.missing, [attacker], 'the round ends naming the attacker alone');
  }
  const evidence = net.sent.slice(before).filter((m) => net.decode(m).body.kind === 'evidence');
  assert.ok(evidence.every((m) => m.to === attacker), 'evidence goes to the attacker only');
  assert.ok(evidence.length <= honest.length * (n - 2), `at most n − 2 evidence datagrams from each honest member, once: ${evidence.length}`);
});
