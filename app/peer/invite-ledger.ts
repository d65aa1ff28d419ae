/**
 * @module peer/invite-ledger
 * What a group's members know about the invites issued for it (issue 15 §2,
 * docs/protocol.md §5 "Invites and the join handshake"): per invite its signed
 * ticket, the member proof key (when the inviter shared it), the set of
 * identities admitted with it and the inviter's revocation, if any. Kept in the
 * group record (`invites`, `inviteUses`) and merged from fellow members.
 *
 * The ledger is a join-semilattice: entries are keyed by invite ID, use sets
 * only grow (union), a revocation once valid stays; merging in any order gives
 * the same ledger, so members that have talked to each other count the same uses.
 *
 * Invariants:
 * - Nothing enters the ledger unverified: a ticket must carry the inviter's valid
 *   signature and name this group; a member proof seed must be the one whose public key is the ticket's
 *   `proofKey` (the public key of the seed); a revocation must be the inviter's signature over (group, ID); a
 *   use must carry the newcomer's credential signature, made with the invite's join
 *   key, which only a holder of the invite's secret has (review 40: uses were taken
 *   as listed, and one insider spent every invite, its inviter's own count included,
 *   with made-up identities). A use counted here without one (an older record) is
 *   counted here only, never sent.
 * - Expired entries are dropped when the ledger is merged or sent.
 * - Bounded: at most MAX_ENTRIES invites, MAX_PER_INVITER of them one inviter's (review 40:
 *   one member's long-lived invites filled the ledger, and no other member's new invite was
 *   taken), and `uses + USE_SLACK` identities per invite. A fellow member's invite is taken
 *   only from an inviter that is a current member (review 41: tickets signed with throwaway
 *   keys filled it just the same); when full, entries of inviters no longer members go first.
 * - A ledger carrying a use proof that does not verify is merged no further: an honest member
 *   sends only proofs it checked (review 41: a frame of 1,032 made-up proofs cost 1,032 verifies).
 * Pure functions over the record: no I/O (peer/invite-exchange moves the bytes).
 */
import { z } from 'zod';
import type { GroupRecord, InviteLedgerEntry } from '../store/profile.js';
import { parseTicket, proofSeedMatches, revocationValid, useProofValid, type Invite, type Ticket } from './invite.js';

export const MAX_ENTRIES = 256;
/** Invites of one inviter a ledger takes from fellow members at most (its own are always kept). */
export const MAX_PER_INVITER = 32;
/** Uses announced past the limit are kept (a race between admitters), up to this many more. */
const USE_SLACK = 32;

const B64 = (max: number) => z.string().regex(/^[A-Za-z0-9_-]*$/).max(max);
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const LedgerEntryWire = z
  .object({
    ticket: B64(4096),
    /** The member proof key's private seed (the ticket's `proofKey` is its public key): for members only. */
    proofKey: B64(64).optional(),
    revocation: B64(128).optional(),
    used: z.array(Hex64).max(1000 + USE_SLACK),
    /** The credential signature of each use, in `used`'s order. */
    proofs: z.array(B64(88)).max(1000 + USE_SLACK).optional(),
  })
  .strict();
export type LedgerEntryWire = z.infer<typeof LedgerEntryWire>;

const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));
const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function entries(record: GroupRecord): Record<string, InviteLedgerEntry> {
  return (record.invites ??= {});
}

/**
 * Tickets whose signature was checked, by their encoded bytes: a ledger is merged on
 * every exchange with every member, and re-verifying each ticket each time made the
 * ledger 10 % of a forming group's CPU (issue 17). The same bytes verify the same way;
 * expiry is still checked at every use. Bounded (cleared when full).
 */
const verifiedTickets = new Map<string, Ticket>();
const VERIFIED_TICKETS_MAX = 4096;

function ticketOf(entry: InviteLedgerEntry, now: number): Ticket | null {
  const known = verifiedTickets.get(entry.ticket);
  if (known) return known.expiresAt > now ? known : null;
  try {
    const ticket = parseTicket(fromB64(entry.ticket), now);
    if (verifiedTickets.size >= VERIFIED_TICKETS_MAX) verifiedTickets.clear();
    verifiedTickets.set(entry.ticket, ticket);
    return ticket;
  } catch {
    return null;
  }
}

/** The inviter records an invite it just made (with its proof key: it will share it with members). */
export function recordIssued(record: GroupRecord, invite: Invite, proofKey: Uint8Array): void {
  entries(record)[invite.id] = { ticket: toB64(invite.bytes), proofKey: toB64(proofKey) };
  record.inviteUses[invite.id] ??= [];
}

/** An admitter records an invite it saw only as a newcomer's credential (no proof key). */
export function recordSeen(record: GroupRecord, ticket: Ticket): void {
  const all = entries(record);
  if (!all[ticket.id]) all[ticket.id] = { ticket: toB64(ticket.bytes) };
}

export function recordRevocation(record: GroupRecord, ticket: Ticket, signature: Uint8Array): void {
  const all = entries(record);
  const entry = (all[ticket.id] ??= { ticket: toB64(ticket.bytes) });
  entry.revocation = toB64(signature);
}

export function isRevoked(record: GroupRecord, id: string): boolean {
  return Boolean(record.invites?.[id]?.revocation);
}

export function revocationOf(record: GroupRecord, id: string): Uint8Array | null {
  const r = record.invites?.[id]?.revocation;
  return r ? fromB64(r) : null;
}

export function proofKeyOf(record: GroupRecord, id: string): Uint8Array | null {
  const k = record.invites?.[id]?.proofKey;
  return k ? fromB64(k) : null;
}

/** Whether the ledger holds, under `ticket`'s ID, another ticket than this one (review 42: its uses and revocation are not this one's). */
export function otherTicketHeld(record: GroupRecord, ticket: Ticket): boolean {
  const held = record.invites?.[ticket.id];
  return held !== undefined && held.ticket !== toB64(ticket.bytes);
}

export function ticketFor(record: GroupRecord, id: string, now: number): Ticket | null {
  const entry = record.invites?.[id];
  return entry ? ticketOf(entry, now) : null;
}

/** Counts `member` as admitted with invite `id`, with its credential's signature (`proof`); true if it was not counted before. */
export function countUse(record: GroupRecord, id: string, member: string, proof: Uint8Array): boolean {
  const used = (record.inviteUses[id] ??= []);
  if (used.includes(member)) return false;
  used.push(member);
  ((record.inviteUseProofs ??= {})[id] ??= {})[member] = toB64(proof);
  return true;
}

/** Drops expired invites (their uses go with them: an expired invite admits nobody). */
export function prune(record: GroupRecord, now: number): boolean {
  let changed = false;
  for (const [id, entry] of Object.entries(entries(record))) {
    if (!ticketOf(entry, now)) {
      delete entries(record)[id];
      delete record.inviteUses[id];
      delete record.inviteUseProofs?.[id];
      changed = true;
    }
  }
  // Use sets of invites the ledger does not hold (older records, version 1 invites) go too.
  for (const id of Object.keys(record.inviteUses)) {
    if (!entries(record)[id]) {
      delete record.inviteUses[id];
      changed = true;
    }
  }
  for (const id of Object.keys(record.inviteUseProofs ?? {})) if (!entries(record)[id]) delete record.inviteUseProofs![id];
  return changed;
}

/** This member's ledger as sent to a fellow member. */
export function ledgerOf(record: GroupRecord, now: number): LedgerEntryWire[] {
  prune(record, now);
  return Object.entries(entries(record))
    .slice(0, MAX_ENTRIES)
    .map(([id, e]) => {
      // Only uses with their proof: a fellow member counts no other.
      const proofs = record.inviteUseProofs?.[id] ?? {};
      const used = (record.inviteUses[id] ?? []).filter((m) => proofs[m] !== undefined).slice(0, 1000 + USE_SLACK);
      return {
        ticket: e.ticket,
        ...(e.proofKey ? { proofKey: e.proofKey } : {}),
        ...(e.revocation ? { revocation: e.revocation } : {}),
        used,
        proofs: used.map((m) => proofs[m]!),
      };
    });
}

/**
 * Merges a fellow member's ledger into ours; every part is verified first. `isMember`: a current
 * member of the group (this member included). Returns true if ours changed.
 */
export function mergeLedger(record: GroupRecord, group: string, incoming: readonly LedgerEntryWire[], now: number, isMember: (key: string) => boolean): boolean {
  let changed = false;
  const all = entries(record);
  for (const e of incoming.slice(0, MAX_ENTRIES)) {
    const ticket = ticketOf({ ticket: e.ticket }, now);
    if (!ticket || ticket.group !== group) continue;
    let entry = all[ticket.id];
    // One ID, one ticket: another ticket under it (one inviter and one join key: invite.ts inviteIdOf) brings nothing (review 42).
    if (entry && entry.ticket !== toB64(ticket.bytes)) continue;
    if (!entry) {
      if (!isMember(ticket.inviterKey)) continue;
      if (Object.keys(all).length >= MAX_ENTRIES) changed = dropNonMembers(record, now, isMember) || changed;
      if (Object.keys(all).length >= MAX_ENTRIES) continue;
      if (Object.values(all).filter((x) => ticketOf(x, now)?.inviterKey === ticket.inviterKey).length >= MAX_PER_INVITER) continue;
      entry = all[ticket.id] = { ticket: toB64(ticket.bytes) };
      changed = true;
    }
    if (!entry.proofKey && e.proofKey && proofSeedMatches(ticket, fromB64(e.proofKey))) {
      entry.proofKey = e.proofKey;
      changed = true;
    }
    if (!entry.revocation && e.revocation && revocationValid(ticket, fromB64(e.revocation))) {
      entry.revocation = e.revocation;
      changed = true;
    }
    const used = (record.inviteUses[ticket.id] ??= []);
    for (let i = 0; i < e.used.length; i++) {
      const member = e.used[i]!;
      if (used.length >= ticket.uses + USE_SLACK) break;
      if (used.includes(member)) continue;
      const proof = e.proofs?.[i];
      if (proof === undefined) continue; // an older member's use: counted where it was made only
      // One Ed25519 check per use new here (a use held is never checked again); a bad one ends the merge.
      if (!useProofValid(ticket, member, fromB64(proof))) return changed;
      used.push(member);
      ((record.inviteUseProofs ??= {})[ticket.id] ??= {})[member] = proof;
      changed = true;
    }
  }
  return changed;
}

/** Drops the invites of inviters no longer members (they admit nobody: admission.ts); true if any. */
function dropNonMembers(record: GroupRecord, now: number, isMember: (key: string) => boolean): boolean {
  let dropped = false;
  for (const [id, entry] of Object.entries(entries(record))) {
    const t = ticketOf(entry, now);
    if (t && isMember(t.inviterKey)) continue;
    delete entries(record)[id];
    delete record.inviteUses[id];
    delete record.inviteUseProofs?.[id];
    dropped = true;
  }
  return dropped;
}

export interface InviteView {
  id: string;
  uses: number;
  used: number;
  expiresAt: number;
  revoked: boolean;
  /** The inviter's peer ID. */
  inviter: string;
}

export function inviteViews(record: GroupRecord, now: number): InviteView[] {
  const out: InviteView[] = [];
  for (const [id, entry] of Object.entries(entries(record))) {
    const t = ticketOf(entry, now);
    if (!t) continue;
    out.push({ id, uses: t.uses, used: (record.inviteUses[id] ?? []).length, expiresAt: t.expiresAt, revoked: Boolean(entry.revocation), inviter: t.inviter });
  }
  return out.sort((a, b) => b.expiresAt - a.expiresAt);
}
