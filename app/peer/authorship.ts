/**
 * @module peer/authorship
 * Who wrote an application message (issue 15 §3; docs/protocol.md §13): the
 * checks a signed message (payload.ts) passes before anything of it is kept or
 * shown, whether it came live, through reconciliation, or inside a re-shared
 * board. Pure: the caller passes the roster, the clock and the crypto.
 *
 * The rules, in order (the first that fails is the refusal's reason):
 * 1. carried by its author: a `msg` payload's author is the engine-authenticated
 *    sender of the packet (gossipsub's signer, or the sender the engine checked
 *    against the packet header); a board re-share may carry others' strokes, a
 *    file re-share others' file messages;
 * 2. the author is in the roster as a member or a leaver (never excluded, never
 *    unknown: `not-member`);
 * 3. the signature verifies against the author's member key (its Ed25519
 *    identity key) over group, author, number, TEK version, time, ID, skip and
 *    body (`bad-signature`);
 * 4. the TEK version signed is not above the one the packet came under (a
 *    message held for a reseal goes out under a later one, never an earlier);
 *    for a re-shared stroke, not above the current one (`invalid`);
 * 5. its time is not more than MAX_FUTURE_MS ahead of the receiver's clock
 *    (`invalid`): a message dated in the future is refused, not shown first
 *    forever; it also bounds how far a board `clear` reaches (a clear covers
 *    no version dated after it, app/api/board-model.ts rule 5). A date moved
 *    back is not refused here: the history lists the message no earlier than
 *    it can have been sent (history.ts `shownTime`).
 * 6. a board re-share carries strokes and object versions only, a file re-share
 *    file messages and deletes only (`invalid`): chat is never re-shared (a
 *    delete is its author's, shared so that a deleted file another member
 *    re-shares stays deleted at the newcomer: review 30).
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { MemberKey, RejectReason } from '../core/types.js';
import { verifyMessage, type ReceivedBody, type SignedMessage } from './payload.js';

export const MAX_FUTURE_MS = 2 * 60_000;

export interface AuthorshipContext {
  group: string;
  crypto: Pick<CryptoProvider, 'ed25519Verify'>;
  /** The roster state of `key` (undefined: not in the roster). */
  rosterState(key: MemberKey): 'member' | 'excluded' | 'left' | undefined;
  now: number;
}

export type AuthorshipVerdict = { ok: true; body: ReceivedBody } | { ok: false; reason: RejectReason; detail: string };

/** Whether a message by an author in this roster state is taken: a member's, or a departed member's (not an excluded one's, nor a stranger's). */
export function authorTaken(state: 'member' | 'excluded' | 'left' | null | undefined): boolean {
  return state === 'member' || state === 'left';
}

export function checkAuthorship(ctx: AuthorshipContext, m: SignedMessage, carrier: { from: MemberKey; tekVersion: number; boardShare: boolean; fileShare?: boolean }): AuthorshipVerdict {
  if (!carrier.boardShare && !carrier.fileShare && m.a !== carrier.from) return { ok: false, reason: 'invalid', detail: `message signed by ${m.a.slice(0, 12)} carried as its own by another member` };
  const state = ctx.rosterState(m.a);
  if (!authorTaken(state)) {
    // A re-share is the carrier's act: an honest sharer leaves out what no receiver takes (board-share.ts), so this
    // is the carrier doing what it may not, never a member heard before its admission (review 35).
    if (carrier.boardShare || carrier.fileShare) return { ok: false, reason: 'not-authorized', detail: `re-shared an item by ${m.a.slice(0, 12)}, who is ${state ?? 'not in the roster'}` };
    return { ok: false, reason: 'not-member', detail: `author ${m.a.slice(0, 12)} is ${state ?? 'not in the roster'}` };
  }
  const verified = verifyMessage(ctx.crypto, ctx.group, m);
  if (!verified.ok) return { ok: false, reason: verified.reason, detail: verified.detail };
  if (m.k > carrier.tekVersion) return { ok: false, reason: 'invalid', detail: `signed under TEK version ${m.k}, above the packet's ${carrier.tekVersion}` };
  if (m.at > ctx.now + MAX_FUTURE_MS) return { ok: false, reason: 'invalid', detail: `dated ${Math.round((m.at - ctx.now) / 1000)} s in the future` };
  if (carrier.boardShare && verified.body.t !== 'stroke' && verified.body.t !== 'shape') return { ok: false, reason: 'invalid', detail: 'a board re-share carries strokes and object versions only' };
  if (carrier.fileShare && verified.body.t !== 'file' && verified.body.t !== 'delete') return { ok: false, reason: 'invalid', detail: 'a file re-share carries file messages and their deletes only' };
  return verified;
}
