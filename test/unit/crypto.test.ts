// Both CryptoProviders produce identical bytes, and reject bad input without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { nodeCrypto } from '../../app/crypto/node.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

test('noble and node providers agree on hashes, HKDF and AEAD', () => {
  fc.assert(
    fc.property(bytes(32), bytes(24), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (key, nonce, pt, aad) => {
      assert.deepEqual(nodeCrypto.sha256(pt), nobleCrypto.sha256(pt));
      assert.deepEqual(nodeCrypto.hkdf(key, aad, pt, 32), nobleCrypto.hkdf(key, aad, pt, 32));
      const a = nobleCrypto.seal(key, nonce, pt, aad);
      const b = nodeCrypto.seal(key, nonce, pt, aad);
      assert.deepEqual(b, a);
      assert.deepEqual(nodeCrypto.open(key, nonce, a, aad), pt);
      assert.deepEqual(nobleCrypto.open(key, nonce, b, aad), pt);
      const tampered = Uint8Array.from(a);
      tampered[0] = tampered[0]! ^ 1;
      assert.equal(nodeCrypto.open(key, nonce, tampered, aad), null);
      assert.equal(nobleCrypto.open(key, nonce, tampered, aad), null);
    }),
    { numRuns: 60 },
  );
});

test('noble and node providers agree on Ed25519 and X25519', () => {
  fc.assert(
    fc.property(bytes(32), bytes(32), fc.uint8Array({ maxLength: 200 }), (s1, s2, msg) => {
      const pk = nobleCrypto.ed25519PublicKey(s1);
      assert.deepEqual(nodeCrypto.ed25519PublicKey(s1), pk);
      const sig = nodeCrypto.ed25519Sign(s1, msg);
      assert.deepEqual(sig, nobleCrypto.ed25519Sign(s1, msg));
      assert.ok(nodeCrypto.ed25519Verify(pk, msg, sig));
      assert.ok(nobleCrypto.ed25519Verify(pk, msg, sig));
      const bad = Uint8Array.from(sig);
      bad[5] = bad[5]! ^ 0x40;
      assert.equal(nodeCrypto.ed25519Verify(pk, msg, bad), false);
      assert.equal(nobleCrypto.ed25519Verify(pk, msg, bad), false);
      const x1 = nodeCrypto.x25519SecretFromEd25519Seed(s1);
      const p2 = nodeCrypto.x25519PublicFromEd25519(nobleCrypto.ed25519PublicKey(s2))!;
      assert.deepEqual(nodeCrypto.x25519(x1, p2), nobleCrypto.x25519(x1, p2));
    }),
    { numRuns: 30 },
  );
});

test('malformed keys and signatures are refused, not thrown', () => {
  for (const c of [nobleCrypto, nodeCrypto]) {
    assert.equal(c.ed25519Verify(new Uint8Array(31), new Uint8Array(1), new Uint8Array(64)), false);
    assert.equal(c.ed25519Verify(new Uint8Array(32), new Uint8Array(1), new Uint8Array(10)), false);
    assert.equal(c.open(new Uint8Array(32), new Uint8Array(24), new Uint8Array(5), new Uint8Array()), null);
    assert.equal(c.x25519(new Uint8Array(32).fill(1), new Uint8Array(32)), null, `${c.name}: low-order point`);
  }
});
