// The panel codec and envelope (app/fractional/wire.ts): round trips, bounds, and refusals that never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { commit, GROUP_ORDER, IDENTITY } from '../../../app/fractional/arithmetic.js';
import type { PanelBody, PanelMessage } from '../../../app/fractional/wire.js';
import { decodeSigned, encodeSigned, MAX_ENVELOPE_BYTES, MAX_INNER_BYTES, modeOf, open, openingKeys, seal, sealTarget } from '../../../app/fractional/wire.js';
import { identities, seededRng } from './harness.js';

const [alice, bob, carol] = identities(3, 'wire');
const digest = new Uint8Array(32).fill(7);

const bodies: PanelBody[] = [
  { kind: 'ring', delta: 5n },
  { kind: 'ring-commit', v: commit(3n), d: commit(9n), gamma: IDENTITY },
  { kind: 'theta', theta: GROUP_ORDER - 1n },
  { kind: 'commit', f: commit(11n), stateDigest: digest },
  { kind: 'reveal', hfk: 12n, commitDigest: digest },
  { kind: 'recovery-ring', delta: 1n, failed: carol!.key, replacement: bob!.key },
  { kind: 'xi', xi: 2n, failed: carol!.key, replacement: bob!.key },
  { kind: 'handover', theta: 3n, xi: 4n, failed: carol!.key, pads: Array.from({ length: 32 }, (_, i) => commit(BigInt(i + 1))) },
  { kind: 'share', masked: 6n, u: commit(7n), prev: commit(5n), d: commit(8n), gamma: commit(9n), stateDigest: digest },
  { kind: 'done', stateDigest: digest },
];

const message = (body: PanelBody): PanelMessage => ({
  mode: modeOf(body.kind),
  epoch: new Uint8Array(16).fill(1),
  iteration: 7,
  timestamp: 1_700_000_000_123,
  sender: alice!.key,
  recipient: bob!.key,
  body,
});

/** Compares decoded messages by their encodings (points are objects). */
const same = (a: PanelMessage, b: PanelMessage) =>
  assert.deepEqual(encodeSigned(nobleCrypto, alice!.seed, a), encodeSigned(nobleCrypto, alice!.seed, b));

test('every message kind round-trips through sign → seal → open → decode', () => {
  for (const body of bodies) {
    const m = message(body);
    const envelope = seal(nobleCrypto, seededRng('w'), sealTarget(nobleCrypto, bob!.key)!, encodeSigned(nobleCrypto, alice!.seed, m));
    assert.ok(envelope.length <= MAX_ENVELOPE_BYTES);
    const record = open(nobleCrypto, openingKeys(nobleCrypto, bob!.seed), envelope);
    assert.ok(record.ok);
    const decoded = decodeSigned(nobleCrypto, record.value);
    assert.ok(decoded.ok, body.kind);
    same(decoded.value, m);
  }
});

test('only the recipient opens an envelope', () => {
  const envelope = seal(nobleCrypto, seededRng('w'), sealTarget(nobleCrypto, bob!.key)!, encodeSigned(nobleCrypto, alice!.seed, message(bodies[0]!)));
  const r = open(nobleCrypto, openingKeys(nobleCrypto, carol!.seed), envelope);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'decrypt-failed');
});

test('property: every truncation and every random byte string is refused with a reason, never a throw', () => {
  const records = bodies.map((b) => encodeSigned(nobleCrypto, alice!.seed, message(b)));
  fc.assert(
    fc.property(fc.nat(records.length - 1), fc.nat(), (which, cut) => {
      const record = records[which]!;
      const r = decodeSigned(nobleCrypto, record.subarray(0, cut % record.length));
      assert.equal(r.ok, false);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      assert.equal(decodeSigned(nobleCrypto, bytes).ok, false);
      assert.equal(open(nobleCrypto, openingKeys(nobleCrypto, bob!.seed), bytes).ok, false);
    }),
    { numRuns: 300 },
  );
});

test('sizes are bounded before parsing', () => {
  const big = new Uint8Array(MAX_INNER_BYTES + 1);
  const r = decodeSigned(nobleCrypto, big);
  assert.ok(!r.ok && r.reason === 'decode' && /exceeds/.test(r.detail));
  const e = open(nobleCrypto, openingKeys(nobleCrypto, bob!.seed), new Uint8Array(MAX_ENVELOPE_BYTES + 1));
  assert.ok(!e.ok && e.reason === 'decode');
});

test('a flipped bit anywhere in the signed part or the signature is refused', () => {
  const record = encodeSigned(nobleCrypto, alice!.seed, message(bodies[3]!));
  for (let i = 0; i < record.length; i += 7) {
    const bad = record.slice();
    bad[i]! ^= 0x01;
    const r = decodeSigned(nobleCrypto, bad);
    assert.equal(r.ok, false, `byte ${i}`);
  }
  const bad = record.slice();
  bad[bad.length - 1]! ^= 0x80;
  const r = decodeSigned(nobleCrypto, bad);
  assert.ok(!r.ok && r.reason === 'bad-signature');
});

test('a header whose mode disagrees with its kind is refused as wrong-mode; an unknown version as wire-version', () => {
  const record = encodeSigned(nobleCrypto, alice!.seed, message(bodies[3]!));
  const wrongMode = record.slice();
  wrongMode[1] = 0x49; // 'I' for a commit (mode G)
  const r = decodeSigned(nobleCrypto, wrongMode);
  assert.ok(!r.ok && r.reason === 'wrong-mode');
  const wrongVersion = record.slice();
  wrongVersion[0] = 9;
  const v = decodeSigned(nobleCrypto, wrongVersion);
  assert.ok(!v.ok && v.reason === 'wire-version');
});

test('non-canonical scalars and points inside a body are refused as decode', () => {
  const record = encodeSigned(nobleCrypto, alice!.seed, message(bodies[0]!));
  const header = record.length - 64 - 32;
  const bad = record.slice();
  bad.fill(0xff, header, header + 32);
  const r = decodeSigned(nobleCrypto, bad);
  assert.ok(!r.ok && r.reason === 'decode' && /scalar/.test(r.detail));
  const point = encodeSigned(nobleCrypto, alice!.seed, message(bodies[3]!)); // commit: F, then the digest
  const badPoint = point.slice();
  badPoint.fill(0xff, point.length - 64 - 64, point.length - 64 - 32);
  const p = decodeSigned(nobleCrypto, badPoint);
  assert.ok(!p.ok && p.reason === 'decode' && /point/.test(p.detail));
});
