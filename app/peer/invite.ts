/**
 * @module peer/invite
 * Invites (seed 001's access control: only nodes on an authenticated list, or
 * holding an authenticated credential, receive keys; docs/protocol.md §5 "Invites
 * and the join handshake", issue 15 §2). An invite is `conclave://join/<base64url>`
 * of `len (2) ‖ ticket body ‖ signature (64) ‖ secret (16)`:
 * - the **ticket** (body + the inviter's Ed25519 signature) names the group, its
 *   name and parameters, the inviter, its addresses, an expiry, a use limit, the
 *   invite ID, `joinKey` (the public key of an Ed25519 key derived from the
 *   secret) and `proofKey` (the public key of the member proof key, which the
 *   inviter derives from its own identity seed and the secret: `memberProofSeed`).
 *   Members hold tickets; a ticket admits nobody by itself.
 * - the **secret** never leaves the newcomer. From it comes the join key, with which
 *   the newcomer signs a credential bound to its own identity and the group (so a
 *   credential is worth nothing to anyone else).
 * - the **member proof key** is never in the link: the inviter shares it with fellow
 *   members (peer/invite-ledger), so that any member, and only a member, can prove to
 *   the newcomer, before it says anything, that it belongs to the group (a signature
 *   the newcomer checks against the ticket's `proofKey`). In v2 it was derived from
 *   the secret, so anyone else holding the same multi-use link made the proof too
 *   and pulled its fellow holders into a group of its own (review 45): v2 tickets are
 *   refused.
 *
 * Invariants:
 * - `parseInvite` either returns a fully verified invite (signature, secret matching
 *   the signed commitments, expiry) or throws an InviteError with a code and a
 *   sentence a user can act on; it never throws anything else for any input string.
 * - The signature covers the exact body bytes under a domain-separation label, so
 *   changing any field (including the addresses) breaks it.
 * - `checkCredential` accepts a credential only for the identity that signed it
 *   with the join key the inviter committed to, for the group the ticket names.
 */
import { z } from 'zod';
import { ed25519 } from '@noble/curves/ed25519.js';
import { nodeCrypto } from '../crypto/node.js';
import type { GroupParams } from '../core/types.js';
import { memberKeyOfPeer, hexToBytes, bytesToHex } from '../net/ids.js';
import { GroupParamsSchema } from './params.js';

export const INVITE_PREFIX = 'conclave://join/';
export const MAX_INVITE_CHARS = 8192;
const SECRET_BYTES = 16;
const SIG_BYTES = 64;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const SIGN_LABEL = utf8('conclave/invite/v2\0');
const CREDENTIAL_LABEL = utf8('conclave/invite/credential/v2\0');
const PROOF_LABEL = utf8('conclave/invite/member-proof/v3\0');
const PROOF_SEED_LABEL = utf8('conclave/invite/member-proof-seed/v3');
const REVOKE_LABEL = utf8('conclave/invite/revoke/v2\0');
const ID_LABEL = utf8('conclave/invite/id/v2\0');
/** A credential: 'C2' ‖ ticket length (2) ‖ ticket ‖ join-key signature (64). */
const CREDENTIAL_MAGIC = [0x43, 0x32];

export type InviteErrorCode = 'malformed' | 'bad-signature' | 'expired' | 'used-up' | 'wrong-group' | 'not-member';

export class InviteError extends Error {
  override readonly name = 'InviteError';
  constructor(
    readonly code: InviteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

const TicketBodySchema = z
  .object({
    v: z.literal(3),
    group: Hex(32),
    name: z.string().min(1).max(100),
    params: GroupParamsSchema,
    inviter: z.string().min(1).max(200),
    addrs: z.array(z.string().min(1).max(600)).max(32),
    expiresAt: z.number().int().positive(),
    uses: z.number().int().min(1).max(1000),
    /** The invite's ID (use counting, revocation, the handshake): 16 hex, bound to the join key and the inviter (`inviteIdOf`). */
    id: Hex(16),
    /** Ed25519 public key derived from the secret: verifies the newcomer's credential. */
    joinKey: Hex(64),
    /** Ed25519 public key of the member proof key (`memberProofSeed`): verifies a contact's proof of membership. */
    proofKey: Hex(64),
  })
  .strict();

export type TicketBody = z.infer<typeof TicketBodySchema> & { params: GroupParams };

/** What every member may hold: the signed public part of an invite. */
export interface Ticket extends TicketBody {
  /** MemberKey of the inviter (the signer). */
  inviterKey: string;
  /** The ticket's bytes: len (2) ‖ body ‖ signature. */
  bytes: Uint8Array;
}

/** What only the newcomer holds: the ticket plus the secret. */
export interface Invite extends Ticket {
  /** The invite link exactly as given (trimmed). */
  link: string;
  secret: Uint8Array;
}

export interface InviteKeys {
  joinSeed: Uint8Array;
  joinKey: string;
}

/** Everything derived from an invite's secret. */
export function inviteKeys(secret: Uint8Array): InviteKeys {
  const joinSeed = nodeCrypto.hkdf(secret, utf8('conclave/invite/v2'), utf8('join-key'), 32);
  return { joinSeed, joinKey: bytesToHex(nodeCrypto.ed25519PublicKey(joinSeed)) };
}

/**
 * The member proof key's seed of the invite with `secret`, made by the inviter with identity seed
 * `inviterSeed`: nobody can derive it from the link (review 45). The inviter gives it to fellow
 * members with the ticket (peer/invite-ledger).
 */
export function memberProofSeed(inviterSeed: Uint8Array, secret: Uint8Array): Uint8Array {
  return nodeCrypto.hkdf(inviterSeed, PROOF_SEED_LABEL, secret, 32);
}

/**
 * An invite's ID: bound to its join key and its inviter, so that every member can check it
 * (`parseTicket`). Drawn from the secret before, any member could sign a ticket of its own under an
 * honest invite's ID, and fellow members' ledgers counted its made-up uses and its "revocation"
 * against the honest invite (review 42). Two tickets of one ID now have one inviter and one join key.
 */
export function inviteIdOf(joinKey: string, inviterKey: string): string {
  return bytesToHex(nodeCrypto.sha256(concat(ID_LABEL, hexToBytes(joinKey), hexToBytes(inviterKey)))).slice(0, 16);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface CreateInviteInput {
  group: string;
  name: string;
  params: GroupParams;
  inviterSeed: Uint8Array;
  inviterPeerId: string;
  addrs: string[];
  expiresAt: number;
  uses: number;
  /** 16 random bytes. */
  secret: Uint8Array;
}

export function createInvite(input: CreateInviteInput): string {
  if (input.secret.length !== SECRET_BYTES) throw new RangeError('invite secret must be 16 bytes');
  const signerKey = bytesToHex(nodeCrypto.ed25519PublicKey(input.inviterSeed));
  if (memberKeyOfPeer(input.inviterPeerId) !== signerKey) throw new RangeError('inviter peer ID does not match the signing seed');
  const keys = inviteKeys(input.secret);
  const body: TicketBody = {
    v: 3,
    group: input.group,
    name: input.name,
    params: input.params,
    inviter: input.inviterPeerId,
    addrs: input.addrs.slice(0, 32),
    expiresAt: input.expiresAt,
    uses: input.uses,
    id: inviteIdOf(keys.joinKey, signerKey),
    joinKey: keys.joinKey,
    proofKey: bytesToHex(nodeCrypto.ed25519PublicKey(memberProofSeed(input.inviterSeed, input.secret))),
  };
  TicketBodySchema.parse(body);
  const bodyBytes = utf8(JSON.stringify(body));
  const signature = nodeCrypto.ed25519Sign(input.inviterSeed, concat(SIGN_LABEL, bodyBytes));
  return INVITE_PREFIX + b64url(concat(new Uint8Array([bodyBytes.length >> 8, bodyBytes.length & 0xff]), bodyBytes, signature, input.secret));
}

const DAMAGED = 'invite is incomplete or damaged (was part of the link cut off when it was copied?); ask for the link again';

/** Decodes and verifies a ticket (len ‖ body ‖ signature, nothing after). Expiry is checked against `now`. */
export function parseTicket(raw: Uint8Array, now: number): Ticket {
  if (raw.length < 2 + SIG_BYTES + 2) throw new InviteError('malformed', DAMAGED);
  const bodyLength = ((raw[0] ?? 0) << 8) | (raw[1] ?? 0);
  if (raw.length !== 2 + bodyLength + SIG_BYTES) throw new InviteError('malformed', DAMAGED);
  const bodyBytes = raw.subarray(2, 2 + bodyLength);
  const signature = raw.subarray(2 + bodyLength);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes));
  } catch {
    throw new InviteError('malformed', DAMAGED);
  }
  if (json && typeof json === 'object' && (json as { v?: unknown }).v === 1) {
    throw new InviteError('malformed', 'this invite was made by an older version of Conclave, which gave the invite away to whoever answered first; ask for a new link');
  }
  if (json && typeof json === 'object' && (json as { v?: unknown }).v === 2) {
    throw new InviteError('malformed', 'this invite was made by an older version of Conclave, with which anyone else given the same link could pose as the group; ask for a new link');
  }
  const parsed = TicketBodySchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || 'its contents';
    throw new InviteError('malformed', `invite carries settings this version of Conclave does not accept (${field}); ask for a new link`);
  }
  const body = parsed.data as TicketBody;
  const inviterKey = memberKeyOfPeer(body.inviter);
  if (!inviterKey) throw new InviteError('malformed', 'invite names an inviter that is not a Conclave peer; ask for a new link');
  if (!nodeCrypto.ed25519Verify(hexToBytes(inviterKey), concat(SIGN_LABEL, bodyBytes), signature)) {
    throw new InviteError('bad-signature', 'invite signature does not verify: the link was altered or damaged after it was made; ask the inviter for a new one');
  }
  // A small-order key verifies one fixed signature for every message (Ed25519 as OpenSSL checks it):
  // as `proofKey` it let anyone answer the challenge, as `joinKey` it made the ticket itself a
  // credential for anyone (review 46: only its own inviter can sign such a ticket, but then nobody
  // but a member must be able to use it).
  if (!strongKey(body.joinKey) || !strongKey(body.proofKey)) {
    throw new InviteError('malformed', 'invite carries a key no honest inviter makes; ask the inviter for a new link');
  }
  if (body.id !== inviteIdOf(body.joinKey, inviterKey)) {
    throw new InviteError('malformed', 'invite ID does not belong to its join key and inviter; ask the inviter for a new link');
  }
  if (body.expiresAt <= now) {
    throw new InviteError('expired', `invite expired at ${new Date(body.expiresAt).toISOString()}; ask the inviter for a new link`);
  }
  return { ...body, inviterKey, bytes: raw.slice() };
}

/** An Ed25519 public key that decodes to a point of large order. */
function strongKey(hex: string): boolean {
  try {
    return !ed25519.Point.fromHex(hex).isSmallOrder();
  } catch {
    return false;
  }
}

/** Decode and verify an invite link. `now` is checked against the expiry. */
export function parseInvite(link: string, now: number): Invite {
  if (typeof link !== 'string' || link.length > MAX_INVITE_CHARS) throw new InviteError('malformed', 'this is too long to be a Conclave invite; copy the link again');
  const trimmed = link.trim();
  if (!trimmed.startsWith(INVITE_PREFIX)) throw new InviteError('malformed', `this is not a Conclave invite: an invite link starts with ${INVITE_PREFIX}`);
  const encoded = trimmed.slice(INVITE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new InviteError('malformed', `${DAMAGED} (it holds characters an invite never has)`);
  const raw = new Uint8Array(Buffer.from(encoded, 'base64url'));
  if (raw.length < SECRET_BYTES + 2) throw new InviteError('malformed', DAMAGED);
  const ticket = parseTicket(raw.subarray(0, raw.length - SECRET_BYTES), now);
  const secret = raw.slice(raw.length - SECRET_BYTES);
  const keys = inviteKeys(secret);
  if (keys.joinKey !== ticket.joinKey) {
    throw new InviteError('bad-signature', 'invite signature does not verify: its secret does not match what the inviter signed (the link was altered or damaged)');
  }
  return { ...ticket, link: trimmed, secret };
}

// ── the credential a newcomer sends (JoinRequest.credential) ────────────────

function credentialBody(ticket: Ticket, joiner: string): Uint8Array {
  return concat(CREDENTIAL_LABEL, hexToBytes(ticket.group), utf8(ticket.id), hexToBytes(joiner));
}

/** The credential `joiner` sends: the ticket and its signature, with the join key, over group, invite ID and its own key. */
export function joinCredential(invite: Invite, joiner: string): Uint8Array {
  const signature = nodeCrypto.ed25519Sign(inviteKeys(invite.secret).joinSeed, credentialBody(invite, joiner));
  const t = invite.bytes;
  return concat(new Uint8Array([...CREDENTIAL_MAGIC, t.length >> 8, t.length & 0xff]), t, signature);
}

/** The join key's signature a credential carries: the proof that `member` used this invite (peer/invite-ledger counts uses by it). */
export function credentialSignature(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(bytes.length - SIG_BYTES);
}

/** Whether `signature` is the invite's join key signing `member`'s credential: only a holder of the invite's secret makes one. */
export function useProofValid(ticket: Ticket, member: string, signature: Uint8Array): boolean {
  return /^[0-9a-f]{64}$/.test(member) && signature.length === SIG_BYTES && nodeCrypto.ed25519Verify(hexToBytes(ticket.joinKey), credentialBody(ticket, member), signature);
}

/** Verifies a credential presented by the Noise-authenticated `member`; returns its ticket or throws an InviteError. */
export function checkCredential(bytes: Uint8Array, member: string, now: number): Ticket {
  if (bytes.length < 4 + SIG_BYTES || bytes[0] !== CREDENTIAL_MAGIC[0] || bytes[1] !== CREDENTIAL_MAGIC[1]) {
    throw new InviteError('malformed', 'the credential is not an invite of this version of Conclave');
  }
  const length = ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  if (bytes.length !== 4 + length + SIG_BYTES) throw new InviteError('malformed', 'the credential is truncated');
  const ticket = parseTicket(bytes.subarray(4, 4 + length), now);
  if (!/^[0-9a-f]{64}$/.test(member) || !nodeCrypto.ed25519Verify(hexToBytes(ticket.joinKey), credentialBody(ticket, member), bytes.subarray(4 + length))) {
    throw new InviteError('bad-signature', 'the credential was not made with this invite for this identity');
  }
  return ticket;
}

// ── the contact's proof of membership (the join handshake) ──────────────────

export interface ProofContext {
  group: string;
  id: string;
  joiner: string;
  contact: string;
  nonce: Uint8Array;
}

function proofBody(c: ProofContext): Uint8Array {
  return concat(PROOF_LABEL, hexToBytes(c.group), utf8(c.id), hexToBytes(c.joiner), hexToBytes(c.contact), c.nonce);
}

/** The member proof key's signature over the group, invite ID, both identities and the newcomer's nonce. */
export function memberProof(proofSeed: Uint8Array, c: ProofContext): Uint8Array {
  return nodeCrypto.ed25519Sign(proofSeed, proofBody(c));
}

/** Whether `proof` is the member proof key's (the ticket's `proofKey`) for this handshake. */
export function proofMatches(ticket: Pick<Ticket, 'proofKey'>, c: ProofContext, proof: Uint8Array): boolean {
  return proof.length === SIG_BYTES && nodeCrypto.ed25519Verify(hexToBytes(ticket.proofKey), proofBody(c), proof);
}

/** Whether `seed` is the member proof key the ticket names (a ledger entry's, peer/invite-ledger). */
export function proofSeedMatches(ticket: Pick<Ticket, 'proofKey'>, seed: Uint8Array): boolean {
  return seed.length === 32 && bytesToHex(nodeCrypto.ed25519PublicKey(seed)) === ticket.proofKey;
}

// ── revocation (signed by the inviter, checked by every member) ─────────────

export function revocationBody(group: string, id: string): Uint8Array {
  return concat(REVOKE_LABEL, hexToBytes(group), utf8(id));
}

export function signRevocation(inviterSeed: Uint8Array, group: string, id: string): Uint8Array {
  return nodeCrypto.ed25519Sign(inviterSeed, revocationBody(group, id));
}

export function revocationValid(ticket: Ticket, signature: Uint8Array): boolean {
  return signature.length === SIG_BYTES && nodeCrypto.ed25519Verify(hexToBytes(ticket.inviterKey), revocationBody(ticket.group, ticket.id), signature);
}
