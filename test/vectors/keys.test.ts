// Known answers for the key derivations (test/vectors/keys.json, generator:
// scripts/gen-key-vectors.ts), checked with both providers, and the revision step
// checked against an independent HKDF (node:crypto hkdfSync) written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, hkdfSync } from 'node:crypto';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { advanceRevision, controlKey, creatorsTag, dataKey, fingerprint, mergeContributions, pairwiseKey, replaceKey, revisionStep, wrapKey } from '../../app/core/keys.js';
import { participantId } from '../../app/core/params.js';
import { fromHex, toHex } from '../../app/core/bytes.js';
import { MsgType, controlAad, decodeControlInner, decodeMessage } from '../../app/core/wire.js';
import { sealControlWith } from '../../app/sim/sealed-control.js';

const v = JSON.parse(readFileSync(new URL('./keys.json', import.meta.url), 'utf8'));
const k1 = fromHex(v.inputs.k1);
const k2 = fromHex(v.inputs.k2);
const ctx = fromHex(v.inputs.context);

for (const c of [nobleCrypto, nodeCrypto]) {
  test(`key derivation vectors (${c.name})`, () => {
    assert.equal(toHex(revisionStep(c, k1)), v.revisionStep);
    assert.equal(toHex(advanceRevision(c, k1, 0, 5)), v.advance5);
    assert.equal(toHex(mergeContributions(c, [k1, k2])), v.merge);
    assert.equal(toHex(mergeContributions(c, [k2, k1])), v.merge, 'merge is order-independent');
    assert.equal(toHex(wrapKey(c, k1, ctx)), v.wrap);
    assert.equal(toHex(replaceKey(c, k1, k2, ctx)), v.replace);
    assert.equal(toHex(dataKey(c, k1)), v.data);
    assert.equal(toHex(controlKey(c, k1)), v.control);
    const tek = { slot: 0, version: 3, creators: [toHex(k2)], revision: 2, key: advanceRevision(c, k1, 0, 2) };
    assert.equal(toHex(sealControlWith(c, ctx, tek, new Uint8Array(24).fill(0x24), { type: MsgType.Leave, sentAt: 7, signature: new Uint8Array(64).fill(0x55) })), v.sealedLeave);
    assert.equal(toHex(pairwiseKey(c, k2, ctx)), v.pairwise);
    assert.equal(fingerprint(c, k1), v.fingerprint);
    assert.equal(toHex(creatorsTag(c, [toHex(k1), toHex(k2)])), v.creatorsTag, 'tag is order-independent');
    const pub = c.ed25519PublicKey(fromHex(v.inputs.identitySeed));
    assert.equal(toHex(pub), v.inputs.identityPublic);
    assert.deepEqual(participantId(c, pub, 16, 16), v.participantId16x16);
    assert.deepEqual(participantId(c, pub, 8, 2), v.participantId8x2);
    assert.deepEqual(participantId(c, pub, 4, 256), v.participantId4x256);
  });
}

test('revision step is SHA-256("conclave/v1/revision" ‖ key); wrapping is HKDF-SHA256 (independent implementations)', () => {
  const independent = createHash('sha256').update('conclave/v1/revision').update(k1).digest('hex');
  assert.equal(independent, v.revisionStep);
  const wrap = new Uint8Array(hkdfSync('sha256', k1, ctx, Buffer.from('conclave/v1/wrap-tek'), 32));
  assert.equal(toHex(wrap), v.wrap);
});

test('a sealed control message: clear header, then XChaCha20-Poly1305 under HKDF(TEK, "conclave/v1/control") with the header as AAD', () => {
  const independent = new Uint8Array(hkdfSync('sha256', k1, new Uint8Array(0), Buffer.from('conclave/v1/control'), 32));
  assert.equal(toHex(independent), v.control);
  const bytes = fromHex(v.sealedLeave);
  assert.deepEqual([...bytes.slice(0, 3)], [0x43, 4, MsgType.SealedControl], 'magic, wire version 4, SealedControl');
  const env = decodeMessage(ctx, 'control', bytes);
  assert.ok(env.type === MsgType.SealedControl);
  assert.equal(env.tekVersion, 3);
  assert.equal(env.revision, 2);
  assert.equal(toHex(env.tekTag), toHex(creatorsTag(nodeCrypto, [toHex(k2)])));
  const plain = nodeCrypto.open(controlKey(nodeCrypto, advanceRevision(nodeCrypto, k1, 0, 2)), env.nonce, env.ciphertext, controlAad(ctx, env));
  assert.ok(plain);
  assert.deepEqual(decodeControlInner(plain), { type: MsgType.Leave, sentAt: 7, signature: new Uint8Array(64).fill(0x55) });
  assert.equal(toHex(bytes).includes('55'.repeat(64)), false, 'the inner body is not in clear');
});

test('participant ID symbols are the hash bits, most significant first', () => {
  const h = nobleCrypto.sha256(Buffer.concat([Buffer.from('conclave/v1/participant-id'), fromHex(v.inputs.identityPublic)]));
  const nibbles = [...h.slice(0, 8)].flatMap((b) => [b >> 4, b & 15]);
  assert.deepEqual(v.participantId16x16, nibbles);
  assert.deepEqual(v.participantId4x256, [...h.slice(0, 4)]);
});
