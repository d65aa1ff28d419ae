// net/ed25519-verify: libp2p's Ed25519 public keys verify on a memoized key object, with the
// library's answers: valid signatures accepted, any change to the message, the signature or the
// key refused, a list of chunks read whole, bad lengths and aborted calls thrown as before.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { Uint8ArrayList } from 'uint8arraylist';
import { installMemoizedEd25519Verify } from '../../app/net/ed25519-verify.js';

/** What @libp2p/crypto 5.x computes: a key imported from JWK for the call, then Node's verify. */
function reference(raw: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') } });
  return nodeVerify(null, msg, key, sig);
}

test('libp2p Ed25519 verify on a memoized key object gives the library answers', async () => {
  assert.equal(installMemoizedEd25519Verify(), 'memo');
  const signers = await Promise.all([0, 1, 2].map(() => generateKeyPair('Ed25519')));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 3 }), fc.nat(), async (who, msg, change, at) => {
      const signer = signers[who]!;
      const sig = await signer.sign(msg);
      const pub = publicKeyFromRaw(signer.publicKey.raw);
      let m = msg;
      let s = sig;
      let raw = signer.publicKey.raw;
      if (change === 1 && msg.length > 0) (m = msg.slice())[at % msg.length]! ^= 1;
      if (change === 2) (s = sig.slice())[at % 64]! ^= 1;
      if (change === 3) raw = signers[(who + 1) % 3]!.publicKey.raw;
      const key = change === 3 ? publicKeyFromRaw(raw) : pub;
      const got = await key.verify(m, s);
      assert.equal(got, reference(raw, m, s));
      assert.equal(got, change === 0 || (change === 1 && msg.length === 0));
    }),
    { numRuns: 200 },
  );
  const signer = signers[0]!;
  const msg = new TextEncoder().encode('one message in two chunks');
  const sig = await signer.sign(msg);
  const key = publicKeyFromRaw(signer.publicKey.raw);
  assert.equal(await key.verify(new Uint8ArrayList(msg.subarray(0, 7), msg.subarray(7)), sig), true, 'a list of chunks is read whole');
  assert.throws(() => key.verify(msg, sig.subarray(0, 63)), TypeError, 'a short signature throws as in the library');
  const aborted = AbortSignal.abort();
  assert.throws(() => key.verify(msg, sig, { signal: aborted }), (e: Error) => e.name === 'AbortError');
});
