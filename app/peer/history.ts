/**
 * @module peer/history
 * What one group shows its user: the chat messages and whiteboard strokes this
 * member received or sent, kept in the group's append-only history log
 * (`profile.append(group, 'history', …)`, sealed and fsynced), and
 * the views built from them (chat history, the board, the unread count), plus
 * what reconciliation needs (issue 19): per author, the sequence numbers held,
 * those its author declared unused (`skip`), and this member's own numbering.
 *
 * Records: `msg` (a signed message as received, payload.ts, with its arrival
 * time and the name shown), `held` (own message `s` waits behind a key turn not
 * yet saved, peer/unsaved-hold.ts, with the other members then: `for`), `sent`
 * (that held message was published), `seq` (this member reserved its own numbers up to
 * `upTo`; `exact`: and used exactly those, written at a clean stop), `joined`
 * (the TEK version under which this member first became one); `chat` and
 * `stroke` are the unsigned records of older profiles, still shown. Replies,
 * reactions, edits and deletes (issue 18 §2) are signed messages too; their
 * effect on the chat is kept by `chat-annotations.ts` and composed into every
 * message shown (`chat.message`, `chat.history`), changes as `chat.update`.
 *
 * Invariants:
 * - A message is kept once: by (author, sequence number) and by (sender, ID), so
 *   live delivery, re-delivery, reconciliation and a re-shared board never show
 *   it twice; a second, different message under a held (author, number) is an
 *   equivocation and is not kept (the caller reports it).
 * - A message is appended to the log at once; its event reaches clients, and
 *   `chatHistory` (a stroke or shape: `board`, `boardEntries`, and the board
 *   re-shared to a newcomer, `boardStrokes`) lists it, only once the record is fsynced (`profile.appendDurable`: group commit, one fsync
 *   shared by the messages kept together, run off the event loop): a message
 *   counts as delivered only once it is on disk. `durable()` resolves when every
 *   message kept so far is; a failed fsync shows nothing and is logged, and its
 *   number stops being held (not claimed, a gap: reconciliation brings a copy, which
 *   is written again; `unsaved`). Indexes
 *   (duplicates, numbers held) change at once, so a copy arriving meanwhile is a
 *   duplicate. An edit, delete or reaction changes what is shown (`chat.history`,
 *   `message`, a deleted file's chunks) only once on disk too: one a kill -9 loses
 *   was never shown, and reconciliation brings it back (its number is not held
 *   after the restart). Its not-author verdict is given at once.
 * - An own message with a `held` record and no `sent` record after it was never
 *   published as far as the disk knows (the hold lives in memory: a stop before
 *   the state could be saved lost it, review 38): `unpublishedOwn` lists it
 *   after a restart, and group.ts publishes it again. A `sent` record lost to a
 *   crash only makes it published twice, and the second copy is a duplicate.
 *   Marked when the hold takes it, not when it is written: a payload the engine
 *   held first (a TEK not yet covering the blocklist) reaches the hold later
 *   (review 41); one the engine holds is marked when the engine takes it
 *   (group.ts `sendPayload`: that hold is in memory only).
 * - Own numbers are reserved on disk before use (`SEQ_RESERVE` at a time), so a
 *   kill -9 never makes this member sign two messages under one number; after
 *   one, the numbers reserved but maybe unused are declared in `skip`.
 * - The board is a pure function of its entries (app/api/board-model.ts, the
 *   model the UI uses too): order-independent.
 * - A chat or file message is listed at its shown time (`shownTime`): its signed
 *   time, never earlier than the caller's `notBefore` (arrival, admission) nor
 *   than its author's previous number held here; decided once when kept and
 *   written with it (`shownAt`), so a restart lists it alike (docs/protocol.md
 *   §13 "Message times").
 */
import type { BoardEntry, BoardStroke, ChatMessage, Delivery } from '../api/contract.js';
import type { EventSink } from '../api/handler.js';
import type { MemberKey } from '../core/types.js';
import type { Profile } from '../store/profile.js';
import { boardSupport } from '../api/board-model.js';
import { boardState } from './board.js';
import { ownsItsId, parseBody, SignedMessage, type ChatAction, type FileBody, type ReceivedBody } from './payload.js';
import { fileHandle } from './files-chunks.js';
import { SeqRanges, type Range } from './seq-ranges.js';
import { ChatAnnotations } from './chat-annotations.js';
import { DeliveryLedger, ReceiptReporter, type ReceiptEntry } from './receipts.js';
import { shownText, unnamedLabel } from './names.js';
import { CLOCK_SKEW_MS } from './message-times.js';

const SEQ_RESERVE = 64;
/** How long a receipt's hint of missing messages stays a gap, how far past the last held it reaches, and for how many authors at once. */
const HINT_MS = 30_000;
const HINT_AHEAD = 10_000;
const HINT_AUTHORS = 256;

/** The index of the greatest element of ascending `xs` below `x` (−1: none). */
function lowerIndex(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

type HistoryRecord =
  | { kind: 'chat'; message: ChatMessage }
  | { kind: 'stroke'; id?: string; stroke: BoardStroke }
  | { kind: 'msg'; m: SignedMessage; sender: string; name: string; receivedAt: number; to?: MemberKey[]; shared?: true; shownAt?: number }
  | { kind: 'held'; s: number; for: MemberKey[] }
  | { kind: 'sent'; s: number }
  | { kind: 'dlv'; by: MemberKey; lo: number; hi: number }
  | { kind: 'seq'; upTo: number; exact?: boolean }
  | { kind: 'joined'; tek: number };

function parseHistory(value: unknown): HistoryRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { kind?: unknown; m?: unknown; upTo?: unknown; tek?: unknown };
  if (v.kind === 'chat' || v.kind === 'stroke') return value as HistoryRecord;
  if (v.kind === 'msg') return SignedMessage.safeParse(v.m).success && ((value as { shownAt?: unknown }).shownAt === undefined || Number.isSafeInteger((value as { shownAt?: unknown }).shownAt)) ? (value as HistoryRecord) : null;
  if (v.kind === 'seq') return Number.isSafeInteger(v.upTo) ? (value as HistoryRecord) : null;
  if (v.kind === 'joined') return Number.isSafeInteger(v.tek) ? (value as HistoryRecord) : null;
  if (v.kind === 'sent') return Number.isSafeInteger((value as { s?: unknown }).s) ? (value as HistoryRecord) : null;
  if (v.kind === 'held') {
    const h = value as { s?: unknown; for?: unknown };
    return Number.isSafeInteger(h.s) && Array.isArray(h.for) && h.for.every((k) => typeof k === 'string') ? (value as HistoryRecord) : null;
  }
  if (v.kind === 'dlv') {
    const d = value as { by?: unknown; lo?: unknown; hi?: unknown };
    return typeof d.by === 'string' && Number.isSafeInteger(d.lo) && Number.isSafeInteger(d.hi) ? (value as HistoryRecord) : null;
  }
  return null;
}

/**
 * A file message as held: `body.fid` is its handle (author + file ID); `chunkFid` the file ID
 * its author signed; `signed` the message as signed (re-shared with a newcomer as is);
 * `deleted` (from `files()`): its author deleted it, so its chunks go too.
 */
export interface HeldFile {
  body: FileBody;
  author: MemberKey;
  chunkFid: string;
  sender: string;
  signed: SignedMessage;
  deleted?: boolean;
}

/** A board entry as kept: with the message ID that carried it and, when signed, the signed message (re-shared as is). */
export type KeptStroke = BoardEntry & { mid: string; signed?: SignedMessage };

/** An own message kept behind an unsaved key turn, and the other members that were members when it was written. */
export interface HeldOwn {
  m: SignedMessage;
  writtenFor: MemberKey[];
}

/** `not-author`: an edit or delete of a message held under another author (held for numbering, no effect). */
export type KeepResult = 'kept' | 'duplicate' | 'equivocation' | 'not-author';

/** What `index` did with a message; an `action` (edit, delete, reaction) takes effect only once on disk (`applyAction`). */
type Indexed =
  | { kind: 'chat'; message: ChatMessage; displaced?: string | undefined }
  | { kind: 'stroke'; entry: BoardEntry; stroke?: BoardStroke }
  | { kind: 'action'; sender: string; s: number; at: number; body: ChatAction; notAuthor: boolean }
  | { kind: 'none' };

/** A kept message's record, and what it shows once on disk; `listKey`: its key in `chat` or `strokes` (listed once on disk). */
interface Unsaved {
  record: HistoryRecord;
  shown: Indexed;
  listKey: string | null;
}

export class GroupHistory {
  /** (sender, message ID) → message. */
  private readonly chat = new Map<string, ChatMessage>();
  /** Replies, reactions, edits and deletes over `chat` (chat-annotations.ts). */
  private readonly notes = new ChatAnnotations((key) => this.chat.get(key));
  /** (sender, message ID) → stroke or object version. */
  private readonly strokes = new Map<string, KeptStroke>();
  /** (author, sequence number) → signature of the message held under it. */
  private readonly bySeq = new Map<string, string>();
  private readonly held = new Map<MemberKey, SeqRanges>();
  private readonly skipped = new Map<MemberKey, SeqRanges>();
  /**
   * Per author, the highest number a fellow member's receipt says it holds on disk,
   * beyond the last held here (`hint`): a gap no later message may ever show (the
   * last messages before an author's crash or a partition). Until `until`.
   */
  private readonly hints = new Map<MemberKey, { hi: number; until: number }>();
  /**
   * Per author, its lowest number held that was signed under a TEK this member can
   * read (≥ `readableFrom`) and did not come in a re-share (a join steps the TEK's
   * revision, not its version, so a re-shared message under the version this member
   * joined at may still be from before its admission). Numbers below it are from
   * before this member's admission: never a gap to close.
   */
  private readonly readableMin = new Map<MemberKey, number>();
  private reservedUpTo = 0;
  private nextOwn = 1;
  private skipNext: [number, number] | undefined;
  private joinedTekVersion: number | null = null;
  /**
   * File messages (issue 18 §1) by handle (files-chunks.ts `fileHandle`: author + file
   * ID), for files.ts: the body with its content key, its `fid` set to the handle, and
   * the file ID its author signed (`chunkFid`: the chunks' nonces).
   */
  private readonly fileBodies = new Map<string, HeldFile>();
  /** Set by files.ts: a file message was kept (live, caught up or replayed); `body.fid` is its handle. */
  onFile: ((file: FileBody, author: MemberKey, chunkFid: string) => void) | null = null;
  /**
   * Per author, by number: messages indexed whose record's fsync failed. Not held (neither
   * claimed nor shown; a gap), yet a copy is no equivocation: `keep` writes it again.
   */
  private readonly unsaved = new Map<MemberKey, Map<number, Unsaved>>();
  /** Chat and board keys (sender, message ID) whose record is written but not yet fsynced: not listed (nor re-shared) until it is. */
  private readonly notYetDurable = new Set<string>();
  /** Set by files.ts: file `handle`'s author deleted its message (a tombstone): its chunks go. */
  onFileDeleted: ((handle: string) => void) | null = null;
  /** The last message record's fsync (group commit resolves in append order). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** What is on disk here, per author, for this member's receipts (receipts.ts). */
  readonly reporter: ReceiptReporter;
  /** Who holds this member's own chat and file messages (receipts.ts). */
  private readonly ledger = new DeliveryLedger();
  private keptTotal = 0;
  /** `sender:target` → the author's signed delete of its message `target` (a file's is re-shared with newcomers). */
  private readonly deletesSigned = new Map<string, SignedMessage>();
  /** Keys (`sender:target`) of deletes that came in a file re-share: passed on even when the file never came here. */
  private readonly deletesShared = new Set<string>();
  /** Own chat and file messages: number → chat key, and message ID → number. */
  private readonly ownBySeq = new Map<number, string>();
  private readonly ownSeqOf = new Map<string, number>();
  /** Own messages read back held and not published, by number, with whom they were written for (`unpublishedOwn`). */
  private readonly unpublished = new Map<number, HeldOwn>();
  /** Own numbers marked held in this run and not yet published (`markHeld`, `published`). */
  private readonly heldNow = new Set<number>();
  /**
   * Per author, the times its chat and file messages are shown at, by number (numbers ascending):
   * a later number is never shown before an earlier one (`shownTime`).
   */
  private readonly shownTimes = new Map<MemberKey, { seqs: number[]; times: number[] }>();
  /** Set by group.ts: a message became durable here (a receipt is due). */
  onDurable: (() => void) | null = null;
  /** Set by group.ts: `author`'s messages are refused here whoever carries them (blocked: excluded), so its missing numbers are no gap. */
  unfillable: (author: MemberKey) => boolean = () => false;
  /** Set by group.ts: `key` is a current member (a recipient gone since counts only if it confirmed). */
  isMember: (key: MemberKey) => boolean = () => true;

  constructor(
    private readonly profile: Profile,
    private readonly group: string,
    private readonly self: MemberKey,
    private readonly events: EventSink,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    const history = profile.read(group, 'history', parseHistory);
    let lastSeq = null as { upTo: number; exact?: boolean } | null;
    const ownSigned = new Map<number, SignedMessage>();
    const heldRead = new Map<number, MemberKey[]>();
    const confirmations: { by: MemberKey; lo: number; hi: number }[] = [];
    for (const r of history.records) {
      if (r.kind === 'chat') {
        this.chat.set(`${r.message.sender}:${r.message.id}`, r.message);
        this.notes.chat(r.message.sender, r.message.id, undefined, false);
      }
      else if (r.kind === 'stroke') {
        const id = r.id ?? r.stroke.stroke.id;
        this.strokes.set(`${r.stroke.sender}:${id}`, { group: r.stroke.group, sender: r.stroke.sender, sentAt: r.stroke.sentAt, stroke: r.stroke.stroke, mid: id });
      } else if (r.kind === 'msg') {
        if (r.m.a === self) ownSigned.set(r.m.s, r.m);
        if (this.bySeq.has(`${r.m.a}:${r.m.s}`)) continue; // written again after a failed fsync: one message
        const indexed = this.index(r.m, r.sender, r.name, r.receivedAt, r.to, r.shared === true, undefined, r.shownAt ?? r.m.at);
        if (indexed?.kind === 'action') this.applyAction(indexed); // read back from disk: durable
      }
      else if (r.kind === 'dlv') confirmations.push(r);
      else if (r.kind === 'seq') lastSeq = r; // reservations only grow; an exact one is the last before a clean stop
      else if (r.kind === 'held') heldRead.set(r.s, r.for);
      else if (r.kind === 'sent') heldRead.delete(r.s);
      else this.joinedTekVersion ??= r.tek;
    }
    for (const [s, writtenFor] of heldRead) {
      const m = ownSigned.get(s);
      if (m) this.unpublished.set(s, { m, writtenFor });
    }
    const usedUpTo = this.held.get(self)?.max ?? 0;
    this.reservedUpTo = Math.max(lastSeq?.upTo ?? 0, usedUpTo);
    this.nextOwn = this.reservedUpTo + 1;
    // After a crash, numbers reserved beyond the last one on disk may or may not have gone out.
    if (lastSeq && !lastSeq.exact && lastSeq.upTo > usedUpTo) this.skipNext = [usedUpTo + 1, lastSeq.upTo];
    // Everything read back is on disk: known to the reporter, not new.
    this.reporter = new ReceiptReporter(self);
    for (const [author, held] of this.held) {
      const covered = SeqRanges.of(held.list());
      for (const r of this.skipped.get(author)?.list() ?? []) covered.addRange(r[0], r[1]);
      this.reporter.seed(author, covered);
    }
    for (const c of confirmations) this.ledger.confirm(c.by, c.lo, c.hi);
  }

  /** Sequence number (and skip declaration) for this member's next message; reserves on disk first. */
  takeOwnSeq(): { s: number; skip?: [number, number] } {
    const s = this.nextOwn;
    if (s > this.reservedUpTo) {
      // Written before anything changes here: a reservation that fails (disk full) takes no number (review 32's fourth pass).
      const upTo = s + SEQ_RESERVE - 1;
      this.profile.append(this.group, 'history', { kind: 'seq', upTo });
      this.reservedUpTo = upTo;
    }
    this.nextOwn++;
    const skip = this.skipNext;
    this.skipNext = undefined;
    return skip ? { s, skip } : { s };
  }

  /** A number taken that will never be sent (its message failed before it left): the next message declares it skipped. */
  unsentOwnSeq(taken: { s: number; skip?: [number, number] }): void {
    const lo = Math.min(taken.skip?.[0] ?? taken.s, this.skipNext?.[0] ?? taken.s);
    this.skipNext = [lo, Math.max(taken.s, this.skipNext?.[1] ?? taken.s)];
  }

  /** Own messages kept `held` that were never published (read back after a restart), in number order. */
  unpublishedOwn(): HeldOwn[] {
    return [...this.unpublished.values()].sort((x, y) => x.m.s - y.m.s);
  }

  /**
   * Own message `s` waits behind a key turn not yet saved (unsaved-hold.ts), written for `writtenFor`
   * (the other members then): the disk learns it, so that a restart publishes it again. Fsynced
   * now, as its message's record was (review 42: written only, a machine crash could lose the mark);
   * held messages are rare (a disk too full to save the state).
   */
  markHeld(s: number, writtenFor: MemberKey[]): void {
    if (this.heldNow.has(s) || this.unpublished.has(s)) return;
    try {
      this.profile.append(this.group, 'history', { kind: 'held', s, for: writtenFor });
      this.heldNow.add(s);
    } catch (err) {
      this.log(`group ${this.group.slice(0, 8)}: own message ${s} held, not noted (${err instanceof Error ? err.name : 'error'})`);
    }
  }

  /** Own message `s` was published under a saved key: if it was marked held, the disk learns it (not fsynced: lost, it is only published twice). */
  published(s: number): void {
    if (!this.heldNow.delete(s) && !this.unpublished.delete(s)) return;
    this.unpublished.delete(s);
    try {
      this.profile.append(this.group, 'history', { kind: 'sent', s }, false);
    } catch (err) {
      this.log(`group ${this.group.slice(0, 8)}: own message ${s} published, not noted (${err instanceof Error ? err.name : 'error'})`);
    }
  }

  /** At a clean stop: every reserved number beyond the last used is free again. */
  releaseOwnSeqs(): void {
    const used = this.nextOwn - 1;
    if (used < this.reservedUpTo && this.skipNext === undefined) {
      this.profile.append(this.group, 'history', { kind: 'seq', upTo: used, exact: true });
      this.reservedUpTo = used;
    }
  }

  /** The TEK version under which this member first became one (recorded once). */
  joinedTek(version: number): void {
    if (this.joinedTekVersion !== null) return;
    this.joinedTekVersion = version;
    this.profile.append(this.group, 'history', { kind: 'joined', tek: version });
  }

  /** The lowest TEK version this member can read: what it asks reconciliation for. */
  readableFrom(): number {
    return this.joinedTekVersion ?? 0;
  }

  /**
   * Keeps a verified signed message; tells clients once it is fsynced (`durable`). `to`: for an own
   * message, the members it was sent to; `shared`: it came in a board or file re-share (never where
   * its author's readable numbers start, `readableMin`); `notBefore`: the earliest time the caller
   * knows it can have been sent (message-times.ts `earliestSendTime`), which `shownTime` applies.
   */
  keep(m: SignedMessage, sender: string, name: string, receivedAt: number, to?: MemberKey[], shared = false, notBefore = -Infinity): KeepResult {
    const prior = this.bySeq.get(`${m.a}:${m.s}`);
    if (prior !== undefined) {
      if (prior !== m.sig) return 'equivocation';
      // A copy of one whose record did not reach disk (reconciliation brought it back): written again.
      const lost = this.unsaved.get(m.a)?.get(m.s);
      if (!lost) return 'duplicate';
      // Written first: a write that throws leaves it waiting for another copy (review 32's fourth pass).
      const written = this.profile.appendDurable(this.group, 'history', lost.record);
      this.unsaved.get(m.a)!.delete(m.s);
      this.held.get(m.a)!.add(m.s);
      this.write(m, lost, written);
      return 'kept';
    }
    if (this.chat.has(`${sender}:${m.id}`) || this.strokes.has(`${sender}:${m.id}`) || this.notes.hasAction(sender, m.id)) {
      // Another number of this author under an ID already held: only an author reusing its own ID
      // makes one. Nothing of it is shown, but its number is held (in memory), or it would stay a
      // gap that every copy fetched leaves open (review 32: catch-up ran full sessions against it
      // for good, and members kept serving the copies).
      this.holdNumber(m);
      return 'duplicate';
    }
    const body = parseBody(m.b);
    if (!body) {
      this.index(m, sender, name, receivedAt, to, shared, null); // its number is held; nothing shown or written
      return 'duplicate';
    }
    const shownAt = body.t === 'chat' || body.t === 'file' ? this.shownTime(m, notBefore, receivedAt) : m.at;
    const record: HistoryRecord = { kind: 'msg', m, sender, name, receivedAt, ...(to ? { to } : {}), ...(shared ? { shared: true } : {}), ...(shownAt !== m.at ? { shownAt } : {}) };
    // Written before it is indexed: a write that throws (disk full) leaves nothing listed and its
    // number not held (review 32's third pass: an own message whose write failed was listed as
    // sent, never published, and gone at the restart).
    const written = this.profile.appendDurable(this.group, 'history', record);
    const shown = this.index(m, sender, name, receivedAt, to, shared, body, shownAt)!;
    this.write(m, { record, shown, listKey: shown.kind === 'chat' || shown.kind === 'stroke' ? `${sender}:${m.id}` : null }, written);
    return shown.kind === 'action' && shown.notAuthor ? 'not-author' : 'kept';
  }

  /**
   * Appends a kept message's record; once fsynced, it reaches clients. If the fsync fails,
   * its number is no longer held (not claimed in the summary, a gap), so reconciliation
   * brings a copy, which `keep` writes again.
   */
  private write(m: SignedMessage, w: Unsaved, written = this.profile.appendDurable(this.group, 'history', w.record)): void {
    this.keptTotal++;
    this.lastWrite = written;
    if (w.listKey) this.notYetDurable.add(w.listKey);
    written.then(
      () => {
        if (w.listKey) this.notYetDurable.delete(w.listKey);
        this.reporter.durable(m.a, m.s, m.skip);
        this.show(w.shown);
        this.onDurable?.();
      },
      (err: unknown) => {
        this.held.get(m.a)?.remove(m.s);
        let lost = this.unsaved.get(m.a);
        if (!lost) this.unsaved.set(m.a, (lost = new Map()));
        lost.set(m.s, w);
        this.log(`group ${this.group.slice(0, 8)}: message ${m.id.slice(0, 8)} not kept (fsync failed: ${err instanceof Error ? err.message : 'error'}); not shown, asked for again`);
      },
    );
  }

  /** How many messages were kept since the peer started (catch-up's idle spacing watches it grow). */
  keptCount(): number {
    return this.keptTotal;
  }

  /** Resolves once every message kept so far is on disk (rejects if its fsync failed). */
  durable(): Promise<void> {
    return this.lastWrite;
  }

  /** A kept message, now on disk, reaches clients (with the messages it changes). */
  private show(shown: Indexed): void {
    if (shown.kind === 'chat') this.events.emit('chat.message', this.view(shown.message));
    else if (shown.kind === 'stroke') {
      if (shown.stroke) this.events.emit('board.stroke', shown.stroke);
      this.events.emit('board.entry', shown.entry);
    }
    if (shown.kind === 'chat' || shown.kind === 'action') {
      // Messages shown before that this one changes: replies that now find their parent, or the target of an action.
      const ids = shown.kind === 'chat' ? [...this.notes.repliesTo(shown.message.id), ...(shown.displaced ? [shown.displaced] : [])] : this.applyAction(shown);
      for (const key of ids) {
        const message = this.chat.get(key);
        if (message) this.events.emit('chat.update', this.view(message));
      }
    }
  }

  /**
   * `m` is a copy of a message held here, its record on disk: `keep` would change nothing, so
   * nothing about it needs checking (its signature was checked when it was first kept).
   */
  isHeldCopy(m: SignedMessage): boolean {
    return this.bySeq.get(`${m.a}:${m.s}`) === m.sig && !this.unsaved.get(m.a)?.has(m.s);
  }

  /** `m`'s (author, number) is held here, with the signature that claims it. */
  private holdNumber(m: SignedMessage): void {
    this.bySeq.set(`${m.a}:${m.s}`, m.sig);
    let held = this.held.get(m.a);
    if (!held) this.held.set(m.a, (held = new SeqRanges()));
    held.add(m.s);
  }

  private index(m: SignedMessage, sender: string, name: string, receivedAt: number, to?: MemberKey[], shared = false, parsed?: ReceivedBody | null, shownAt = m.at): Indexed | null {
    this.holdNumber(m);
    // A re-shared message may be from before this member's admission even under the TEK version it
    // joined at (a join steps the revision only): it never starts the readable numbers (review 4).
    if (!shared && m.k >= (this.joinedTekVersion ?? 0) && m.s < (this.readableMin.get(m.a) ?? Infinity)) this.readableMin.set(m.a, m.s);
    if (m.skip) {
      let skipped = this.skipped.get(m.a);
      if (!skipped) this.skipped.set(m.a, (skipped = new SeqRanges()));
      skipped.addRange(m.skip[0], Math.min(m.skip[1], m.s - 1));
    }
    const body = parsed === undefined ? parseBody(m.b) : parsed;
    if (!body) return null;
    if (body.t === 'chat' || body.t === 'file') {
      // The sender's label is the one group.ts gave it (its roster entry, peer/names.ts), never a name inside the message.
      const fileName = body.t === 'file' ? shownText(body.name) || 'file' : '';
      const message: ChatMessage = { id: m.id, group: this.group, sender, senderName: name || unnamedLabel(m.a), text: body.t === 'chat' ? body.text : fileName, sentAt: shownAt, receivedAt };
      // Shown later than its author dated it by more than clock skew explains: the claimed time stays visible.
      if (shownAt - m.at > CLOCK_SKEW_MS) message.claimedAt = m.at;
      this.noteShownTime(m.a, m.s, shownAt);
      if (body.t === 'file') {
        const handle = fileHandle(m.a, body.fid);
        message.file = { id: handle, name: fileName, size: body.size, mime: body.mime, sha256: body.sha256, ...(body.thumb ? { thumb: body.thumb } : {}) };
        const held: HeldFile = { body: { ...body, fid: handle }, author: m.a, chunkFid: body.fid, sender, signed: m };
        if (!this.fileBodies.has(handle)) this.fileBodies.set(handle, held);
      }
      this.chat.set(`${sender}:${m.id}`, message);
      // The message that owns an ID is the one whose author and content derive it (review 30).
      const displaced = this.notes.chat(sender, m.id, body.t === 'chat' ? body.re : undefined, ownsItsId(this.group, m));
      if (message.file) {
        // Its author's delete may have come first (on disk or not yet): then the file is never fetched.
        const file = message.file;
        if (this.notes.deleteReceived(`${sender}:${m.id}`)) this.fileHook(() => this.onFileDeleted?.(file.id));
        else this.fileHook(() => this.onFile?.(this.fileBodies.get(file.id)!.body, m.a, (body as FileBody).fid));
      }
      if (m.a === this.self && to) {
        this.ledger.sent(m.s, to);
        this.ownBySeq.set(m.s, `${sender}:${m.id}`);
        this.ownSeqOf.set(m.id, m.s);
      }
      return { kind: 'chat', message, displaced };
    }
    if (body.t === 'unknown') return { kind: 'none' };
    if (body.t === 'shape') {
      const entry: BoardEntry = { group: this.group, sender, sentAt: m.at, author: m.a, seq: m.s, shape: body.op };
      this.strokes.set(`${sender}:${m.id}`, { ...entry, mid: m.id, signed: m });
      return { kind: 'stroke', entry };
    }
    if (body.t !== 'stroke') {
      // A duplicate from now on, and judged now; its effect waits for its fsync (`show`).
      const notAuthor = this.notes.receive(sender, m.id, body);
      if (body.t === 'delete' && !this.deletesSigned.has(`${sender}:${body.target}`)) this.deletesSigned.set(`${sender}:${body.target}`, m);
      if (body.t === 'delete' && shared) this.deletesShared.add(`${sender}:${body.target}`);
      return { kind: 'action', sender, s: m.s, at: m.at, body, notAuthor };
    }
    const stroke: BoardStroke = { group: this.group, sender, stroke: body.stroke, sentAt: m.at };
    const entry: BoardEntry = { ...stroke, author: m.a, seq: m.s, ...(body.seen ? { seen: body.seen } : {}) };
    this.strokes.set(`${sender}:${m.id}`, { ...entry, mid: m.id, signed: m });
    return { kind: 'stroke', entry, stroke };
  }

  /**
   * An edit, delete or reaction, now on disk, takes effect (a deleted file's chunks go):
   * the keys of the messages whose view changed.
   */
  private applyAction(a: Extract<Indexed, { kind: 'action' }>): string[] {
    const ids = this.notes.apply(a.sender, a.s, a.at, a.body);
    const body = a.body;
    const target = body.t === 'delete' ? this.chat.get(`${a.sender}:${body.target}`)?.file : undefined;
    if (target) this.fileHook(() => this.onFileDeleted?.(target.id));
    return ids;
  }

  /**
   * Runs a files.ts hook: its failure (a disk error) is logged, never thrown out of `index`,
   * which would leave a message indexed (a duplicate ever after) but never written.
   */
  private fileHook(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log(`group ${this.group.slice(0, 8)}: file not followed: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  /** A chat message as shown: its annotations and, for an own one, its delivery state. */
  /**
   * The time a chat or file message is shown at (docs/protocol.md §13 "Message times"): its
   * signed time, but no earlier than `notBefore` (what its arrival and its author's admission
   * allow, group.ts), and later than its author's message with the next lower number held here
   * (by a millisecond at least: its author wrote that one first, and the list shows it so), and
   * never later than it arrived here (`receivedAt`). A
   * signed time has an upper bound only (authorship.ts rule 5); without these an insider dated
   * a message hours back and it was listed in an old stretch of the conversation.
   */
  private shownTime(m: SignedMessage, notBefore: number, receivedAt: number): number {
    const list = this.shownTimes.get(m.a);
    let previous = -Infinity;
    if (list) {
      const i = lowerIndex(list.seqs, m.s);
      if (i >= 0) previous = list.times[i]! + 1;
    }
    // Never later than it arrived: whatever a floor says, a message was sent before it came.
    return Math.max(m.at, Math.min(receivedAt, Math.max(notBefore, previous)));
  }

  private noteShownTime(author: MemberKey, s: number, at: number): void {
    let list = this.shownTimes.get(author);
    if (!list) this.shownTimes.set(author, (list = { seqs: [], times: [] }));
    const i = lowerIndex(list.seqs, s) + 1;
    if (list.seqs[i] === s) return;
    list.seqs.splice(i, 0, s);
    list.times.splice(i, 0, at);
  }

  private view(m: ChatMessage): ChatMessage {
    const shown = this.notes.view(m);
    const s = this.ownSeqOf.get(m.id);
    const delivery: Delivery | undefined = s === undefined ? undefined : this.ledger.delivery(s, (key) => this.isMember(key));
    return delivery ? { ...shown, delivery } : shown;
  }

  /**
   * A checked receipt from member `by` (receipts.ts): its entries about this
   * member's own messages raise their counts (never lower them); each message
   * whose count rose goes to clients as `chat.update`, and the confirmation is
   * kept in the history log (unsynced: a lost one comes back with a later receipt).
   */
  confirmed(by: MemberKey, entries: readonly ReceiptEntry[]): void {
    for (const [author, lo, hi] of entries) {
      if (author !== this.self) continue;
      const raised = this.ledger.confirm(by, lo, hi);
      if (raised.length === 0) continue;
      this.profile.append(this.group, 'history', { kind: 'dlv', by, lo, hi: Math.min(hi, this.ledger.top) }, false);
      for (const s of raised) {
        const message = this.chat.get(this.ownBySeq.get(s) ?? '');
        if (message) this.events.emit('chat.update', this.view(message));
      }
    }
  }

  /** Per author, the numbers held, as ranges (the reconciliation summary). */
  summary(): Record<MemberKey, Range[]> {
    const out: Record<MemberKey, Range[]> = {};
    for (const [author, r] of this.held) out[author] = r.list();
    return out;
  }

  /** Per author, the last number held: what a `clear` names as seen. */
  lastSeen(): Record<MemberKey, number> {
    const out: Record<MemberKey, number> = {};
    for (const [author, r] of this.held) out[author] = r.max;
    return out;
  }

  /**
   * A fellow member's receipt (verified) says it holds `author`'s numbers up to `hi`:
   * true when that shows a gap not known before. Only for an author some of whose
   * messages readable here are held (a member holds nothing from before its
   * admission, so a receipt cannot tell it what it could never read) and never for
   * this member. A hint widens the gaps for `HINT_MS` and reaches at most
   * `HINT_AHEAD` numbers past the last held; while it lives, a higher claim widens
   * it without being new: a lying member starts at most one catch-up session per
   * author per `HINT_MS`, never more.
   */
  hint(author: MemberKey, hi: number, now: number): boolean {
    const r = this.held.get(author);
    if (author === this.self || !r || !this.readableMin.has(author) || hi <= r.max || this.unfillable(author)) return false;
    const upTo = Math.min(hi, r.max + HINT_AHEAD);
    const prior = this.hints.get(author);
    if (prior && prior.until > now && prior.hi > r.max) {
      // A live hint: a higher claim widens it, but starts no other session and never
      // outlives it (a liar naming one more number per receipt forced a session each, review 4).
      prior.hi = Math.max(prior.hi, upTo);
      return false;
    }
    if (!prior && this.hints.size >= HINT_AUTHORS) return false;
    this.hints.set(author, { hi: upTo, until: now + HINT_MS });
    return true;
  }

  /**
   * Numbers missing between the first readable and the last held of each author
   * (or the last a receipt named, `hint`, until it expires), less those its author
   * skipped (numbers before this member's admission that a re-share brought are
   * not the start: the ones between can never be read here).
   */
  gaps(limitPerAuthor = 64, now = Date.now()): { author: MemberKey; missing: Range[] }[] {
    const out: { author: MemberKey; missing: Range[] }[] = [];
    for (const [author, r] of this.held) {
      if (this.unfillable(author)) continue;
      const min = this.readableMin.get(author);
      const lost = this.unsaved.get(author);
      if (min === undefined && !lost?.size) continue;
      const hint = this.hints.get(author);
      if (hint && (hint.until <= now || hint.hi <= r.max)) this.hints.delete(author);
      const upTo = hint && hint.until > now ? Math.max(r.max, hint.hi) : r.max;
      const notExpected = SeqRanges.of(this.skipped.get(author)?.list() ?? []);
      if (min !== undefined && min > 1) notExpected.addRange(1, min - 1);
      let inside = min === undefined ? [] : r.missing(upTo, notExpected, limitPerAuthor);
      if (lost?.size) {
        // Not on disk here (its fsync failed): missing wherever it lies, even past the last held.
        const all = SeqRanges.of(inside);
        for (const s of lost.keys()) all.add(s);
        inside = all.list();
      }
      if (inside.length > 0) out.push({ author, missing: inside.slice(0, limitPerAuthor) });
    }
    return out;
  }

  /** The last number held of `author` (0: none). */
  lastOf(author: MemberKey): number {
    return this.held.get(author)?.max ?? 0;
  }

  /** The last number held of `author`, 0 while every one held is from before this member's admission (re-shared). */
  lastReadableOf(author: MemberKey): number {
    return this.readableMin.has(author) ? this.lastOf(author) : 0;
  }

  has(author: MemberKey, seq: number): boolean {
    return this.held.get(author)?.has(seq) ?? false;
  }

  /** The last `limit` messages on disk here, oldest first (by sentAt, then receivedAt, then ID): as the client events show them. */
  chatHistory(limit: number): ChatMessage[] {
    const onDisk = this.notYetDurable.size === 0 ? [...this.chat.values()] : [...this.chat].filter(([key]) => !this.notYetDurable.has(key)).map(([, m]) => m);
    const all = onDisk.map((m) => this.view(m)).sort((a, b) => a.sentAt - b.sentAt || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1));
    return all.slice(-limit);
  }

  /** The board's entries on disk here (as `board.entry` events show them): the board is computed from these only. */
  private durableStrokes(): KeptStroke[] {
    if (this.notYetDurable.size === 0) return [...this.strokes.values()];
    return [...this.strokes].filter(([key]) => !this.notYetDurable.has(key)).map(([, s]) => s);
  }

  /** The signed entries on disk the board now rests on, with their signed forms (re-shared with a newcomer). */
  boardStrokes(): KeptStroke[] {
    return boardSupport(this.durableStrokes()) as KeptStroke[];
  }

  /** The pen and erase strokes on disk still on the board (the stroke-only API). */
  board(): BoardStroke[] {
    return boardState(this.durableStrokes()).map((s) => ({ group: s.group, sender: s.sender, stroke: s.stroke!, sentAt: s.sentAt }));
  }

  /** Everything kept on the board and on disk (clients compute it with app/api/board-model.ts). */
  boardEntries(): BoardEntry[] {
    return this.durableStrokes().map(({ mid: _mid, signed: _signed, ...entry }) => entry);
  }

  /** This member's own message `id` as shown now (null: none such, or deleted): what an edit or delete may target. */
  ownMessage(selfSender: string, id: string): ChatMessage | null {
    const m = this.chat.get(`${selfSender}:${id}`);
    const shown = m ? this.view(m) : null;
    return shown && !shown.deleted ? shown : null;
  }

  /** Any message `id` as shown now (null: not held). */
  message(id: string): ChatMessage | null {
    const key = this.notes.keyOf(id);
    const m = key ? this.chat.get(key) : undefined;
    return m ? this.view(m) : null;
  }

  /** Every file message held: its body (with the content key; `fid`: its handle), author, and whether deleted (files.ts). */
  files(): HeldFile[] {
    return [...this.fileBodies.values()].map((f) => (this.fileDeleted(f) ? { ...f, deleted: true } : f));
  }

  /** The newest `limit` file messages not deleted, oldest first, as their authors signed them (board-share.ts). */
  shareableFiles(limit: number): SignedMessage[] {
    // A delete not yet on disk counts already: re-sharing less is safe.
    const live = [...this.fileBodies.values()].filter((f) => !this.notes.deleteReceived(`${f.sender}:${f.signed.id}`)).map((f) => f.signed);
    live.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    return live.slice(-limit);
  }

  /**
   * The authors' signed deletes of file messages, as re-shared with a newcomer beside the live
   * files (another member re-sharing a deleted file message then brings back nothing there;
   * review 30): of file messages held here, and those that came in a file re-share (a newcomer
   * passes on what its admitter gave it, though the file never came). At most `limit`, taken in
   * turn from each author, newest first: one author's many deletes never push out another's.
   */
  shareableFileDeletes(limit: number): SignedMessage[] {
    const byAuthor = new Map<string, SignedMessage[]>();
    const add = (key: string): void => {
      const del = this.deletesSigned.get(key);
      if (!del) return;
      let list = byAuthor.get(del.a);
      if (!list) byAuthor.set(del.a, (list = []));
      list.push(del);
    };
    const keys = new Set(this.deletesShared);
    for (const f of this.fileBodies.values()) keys.add(`${f.sender}:${f.signed.id}`);
    for (const key of keys) add(key);
    const lists = [...byAuthor.values()].map((l) => l.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1)));
    const out: SignedMessage[] = [];
    for (let i = 0; out.length < limit && lists.some((l) => i < l.length); i++) {
      for (const l of lists) if (i < l.length && out.length < limit) out.push(l[i]!);
    }
    return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  }

  private fileDeleted(f: HeldFile): boolean {
    const message = this.chat.get(`${f.sender}:${f.signed.id}`);
    return message !== undefined && this.notes.view(message).deleted === true;
  }

  /** Messages from others received after `lastReadAt` and on disk (as `chatHistory` lists them). */
  unread(self: string, lastReadAt: number): number {
    let n = 0;
    for (const [key, m] of this.chat) if (m.sender !== self && m.receivedAt > lastReadAt && !this.notYetDurable.has(key)) n++;
    return n;
  }
}
