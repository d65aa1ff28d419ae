// Review 46 (LOW), on invites v3: a ticket's keys were checked only as 64 hex digits. OpenSSL's Ed25519
// verify accepts a small-order public key, for which one fixed signature (R = identity, S = 0)
// verifies every message. An inviter could sign a ticket whose `proofKey` is the identity point:
// anyone then answered every challenge for it with that constant, and was taken for a member; a
// small-order `joinKey` made the public ticket itself a credential for anyone, with made-up uses
// that verified. Only the ticket's own inviter can sign such a ticket, but then nobody but a member
// must be able to use it: tickets with a small-order key are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../../app/net/ids.js';
import { defaultParams } from '../../../app/peer/params.js';
import { INVITE_PREFIX, InviteError, checkCredential, createInvite, inviteIdOf, inviteKeys, parseInvite } from '../../../app/peer/invite.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const params = defaultParams({ exclude: 'any-member' });
const G = '0123456789abcdef0123456789abcdef';
const IDENTITY = '01' + '00'.repeat(31);
const inviterSeed = new Uint8Array(randomBytes(32));
const inviterKey = bytesToHex(nodeCrypto.ed25519PublicKey(inviterSeed));
const inviterPeerId = peerIdStringOfMemberKey(inviterKey)!;

/** A link the inviter signs with the keys it chooses. */
function link(keys: { joinKey?: string; proofKey?: string }): string {
  const secret = new Uint8Array(randomBytes(16));
  const joinKey = keys.joinKey ?? inviteKeys(secret).joinKey;
  const proofKey = keys.proofKey ?? bytesToHex(nodeCrypto.ed25519PublicKey(new Uint8Array(randomBytes(32))));
  const body = { v: 3, group: G, name: 'door', params, inviter: inviterPeerId, addrs: [] as string[], expiresAt: Date.now() + 3_600_000, uses: 5, id: inviteIdOf(joinKey, inviterKey), joinKey, proofKey };
  const bodyBytes = utf8(JSON.stringify(body));
  const sig = nodeCrypto.ed25519Sign(inviterSeed, Buffer.concat([utf8('conclave/invite/v2\0'), bodyBytes]));
  return INVITE_PREFIX + Buffer.concat([Buffer.from([bodyBytes.length >> 8, bodyBytes.length & 0xff]), bodyBytes, sig, secret]).toString('base64url');
}

const refused = (l: string) => {
  try {
    parseInvite(l, Date.now());
    return null;
  } catch (e) {
    return e instanceof InviteError ? e.code : 'threw';
  }
};

test('the universal signature verifies under a small-order key (why the keys are checked)', () => {
  const universal = new Uint8Array(64);
  universal[0] = 1;
  assert.ok(nodeCrypto.ed25519Verify(Buffer.from(IDENTITY, 'hex'), utf8('any message'), universal));
});

test('a ticket with a small-order proofKey is refused; an honest one and ours with strong keys parse', () => {
  const honest = createInvite({ group: G, name: 'door', params, inviterSeed, inviterPeerId, addrs: [], expiresAt: Date.now() + 3_600_000, uses: 5, secret: new Uint8Array(randomBytes(16)) });
  assert.equal(refused(honest), null);
  assert.equal(refused(link({})), null, 'control: the hand-made ticket with strong keys parses');
  assert.equal(refused(link({ proofKey: IDENTITY })), 'malformed', 'a small-order proofKey');
});

test('a ticket with a small-order joinKey is no credential for anyone', () => {
  // The ticket alone (what every member holds) with the universal signature: "C2" ‖ len ‖ ticket ‖ sig.
  const raw = Buffer.from(link({ joinKey: IDENTITY }).slice(INVITE_PREFIX.length), 'base64url');
  const ticket = raw.subarray(0, raw.length - 16);
  const universal = new Uint8Array(64);
  universal[0] = 1;
  const credential = Buffer.concat([Buffer.from([0x43, 0x32, ticket.length >> 8, ticket.length & 0xff]), ticket, universal]);
  const anyone = bytesToHex(nodeCrypto.ed25519PublicKey(new Uint8Array(randomBytes(32))));
  assert.throws(() => checkCredential(credential, anyone, Date.now()), InviteError, 'anyone holding the ticket presented a valid credential');
});
