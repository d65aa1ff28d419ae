/**
 * @module peer/catch-up
 * Reconciliation of history (issue 19; docs/architecture.md "Reconciliation"),
 * both sides of `/conclave/catchup`: a member sends a fellow member a summary of
 * what it holds (per author, the ranges of sequence numbers) and gets back,
 * as the encrypted packets that travelled, exactly what it lacks — in rounds,
 * resumed from a cursor, retried with backoff while a gap remains — and feeds
 * them to its engine as if they had just arrived on the data topic.
 *
 * Request (one JSON frame, `CatchUpRequest`): `{ v: 2, group, have, minTek,
 * cursor, epoch }`. Reply: a JSON header frame (`CatchUpHeader`: `{ v: 2, ok,
 * epoch, next, total }` or a typed refusal `{ v: 2, refused, retryAfterMs }`),
 * then one frame per packet, author's member key (32) ‖ the packet as published.
 * Every frame is checked by schema (zod), never cast.
 *
 * Bounds (`CATCHUP_BOUNDS`): a reply carries at most `replyItems` packets and
 * `replyBytes` bytes; a server answers a peer at most `peerRequests` times per
 * `peerWindowMs` and `peerBytes` bytes per window, and `concurrent` requests at
 * once, refusing the rest with `rate` or `busy`; an asker runs at most
 * `sessionRounds` rounds per session, one session per group at a time, and
 * holds at most two replies at once (rounds are pipelined: the next is asked for
 * while the last is fed to the engine, `feedSlice` packets between yields).
 *
 * Invariants:
 * - Only current members are served, and only by a current member; the asker
 *   reads only what its own keys decrypt (the engine decides, not this module),
 *   and keeps only what its author signed (group.ts, authorship.ts).
 * - While history has a gap (group.ts `gaps`), a session is retried with backoff
 *   (1 s doubling to 30 s) against the next connected member; a gap found or keys
 *   come while a session ran start the next at once and the backoff over
 *   (`afterGapSession`); without one, a
 *   member still reconciles every `periodMs` from where it stopped (the server's
 *   cursor, valid for the server's `epoch`), so the last messages before a crash
 *   or a partition come back even when no later message shows the gap. While its
 *   history does not grow and answered sessions bring nothing, the spacing doubles
 *   up to `idlePeriodMaxMs` (`idlePeriodAfter`); a message kept or brought resets it.
 *   (A receipt that reveals a gap starts a session at once, whatever the spacing;
 *   a loss nothing reveals waits for the spacing.)
 * - A session asks ONE member; members are taken in turn, each member's turn
 *   order starting after itself (`turnOrder`), and a member whose connection just
 *   opened is asked out of turn without moving the turn. So an idle member serves
 *   about one periodic session per spacing whatever the group's size, and
 *   sessions that start at every member at once (a key change) spread over the
 *   members. (Before: one roster order for all, and the turn moved to each newly
 *   connected member; in an idle thirty-member group a few members served 12–27
 *   sessions in 15 s while most served none.)
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { bytesToHex, hexToBytes, memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { CATCHUP_REQUEST_LIMITS, PROTOCOL_CATCHUP, request, serve, type StreamLimits } from '../net/unicast.js';
import { LIMITS } from '../core/wire.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRuntime } from './group.js';
import { SeqRanges, type Range } from './seq-ranges.js';
import { isConnected, isCurrentMember, parseJsonFrame, type PeerContext } from './peer-context.js';

export const CATCHUP_BOUNDS = {
  replyItems: 500,
  replyBytes: 4 * 1024 * 1024,
  peerRequests: 20,
  peerBytes: 32 * 1024 * 1024,
  peerWindowMs: 10_000,
  concurrent: 4,
  sessionRounds: 20,
  summaryAuthors: 256,
  summaryRanges: 2000,
  periodMs: 5000,
  /** While this member's history does not grow, the periodic session backs off, doubling up to this (`idlePeriodAfter`). */
  idlePeriodMaxMs: 20_000,
  backoffMinMs: 1000,
  /** While a gap is open and some connected member has not been asked yet: the pause before asking the next. */
  gapNextMs: 100,
  backoffMaxMs: 30_000,
  /** A round in flight longer than this is abandoned when a connection to a member opens. */
  supersedeAfterMs: 1000,
  /** A catch-up shown to the user ("catching up: n of m") when at least this many are missing. */
  progressFrom: 20,
  /** Packets fed to the engine between two yields to the event loop (the next round's request and reply move meanwhile). */
  feedSlice: 50,
} as const;

const MAX_REQUEST_BYTES = 60 * 1024;
/**
 * What the asker reads of one reply: what an honest server sends at most (`replyBytes` of packets,
 * each framed with its 32-byte author, and the header), not the frame count times the largest
 * frame (review 44: a hostile member's 501 frames of 128 KiB were 66 MB held per reply).
 */
export const CATCHUP_REPLY_LIMITS: StreamLimits = {
  maxFrameBytes: LIMITS.dataBytes + 32,
  maxFrames: CATCHUP_BOUNDS.replyItems + 1,
  timeoutMs: 30_000,
  maxTotalBytes: CATCHUP_BOUNDS.replyBytes + 32 * CATCHUP_BOUNDS.replyItems + 64 * 1024,
};

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
const Int = z.number().int().min(0).max(2 ** 48);
const RangeSchema = z.tuple([Int, Int]).refine(([lo, hi]) => lo >= 1 && lo <= hi, 'range');

export const CatchUpRequest = z
  .object({
    v: z.literal(2),
    group: Hex(32),
    have: z.record(Hex(64), z.array(RangeSchema).max(CATCHUP_BOUNDS.summaryRanges)),
    minTek: Int,
    cursor: Int,
    epoch: Hex(16).optional(),
  })
  .strict()
  .refine((r) => Object.keys(r.have).length <= CATCHUP_BOUNDS.summaryAuthors, 'too many authors')
  .refine((r) => Object.values(r.have).reduce((n, a) => n + a.length, 0) <= CATCHUP_BOUNDS.summaryRanges, 'too many ranges');
export type CatchUpRequest = z.infer<typeof CatchUpRequest>;

export const CatchUpRefusal = z.enum(['bad-request', 'not-member', 'rate', 'busy']);
export type CatchUpRefusal = z.infer<typeof CatchUpRefusal>;
export const CatchUpHeader = z.union([
  z.object({ v: z.literal(2), ok: z.literal(true), epoch: Hex(16), next: Int, total: Int }).strict(),
  z.object({ v: z.literal(2), refused: CatchUpRefusal, retryAfterMs: Int.optional() }).strict(),
]);
export type CatchUpHeader = z.infer<typeof CatchUpHeader>;

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** A summary that fits one request frame: per author its ranges, the oldest merged away when too many (claiming less is safe: it costs re-sent packets, never a lost one). */
export function boundedSummary(summary: Record<MemberKey, Range[]>, maxRanges: number): Record<MemberKey, Range[]> {
  const authors = Object.keys(summary).slice(0, CATCHUP_BOUNDS.summaryAuthors);
  const perAuthor = Math.max(1, Math.floor(maxRanges / Math.max(1, authors.length)));
  const out: Record<MemberKey, Range[]> = {};
  for (const a of authors) {
    const r = summary[a]!;
    out[a] = r.length <= perAuthor ? r : r.slice(r.length - perAuthor);
  }
  return out;
}

/** `keys` without `self`, sorted, beginning with the first key after `self` and wrapping around. */
export function turnOrder(keys: readonly MemberKey[], self: MemberKey): MemberKey[] {
  const sorted = keys.filter((k) => k !== self).sort();
  const after = sorted.findIndex((k) => k > self);
  return after <= 0 ? sorted : [...sorted.slice(after), ...sorted.slice(0, after)];
}

/** Per-peer request and byte budget of a server (one window at a time). */
class PeerBudget {
  private readonly windows = new Map<string, { start: number; requests: number; bytes: number }>();

  take(peer: string, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    let w = this.windows.get(peer);
    if (!w || now - w.start >= CATCHUP_BOUNDS.peerWindowMs) {
      if (this.windows.size > 1024) this.windows.clear();
      w = { start: now, requests: 0, bytes: 0 };
      this.windows.set(peer, w);
    }
    if (w.requests >= CATCHUP_BOUNDS.peerRequests || w.bytes >= CATCHUP_BOUNDS.peerBytes) return { ok: false, retryAfterMs: w.start + CATCHUP_BOUNDS.peerWindowMs - now };
    w.requests++;
    return { ok: true };
  }

  spent(peer: string, bytes: number): void {
    const w = this.windows.get(peer);
    if (w) w.bytes += bytes;
  }
}

/** A reply: its header and its packets (author's member key ‖ packet), not yet fed. */
interface Reply {
  header: CatchUpHeader;
  packets: Uint8Array[];
}

interface GroupSync {
  running: boolean;
  again: boolean;
  full: boolean;
  timer: NodeJS.Timeout | null;
  backoffMs: number;
  /** Per server: its epoch and where the last session stopped. */
  cursors: Map<MemberKey, { epoch: string; next: number }>;
  /** Index of the next member in turn (`peers`), advanced by periodic sessions only. */
  nextPeer: number;
  /** A member whose connection just opened: the next session asks it, once, out of turn. */
  preferred: MemberKey | null;
  hadGaps: boolean;
  /** Sessions run since a gap was found (reset when none is left): the first ones go to the gaps' authors and every member in turn without waiting. */
  gapTries: number;
  /** Ends the round in flight (its request answered null), and when it started. */
  cancel: (() => void) | null;
  roundAt: number;
  /** The periodic session's current spacing (`idlePeriodAfter`), and when (performance.now()) the last answered session ended with how many messages kept. */
  idlePeriodMs: number;
  lastSessionAt: number;
  keptAtSession: number;
}

/**
 * The spacing of periodic sessions after one that a member answered ends without a gap:
 * `periodMs` again when it brought something or this member kept a message since the session
 * before (a group that talks may lose a message with nothing after it to show it), else twice
 * the last spacing, at most `idlePeriodMaxMs`. A quiet member so reconciles every 20 s, not
 * every 5 s (each session is a stream, a summary and a reply at both ends: about 0.2 % of a
 * core per idle peer of ten). The price: a message lost with nothing after it to reveal it (no
 * later message of its author, no receipt of a third member: a two-member group, say) comes
 * back within about 26 s of a quiet stretch instead of about 6 s.
 */
export function idlePeriodAfter(lastPeriodMs: number, broughtOrGrew: boolean): number {
  if (broughtOrGrew) return CATCHUP_BOUNDS.periodMs;
  return Math.min(2 * lastPeriodMs, CATCHUP_BOUNDS.idlePeriodMaxMs);
}

/**
 * When the next session follows one that ended with a gap still open, and the backoff after it.
 * Until every connected member (`peers`) has been asked once, at once (`gapNextMs`); then after the
 * backoff, which doubles up to `backoffMaxMs`. A gap found or keys come while the session ran
 * (`again`) is news: the next session follows at once and the backoff starts over. Before, that
 * news waited out the backoff: a gap nothing could fill (an excluded author's numbers, named by a
 * fellow member's receipt) had raised it to 8–16 s, and the last 82 messages of a member restarted
 * during a burst reached a fellow member 14 s after the burst (the chaos test's deadline is 10 s).
 */
export function afterGapSession(s: { gapTries: number; backoffMs: number; again: boolean }, peers: number): { delayMs: number; backoffMs: number } {
  if (s.again) return { delayMs: CATCHUP_BOUNDS.gapNextMs, backoffMs: CATCHUP_BOUNDS.backoffMinMs };
  if (s.gapTries <= peers) return { delayMs: CATCHUP_BOUNDS.gapNextMs, backoffMs: s.backoffMs };
  return { delayMs: s.backoffMs, backoffMs: Math.min(s.backoffMs * 2, CATCHUP_BOUNDS.backoffMaxMs) };
}

/** A periodic tick runs a session when a message was kept since the last one, or the spacing has passed (times from performance.now(): a wall-clock step cannot stall it). */
/** What `session` returns when no member answered it. */
const NOT_ANSWERED = -1;

export function periodicDue(s: { idlePeriodMs: number; lastSessionAt: number; keptAtSession: number }, keptNow: number, now: number): boolean {
  return keptNow !== s.keptAtSession || now - s.lastSessionAt >= s.idlePeriodMs;
}

export class CatchUp {
  private readonly budget = new PeerBudget();
  private serving = 0;
  private readonly epoch = randomBytes(8).toString('hex');
  private readonly syncs = new Map<string, GroupSync>();

  constructor(private readonly ctx: PeerContext) {}

  /** Serves `/conclave/catchup` from the groups' kept traffic. */
  async serve(): Promise<void> {
    await serve(this.ctx.node, PROTOCOL_CATCHUP, { ...CATCHUP_REQUEST_LIMITS, maxFrameBytes: MAX_REQUEST_BYTES }, (remote, frames) => {
      const from = memberKeyOfPeer(remote);
      const refuse = (refused: CatchUpRefusal, retryAfterMs?: number): Uint8Array[] => [encodeJson(retryAfterMs === undefined ? { v: 2, refused } : { v: 2, refused, retryAfterMs })];
      const parsed = CatchUpRequest.safeParse(parseJsonFrame(frames[0]));
      if (!from || !parsed.success) return refuse('bad-request');
      const req = parsed.data;
      const rt = this.ctx.groups.get(req.group);
      if (!rt || !isCurrentMember(rt, from)) return refuse('not-member'); // only current members are served (issue 5 §7)
      const allowed = this.budget.take(from, Date.now());
      if (!allowed.ok) return refuse('rate', Math.max(0, allowed.retryAfterMs));
      if (this.serving >= CATCHUP_BOUNDS.concurrent) return refuse('busy', 500);
      this.serving++;
      try {
        const cursor = req.epoch === this.epoch ? req.cursor : 0;
        const sel = rt.trafficLog.select(req.have, req.minTek, cursor, CATCHUP_BOUNDS.replyItems, CATCHUP_BOUNDS.replyBytes, from);
        const out = [encodeJson({ v: 2, ok: true, epoch: this.epoch, next: sel.next, total: sel.total })];
        let bytes = 0;
        for (const item of sel.items) {
          const frame = new Uint8Array(32 + item.bytes.length);
          frame.set(hexToBytes(item.from), 0);
          frame.set(item.bytes, 32);
          out.push(frame);
          bytes += frame.length;
        }
        this.budget.spent(from, bytes);
        return out;
      } finally {
        this.serving--;
      }
    });
  }

  /** This member was just admitted: reconcile now, from the start. */
  onMember(rt: GroupRuntime): void {
    this.sync(rt, true);
  }

  /** A connection to member `from` opened (mesh): reconcile with it first. */
  ask(rt: GroupRuntime, from: MemberKey): Promise<void> {
    const s = this.stateOf(rt);
    // Out of turn, and the turn order kept: moved to the index of the member that had just
    // connected, every member's turn went on from the same few members (the newest ones).
    s.preferred = from;
    // A round waiting over a connection that died in a partition would hold the session
    // until its request times out (30 s): a new connection ends it, and the next session
    // starts with this member.
    if (s.running && s.cancel && Date.now() - s.roundAt > CATCHUP_BOUNDS.supersedeAfterMs) s.cancel();
    this.sync(rt, false);
    return Promise.resolve();
  }

  /** Stops every retry timer (the peer is stopping). */
  stop(): void {
    for (const s of this.syncs.values()) if (s.timer) clearTimeout(s.timer);
  }

  private stateOf(rt: GroupRuntime): GroupSync {
    let s = this.syncs.get(rt.group);
    if (!s) {
      s = { running: false, again: false, full: true, timer: null, backoffMs: CATCHUP_BOUNDS.backoffMinMs, cursors: new Map(), nextPeer: 0, preferred: null, hadGaps: false, gapTries: 0, cancel: null, roundAt: 0, idlePeriodMs: CATCHUP_BOUNDS.periodMs, lastSessionAt: -Infinity, keptAtSession: -1 };
      this.syncs.set(rt.group, s);
      rt.onSyncNeeded = (reason) => this.sync(rt, reason === 'gap' || reason === 'keys');
      this.periodic(rt, s);
    }
    return s;
  }

  /**
   * The connected fellow members, in the order sessions take them: by member key,
   * starting after this member's own (`turnOrder`). Every member sorts the same
   * roster the same way, so members whose sessions run in step (a key change starts
   * one at every member at once; periods are alike) each ask a different member
   * instead of all asking the same one.
   */
  private peers(rt: GroupRuntime): MemberKey[] {
    const keys = rt.engine
      .members()
      .filter((m) => m.state === 'member' && (m.key === this.ctx.selfKey || isConnected(this.ctx.node, m.key)))
      .map((m) => m.key);
    return turnOrder(keys, this.ctx.selfKey);
  }

  /** Starts a session now (or marks one to follow the running one); `full`: from every server's start. */
  private sync(rt: GroupRuntime, full: boolean): void {
    const s = this.stateOf(rt);
    s.full ||= full;
    if (s.running) {
      s.again = true;
      return;
    }
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.running = true;
    void this.session(rt, s)
      .catch((err: unknown) => {
        this.ctx.log(`group ${rt.group.slice(0, 8)}: catch-up session failed: ${err instanceof Error ? err.name : 'error'}`);
        return NOT_ANSWERED;
      })
      .then((brought) => {
        s.running = false;
        if (this.ctx.stopped() || this.ctx.groups.get(rt.group) !== rt) return;
        const gaps = rt.held.gaps();
        const missing = gaps.reduce((n, g) => n + SeqRanges.count(g.missing), 0);
        if (missing > 0) {
          if (!s.hadGaps) rt.noteSync(Date.now(), `gap open: ${missing} message(s) of ${gaps.length} author(s) missing`);
          s.hadGaps = true;
          s.full = true;
          s.gapTries++;
          const next = afterGapSession(s, this.peers(rt).length);
          s.again = false;
          s.backoffMs = next.backoffMs;
          return this.later(rt, s, next.delayMs);
        }
        if (s.hadGaps) rt.noteSync(Date.now(), 'gaps closed: nothing missing');
        s.hadGaps = false;
        s.gapTries = 0;
        s.backoffMs = CATCHUP_BOUNDS.backoffMinMs;
        // A session no member answered (refused, unreachable, no one connected) says nothing of idleness.
        if (brought !== NOT_ANSWERED) {
          const kept = rt.held.keptCount();
          s.idlePeriodMs = idlePeriodAfter(s.idlePeriodMs, brought > 0 || kept !== s.keptAtSession);
          s.keptAtSession = kept;
          s.lastSessionAt = performance.now();
        }
        if (s.again) {
          s.again = false;
          this.later(rt, s, 200);
        } else this.periodic(rt, s);
      });
  }

  /** The periodic tick, every `periodMs` ± 20 %: a session when `periodicDue`, else the next tick. */
  private periodic(rt: GroupRuntime, s: GroupSync): void {
    this.later(rt, s, CATCHUP_BOUNDS.periodMs * (0.8 + Math.random() * 0.4), true);
  }

  private later(rt: GroupRuntime, s: GroupSync, ms: number, periodic = false): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = null;
      if (this.ctx.stopped() || this.ctx.groups.get(rt.group) !== rt) return;
      if (periodic && !periodicDue(s, rt.held.keptCount(), performance.now())) this.periodic(rt, s);
      else this.sync(rt, false);
    }, ms);
    s.timer.unref?.();
  }

  /**
   * The member a session asks: while a gap is open, every other try goes to a
   * connected author of missing messages (an author holds what it sent), the
   * others to every member in turn; otherwise a member whose connection just
   * opened (`ask`), once, or else the next member in turn.
   */
  private pickPeer(rt: GroupRuntime, s: GroupSync, peers: MemberKey[]): MemberKey {
    if (s.hadGaps && s.gapTries % 2 === 1) {
      const authors = rt.held.gaps().map((g) => g.author).filter((a) => peers.includes(a));
      if (authors.length > 0) return authors[Math.floor(s.gapTries / 2) % authors.length]!;
    }
    const preferred = s.preferred;
    s.preferred = null;
    if (preferred && peers.includes(preferred)) return preferred;
    const peer = peers[s.nextPeer % peers.length]!;
    s.nextPeer = (s.nextPeer + 1) % Math.max(1, peers.length);
    return peer;
  }

  /** One session: rounds against one connected member until it has nothing more (bounded); how many packets it brought, or NOT_ANSWERED. */
  private async session(rt: GroupRuntime, s: GroupSync): Promise<number> {
    if (rt.engine.state() !== 'member') return NOT_ANSWERED;
    const peers = this.peers(rt);
    if (peers.length === 0) return NOT_ANSWERED;
    const peer = this.pickPeer(rt, s, peers);
    const full = s.full;
    s.full = false;
    const known = full ? undefined : s.cursors.get(peer);
    let received = 0;
    let total = 0;
    let answered = false;
    try {
      answered = await this.rounds(rt, s, peer, known, (count, all) => {
        if (total === 0) total = all;
        received += count;
        if (total >= CATCHUP_BOUNDS.progressFrom) this.ctx.emit('chat.catchUp', { group: rt.group, received: Math.min(received, total), total, done: false });
      });
    } finally {
      if (total >= CATCHUP_BOUNDS.progressFrom) this.ctx.emit('chat.catchUp', { group: rt.group, received: Math.min(received, total), total, done: true });
    }
    return answered ? received : NOT_ANSWERED;
  }

  /**
   * Rounds against `peer` until it has nothing more (at most `sessionRounds`).
   * Pipelined: the next round is asked for (from the cursor the last reply gave)
   * before the last reply is fed to the engine, and feeding yields to the event
   * loop every `feedSlice` packets, so the server prepares the next reply while
   * this member opens the last one. The next round's summary is taken before the
   * last reply is fed: it may claim too little, which costs re-sent packets
   * (dropped as duplicates), never a lost one.
   */
  private async rounds(rt: GroupRuntime, s: GroupSync, peer: MemberKey, known: { epoch: string; next: number } | undefined, progress: (count: number, total: number) => void): Promise<boolean> {
    let answered = false;
    let pending: Promise<Reply | null> | null = this.fetch(rt, s, peer, known);
    for (let round = 0; pending && !this.ctx.stopped(); round++) {
      const reply: Reply | null = await pending;
      pending = null;
      if (!reply) return answered;
      const { header, packets } = reply;
      if ('refused' in header) {
        this.ctx.log(`group ${rt.group.slice(0, 8)}: catch-up refused by ${peer.slice(0, 12)}: ${header.refused}`);
        return answered;
      }
      answered = true;
      known = { epoch: header.epoch, next: header.next };
      s.cursors.set(peer, known);
      const more = packets.length > 0 && packets.length < header.total && round + 1 < CATCHUP_BOUNDS.sessionRounds;
      if (more) pending = this.fetch(rt, s, peer, known);
      await this.feed(rt, peer, packets);
      progress(packets.length, header.total);
    }
    return answered;
  }

  /** One request; its reply's header and packets (not yet fed), or null (unreachable, timed out, superseded, malformed). */
  private async fetch(rt: GroupRuntime, s: GroupSync, peer: MemberKey, known: { epoch: string; next: number } | undefined): Promise<Reply | null> {
    const pid = peerOfMemberKey(peer);
    if (!pid) return null;
    const req: CatchUpRequest = { v: 2, group: rt.group, have: boundedSummary(rt.held.summary(), 1500), minTek: rt.held.readableFrom(), cursor: known?.next ?? 0, ...(known ? { epoch: known.epoch } : {}) };
    const superseded = new Promise<null>((resolve) => (s.cancel = () => resolve(null)));
    s.roundAt = Date.now();
    const frames = await Promise.race([request(this.ctx.node, pid, PROTOCOL_CATCHUP, encodeJson(req), CATCHUP_REPLY_LIMITS), superseded]);
    s.cancel = null;
    if (!frames || frames.length === 0 || this.ctx.stopped()) return null;
    const header = CatchUpHeader.safeParse(parseJsonFrame(frames[0]));
    if (!header.success) {
      this.ctx.log(`group ${rt.group.slice(0, 8)}: malformed catch-up reply from ${peer.slice(0, 12)}`);
      return null;
    }
    return { header: header.data, packets: frames.slice(1).filter((f) => f.length > 32) };
  }

  /** Feeds `server`'s reply's packets to the engine as if they had arrived on the data topic, yielding every `feedSlice`. */
  private async feed(rt: GroupRuntime, server: MemberKey, packets: Uint8Array[]): Promise<void> {
    for (let i = 0; i < packets.length; i++) {
      if (i > 0 && i % CATCHUP_BOUNDS.feedSlice === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.ctx.stopped() || this.ctx.groups.get(rt.group) !== rt) return;
      const frame = packets[i]!;
      const sender = bytesToHex(frame.subarray(0, 32));
      if (sender === this.ctx.selfKey && rt.trafficKept() === 0) continue;
      try {
        rt.receive(sender, 'data', frame.slice(32), server);
      } catch (err) {
        this.ctx.log(`engine threw on catch-up input: ${err instanceof Error ? err.name : 'error'}`);
      }
    }
  }
}
