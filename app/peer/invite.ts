/**
 * @module peer/invite
 * Invites (seed 001's access control: only nodes on an authenticated list, or
 * holding an authenticated credential, receive keys). An invite is
 * `conclave://join/<base64url>` carrying the group ID and parameters, the group's
 * human name, the inviter's peer ID, the inviter's reachable addresses (LAN and
 * relay; possibly none, then mDNS finds it), an expiry, a use limit and a random
 * secret, signed with the inviter's identity key.
 *
 * Invariants:
 * - `parseInvite` either returns a fully verified invite or throws an InviteError
 *   with a code (`malformed`, `bad-signature`, `expired`); it never throws anything
 *   else for any input string.
 * - The signature covers the exact body bytes under a domain-separation label, so
 *   changing any field (including the addresses) breaks it.
 * - The use limit is enforced by each admitting member for the admissions it
 *   performs (there is no global counter in a serverless group; documented).
 */
import { z } from 'zod';
import { nobleCrypto } from '../crypto/noble.js';
import type { GroupParams } from '../core/types.js';
import { memberKeyOfPeer, hexToBytes } from '../net/ids.js';
import { GroupParamsSchema } from './params.js';

export const INVITE_PREFIX = 'conclave://join/';
export const MAX_INVITE_CHARS = 8192;
const SIGN_LABEL = new TextEncoder().encode('conclave/invite/v1\0');

export type InviteErrorCode = 'malformed' | 'bad-signature' | 'expired' | 'used-up' | 'wrong-group' | 'not-member';

export class InviteError extends Error {
  override readonly name = 'InviteError';
  constructor(readonly code: InviteErrorCode, message: string) {
    super(message);
  }
}

const InviteBodySchema = z
  .object({
    v: z.literal(1),
    group: z.string().regex(/^[0-9a-f]{32}$/),
    name: z.string().min(1).max(100),
    params: GroupParamsSchema,
    inviter: z.string().min(1).max(200),
    addrs: z.array(z.string().min(1).max(600)).max(32),
    expiresAt: z.number().int().positive(),
    uses: z.number().int().min(1).max(1000),
    secret: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  })
  .strict();

export type InviteBody = z.infer<typeof InviteBodySchema> & { params: GroupParams };

export interface Invite extends InviteBody {
  /** Stable ID of this invite (for use counting): hex of SHA-256 over the secret, 16 chars. */
  id: string;
  /** MemberKey of the inviter (the signer). */
  inviterKey: string;
  /** The invite link exactly as given. */
  link: string;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
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
  if (input.secret.length !== 16) throw new RangeError('invite secret must be 16 bytes');
  const signerKey = Buffer.from(nobleCrypto.ed25519PublicKey(input.inviterSeed)).toString('hex');
  if (memberKeyOfPeer(input.inviterPeerId) !== signerKey) throw new RangeError('inviter peer ID does not match the signing seed');
  const body: InviteBody = {
    v: 1,
    group: input.group,
    name: input.name,
    params: input.params,
    inviter: input.inviterPeerId,
    addrs: input.addrs.slice(0, 32),
    expiresAt: input.expiresAt,
    uses: input.uses,
    secret: b64url(input.secret),
  };
  InviteBodySchema.parse(body);
  const bodyBytes = new TextEncoder().encode(JSON.stringify(body));
  const signature = nobleCrypto.ed25519Sign(input.inviterSeed, concat(SIGN_LABEL, bodyBytes));
  // Wire form: 2-byte body length ‖ body ‖ 64-byte signature, base64url.
  const out = new Uint8Array(2 + bodyBytes.length + signature.length);
  out[0] = bodyBytes.length >> 8;
  out[1] = bodyBytes.length & 0xff;
  out.set(bodyBytes, 2);
  out.set(signature, 2 + bodyBytes.length);
  return INVITE_PREFIX + b64url(out);
}

/** Decode and verify an invite link. `now` is checked against the expiry. */
export function parseInvite(link: string, now: number): Invite {
  if (typeof link !== 'string' || link.length > MAX_INVITE_CHARS) throw new InviteError('malformed', 'invite is too long');
  const trimmed = link.trim();
  if (!trimmed.startsWith(INVITE_PREFIX)) throw new InviteError('malformed', `invite must start with ${INVITE_PREFIX}`);
  const encoded = trimmed.slice(INVITE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new InviteError('malformed', 'invite is not base64url');
  const raw = new Uint8Array(Buffer.from(encoded, 'base64url'));
  if (raw.length < 2 + 64 + 2) throw new InviteError('malformed', 'invite is truncated');
  const bodyLength = ((raw[0] ?? 0) << 8) | (raw[1] ?? 0);
  if (raw.length !== 2 + bodyLength + 64) throw new InviteError('malformed', 'invite length does not match its contents');
  const bodyBytes = raw.subarray(2, 2 + bodyLength);
  const signature = raw.subarray(2 + bodyLength);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bodyBytes));
  } catch {
    throw new InviteError('malformed', 'invite body is not valid JSON');
  }
  const parsed = InviteBodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InviteError('malformed', `invite field ${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}`);
  }
  const body = parsed.data as InviteBody;
  const inviterKey = memberKeyOfPeer(body.inviter);
  if (!inviterKey) throw new InviteError('malformed', 'inviter is not an Ed25519 peer ID');
  if (!nobleCrypto.ed25519Verify(hexToBytes(inviterKey), concat(SIGN_LABEL, bodyBytes), signature)) {
    throw new InviteError('bad-signature', 'invite signature does not verify (tampered or corrupted)');
  }
  if (body.expiresAt <= now) {
    throw new InviteError('expired', `invite expired at ${new Date(body.expiresAt).toISOString()}`);
  }
  const id = Buffer.from(nobleCrypto.sha256(new TextEncoder().encode(body.secret))).toString('hex').slice(0, 16);
  return { ...body, id, inviterKey, link: trimmed };
}
