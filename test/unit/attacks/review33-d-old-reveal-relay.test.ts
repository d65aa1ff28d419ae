// Scratch (review33d): an initiator reusing an epoch relays an honest member's reveal of the earlier
// panel's round 2 as `evidence`; receivers refuse it for its digest and mark the honest member's
// reveal "refused this round", so its genuine reveal (direct or relayed) is then a `replay`.
// Secure: a relayed reveal must carry this round's commitment digest, else it is refused as
// `unexpected` and says nothing about its signer (no refused reveal, no evidence sent to it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { PanelSession } from '../../../app/fractional/session.js';
import { identities, initialized, PanelNet, seededRng } from '../fractional/harness.js';

test('review33: an old panel\'s reveal relayed as evidence does not make honest members refuse and blame its signer', () => {
  const ids = identities(5, 'r33d-f');
  const keys = ids.map((i) => i.key);
  const attacker = keys[0]!;
  const framed = keys[2]!;
  const p1 = initialized(new PanelNet(ids, { label: 'r33d-p1' }));
  let old: Uint8Array | null = null;
  p1.intercept = (m) => {
    if (m.from === framed && m.to === attacker && p1.decode(m).body.kind === 'reveal') old = p1.plaintext(m);
    return m.bytes;
  };
  p1.session(attacker).startRound(p1.now);
  p1.run();
  assert.ok(old);
  const epochX = p1.decode(p1.sent.find((s) => s.from === framed && s.to === attacker)!).epoch;

  const p2 = new PanelNet(ids, { label: 'r33d-p2', processTimeoutMs: 10_000 });
  p2.now = p1.now + 60_000;
  const fresh = seededRng('r33d-attacker');
  let first = true;
  const rng = (n: number) => { if (first && n === epochX.length) { first = false; return epochX.slice(); } return fresh(n); };
  p2.sessions.set(attacker, new PanelSession({ crypto: nobleCrypto, rng }, ids[0]!.seed, keys, { processTimeoutMs: 10_000 }));
  const injected = new Set<string>();
  p2.intercept = (m) => {
    if (m.from !== attacker) return m.bytes;
    if (p2.decode(m).body.kind === 'commit' && m.to !== framed && !injected.has(m.to)) {
      injected.add(m.to);
      p2.queue.push({ from: attacker, to: m.to, bytes: p2.forge(m, (x) => ({ ...x, body: { kind: 'evidence', record: old! } })) });
    }
    return m.bytes;
  };
  p2.session(attacker).startInitialization(p2.now);
  p2.run();
  for (const k of keys) assert.equal(p2.eventsOf(k, 'initialized').length, 1);
  p2.session(attacker).startRound(p2.now);
  p2.run();
  p2.advance(5_000); p2.run(); // half-way relays
  p2.advance(5_001); p2.run();
  const honest = keys.filter((k) => k !== attacker && k !== framed);
  const blamed = honest.filter((k) => p2.eventsOf(k, 'failed').some((f) => f.missing.includes(framed)));
  const detail = honest.map((k) => [k.slice(0, 8), p2.eventsOf(k, 'round-complete').length, p2.eventsOf(k, 'rejected').map((r) => `${r.reason}:${r.detail}`).join(' | ')]);
  assert.deepEqual(blamed.map((k) => k.slice(0, 8)), [], `honest members timing out naming honest ${framed.slice(0, 8)}: ${JSON.stringify(detail)}`);
});
