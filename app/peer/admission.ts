/**
 * @module peer/admission
 * Who this member lets into a group (seed 001: only holders of an authenticated
 * credential, or peers on an authenticated list, get keys). The engine asks it
 * through `EngineDeps.admission.check` for every admission request it would
 * grant (docs/protocol.md §5 "Join", step 2).
 *
 * The rule, in order:
 * 1. a blocklisted key is refused;
 * 2. an allowlisted key is admitted (any credential will do);
 * 3. otherwise the credential must be an invite that parses and verifies, is not
 *    expired, is for this group, was issued by a current member (or this one),
 *    and is within its use limit as counted by this member (a member that
 *    already used it may use it again).
 *
 * Invariants: the only state it changes is the invite's use count in the group
 * record (`inviteUses`), and only when it admits a new member with that invite.
 */
import type { AdmissionDecision, AdmissionRequest } from '../core/engine.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRecord } from '../store/profile.js';
import { parseInvite } from './invite.js';

export interface AdmissionContext {
  readonly group: string;
  readonly record: GroupRecord;
  readonly selfKey: MemberKey;
  allowlisted(key: MemberKey): boolean;
  isCurrentMember(key: MemberKey): boolean;
  /** The record changed (an invite use was counted): save it. */
  changed(): void;
}

export function admit(ctx: AdmissionContext, request: AdmissionRequest, now: number): AdmissionDecision {
  if (ctx.record.blocklist.includes(request.member)) return { ok: false, reason: 'blocked' };
  if (ctx.allowlisted(request.member)) return { ok: true }; // 001: an authenticated list of permitted nodes
  let invite;
  try {
    invite = parseInvite(new TextDecoder().decode(request.credential), now);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : 'bad invite' };
  }
  if (invite.group !== ctx.group) return { ok: false, reason: 'invite is for another group' };
  const inviterIsMember = invite.inviterKey === ctx.selfKey || ctx.isCurrentMember(invite.inviterKey);
  if (!inviterIsMember) return { ok: false, reason: 'invite was not issued by a current member' };
  const used = (ctx.record.inviteUses[invite.id] ??= []);
  if (!used.includes(request.member)) {
    if (used.length >= invite.uses) return { ok: false, reason: 'invite has been used up' };
    used.push(request.member);
    ctx.changed();
  }
  return { ok: true };
}
