// Known answers for the key derivations (test/vectors/keys.json, generator:
// scripts/gen-key-vectors.ts), checked with both providers, and the revision step
// checked against an independent HKDF (node:crypto hkdfSync) written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, hkdfSync } from 'node:crypto';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { advanceRevision, creatorsTag, dataKey, fingerprint, mergeContributions, pairwiseKey, replaceKey, revisionStep, wrapKey } from '../../app/core/keys.js';
import { participantId } from '../../app/core/params.js';
import { fromHex, toHex } from '../../app/core/bytes.js';

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

test('participant ID symbols are the hash bits, most significant first', () => {
  const h = nobleCrypto.sha256(Buffer.concat([Buffer.from('conclave/v1/participant-id'), fromHex(v.inputs.identityPublic)]));
  const nibbles = [...h.slice(0, 8)].flatMap((b) => [b >> 4, b & 15]);
  assert.deepEqual(v.participantId16x16, nibbles);
  assert.deepEqual(v.participantId4x256, [...h.slice(0, 4)]);
});
