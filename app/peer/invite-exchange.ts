/**
 * @module peer/invite-exchange
 * The `/conclave/invite/1.0.0` protocol (issue 15 §2; docs/protocol.md §5
 * "Invites and the join handshake", docs/architecture.md "Unicast protocols"):
 * - **the join handshake**: a newcomer sends a contact `challenge {id, nonce}`;
 *   a member whose ledger holds the invite's member proof seed answers with its
 *   signature over (group ‖ id ‖ newcomer ‖ contact ‖ nonce), which the newcomer
 *   checks against the ticket's `proofKey` (invites v3, review 45), or, if the
 *   inviter revoked the invite, the inviter's signed revocation. The newcomer
 *   offers a contact to its engine (which then sends it the credential) only
 *   after a proof that matches; anyone else hears nothing from it but a random
 *   invite ID and a nonce.
 * - **the ledger exchange**: a member sends a fellow member its invite ledger
 *   (peer/invite-ledger) and gets theirs back; both merge. Sent when an invite is
 *   issued, used or revoked, when this peer becomes a member, and every
 *   SYNC_INTERVAL_MS to one connected member per group.
 *
 * Invariants:
 * - The remote identity is the Noise-authenticated peer (net/unicast); proofs are
 *   bound to both identities, so a proof relayed from a real member to a third
 *   peer does not verify for that third peer.
 * - A ledger is served to, and accepted from, current members only (as this
 *   peer's engine knows them), and only while this peer is a member.
 * - Every frame is bounded and schema-checked; bad input gets no answer.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { request, serve, type StreamLimits } from '../net/unicast.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRuntime } from './group.js';
import { memberProof, memberProofSeed, proofMatches, revocationValid, signRevocation, type Invite } from './invite.js';
import { LedgerEntryWire, inviteViews, ledgerOf, mergeLedger, proofKeyOf, recordIssued, recordRevocation, revocationOf, ticketFor } from './invite-ledger.js';
import { isConnected, isCurrentMember, type PeerContext } from './peer-context.js';

export const PROTOCOL_INVITE = '/conclave/invite/1.0.0';
const LIMITS: StreamLimits = { maxFrameBytes: 512 * 1024, maxFrames: 1, timeoutMs: 10_000 };
const SYNC_INTERVAL_MS = 20_000;
const ANNOUNCE_DELAY_MS = 200;

const B64 = (n: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${n}}$`));
const GroupId = z.string().regex(/^[0-9a-f]{32}$/);
const Frame = z.discriminatedUnion('t', [
  z.object({ t: z.literal('challenge'), id: z.string().regex(/^[0-9a-f]{16}$/), nonce: B64(43) }).strict(),
  z.object({ t: z.literal('proof'), proof: B64(86) }).strict(),
  z.object({ t: z.literal('revoked'), revocation: B64(86) }).strict(),
  z.object({ t: z.literal('ledger'), group: GroupId, entries: z.array(LedgerEntryWire).max(256) }).strict(),
]);
type Frame = z.infer<typeof Frame>;

const encode = (f: Frame): Uint8Array => new TextEncoder().encode(JSON.stringify(f));
function decode(bytes: Uint8Array | undefined): Frame | null {
  if (!bytes) return null;
  try {
    const parsed = Frame.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));

/** What a contact turned out to be: a member (proof verified), or why not. */
export type ContactCheck = 'member' | 'revoked' | 'no-proof' | 'forged' | 'unreachable';

export class InviteExchange {
  private timer: NodeJS.Timeout | null = null;
  private readonly pendingAnnounce = new Set<string>();

  constructor(private readonly ctx: PeerContext) {}

  async serve(): Promise<void> {
    await serve(this.ctx.node, PROTOCOL_INVITE, LIMITS, (remote, frames) => {
      const from = memberKeyOfPeer(remote);
      const frame = decode(frames[0]);
      if (!from || !frame) return undefined;
      if (frame.t === 'challenge') return this.answerChallenge(from, frame.id, unb64(frame.nonce));
      if (frame.t === 'ledger') return this.answerLedger(from, frame.group, frame.entries);
      return undefined;
    });
  }

  start(): void {
    this.timer = setInterval(() => this.syncAll(), SYNC_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ── a member's side ───────────────────────────────────────────────────────

  private answerChallenge(joiner: MemberKey, id: string, nonce: Uint8Array): Uint8Array[] | undefined {
    const now = Date.now();
    for (const rt of this.ctx.groups.values()) {
      if (rt.engine.state() !== 'member' || !ticketFor(rt.record, id, now)) continue;
      const revocation = revocationOf(rt.record, id);
      if (revocation) return [encode({ t: 'revoked', revocation: b64(revocation) })];
      const key = proofKeyOf(rt.record, id);
      if (!key) continue;
      const proof = memberProof(key, { group: rt.group, id, joiner, contact: this.ctx.selfKey, nonce });
      return [encode({ t: 'proof', proof: b64(proof) })];
    }
    return undefined;
  }

  private answerLedger(from: MemberKey, group: string, entries: LedgerEntryWire[]): Uint8Array[] | undefined {
    const rt = this.ctx.groups.get(group);
    if (!rt || !isCurrentMember(rt, from)) return undefined;
    const now = Date.now();
    if (mergeLedger(rt.record, group, entries, now, (key) => key === this.ctx.selfKey || isCurrentMember(rt, key))) rt.save();
    return [encode({ t: 'ledger', group, entries: ledgerOf(rt.record, now) })];
  }

  /** The inviter keeps the invite it made, with its proof key, and tells fellow members. */
  issued(rt: GroupRuntime, invite: Invite): void {
    recordIssued(rt.record, invite, memberProofSeed(this.ctx.identity.current.seed, invite.secret));
    rt.save();
    this.announce(rt);
  }

  /** Revokes an invite this peer issued; false if it knows no such invite or did not issue it. */
  revoke(rt: GroupRuntime, id: string): boolean {
    const ticket = ticketFor(rt.record, id, Date.now());
    if (!ticket || ticket.inviterKey !== this.ctx.selfKey) return false;
    recordRevocation(rt.record, ticket, signRevocation(this.ctx.identity.current.seed, rt.group, id));
    rt.save();
    this.announce(rt);
    return true;
  }

  /**
   * A member left or was excluded: it held the proof key of every invite in the
   * ledger while it was a member, so it could pass a newcomer's challenge with it
   * (docs/protocol.md §5). This peer revokes every live invite it issued, as an
   * exclusion replaces every key the leaver knew (003 [0072]); returns how many.
   */
  revokeIssuedOnDeparture(rt: GroupRuntime): number {
    let revoked = 0;
    for (const view of inviteViews(rt.record, Date.now())) if (!view.revoked && this.revoke(rt, view.id)) revoked++;
    return revoked;
  }

  /** The ledger changed here (a use counted, an invite issued or revoked): tell every connected member, soon. */
  announce(rt: GroupRuntime): void {
    if (this.pendingAnnounce.has(rt.group)) return;
    this.pendingAnnounce.add(rt.group);
    setTimeout(() => {
      this.pendingAnnounce.delete(rt.group);
      for (const key of this.connectedMembers(rt)) void this.exchange(rt, key);
    }, ANNOUNCE_DELAY_MS).unref?.();
  }

  /** Just became a member: learn the group's invites from every connected member. */
  onMember(rt: GroupRuntime): void {
    for (const key of this.connectedMembers(rt)) void this.exchange(rt, key);
  }

  private syncAll(): void {
    if (this.ctx.stopped()) return;
    for (const rt of this.ctx.groups.values()) {
      const members = this.connectedMembers(rt);
      const key = members[Math.floor(Math.random() * members.length)];
      if (key) void this.exchange(rt, key);
    }
  }

  private connectedMembers(rt: GroupRuntime): MemberKey[] {
    if (rt.engine.state() !== 'member') return [];
    return rt.engine
      .members()
      .filter((m) => m.state === 'member' && m.key !== this.ctx.selfKey && isConnected(this.ctx.node, m.key))
      .map((m) => m.key);
  }

  private async exchange(rt: GroupRuntime, key: MemberKey): Promise<void> {
    const pid = peerOfMemberKey(key);
    if (!pid || this.ctx.stopped()) return;
    const now = Date.now();
    const reply = decode((await request(this.ctx.node, pid, PROTOCOL_INVITE, encode({ t: 'ledger', group: rt.group, entries: ledgerOf(rt.record, now) }), LIMITS))?.[0]);
    if (reply?.t !== 'ledger' || reply.group !== rt.group || !isCurrentMember(rt, key)) return;
    if (mergeLedger(rt.record, rt.group, reply.entries, Date.now(), (k) => k === this.ctx.selfKey || isCurrentMember(rt, k))) rt.save();
  }

  // ── the newcomer's side ───────────────────────────────────────────────────

  /** Challenges `contact` to prove it is a member of the invite's group (before any credential is sent). */
  async checkContact(invite: Invite, contact: MemberKey): Promise<ContactCheck> {
    const pid = peerOfMemberKey(contact);
    if (!pid) return 'forged';
    const nonce = new Uint8Array(randomBytes(32));
    const frames = await request(this.ctx.node, pid, PROTOCOL_INVITE, encode({ t: 'challenge', id: invite.id, nonce: b64(nonce) }), LIMITS);
    if (frames === null) return 'unreachable';
    return judgeAnswer(invite, this.ctx.selfKey, contact, nonce, frames[0]);
  }
}

/** The newcomer's verdict on a contact's answer to its challenge (pure; unit-tested). */
export function judgeAnswer(invite: Invite, self: MemberKey, contact: MemberKey, nonce: Uint8Array, answer: Uint8Array | undefined): ContactCheck {
  if (!answer) return 'no-proof';
  const frame = decode(answer);
  if (frame?.t === 'proof') {
    const ok = proofMatches(invite, { group: invite.group, id: invite.id, joiner: self, contact, nonce }, unb64(frame.proof));
    return ok ? 'member' : 'forged';
  }
  if (frame?.t === 'revoked') return revocationValid(invite, unb64(frame.revocation)) ? 'revoked' : 'forged';
  return 'forged';
}

/** A challenge frame as a newcomer sends it (for tests of what a contact learns). */
export function challengeFrame(id: string, nonce: Uint8Array): Uint8Array {
  return encode({ t: 'challenge', id, nonce: b64(nonce) });
}
