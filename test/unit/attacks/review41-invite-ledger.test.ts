// Review 41 (MEDIUM, LOW-MEDIUM) on the invite ledger after review 40's fix (peer/invite-ledger.ts
// mergeLedger). 1. The cap of 32 invites per inviter held per key, and anyone can sign a ticket with a
// fresh key: an insider's 8 throwaway inviters × 32 long-lived tickets filled every fellow member's
// ledger, so an honest member's new invite, and its revocation, were never taken, and a fellow member
// admitted with a revoked invite. Now only a current member's invites are taken. 2. Each made-up use
// proof cost one Ed25519 verify, and a failure went on to the next: 1,032 verifies per frame. Now a
// bad proof ends the merge (an honest member sends only proofs it checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeInvite, who } from './invite-fixtures.js';
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { bytesToHex } from '../../../app/net/ids.js';
import { memberProofSeed, signRevocation } from '../../../app/peer/invite.js';
import type { LedgerEntryWire } from '../../../app/peer/invite-ledger.js';
import { ledgerOf, mergeLedger, recordIssued, recordRevocation, MAX_ENTRIES, MAX_PER_INVITER } from '../../../app/peer/invite-ledger.js';
import { admit } from '../../../app/peer/admission.js';
import { joinCredential } from '../../../app/peer/invite.js';
import { newGroupRecord } from '../../../app/peer/group.js';


test('an insider with throwaway inviter keys cannot crowd an honest invite (and its revocation) out of a fellow ledger', () => {
  const group = bytesToHex(randomBytes(16));
  const honest = who();
  const members = (k: string) => k === honest.key; // and M, whose throwaway inviters are not
  // M (a current member) signs tickets with 8 fresh keys nobody admitted: 8 × 32 = 256 entries.
  const mRec = newGroupRecord(group, 'g', Date.now());
  mRec.group = group;
  for (let k = 0; k < MAX_ENTRIES / MAX_PER_INVITER; k++) {
    const sybil = who();
    for (let i = 0; i < MAX_PER_INVITER; i++) {
      const inv = makeInvite(sybil, group, 1, Date.now() + 10 * 365 * 86_400_000);
      recordIssued(mRec, inv, memberProofSeed(sybil.seed, inv.secret));
    }
  }
  const other = newGroupRecord(group, 'g', Date.now());
  other.group = group;
  mergeLedger(other, group, ledgerOf(mRec, Date.now()), Date.now(), members);
  // The honest member issues an invite, then revokes it (e.g. it leaked).
  const invite = makeInvite(honest, group, 3);
  const hRec = newGroupRecord(group, 'g', Date.now());
  hRec.group = group;
  recordIssued(hRec, invite, memberProofSeed(honest.seed, invite.secret));
  recordRevocation(hRec, invite, signRevocation(honest.seed, group, invite.id));
  mergeLedger(other, group, ledgerOf(hRec, Date.now()), Date.now(), members);
  // Consequence: `other` admits with the revoked invite.
  const thief = who();
  const ctx = { group, record: other, selfKey: who().key, allowlisted: () => false, isCurrentMember: (k: string) => k === honest.key, changed: () => {} };
  const verdict = admit(ctx, { group, member: thief.key, name: 't', credential: joinCredential(invite, thief.key) }, Date.now());
  assert.notDeepEqual(verdict, { ok: true }, 'a revoked invite admits nobody at a fellow member');
  assert.ok(other.invites?.[invite.id]?.revocation, "the honest member's revocation reached the fellow member's ledger");
});

test('a ledger frame of bogus use proofs costs the receiver at most a few verifies', () => {
  const group = bytesToHex(randomBytes(16));
  const inviter = who();
  const members = (k: string) => k === inviter.key;
  const invite = makeInvite(inviter, group, 1000);
  const rec = newGroupRecord(group, 'g', Date.now());
  rec.group = group;
  recordIssued(rec, invite, memberProofSeed(inviter.seed, invite.secret));
  const [entry] = ledgerOf(rec, Date.now());
  // M answers with the same entry, `used` filled with made-up keys and random 64-byte "proofs".
  const n = 1000 + 32;
  const bogus: LedgerEntryWire = { ...entry!, used: Array.from({ length: n }, () => bytesToHex(randomBytes(32))), proofs: Array.from({ length: n }, () => Buffer.from(randomBytes(64)).toString('base64url')) };
  // Several entries: every invite M knows of (here 3 copies of the attack on as many invites).
  const orig = nodeCrypto.ed25519Verify;
  let verifies = 0;
  (nodeCrypto as { ed25519Verify: typeof orig }).ed25519Verify = (...a: Parameters<typeof orig>) => {
    verifies++;
    return orig(...a);
  };
  try {
    mergeLedger(rec, group, [bogus], Date.now(), members);
  } finally {
    (nodeCrypto as { ed25519Verify: typeof orig }).ed25519Verify = orig;
  }
  assert.ok(verifies <= 2, `one bad proof is never an honest member's: ${verifies} Ed25519 verifies for one frame`);
});
