// Review 42 (HIGH), on review 40/41's ledger. mergeLedger keyed an incoming entry by the ID its *incoming* ticket names, then
// checks proofs, proof key and revocation against that incoming ticket, though the entry held may
// carry another ticket with that ID. A ticket's ID is not bound to its join key (only the secret binds
// them, and members never see it), and any key can sign a ticket (no membership check once the entry
// exists). So an insider M sends a ticket of its own making (throwaway signer Z, id = honest A's invite
// ID, join key of M's own secret, uses 1000) with uses M signed with that join key, and a revocation
// Z signed:
//  1. the fellow member H counts M's made-up identities as uses of A's invite (review 40's attack back):
//     A's newcomer is refused as "used up";
//  2. H takes Z's "revocation" of A's invite: refused as "revoked";
//  3. H's ledger now carries, under A's ticket, proofs that do not verify with A's join key: since
//     review 41 every fellow member stops merging H's ledger there, so H's later invites' revocations
//     (and uses) never reach them.
// Secure: an invite's ID is bound to its join key and inviter (invite.ts inviteIdOf), checked by
// parseTicket, so no ticket of anyone else carries it; and one ID holds one ticket in a ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeInvite, params, who } from './invite-fixtures.js';
import { randomBytes } from 'node:crypto';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { bytesToHex } from '../../../app/net/ids.js';
import { createInvite, parseInvite, parseTicket, memberProofSeed, joinCredential, signRevocation, type Invite } from '../../../app/peer/invite.js';
import { ledgerOf, mergeLedger, recordIssued, recordRevocation, type LedgerEntryWire } from '../../../app/peer/invite-ledger.js';
import { admit } from '../../../app/peer/admission.js';
import { newGroupRecord } from '../../../app/peer/group.js';


/** A ticket signed by `signer` that names invite ID `id`, with the join key of a secret the attacker holds. */
function collidingInvite(signer: ReturnType<typeof who>, group: string, id: string): Invite {
  const secret = new Uint8Array(randomBytes(16));
  const own = parseInvite(createInvite({ group, name: 'door', params, inviterSeed: signer.seed, inviterPeerId: signer.peerId, addrs: [], expiresAt: Date.now() + 3_600_000, uses: 1000, secret }), Date.now());
  const raw = own.bytes;
  const len = (raw[0]! << 8) | raw[1]!;
  const body = JSON.parse(Buffer.from(raw.subarray(2, 2 + len)).toString('utf8'));
  body.id = id;
  const bodyBytes = new TextEncoder().encode(JSON.stringify(body));
  const label = new TextEncoder().encode('conclave/invite/v2\0');
  const sig = nodeCrypto.ed25519Sign(signer.seed, new Uint8Array([...label, ...bodyBytes]));
  const bytes = new Uint8Array([bodyBytes.length >> 8, bodyBytes.length & 0xff, ...bodyBytes, ...sig]);
  assert.throws(() => parseTicket(bytes, Date.now()), /invite ID does not belong/, 'a ticket under another invite\'s ID does not parse');
  return { ...own, id, bytes, secret, link: '' };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

test("an insider's ticket under an honest invite's ID neither spends nor revokes it, nor stops fellow members merging an honest ledger", () => {
  const group = bytesToHex(randomBytes(16));
  const A = who(); // honest inviter
  const H = who(); // honest fellow member
  const O = who(); // another honest member
  const M = who(); // insider
  const members = new Set([A.key, H.key, O.key, M.key]);
  const isMember = (k: string) => members.has(k);

  // A issues a one-use invite X; H learns it from A's ledger.
  const x = makeInvite(A, group, 1);
  const aRec = newGroupRecord(group, 'g', Date.now());
  recordIssued(aRec, x, memberProofSeed(A.seed, x.secret));
  const hRec = newGroupRecord(group, 'g', Date.now());
  mergeLedger(hRec, group, ledgerOf(aRec, Date.now()), Date.now(), isMember);
  // Later, H issues invite Y and revokes it (it leaked).
  const y = makeInvite(H, group, 5);
  recordIssued(hRec, y, memberProofSeed(H.seed, y.secret));
  recordRevocation(hRec, y, signRevocation(H.seed, group, y.id));

  // M sends H one ledger entry: its own ticket under X's ID, signed by throwaway key Z, a made-up
  // identity's use proved with M's join key, and Z's revocation of "X".
  const Z = who();
  const fake = collidingInvite(Z, group, x.id);
  const sybil = who();
  const cred = joinCredential(fake, sybil.key);
  const entry: LedgerEntryWire = { ticket: b64(fake.bytes), used: [sybil.key], proofs: [b64(cred.subarray(cred.length - 64))] };
  mergeLedger(hRec, group, [entry], Date.now(), isMember);
  const afterUses = [...(hRec.inviteUses[x.id] ?? [])];

  const early = who();
  const before = admit({ group, record: structuredClone(hRec), selfKey: H.key, allowlisted: () => false, isCurrentMember: isMember, changed: () => {} }, { group, member: early.key, name: 'n', credential: joinCredential(x, early.key) }, Date.now());

  // O (has nothing yet) merges H's ledger.
  const oRec = newGroupRecord(group, 'g', Date.now());
  mergeLedger(oRec, group, ledgerOf(hRec, Date.now()), Date.now(), isMember);

  // The same entry with a revocation signed by Z.
  mergeLedger(hRec, group, [{ ...entry, used: [], proofs: [], revocation: b64(signRevocation(Z.seed, group, x.id)) }], Date.now(), isMember);

  // A's genuine newcomer now asks H.
  const newcomer = who();
  const verdict = admit({ group, record: hRec, selfKey: H.key, allowlisted: () => false, isCurrentMember: isMember, changed: () => {} }, { group, member: newcomer.key, name: 'n', credential: joinCredential(x, newcomer.key) }, Date.now());

  const problems: string[] = [];
  if (afterUses.includes(sybil.key)) problems.push(`H counted M's made-up identity as a use of A's invite X (uses at H: ${afterUses.length}/${x.uses})`);
  if (hRec.invites?.[x.id]?.revocation) problems.push("H took a throwaway key's 'revocation' of A's invite X");
  if (!oRec.invites?.[y.id]?.revocation) problems.push(`O merged H's ledger only up to X: H's revocation of its later invite Y never reached O (O holds ${Object.keys(oRec.invites ?? {}).length} of H's ${Object.keys(hRec.invites ?? {}).length} entries)`);
  if (!before.ok) problems.push(`A's genuine newcomer refused at H after the made-up use: ${before.reason}`);
  if (!verdict.ok) problems.push(`A's genuine newcomer refused at H after the made-up revocation: ${verdict.reason}`);
  assert.deepEqual(problems, []);
});
