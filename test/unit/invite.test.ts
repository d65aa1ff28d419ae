/** Invites (peer/invite.ts): signed, expiring, bounded; every bad input is a typed InviteError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createInvite, parseInvite, InviteError, INVITE_PREFIX } from '../../app/peer/invite.js';
import { defaultParams } from '../../app/peer/params.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../app/net/ids.js';

const seed = new Uint8Array(32).fill(7);
const peerId = peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(seed)))!;
const now = 1_800_000_000_000;

function make(overrides: Partial<Parameters<typeof createInvite>[0]> = {}): string {
  return createInvite({
    group: '0123456789abcdef0123456789abcdef',
    name: 'friends',
    params: defaultParams({ exclude: 'any-member' }),
    inviterSeed: seed,
    inviterPeerId: peerId,
    addrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${peerId}`],
    expiresAt: now + 3600_000,
    uses: 3,
    secret: new Uint8Array(16).fill(1),
    ...overrides,
  });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InviteError, `InviteError expected, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

test('round trip: every field survives and the inviter key is derived from the peer ID', () => {
  const link = make();
  assert.ok(link.startsWith(INVITE_PREFIX));
  const inv = parseInvite(link, now);
  assert.equal(inv.group, '0123456789abcdef0123456789abcdef');
  assert.equal(inv.name, 'friends');
  assert.equal(inv.uses, 3);
  assert.equal(inv.inviter, peerId);
  assert.equal(inv.inviterKey, bytesToHex(nobleCrypto.ed25519PublicKey(seed)));
  assert.deepEqual(inv.params, defaultParams({ exclude: 'any-member' }));
  assert.match(inv.id, /^[0-9a-f]{16}$/);
  assert.notEqual(parseInvite(make({ secret: new Uint8Array(16).fill(2) }), now).id, inv.id, 'the ID follows the secret');
});

test('expired invites are refused with code expired', () => {
  assert.equal(code(() => parseInvite(make({ expiresAt: now - 1 }), now)), 'expired');
  assert.equal(code(() => parseInvite(make({ expiresAt: now }), now)), 'expired');
});

test('a tampered body fails the signature; a signature by another key on this body fails too', () => {
  const raw = Buffer.from(make().slice(INVITE_PREFIX.length), 'base64url');
  const len = raw.readUInt16BE(0);
  const body = raw.subarray(2, 2 + len).toString('utf8').replace('4001', '4002');
  raw.write(body, 2, 'utf8');
  assert.equal(code(() => parseInvite(INVITE_PREFIX + raw.toString('base64url'), now)), 'bad-signature');
  const other = randomBytes(32);
  const forged = make({ inviterSeed: other, inviterPeerId: peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(other)))! });
  const forgedRaw = Buffer.from(forged.slice(INVITE_PREFIX.length), 'base64url');
  const forgedLen = forgedRaw.readUInt16BE(0);
  const genuine = Buffer.from(make().slice(INVITE_PREFIX.length), 'base64url');
  // Wire form: len ‖ body ‖ signature (64) ‖ secret (16): the forged signature on the genuine body.
  const spliced = Buffer.concat([genuine.subarray(0, genuine.length - 80), forgedRaw.subarray(2 + forgedLen)]);
  assert.equal(code(() => parseInvite(INVITE_PREFIX + spliced.toString('base64url'), now)), 'bad-signature');
  assert.equal(parseInvite(forged, now).inviter, peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(other))), 'a stranger can sign its own invite; admission checks the inviter is a member');
});

test('malformed input: prefix, alphabet, truncation, size, inviter type', () => {
  assert.equal(code(() => parseInvite('https://example.com', now)), 'malformed');
  assert.equal(code(() => parseInvite(`${INVITE_PREFIX}abc$`, now)), 'malformed');
  assert.equal(code(() => parseInvite(make().slice(0, 60), now)), 'malformed');
  assert.equal(code(() => parseInvite(INVITE_PREFIX + 'A'.repeat(9000), now)), 'malformed');
  assert.throws(() => make({ inviterPeerId: 'not-a-peer' }), /does not match/);
});

test('parameters out of bounds are refused even when correctly signed', () => {
  const body = JSON.stringify({
    v: 3, group: '0123456789abcdef0123456789abcdef', name: 'x',
    params: { ...defaultParams({ exclude: 'any-member' }), V: 3 },
    inviter: peerId, addrs: [], expiresAt: now + 1000, uses: 1, id: '0123456789abcdef', joinKey: 'ab'.repeat(32), proofKey: 'cd'.repeat(32),
  });
  const bodyBytes = Buffer.from(body);
  const sig = nobleCrypto.ed25519Sign(seed, Buffer.concat([Buffer.from('conclave/invite/v2\0'), bodyBytes]));
  const out = Buffer.concat([Buffer.from([bodyBytes.length >> 8, bodyBytes.length & 0xff]), bodyBytes, Buffer.from(sig), Buffer.alloc(16, 1)]);
  const err = (() => {
    try {
      parseInvite(INVITE_PREFIX + out.toString('base64url'), now);
    } catch (e) {
      return e as InviteError;
    }
    return null;
  })();
  assert.equal(err?.code, 'malformed');
  assert.match(err!.message, /params\.V/);
});

test('a v2 invite (its member proof key derived from the link) is refused with a sentence a user can act on', () => {
  const body = JSON.stringify({
    v: 2, group: '0123456789abcdef0123456789abcdef', name: 'x', params: defaultParams({ exclude: 'any-member' }),
    inviter: peerId, addrs: [], expiresAt: now + 1000, uses: 1, id: '0123456789abcdef', joinKey: 'ab'.repeat(32), proofCheck: 'cd'.repeat(32),
  });
  const bodyBytes = Buffer.from(body);
  const sig = nobleCrypto.ed25519Sign(seed, Buffer.concat([Buffer.from('conclave/invite/v2\0'), bodyBytes]));
  const out = Buffer.concat([Buffer.from([bodyBytes.length >> 8, bodyBytes.length & 0xff]), bodyBytes, Buffer.from(sig), Buffer.alloc(16, 1)]);
  assert.throws(() => parseInvite(INVITE_PREFIX + out.toString('base64url'), now), (e: unknown) => e instanceof InviteError && e.code === 'malformed' && /older version/.test(e.message) && /new link/.test(e.message));
});

test('property: any mutation of a valid invite yields a verified invite or an InviteError, never another throw', () => {
  const link = make();
  const raw = Buffer.from(link.slice(INVITE_PREFIX.length), 'base64url');
  fc.assert(
    fc.property(fc.nat(raw.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (pos, xor, cut) => {
      const copy = Buffer.from(raw);
      copy[pos] = copy[pos]! ^ xor;
      const mutated = INVITE_PREFIX + (cut ? copy.subarray(0, pos + 1) : copy).toString('base64url');
      const c = code(() => parseInvite(mutated, now));
      assert.ok(['malformed', 'bad-signature'].includes(c), `unexpected outcome ${c}`);
    }),
    { numRuns: 300 },
  );
});
