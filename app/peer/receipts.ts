/**
 * @module peer/receipts
 * Delivery receipts (issue 18 §7, issue 19 §3; docs/protocol.md §13.2): a member
 * tells the group, now and then, which messages of which authors it holds ON
 * DISK, and an author counts, for each of its own chat and file messages, the
 * members that confirmed it ("delivered to n of m").
 *
 * A receipt `{ a, at, h: [[author, lo, hi], …] }` says: "I, `a`, hold every
 * message of `author` numbered `lo`..`hi` (or its author declared the number
 * unused) in my history on disk". It is sealed under the TEK like chat (data
 * topic), but it is EPHEMERAL: it takes no per-author sequence number, is never
 * kept in the history or the traffic log, and reconciliation never serves it. So
 * it carries no signature of its own: the transport authenticates its carrier
 * (gossipsub's StrictSign signature, by the same identity key; data never travels
 * by unicast), and it must be carried by `a`, in the turn that delivered it. A
 * receipt fed by catch-up, whose sender is the server's word, is refused, and so is
 * one buffered under a key not held yet and opened later (it may have come that way) (one signature check per receipt per member was
 * 4 % of fifty peers' CPU while chatting; docs/performance.md "Round eleven").
 *
 * Three parts:
 * - the wire form (`Receipt`, `makeReceipt`, `checkReceipt`): bounded (at most
 *   `RECEIPT_LIMITS.authors` entries, one per author), checked before anything
 *   of it is believed: live (not fed by catch-up), carried by its reporter, the
 *   reporter a current member; any failure is a typed rejection that changes nothing;
 * - `ReceiptReporter` (the receiving side): per author, the numbers durable here
 *   (history.ts calls `durable` once a message's fsync is done), and the authors
 *   with something new since the last receipt; `take` reports, per author, the
 *   run of held numbers that contains the highest one;
 * - `DeliveryLedger` (the author's side): for its own messages, the members it
 *   was sent to and, per member, the numbers it confirmed. Confirmations only
 *   grow (a union of true claims: a message on disk stays there), so a replayed
 *   or reordered receipt does nothing; bounded per member (`maxRanges`).
 * - `ReceiptClock` paces the sending: at most one receipt per group every
 *   `receiptIntervalMs(members)`, and only when something new became durable.
 *   The interval grows with the group (`perMemberMs` per member, never below
 *   `intervalMs`) so that all members' receipts together stay near three a
 *   second: each receipt reaches every member, so a fixed interval made receipts
 *   grow with N² (fifty members: 25 a second, 1,225 deliveries a second, two and
 *   a half times the chat they confirmed; docs/performance.md "Round eight"), and
 *   ten a second still doubled the messages fifty chatting peers handled (round
 *   eleven).
 *
 * Pure except `ReceiptClock`, which takes its timer functions injected.
 */
import { z } from 'zod';
import type { Delivery } from '../api/contract.js';
import type { MemberKey, RejectReason } from '../core/types.js';
import { SeqRanges } from './seq-ranges.js';

export const RECEIPT_LIMITS = {
  /** Authors named in one receipt. */
  authors: 256,
  /** A member's receipts are at least this far apart, in any group. */
  intervalMs: 2_000,
  /** ...and at least this much per current member apart (10 members: 3 s; 50 members: 15 s). */
  perMemberMs: 300,
  /** Confirmed ranges kept per member (a lying member cannot grow the ledger past it). */
  maxRanges: 64,
  /** Members an own message's delivery is counted for. */
  maxRecipients: 1000,
} as const;

const MemberKeyHex = z.string().regex(/^[0-9a-f]{64}$/);
const Seq = z.number().int().min(1).max(2 ** 48);

/** One entry: `author` and the inclusive run `lo..hi` of its numbers held on disk. */
const Entry = z.tuple([MemberKeyHex, Seq, Seq]);
export const Receipt = z
  .object({
    a: MemberKeyHex,
    at: z.number().int().min(0).max(2 ** 53 - 1),
    h: z.array(Entry).min(1).max(RECEIPT_LIMITS.authors),
  })
  .strict();
export type Receipt = z.infer<typeof Receipt>;
export type ReceiptEntry = [MemberKey, number, number];

/** This member's receipt: `a` is the reporter, who must carry it itself. */
export function makeReceipt(self: MemberKey, at: number, h: ReceiptEntry[]): Receipt {
  if (h.length === 0 || h.length > RECEIPT_LIMITS.authors) throw new RangeError(`a receipt names 1 to ${RECEIPT_LIMITS.authors} authors`);
  return { a: self, at, h };
}

export interface ReceiptContext {
  rosterState(key: MemberKey): 'member' | 'excluded' | 'left' | undefined;
}

export type ReceiptVerdict = { ok: true; entries: ReceiptEntry[] } | { ok: false; reason: RejectReason; detail: string };

/**
 * The checks, in order: live (`carrier` authenticated by the transport in the turn that
 * delivered the receipt: not named by a catch-up server, not buffered and opened later);
 * carried by its reporter; the reporter a current member; entries well formed.
 */
export function checkReceipt(ctx: ReceiptContext, r: Receipt, carrier: MemberKey, via: 'live' | 'catch-up' | 'buffered'): ReceiptVerdict {
  if (via === 'catch-up') return { ok: false, reason: 'not-authorized', detail: `receipt credited to ${carrier.slice(0, 12)} by a catch-up reply: reconciliation never serves receipts` };
  // Buffered under a key not held then and opened in a later turn: its sender may have been a
  // catch-up server's word (review 11). Receipts are ephemeral; a genuine one costs nothing to drop.
  if (via === 'buffered') return { ok: false, reason: 'stale', detail: `receipt credited to ${carrier.slice(0, 12)} opened after its key came: only a receipt read as it arrives is believed` };
  if (r.a !== carrier) return { ok: false, reason: 'invalid', detail: `receipt of ${r.a.slice(0, 12)} carried by another member` };
  const state = ctx.rosterState(r.a);
  if (state !== 'member') return { ok: false, reason: 'not-member', detail: `receipt from ${r.a.slice(0, 12)}, who is ${state ?? 'not in the roster'}` };
  const authors = new Set<string>();
  for (const [author, lo, hi] of r.h) {
    if (lo > hi) return { ok: false, reason: 'invalid', detail: 'receipt range is reversed' };
    if (authors.has(author)) return { ok: false, reason: 'invalid', detail: 'receipt names an author twice' };
    authors.add(author);
  }
  return { ok: true, entries: r.h.map(([a, lo, hi]): ReceiptEntry => [a, lo, hi]) };
}

/** The receiving side: what is durable here, per author, and what is new since the last receipt. */
export class ReceiptReporter {
  private readonly held = new Map<MemberKey, SeqRanges>();
  private readonly fresh = new Set<MemberKey>();

  constructor(private readonly self: MemberKey) {}

  /** Numbers already on disk at start (history load): known, not new. */
  seed(author: MemberKey, ranges: SeqRanges): void {
    this.held.set(author, SeqRanges.of(ranges.list()));
  }

  /** A message of `author` numbered `s` is on disk (with the numbers it declared unused). */
  durable(author: MemberKey, s: number, skip?: [number, number]): void {
    let r = this.held.get(author);
    if (!r) this.held.set(author, (r = new SeqRanges()));
    r.add(s);
    if (skip) r.addRange(skip[0], Math.min(skip[1], s - 1));
    if (author !== this.self) this.fresh.add(author);
  }

  get pending(): boolean {
    return this.fresh.size > 0;
  }

  /** Up to `limit` entries for the authors with something new; each is then no longer new. */
  take(limit: number = RECEIPT_LIMITS.authors): ReceiptEntry[] {
    const out: ReceiptEntry[] = [];
    for (const author of this.fresh) {
      if (out.length >= limit) break;
      this.fresh.delete(author);
      const last = this.held.get(author)?.list().at(-1);
      if (last) out.push([author, last[0], last[1]]);
    }
    return out;
  }
}

/** The author's side: per own message (by number), who it went to; per member, the numbers it confirmed. */
export class DeliveryLedger {
  private readonly sentTo = new Map<number, Set<MemberKey>>();
  private readonly confirmed = new Map<MemberKey, SeqRanges>();
  private highest = 0;

  /** Own message number `s` was sent to `to` (the other members then). */
  sent(s: number, to: readonly MemberKey[]): void {
    this.sentTo.set(s, new Set(to.slice(0, RECEIPT_LIMITS.maxRecipients)));
    this.highest = Math.max(this.highest, s);
  }

  /**
   * `by` holds this member's numbers `lo..hi`: returns the own messages (numbers)
   * whose count rose. Numbers above the highest sent are not believed.
   */
  confirm(by: MemberKey, lo: number, hi: number): number[] {
    const top = Math.min(hi, this.highest);
    if (top < lo) return [];
    const r = this.confirmed.get(by) ?? new SeqRanges();
    this.confirmed.set(by, r);
    const raised: number[] = [];
    const fresh = (s: number): void => {
      if (s >= lo && s <= top && !r.has(s) && this.sentTo.get(s)?.has(by)) raised.push(s);
    };
    // Walk whichever is shorter: the numbers claimed or the own messages kept.
    if (top - lo < this.sentTo.size) for (let s = lo; s <= top; s++) fresh(s);
    else for (const s of this.sentTo.keys()) fresh(s);
    r.addRange(lo, top);
    const list = r.list();
    if (list.length > RECEIPT_LIMITS.maxRanges) this.confirmed.set(by, SeqRanges.of(list.slice(-RECEIPT_LIMITS.maxRanges)));
    return raised;
  }

  /** The highest own number sent. */
  get top(): number {
    return this.highest;
  }

  /** Per member, the confirmed ranges (persisted with the history). */
  ranges(by: MemberKey): [number, number][] {
    return this.confirmed.get(by)?.list() ?? [];
  }

  /** The delivery state of own message `s`; `stillMember`: recipients that left or were excluded count only if they confirmed. */
  delivery(s: number, stillMember: (key: MemberKey) => boolean): Delivery | undefined {
    const to = this.sentTo.get(s);
    if (!to) return undefined;
    let delivered = 0;
    let members = 0;
    for (const key of to) {
      const got = this.confirmed.get(key)?.has(s) ?? false;
      if (got) delivered++;
      if (got || stillMember(key)) members++;
    }
    return { state: delivered > 0 ? 'delivered' : 'sent', delivered, members };
  }
}

/** How far apart one member's receipts are in a group of `members` current members. */
export function receiptIntervalMs(members: number): number {
  return Math.max(RECEIPT_LIMITS.intervalMs, Math.ceil(members) * RECEIPT_LIMITS.perMemberMs);
}

/** Paces one group's receipts: at most one per `intervalMs()` (read at each poke), and only while the reporter has something new. */
export class ReceiptClock {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastAt = -Infinity;

  constructor(
    private readonly deps: { now(): number; send(): void; intervalMs?: () => number },
  ) {}

  /** Something new became durable: a receipt goes out at the next allowed moment. */
  poke(): void {
    if (this.timer) return;
    const interval = this.deps.intervalMs?.() ?? RECEIPT_LIMITS.intervalMs;
    const delay = Math.max(0, this.lastAt + interval - this.deps.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastAt = this.deps.now();
      this.deps.send();
    }, delay);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
