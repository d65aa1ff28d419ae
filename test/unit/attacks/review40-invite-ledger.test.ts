// Review 40 (MEDIUM), insider (docs/protocol.md §5.1 "Use limit and revocation"; peer/invite-ledger.ts
// mergeLedger, peer/invite-exchange.ts answerLedger): a member's ledger is merged from any current
// member, and its `used` lists are taken as they come — any 64-hex strings, up to `uses + 32` per
// invite, never checked against the roster or any admission. Use sets only grow (union), are saved
// with the group record and passed on at every 20 s exchange. So one insider M that sends the
// inviter (or anyone) a ledger listing `uses` made-up keys for an invite makes every member,
// the inviter included, refuse that invite's newcomers with "invite has been used up", for good —
// and can do it to every invite the moment it appears in the ledger (it is announced to members at
// once). Nobody can tell who did it (the ledger names no one).
// Second path: ledgers hold at most MAX_ENTRIES (256) invites; M issues 256 invites of its own,
// valid for years, and an honest member's new invite is no longer taken by other members' ledgers
// (mergeLedger skips a new entry when full), so no member but the inviter can answer a newcomer's
// challenge with it.
// Secure: a use counts at a fellow member only with the newcomer's credential signature, made with
// the invite's join key (only a holder of the invite's secret has it), so made-up uses spend
// nothing; one inviter's invites take at most MAX_PER_INVITER places in another member's ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeInvite, who } from './invite-fixtures.js';
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '../../../app/net/ids.js';
import { joinCredential, memberProofSeed } from '../../../app/peer/invite.js';
import { ledgerOf, mergeLedger, recordIssued, MAX_ENTRIES } from '../../../app/peer/invite-ledger.js';
import { admit } from '../../../app/peer/admission.js';
import { newGroupRecord } from '../../../app/peer/group.js';


test('an insider cannot spend an honest member\'s invite with made-up uses (inviter included)', () => {
  const inviter = who();
  const m = who();
  const members = (k: string) => k === inviter.key || k === m.key;
  const group = bytesToHex(randomBytes(16));
  const invite = makeInvite(inviter, group, 5);
  const rec = newGroupRecord(group, 'g', Date.now());
  rec.group = group;
  recordIssued(rec, invite, memberProofSeed(inviter.seed, invite.secret));
  // M, a current member, got the ledger at the last exchange and answers with the same entries, `used` filled.
  const forged = ledgerOf(rec, Date.now()).map((e) => ({ ...e, used: Array.from({ length: 5 }, () => bytesToHex(randomBytes(32))) }));
  assert.equal(mergeLedger(rec, group, forged, Date.now(), members), false, "M's made-up uses change nothing at the inviter");
  assert.equal(mergeLedger(rec, group, forged.map((e) => ({ ...e, proofs: e.used.map(() => 'A'.repeat(86)) })), Date.now(), members), false, 'nor with made-up proofs');
  const newcomer = who();
  const ctx = { group, record: rec, selfKey: inviter.key, allowlisted: () => false, isCurrentMember: (k: string) => k === inviter.key || k === m.key, changed: () => {} };
  const verdict = admit(ctx, { group, member: newcomer.key, name: 'n', credential: joinCredential(invite, newcomer.key) }, Date.now());
  assert.deepEqual(verdict, { ok: true }, 'nobody was admitted with this invite: its inviter admits the newcomer');
  assert.deepEqual(rec.inviteUses[invite.id], [newcomer.key], 'the made-up uses were not counted');
  // A genuine use, with its credential's signature, reaches a fellow member and counts there.
  const fellow = newGroupRecord(group, 'g', Date.now());
  fellow.group = group;
  mergeLedger(fellow, group, ledgerOf(rec, Date.now()), Date.now(), members);
  assert.deepEqual(fellow.inviteUses[invite.id], [newcomer.key]);
  // The same use with another member's key in its place is not.
  const swapped = ledgerOf(rec, Date.now()).map((e) => ({ ...e, used: [m.key] }));
  const third = newGroupRecord(group, 'g', Date.now());
  third.group = group;
  mergeLedger(third, group, swapped, Date.now(), members);
  assert.deepEqual(third.inviteUses[invite.id], []);
});

test("an insider's 256 invites do not crowd an honest member's new invite out of another member's ledger", () => {
  const honest = who();
  const m = who();
  const members = (k: string) => k === honest.key || k === m.key;
  const group = bytesToHex(randomBytes(16));
  const other = newGroupRecord(group, 'g', Date.now());
  other.group = group;
  const mRec = newGroupRecord(group, 'g', Date.now());
  mRec.group = group;
  for (let i = 0; i < MAX_ENTRIES; i++) {
    const inv = makeInvite(m, group, 1, Date.now() + 10 * 365 * 86_400_000);
    recordIssued(mRec, inv, memberProofSeed(m.seed, inv.secret));
  }
  mergeLedger(other, group, ledgerOf(mRec, Date.now()), Date.now(), members);
  const invite = makeInvite(honest, group, 3);
  const hRec = newGroupRecord(group, 'g', Date.now());
  hRec.group = group;
  recordIssued(hRec, invite, memberProofSeed(honest.seed, invite.secret));
  mergeLedger(other, group, ledgerOf(hRec, Date.now()), Date.now(), members);
  assert.ok(other.invites?.[invite.id]?.proofKey, "the honest member's invite (and its proof key) reached the other member's ledger");
});
