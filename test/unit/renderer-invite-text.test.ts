// What the Invite pane says about a link (renderer/src/invite-text.ts; issue 18 §6):
// the number of people and the lifetime in words, never "one-time secret"; errors
// as sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeInvite, peekInvite, sentence, timeLeft, USE_CHOICES, LIFETIME_CHOICES } from '../../renderer/src/invite-text.js';
import { createInvite, InviteError, parseInvite } from '../../app/peer/invite.js';
import { defaultParams } from '../../app/peer/params.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../app/net/ids.js';

const now = 1_800_000_000_000;
const DAY = 86_400_000;

test('a link is described by its uses and lifetime', () => {
  assert.equal(describeInvite(10, now + 7 * DAY, now), 'This link lets up to 10 people join; it expires in 7 days.');
  assert.equal(describeInvite(1, now + 3 * 3600_000, now), 'This link lets one person join; it expires in 3 hours.');
  assert.equal(describeInvite(5, now + 90_000, now, 2), 'This link lets up to 5 people join (2 used, 3 left); it expires in 1 minute.');
  assert.equal(describeInvite(5, now - 1, now), 'This link lets up to 5 people join; it has expired.');
  assert.equal(timeLeft(now + 47 * 3600_000, now), 'in 47 hours');
  assert.equal(timeLeft(now + 30 * DAY, now), 'in 30 days');
  assert.equal(timeLeft(now + 10_000, now), 'in less than a minute');
});

test('the user chooses uses and lifetime within what the API accepts', () => {
  for (const n of USE_CHOICES) assert.ok(n >= 1 && n <= 1000);
  for (const c of LIFETIME_CHOICES) assert.ok(c.sec >= 60 && c.sec <= 30 * 86_400);
});

test('the Invite pane no longer calls the link a one-time secret, and offers revocation', () => {
  const source = readFileSync(new URL('../../renderer/src/Invite.tsx', import.meta.url), 'utf8');
  assert.ok(!/one-time/i.test(source));
  for (const id of ['invite-uses', 'invite-lifetime', 'invite-summary', 'invite-revoke']) assert.ok(source.includes(`data-testid="${id}"`), id);
});

test('bad invites give sentences a user can act on, not parser text', () => {
  const message = (link: string): string => {
    try {
      parseInvite(link, now);
    } catch (err) {
      assert.ok(err instanceof InviteError);
      return sentence(err.message);
    }
    return 'ok';
  };
  const cases = ['https://example.com/join', 'conclave://join/abc$', 'conclave://join/AAAA', 'conclave://join/' + 'A'.repeat(300)];
  for (const link of cases) {
    const text = message(link);
    assert.match(text, /^[A-Z].*\.$/, text);
    assert.doesNotMatch(text, /base64|JSON|Expected|undefined|field/i, text);
  }
  assert.match(message('https://example.com/join'), /starts with conclave:\/\/join\//);
  assert.match(message('conclave://join/AAAA'), /ask for the link again/);
  assert.equal(sentence('invite has been used up'), 'Invite has been used up.');
});

test('the link made with a group is described from what it states', () => {
  const seed = new Uint8Array(32).fill(3);
  const inviterPeerId = peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(seed)))!;
  const link = createInvite({ group: '0123456789abcdef0123456789abcdef', name: 'g', params: defaultParams({ exclude: 'any-member' }), inviterSeed: seed, inviterPeerId, addrs: [], expiresAt: now + 7 * DAY, uses: 10, secret: new Uint8Array(16).fill(9) });
  assert.deepEqual(peekInvite(link), { id: parseInvite(link, now).id, uses: 10, expiresAt: now + 7 * DAY });
  assert.equal(peekInvite('conclave://join/!!'), null);
  assert.equal(peekInvite('hello'), null);
});
