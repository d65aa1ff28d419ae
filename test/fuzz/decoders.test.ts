// Fuzzing every decoder (issue 14 "What to build" §6): fed random bytes and mutated
// valid encodings, a decoder returns or throws its typed decode error, never anything
// else. app/core/wire.ts throws RemoteProtocolError; app/fractional/wire.ts never
// throws and answers { ok: false, reason }.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader, toHex } from '../../app/core/bytes.js';
import { RemoteProtocolError } from '../../app/core/errors.js';
import { decodeControlInner, decodeMessage, decodeParams, encodeControlInner, encodeMessage, MsgType, WIRE_VERSION, type ControlMessage } from '../../app/core/wire.js';

const CONTROL_INNER: ReadonlySet<number> = new Set([MsgType.Heartbeat, MsgType.Revision, MsgType.MemberAdmitted, MsgType.Table, MsgType.Leave]);
import { nodeCrypto } from '../../app/crypto/node.js';
import { GROUP_ORDER, commit } from '../../app/fractional/arithmetic.js';
import { decodeSigned, encodeSigned, open, openingKeys, seal, sealTarget, type PanelMessage } from '../../app/fractional/wire.js';
import { SeededRandom } from '../../app/sim/random.js';
import { bytes, channelOf, messageArb, mutate, mutationArb, paramsArb, type Ctx } from './arbitraries.js';
import { runs } from './config.js';

const group = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const channels = ['control', 'data', 'unicast'] as const;
const keys = ['a', 'b', 'c'].map((n) => toHex(nodeCrypto.ed25519PublicKey(nodeCrypto.sha256(new TextEncoder().encode(n)))));
const ctx: Ctx = { keys, V: 4, W: 4, version: 3, revision: 5, creators: [keys[0]!], maxRevision: 0xffffffff };

/** Runs a core decoder: it may return or throw RemoteProtocolError, nothing else. */
function decodesOrRejects(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof RemoteProtocolError)) throw new Error(`decoder threw ${String(err)} instead of a RemoteProtocolError`, { cause: err });
  }
}

test('core decodeMessage: random bytes, on every channel, return or throw RemoteProtocolError', () => {
  const prefixed = fc.tuple(fc.integer({ min: 0, max: 20 }), bytes(0, 300)).map(([type, rest]) => Uint8Array.from([0x43, WIRE_VERSION, type, ...group, ...rest]));
  fc.assert(
    fc.property(fc.oneof(bytes(0, 300), prefixed), fc.constantFrom(...channels), (b, ch) => decodesOrRejects(() => decodeMessage(group, ch, b))),
    runs(3000),
  );
});

test('core decodeMessage: every valid encoding decodes on its channel and re-encodes to the same bytes', () => {
  fc.assert(
    fc.property(messageArb(ctx), (m) => {
      if (CONTROL_INNER.has(m.type)) {
        // Control messages travel inside a SealedControl: their inner encoding round-trips.
        const inner = encodeControlInner(m as ControlMessage);
        assert.equal(toHex(encodeControlInner(decodeControlInner(inner))), toHex(inner));
        return;
      }
      const b = encodeMessage(group, m);
      const back = decodeMessage(group, channelOf(m), b);
      assert.equal(toHex(encodeMessage(group, back)), toHex(b));
    }),
    runs(1000),
  );
});

test('core decodeMessage: mutated valid encodings return or throw RemoteProtocolError', () => {
  fc.assert(
    fc.property(messageArb(ctx), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(...channels), (m, muts, ch) => {
      const b = mutate(encodeMessage(group, m), muts);
      decodesOrRejects(() => decodeMessage(group, ch, b));
      decodesOrRejects(() => decodeMessage(group, channelOf(m), b));
      if (CONTROL_INNER.has(m.type)) decodesOrRejects(() => decodeControlInner(mutate(encodeControlInner(m as ControlMessage), muts)));
    }),
    runs(3000),
  );
});

test('core decodeParams: random and mutated bytes return or throw RemoteProtocolError', () => {
  fc.assert(
    fc.property(paramsArb, fc.array(mutationArb, { maxLength: 3 }), bytes(0, 64), fc.boolean(), (p, muts, junk, useJunk) => {
      const m = encodeMessage(group, { type: MsgType.Admit, groupName: '', params: p, roster: [], blocklist: [], owners: [], grants: [], certificate: { admitter: keys[0]!, member: keys[1]!, admittedAt: 0, signature: new Uint8Array(64) } });
      // The params start after the envelope (19 bytes) and the empty group name (4 bytes).
      const b = useJunk ? junk : mutate(m.subarray(23), muts);
      decodesOrRejects(() => decodeParams(new Reader(b)));
    }),
    runs(1000),
  );
});

// ---------------------------------------------------------------- app/fractional/wire.ts

const sender = { seed: nodeCrypto.sha256(new TextEncoder().encode('panel-sender')) };
const senderKey = toHex(nodeCrypto.ed25519PublicKey(sender.seed));
const recipientSeed = nodeCrypto.sha256(new TextEncoder().encode('panel-recipient'));
const recipient = openingKeys(nodeCrypto, recipientSeed);
const target = sealTarget(nodeCrypto, recipient.key)!;
const rng = new SeededRandom('fuzz-panel').asRng();

const scalar = fc.bigInt({ min: 0n, max: GROUP_ORDER - 1n });
const point = fc.bigInt({ min: 0n, max: 1000n }).map((s) => commit(s));
const digest = bytes(32, 32);
const panelKey = fc.constantFrom(senderKey, recipient.key);
const panelBody = fc.oneof(
  fc.record({ kind: fc.constant('ring' as const), delta: scalar }),
  fc.record({ kind: fc.constant('ring-commit' as const), v: point, d: point, gamma: point }),
  fc.record({ kind: fc.constant('theta' as const), theta: scalar }),
  fc.record({ kind: fc.constant('commit' as const), f: point, stateDigest: digest }),
  fc.record({ kind: fc.constant('reveal' as const), hfk: scalar, commitDigest: digest }),
  fc.record({ kind: fc.constant('recovery-ring' as const), delta: scalar, failed: panelKey, replacement: panelKey }),
  fc.record({ kind: fc.constant('xi' as const), xi: scalar, failed: panelKey, replacement: panelKey }),
  fc.record({ kind: fc.constant('handover' as const), theta: scalar, xi: scalar, failed: panelKey, pads: fc.array(point, { minLength: 4, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('share' as const), masked: scalar, u: point, prev: point, d: point, gamma: point, stateDigest: digest }),
  fc.record({ kind: fc.constant('done' as const), stateDigest: digest }),
);
const modeOfKind = (k: string): 'I' | 'G' | 'R' => (['ring', 'ring-commit', 'theta'].includes(k) ? 'I' : ['commit', 'reveal'].includes(k) ? 'G' : 'R');
const panelMessage: fc.Arbitrary<PanelMessage> = fc
  .record({ epoch: bytes(16, 16), iteration: fc.integer({ min: 0, max: 0xffffffff }), timestamp: fc.integer({ min: 0, max: 2 ** 52 }), body: panelBody })
  .map((r) => ({ ...r, mode: modeOfKind(r.body.kind), sender: senderKey, recipient: recipient.key }));

/** A fractional decoder never throws: every failure is { ok: false } with a reason. */
function neverThrows(run: () => { ok: boolean }): void {
  const r = run();
  assert.equal(typeof r.ok, 'boolean');
}

test('fractional decodeSigned: random bytes and mutated signed records never throw', () => {
  fc.assert(
    fc.property(fc.oneof(bytes(0, 400).map((b) => ({ b, muts: [] })), fc.record({ m: panelMessage, muts: fc.array(mutationArb, { maxLength: 3 }) }).map(({ m, muts }) => ({ b: encodeSigned(nodeCrypto, sender.seed, m), muts }))), ({ b, muts }) => {
      const input = mutate(b, muts);
      neverThrows(() => decodeSigned(nodeCrypto, input));
    }),
    runs(1000),
  );
});

test('fractional decodeSigned: an unmutated signed record decodes to itself', () => {
  fc.assert(
    fc.property(panelMessage, (m) => {
      const r = decodeSigned(nodeCrypto, encodeSigned(nodeCrypto, sender.seed, m));
      assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
      assert.equal(r.value.body.kind, m.body.kind);
    }),
    runs(300),
  );
});

test('fractional open: random bytes and mutated envelopes never throw', () => {
  fc.assert(
    fc.property(fc.oneof(bytes(0, 200).map((b) => ({ b, muts: [] })), fc.record({ rec: bytes(0, 300), muts: fc.array(mutationArb, { maxLength: 3 }) }).map(({ rec, muts }) => ({ b: seal(nodeCrypto, rng, target, rec), muts }))), ({ b, muts }) => {
      neverThrows(() => open(nodeCrypto, recipient, mutate(b, muts)));
    }),
    runs(1000),
  );
});
