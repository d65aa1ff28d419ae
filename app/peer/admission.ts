/**
 * @module peer/admission
 * Who this member lets into a group (seed 001: only holders of an authenticated
 * credential, or peers on an authenticated list, get keys). The engine asks it
 * through `EngineDeps.admission.check` for every admission request it would
 * grant (docs/protocol.md §5 "Join", step 2, and "Invites and the join handshake").
 *
 * The rule, in order (the engine refused a blocklisted key before asking:
 * engine/admission.ts `onJoinRequest`):
 * 1. an allowlisted key is admitted (any credential will do);
 * 2. otherwise the credential must be a join credential (peer/invite) made for
 *    the requesting identity with an invite that verifies, is not expired, is for
 *    this group, was issued by a current member (or this one), was not revoked,
 *    and is within its use limit as counted in this member's invite ledger (its
 *    own admissions and those its fellow members announced); a member that
 *    already used it may use it again.
 *
 * Invariants: the only state it changes is the group record's invite ledger
 * (`inviteUses`, `invites`), and only when it admits a new member with an invite;
 * then `changed` is called (save, and announce the use to fellow members).
 */
import type { AdmissionDecision, AdmissionRequest } from '../core/engine.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRecord } from '../store/profile.js';
import { checkCredential, credentialSignature, InviteError } from './invite.js';
import { countUse, isRevoked, otherTicketHeld, recordSeen } from './invite-ledger.js';

export interface AdmissionContext {
  readonly group: string;
  readonly record: GroupRecord;
  readonly selfKey: MemberKey;
  allowlisted(key: MemberKey): boolean;
  isCurrentMember(key: MemberKey): boolean;
  /** The record changed (an invite use was counted): save it and tell fellow members. */
  changed(): void;
}

export function admit(ctx: AdmissionContext, request: AdmissionRequest, now: number): AdmissionDecision {
  if (ctx.allowlisted(request.member)) return { ok: true }; // 001: an authenticated list of permitted nodes
  let ticket;
  try {
    ticket = checkCredential(request.credential, request.member, now);
  } catch (err) {
    return { ok: false, reason: err instanceof InviteError ? err.message : 'bad invite' };
  }
  if (ticket.group !== ctx.group) return { ok: false, reason: 'invite is for another group' };
  const inviterIsMember = ticket.inviterKey === ctx.selfKey || ctx.isCurrentMember(ticket.inviterKey);
  if (!inviterIsMember) return { ok: false, reason: 'invite was not issued by a current member' };
  if (otherTicketHeld(ctx.record, ticket)) return { ok: false, reason: 'invite does not match the one this group knows under its ID' };
  if (isRevoked(ctx.record, ticket.id)) return { ok: false, reason: 'invite was revoked by its inviter' };
  const used = ctx.record.inviteUses[ticket.id] ?? [];
  if (used.includes(request.member)) return { ok: true };
  if (used.length >= ticket.uses) return { ok: false, reason: 'invite has been used up' };
  recordSeen(ctx.record, ticket);
  countUse(ctx.record, ticket.id, request.member, credentialSignature(request.credential));
  ctx.changed();
  return { ok: true };
}
