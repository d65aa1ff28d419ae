/**
 * @module peer/group
 * One group as a running peer holds it: its engine, driven sans-I/O style
 * (STYLE §1, §5) — after every input drain `pollTransmit`, then `pollEvent`, then
 * arm ONE timer at `nextDeadline` — and the engine's events turned into what
 * the group keeps and what clients see. What it keeps lives beside it:
 * `history.ts` (chat and board), `traffic.ts` (kept ciphertexts for catch-up,
 * issue 5 §7), `state-file.ts` (when the state is saved), `board-share.ts` (the
 * board and the latest file messages for a newcomer) and `admission.ts` (who gets in, seed 001).
 *
 * Invariants:
 * - The engine sees only authenticated senders: the caller passes gossipsub's
 *   signed `from` or the Noise-authenticated stream peer. Blocklisted senders
 *   are ignored before the engine.
 * - A verdict is `reject` (gossipsub punishes the sender) only for input the
 *   engine rejected as garbage or forged (HARD_REJECT), `ignore` for any other
 *   rejection, `accept` otherwise.
 * - Data the engine cannot decrypt yet is buffered by the engine itself and
 *   re-tried when keys arrive; this module only turns the outcome into events.
 * - Every received message is appended (fsynced) to the history log before its
 *   event reaches clients; what this member publishes is written to its history
 *   before the publish and fsynced after it (a kill -9 loses neither), and kept
 *   in the traffic log once the publish has reached the sockets (`afterPublish`).
 * - Control messages seen while joining are re-offered, in arrival order, once
 *   the engine is a member (gossip can overtake this member's own Admit).
 * - Every application message is signed by its author (payload.ts) and checked
 *   (authorship.ts) before it is kept; a refused one is dropped, counted in the
 *   rejection log with its reason and carrier, and never shown.
 * - Every kept data packet is tagged, where known, with the (author, number, TEK
 *   version) of the message inside it: reconciliation (catch-up.ts) serves by tag.
 * - What remote input makes visible is bounded (event-limit.ts): `chat.undecryptable`
 *   placeholders and log lines of rejected input pass a per-minute limit, per sender
 *   and in all; the key panel (key-panel.ts) still counts every refusal.
 * - Delivery receipts (receipts.ts, docs/protocol.md §13.2) go out at most one per
 *   receiptIntervalMs(current members) once something new is on disk here; sent or
 *   received, a receipt is never kept in the traffic log (it is ephemeral).
 */
import { GroupEngine, type EngineDeps } from '../core/engine.js';
import type { DataPacket, EngineEvent, MemberKey, RejectReason, Transmit } from '../core/types.js';
import { samePacket } from '../core/engine/tek-records.js';
import { systemRng } from '../crypto/noble.js';
import { nodeCrypto } from '../crypto/node.js';
import { LocalProtocolError } from '../core/errors.js';
import type { BoardEntry, BoardStroke, ChatMessage, ShapeOp, Stroke } from '../api/contract.js';
import type { EventSink } from '../api/handler.js';
import type { GroupRecord, Profile } from '../store/profile.js';
import { decodePayload, encodePayload, FILE_DELETE_SHARE_MAX, FILE_SHARE_MAX, MAX_BODY_CHARS, MAX_PAYLOAD_BYTES, signMessage, type ChatAction, type Body, type FileBody, type SignedMessage } from './payload.js';
import { authorTaken, checkAuthorship, type AuthorshipContext } from './authorship.js';
import { EarlyControl } from './early-control.js';
import { admit } from './admission.js';
import { BoardShare } from './board-share.js';
import { GroupHistory, type HeldOwn } from './history.js';
import { datedAfterJoin, earliestSendTime, ownJoinTime } from './message-times.js';
import { StateFile } from './state-file.js';
import { UnsavedHold } from './unsaved-hold.js';
import { dataPacketOf, TrafficLog, UnopenedTraffic, type TrafficTag } from './traffic.js';
import { RejectionLog, rosterLookupOf } from './key-panel.js';
import { REJECTED_LOG_LIMITS, UNDECRYPTABLE_LIMITS, WindowLimit, type Admission } from './event-limit.js';
import { checkReceipt, makeReceipt, ReceiptClock, receiptIntervalMs } from './receipts.js';
import { MemberNames, shownText } from './names.js';

export interface GroupHost {
  readonly selfKey: MemberKey;
  readonly profile: Profile;
  readonly events: EventSink;
  now(): number;
  displayName(): string;
  publish(group: string, channel: 'control' | 'data', bytes: Uint8Array): void;
  unicast(group: string, to: MemberKey, bytes: Uint8Array): void;
  peerIdOf(key: MemberKey): string;
  /** Identities this peer admits without an invite (001's access list). */
  allowlisted(key: MemberKey): boolean;
  /** Signs with this member's identity key (Ed25519; its member key is the public half). */
  sign(message: Uint8Array): Uint8Array;
  /** Called once the engine reports this member is in (catch-up, mesh, invite ledger). */
  onMember(group: GroupRuntime): void;
  /** The group's invite ledger changed here (an admission counted a use): tell fellow members (issue 15 §2). */
  invitesChanged?(group: GroupRuntime): void;
  /** A member left or was excluded (the invites it knew must go: docs/protocol.md §5). */
  memberDeparted?(group: GroupRuntime): void;
  log(line: string): void;
}

export type Verdict = 'accept' | 'reject' | 'ignore';

/** Reasons that mean the sender sent garbage (gossipsub Reject → peer score penalty). */
/** Refused senders remembered (`refusedStrangers`); past that the set starts afresh. */
const MAX_REFUSED_STRANGERS = 256;
/** Refusals of what a catch-up server served that an honest server never causes: they are put on the server (`noteRefusal`). */
const SERVER_FAULTS = new Set<RejectReason>(['decode', 'wire-version', 'wrong-group', 'bad-signature', 'decrypt-failed', 'invalid']);
const HARD_REJECT = new Set<RejectReason>(['decode', 'wire-version', 'wrong-group', 'bad-signature', 'invalid']);

/** Engine events that leave its persistent state as it was. */
const QUIET_EVENTS = new Set<EngineEvent['type']>(['data', 'undecryptable', 'rejected']);
/** Events that change who is a member: written at once (state-file.ts `save`). */
const ROSTER_EVENTS = new Set<EngineEvent['type']>(['member-admitted', 'member-excluded', 'member-reinstated', 'member-left', 'self-excluded']);
/** A transmit as the engine made it: when, and for a data publish, its traffic tag (known only then). */
type Outgoing = { t: Transmit; at: number; tag: TrafficTag | null | 'ephemeral' };

export type EngineFactory = (deps: EngineDeps) => GroupEngine;

export class GroupRuntime {
  readonly engine: GroupEngine;
  readonly group: string;
  private readonly groupBytes: Uint8Array;
  /** Refused inputs, counted per (reason, sender), for the key panel's live log; judged against this group's roster (peer/key-panel.ts `expectedRefusal`). */
  readonly rejections: RejectionLog;
  /** How many undecryptable placeholders reach the clients, and refusals the log (event-limit.ts). */
  private readonly undecryptableLimit = new WindowLimit(UNDECRYPTABLE_LIMITS);
  private readonly rejectedLogLimit = new WindowLimit(REJECTED_LOG_LIMITS);
  private readonly history: GroupHistory;
  private readonly traffic: TrafficLog;
  /** Received packets the engine buffered unopened: kept for catch-up only once they open (traffic.ts). */
  private readonly unopened = new UnopenedTraffic();
  /** The data packet the current `receive` brought (its sender, bytes, decoded). */
  private input: { from: MemberKey; bytes: Uint8Array; packet: DataPacket | null } | null = null;
  private readonly stateFile: StateFile;
  private readonly boardShare: BoardShare;
  /** Control input kept while joining (peer/early-control.ts). */
  private readonly earlyControl = new EarlyControl((key) => this.engine.knows(key));
  /** The keys this member made, as last seen (`madeNewKey`). */
  private keysMade = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** Persistence of what this member published in the current turn (afterPublish). */
  private published: (() => void)[] = [];
  private stopped = false;
  private wasMember: boolean;
  /** Members' labels (nameOf), rebuilt when the roster grows or this member's own name changes. */
  private names: { names: MemberNames; entries: number; selfName: string } | null = null;
  /** The last `receive` opened a data message of its sender (row D1's proof; the transport's membership check reads it). */
  lastInputOpened = false;
  /** Tags of the payloads handed to the engine, in order: each data publish takes the first ('ephemeral': not kept). */
  private sendTags: (TrafficTag | null | 'ephemeral')[] = [];
  /** Transmits of a turn whose new key could not be saved, until a write succeeds (unsaved-hold.ts). */
  private readonly unsavedHold = new UnsavedHold<Outgoing>(
    (o) => this.transmit(o),
    // An own message behind an unsaved key turn: published again after a restart if the wait ends with it (history.ts markHeld).
    ({ tag }) => {
      if (tag !== null && tag !== 'ephemeral' && tag.a === this.host.selfKey && tag.s > 0) this.history.markHeld(tag.s, this.otherMembers());
    },
  );
  /** Own messages held at a stop and read back, waiting to be published again (`republishHeld`). */
  private heldOwn: HeldOwn[] = [];
  /** Senders whose input was refused as from no member (bounded): one admitted later gets a reconciliation. */
  private readonly refusedStrangers = new Set<MemberKey>();
  private republishing = false;
  /** The last `receive` opened a receipt (not kept for catch-up). */
  private receivedEphemeral = false;
  private readonly receipts: ReceiptClock;
  /** The tag of the message the current `receive` delivered, if any. */
  private received: { from: MemberKey; tag: TrafficTag } | null = null;
  /** True while catch-up input is fed: its replays are expected, not refusals. */
  private feedingCatchUp = false;
  /** The member whose catch-up reply is being fed, when known (`noteRefusal`). */
  private catchUpServer: MemberKey | null = null;
  /** While a packet's payload is handled: who answers for it when not its carrier (`onData`; undefined: its carrier). */
  private packetOrigin: MemberKey | null | undefined = undefined;
  /** The current input carried an application message whose signature does not verify (never honest): its verdict is `reject`. */
  private inputForged = false;
  /** Reconciliation's entries for the key panel's log (gaps found and closed), newest last. */
  readonly syncLog: { at: number; kind: string; text: string }[] = [];
  /** Set by catch-up.ts: this group wants a reconciliation round (a gap was seen, keys arrived). */
  onSyncNeeded: ((reason: 'gap' | 'keys') => void) | null = null;

  constructor(
    private readonly host: GroupHost,
    readonly record: GroupRecord,
    factory: EngineFactory,
    keepTraffic: number,
  ) {
    const deps: EngineDeps = {
      crypto: nodeCrypto,
      rng: systemRng,
      admission: {
        check: (request, now) =>
          admit(
            {
              group: this.group,
              record: this.record,
              selfKey: this.host.selfKey,
              allowlisted: (key) => this.host.allowlisted(key),
              isCurrentMember: (key) => this.isCurrentMember(key),
              changed: () => {
                this.stateFile.schedule();
                this.host.invitesChanged?.(this);
              },
            },
            request,
            now,
          ),
      },
    };
    this.engine = factory(deps);
    this.rejections = new RejectionLog(rosterLookupOf(this.engine));
    this.group = this.engine.group;
    this.groupBytes = Buffer.from(this.group, 'hex');
    this.record.group = this.group;
    this.wasMember = this.engine.state() === 'member';
    // The keys it starts with are on disk (restored, or written by a create's first write) or
    // come with the join: none is news to madeNewKey (review 37: a restarted member held its
    // first turn back as if it had just made every key it owns).
    this.madeNewKey();
    this.history = new GroupHistory(host.profile, this.group, host.selfKey, host.events, (line) => host.log(line));
    this.heldOwn = this.history.unpublishedOwn();
    this.traffic = new TrafficLog(host.profile, this.group, keepTraffic, host.selfKey);
    this.receipts = new ReceiptClock({
      now: () => host.now(),
      send: () => this.sendReceipt(),
      intervalMs: () => receiptIntervalMs(this.engine.memberCount()),
    });
    this.history.onDurable = () => this.receipts.poke();
    this.history.isMember = (key) => this.isCurrentMember(key);
    // Whatever an excluded member sent is refused here (receive), so its missing numbers can never be filled.
    // The engine's blocklist: the group record's `blocklist` is never filled (review 40: this read it, so
    // an excluded member's missing numbers stayed a gap, and catch-up open, for good).
    this.history.unfillable = (key) => this.engine.isBlocked(key);
    // A write that failed (a full disk) is told to clients, and so is the next one that succeeds.
    // Once one succeeds, what a failed write held back goes out (unsaved-hold.ts).
    const onFailure = (failure: string | null): void => {
      host.events.emit('group.storage', { group: this.group, saved: failure === null, ...(failure ? { detail: failure } : {}) });
      if (failure === null && !this.stopped) this.unsavedHold.flush();
    };
    this.stateFile = new StateFile(host.profile, record, () => this.engine.snapshot(), (line) => host.log(line), onFailure);
    this.boardShare = new BoardShare({
      now: () => host.now(),
      canShare: () => !this.stopped && this.engine.state() === 'member',
      authorTaken: (author) => authorTaken(this.engine.rosterState(author)),
      strokes: () => this.history.boardStrokes(),
      files: () => [...this.history.shareableFiles(FILE_SHARE_MAX), ...this.history.shareableFileDeletes(FILE_DELETE_SHARE_MAX)],
      // Kept for catch-up only for the newcomers (traffic.ts): no other asker can use it.
      send: (payload, newcomers) => this.sendPayload(payload, host.now(), { a: host.selfKey, s: 0, k: this.engine.tekInfo()?.version ?? 0, for: newcomers }),
      log: (line) => host.log(`group ${this.group.slice(0, 8)}: ${line}`),
    });
  }

  // ── inputs ────────────────────────────────────────────────────────────────

  /**
   * Bytes from an authenticated peer; the verdict feeds gossipsub's validator. `fromCatchUp`: fed by
   * reconciliation, `from` being the author the server's frame names; the server's key when known
   * (what is refused is then its word, not the author's: `noteRefusal`).
   */
  receive(from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array, fromCatchUp: boolean | MemberKey = false): Verdict {
    if (this.stopped) return 'ignore';
    const now = this.host.now();
    const joining = this.engine.state() === 'joining' || this.engine.state() === 'listening';
    this.received = null;
    this.receivedEphemeral = false;
    this.inputForged = false;
    this.input = channel === 'data' ? { from, bytes, packet: dataPacketOf(this.groupBytes, bytes) } : null;
    this.feedingCatchUp = fromCatchUp !== false;
    this.catchUpServer = typeof fromCatchUp === 'string' ? fromCatchUp : null;
    let events: EngineEvent[];
    try {
      this.engine.receive(from, channel, bytes, now, this.catchUpServer ?? undefined);
      events = this.drive();
    } finally {
      this.feedingCatchUp = false;
      this.catchUpServer = null;
    }
    let verdict: Verdict = 'accept';
    this.lastInputOpened = events.some((ev) => (ev.type === 'data' || (ev.type === 'rejected' && ev.opened === true)) && ev.from === from);
    for (const ev of events) {
      if (ev.type === 'rejected' && ev.from === from) verdict = HARD_REJECT.has(ev.reason) ? 'reject' : 'ignore';
    }
    // A forged signature inside is never an honest member's (a clock ahead or a newer client's body
    // is, so other application refusals keep the verdict): gossipsub forwards it to nobody (review 40).
    if (this.inputForged) verdict = 'reject';
    this.inputForged = false;
    // Kept for the replay unless refused as garbage, or this input made the engine a member (replayed already).
    if (joining && channel === 'control' && verdict !== 'reject' && this.engine.state() !== 'member') this.earlyControl.keep({ from, bytes });
    // Kept for catch-up once it opened here (catch-up input too, so a member that caught up
    // can serve the next one); buffered for a key not held yet: apart, until it opens.
    const got = this.received as { from: MemberKey; tag: TrafficTag } | null; // set by onData during drive()
    const tag = got?.from === from ? got.tag : null;
    if (channel === 'data' && verdict === 'accept' && !this.receivedEphemeral) {
      if (tag) this.traffic.keep({ from, bytes, at: now, tag });
      // Neither opened, refused nor dropped: the engine buffered it (its key is not held yet).
      const buffered = this.engine.state() === 'member' && !events.some((ev) => 'from' in ev && ev.from === from);
      if (buffered && this.input?.packet) this.unopened.hold({ from, bytes, at: now, tag: null }, this.input.packet, fromCatchUp === false, this.catchUpServer);
    }
    this.received = null;
    this.input = null;
    return verdict;
  }

  /** `packet` from `from` is the input this turn delivered (not one buffered before and opened now). */
  private isCurrentInput(from: MemberKey, packet: DataPacket): boolean {
    const input = this.input;
    return input?.packet != null && input.from === from && samePacket(input.packet, packet);
  }

  /**
   * A packet from `from` opened and its contents were accepted (`tag`): the current input's
   * tag, or, one buffered before and opened now (its key came), kept for catch-up at last.
   * Never anything else: a forgery beside it, even with its nonce, is another packet.
   */
  private opened(from: MemberKey, packet: DataPacket, tag: TrafficTag): void {
    if (this.isCurrentInput(from, packet)) {
      this.received = { from, tag };
      return;
    }
    const held = this.unopened.take(from, packet);
    if (held) this.traffic.keep({ ...held, tag });
  }

  /** Publishes a chat message; resolves once it is in this member's history (fsynced). */
  sendChat(text: string, replyTo?: string): Promise<ChatMessage> {
    const name = this.host.displayName();
    const sender = this.host.peerIdOf(this.host.selfKey);
    const to = this.otherMembers();
    const m = this.sendSigned(replyTo ? { t: 'chat', text, name, re: replyTo } : { t: 'chat', text, name }, { sender, name, to });
    return this.afterPublish(async () => {
      await this.history.durable();
      return this.history.message(m.id) ?? { id: m.id, group: this.group, sender, senderName: name, text, sentAt: m.at, receivedAt: m.at };
    });
  }

  /** Publishes a file message (issue 18 §1; its chunks are already on disk: files.ts); resolves once it is in this member's history (fsynced). */
  sendFile(body: FileBody): Promise<ChatMessage> {
    const name = this.host.displayName();
    const sender = this.host.peerIdOf(this.host.selfKey);
    const to = this.otherMembers();
    const m = this.sendSigned(body, { sender, name, to });
    return this.afterPublish(async () => {
      await this.history.durable();
      return this.history.message(m.id) ?? { id: m.id, group: this.group, sender, senderName: name, text: shownText(body.name) || 'file', sentAt: m.at, receivedAt: m.at };
    });
  }

  /** Publishes a reaction, edit or delete (issue 18 §2); resolves with the target as shown after it. */
  sendChatAction(body: ChatAction): Promise<ChatMessage | null> {
    this.sendSigned(body, this.asSelf());
    return this.afterPublish(async () => {
      await this.history.durable();
      return this.history.message(body.target);
    });
  }

  /** This member's own message `id` as shown now (null: none, or deleted). */
  ownMessage(id: string): ChatMessage | null {
    return this.history.ownMessage(this.host.peerIdOf(this.host.selfKey), id);
  }

  heldMessage(id: string): ChatMessage | null {
    return this.history.message(id);
  }

  /** Publishes a stroke; resolves once it is in this member's history (fsynced). A clear names what it has seen. */
  draw(stroke: Stroke): Promise<void> {
    const body: Body = stroke.tool === 'clear' ? { t: 'stroke', stroke, seen: this.history.lastSeen() } : { t: 'stroke', stroke };
    this.sendSigned(body, this.asSelf());
    return this.afterPublish(async () => {
      await this.history.durable();
    });
  }

  /**
   * Publishes one version of a whiteboard object (created by this member when `op.by` is absent);
   * resolves once it is in this member's history (fsynced), as `draw` does: the board lists an
   * entry only once it is on disk, so a board read right after the call shows it.
   */
  drawShape(op: ShapeOp): Promise<void> {
    this.sendSigned({ t: 'shape', op: { ...op, by: op.by ?? this.host.selfKey } }, this.asSelf());
    return this.afterPublish(async () => {
      await this.history.durable();
    });
  }

  /** The current members but this one: whom an own message is sent to (its delivery counts them). */
  private otherMembers(): MemberKey[] {
    return this.engine
      .members()
      .filter((m) => m.state === 'member' && m.key !== this.host.selfKey)
      .map((m) => m.key);
  }

  /** `key` is a current member in this group's roster. */
  private isCurrentMember(key: MemberKey): boolean {
    return this.engine.rosterState(key) === 'member';
  }

  /** A delivery receipt for what became durable here since the last one (receipts.ts); none while not a member. */
  private sendReceipt(): void {
    const tek = this.engine.tekInfo();
    if (this.stopped || this.engine.state() !== 'member' || !tek) return;
    const entries = this.history.reporter.take();
    if (entries.length === 0) return;
    const r = makeReceipt(this.host.selfKey, Math.floor(this.host.now()), entries);
    this.sendPayload(encodePayload({ v: 2, t: 'rcpt', r }), this.host.now(), 'ephemeral');
    if (this.history.reporter.pending) this.receipts.poke();
  }

  /** How this member's own messages without recipients are kept (actions, strokes, shapes). */
  private asSelf(): { sender: string; name: string } {
    return { sender: this.host.peerIdOf(this.host.selfKey), name: this.host.displayName() };
  }

  /**
   * Signs `body` as this member's next message, keeps it in the history, then hands it to the
   * engine, which publishes it. The history's line is written before the publish (its fsync runs
   * after, off the event loop; the caller waits for it): a kill -9 between the publish and a later
   * write lost the author's own message for good, though the members that received it had shown it
   * (review 32). The message is shown here, as any, once fsynced.
   */
  private sendSigned(body: Body, keep: { sender: string; name: string; to?: MemberKey[] }): SignedMessage {
    const state = this.engine.state();
    const tek = this.engine.tekInfo();
    if (state !== 'member' || !tek) throw new LocalProtocolError(`cannot send while ${state}`);
    if (JSON.stringify(body).length > MAX_BODY_CHARS) throw new LocalProtocolError('message larger than 60 KiB');
    const now = Math.floor(this.host.now());
    const self = this.host.selfKey;
    // Its encoded size, with the widest number fields, before a number is taken for it (a number
    // taken and never sent would be a gap nobody can fill).
    const widest = { a: self, s: Number.MAX_SAFE_INTEGER, k: tek.version, at: now, id: '0'.repeat(32), skip: [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] as [number, number], b: JSON.stringify(body), sig: '0'.repeat(128) };
    if (encodePayload({ v: 2, t: 'msg', m: widest }).length > MAX_PAYLOAD_BYTES) throw new LocalProtocolError('message larger than 64 KiB once encoded');
    const seq = this.history.takeOwnSeq();
    const m = signMessage(this.group, { key: self, sign: (bytes) => this.host.sign(bytes) }, { ...seq, k: tek.version, at: now }, body);
    // Checked before it is kept: a message kept and then refused by the engine stayed listed as
    // sent, never published (review 32's second pass: the body check counts UTF-16 units, the
    // payload's bound UTF-8 bytes of a twice-encoded JSON).
    const payload = encodePayload({ v: 2, t: 'msg', m });
    try {
      if (payload.length > MAX_PAYLOAD_BYTES) throw new LocalProtocolError('message larger than 64 KiB once encoded');
      this.history.keep(m, keep.sender, keep.name, m.at, keep.to);
    } catch (err) {
      this.history.unsentOwnSeq(seq); // or its number would be a gap nobody can fill
      throw err;
    }
    this.sendPayload(payload, now, { a: self, s: m.s, k: m.k });
    return m;
  }

  /**
   * Runs `job` (waiting for the history's fsync, keeping the traffic record) once the
   * publish has reached the sockets: gossipsub signs, frames, encrypts and writes in
   * promise continuations, which all run before a setImmediate callback. Done before
   * the publish, those flushes sat between a message's sentAt and the wire (tens of
   * ms each when the disk is busy). Jobs left at stop() run there.
   */
  private afterPublish<T>(job: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.published.push(() => {
        try {
          resolve(job());
        } catch (err) {
          reject(err as Error);
        }
      });
      if (this.published.length === 1) setImmediate(() => this.persistPublished());
    });
  }

  private persistPublished(): void {
    const jobs = this.published;
    this.published = [];
    for (const job of jobs) job();
  }

  exclude(members: MemberKey[]): void {
    this.engine.exclude(members, this.host.now());
    this.drive();
  }

  leave(): void {
    this.engine.leave(this.host.now());
    this.drive();
    // What a failed save held goes out with the Leave: the others block this member, so a key it
    // made and would forget on a restart cannot split them (unsaved-hold.ts).
    this.unsavedHold.flush();
  }

  /**
   * Set by a join with an invite (peer/join): a contact reaches the engine, which
   * then sends it the credential, only once this resolves true — the invite's
   * join handshake (issue 15 §2). Unset: contacts go to the engine at once.
   */
  contactCheck: ((key: MemberKey) => Promise<boolean>) | null = null;

  addContacts(contacts: MemberKey[]): void {
    if (this.engine.state() !== 'joining' && this.engine.state() !== 'listening') return;
    const check = this.contactCheck;
    if (!check) {
      this.engine.addContacts(contacts, this.host.now());
      this.drive();
      return;
    }
    for (const key of contacts) {
      void check(key).then((ok) => {
        if (ok && !this.stopped && this.engine.state() === 'joining') {
          this.engine.addContacts([key], this.host.now());
          this.drive();
        }
      });
    }
  }

  private sendPayload(payload: Uint8Array, now: number, tag: TrafficTag | null | 'ephemeral' = null): void {
    this.sendTags.push(tag);
    try {
      this.engine.send(payload, now);
    } catch (err) {
      this.sendTags.pop();
      throw err;
    }
    this.drive();
    // Still untransmitted: the engine holds it (its TEK does not cover its blocklist yet, §7.2), in
    // memory only. An own message is marked held as behind an unsaved key turn, so that a kill
    // before the reseal does not lose it (republishHeld; test attacks/engine-held-restart).
    if (tag !== null && tag !== 'ephemeral' && tag.a === this.host.selfKey && tag.s > 0 && this.sendTags.includes(tag)) this.history.markHeld(tag.s, this.otherMembers());
  }

  // ── the polling loop ──────────────────────────────────────────────────────

  /**
   * Drain transmits and events (again while handling the events made more), then arm the one
   * timer. Returns the events seen.
   */
  drive(): EngineEvent[] {
    const now = this.host.now();
    const events: EngineEvent[] = [];
    for (;;) {
      const outgoing: Outgoing[] = [];
      for (let t = this.engine.pollTransmit(); t; t = this.engine.pollTransmit()) {
        outgoing.push({ t, at: now, tag: t.kind === 'publish' && t.topic === 'data' ? this.sendTags.shift() ?? null : null });
      }
      const batch: EngineEvent[] = [];
      for (let ev = this.engine.pollEvent(); ev; ev = this.engine.pollEvent()) batch.push(ev);
      if (outgoing.length === 0 && batch.length === 0) break;
      const madeKey = batch.some((ev) => ev.type === 'key-changed') && this.madeNewKey();
      // A roster change is on disk before any client is told of it: a member a client saw must
      // survive a kill -9 (a restarted member that forgot one refuses its messages:
      // test/integration/roster-durable), and so must the proof of its admission, which a member
      // that missed it needs (saved in the snapshot since review 39).
      // A key made here from fresh randomness is on disk before any byte of it leaves (the
      // transmits and the events of one engine call are drained together): restarted from the
      // state before, a refreshing owner made the same version again with another key, and the
      // group split in two (review 32). If that save fails, the transmits wait for a write that
      // succeeds (unsaved-hold.ts).
      if (madeKey || batch.some((ev) => ROSTER_EVENTS.has(ev.type))) {
        this.stateFile.save();
        this.names = null; // a name given or changed with a roster entry (nameOf)
      }
      this.unsavedHold.pass(outgoing, this.stateFile.unsaved() === null, madeKey);
      for (const ev of batch) {
        events.push(ev);
        this.onEvent(ev);
      }
    }
    this.republishHeld();
    // A tag waits only for a payload the engine still holds (it sends them in order): one whose
    // payload the engine dropped (erased with its keys at its own exclusion) would otherwise name
    // the next publication, marking the wrong own number published (review 44).
    const held = this.engine.heldSince().length;
    if (this.sendTags.length > held) this.sendTags.splice(0, this.sendTags.length - held);
    this.armTimer();
    // Data and refusals change no engine state: only other events are saved promptly (state-file.ts).
    if (events.some((ev) => !QUIET_EVENTS.has(ev.type))) this.stateFile.schedule();
    else this.stateFile.touch();
    if (!this.wasMember && this.engine.state() === 'member') {
      this.wasMember = true;
      const tek = this.engine.tekInfo();
      if (tek) this.history.joinedTek(tek.version);
      setImmediate(() => this.replayEarlyControl());
      this.host.onMember(this);
    }
    return events;
  }

  /**
   * Own messages kept while a key turn was held and never published, read back after a restart
   * (history.ts `unpublishedOwn`; review 38: they were lost with the stop, a gap in this member's
   * numbers nobody could fill). Each goes out as signed, in number order, once this member is one,
   * its TEK has reached the version the message names (a packet's version is never below its
   * message's: authorship.ts rule 4), and every other member was one it was written for: a member
   * the restart brought back by undoing an exclusion, or a newcomer, never reads it (it waits while
   * they are members). So: at once after a held joiner's slot, at the refresh that comes due again
   * after a held refresh, and once an exclusion the restart undid is made again.
   */
  private republishHeld(): void {
    if (this.republishing || this.heldOwn.length === 0 || this.stopped) return;
    const tek = this.engine.tekInfo();
    if (this.engine.state() !== 'member' || !tek) return;
    this.republishing = true;
    try {
      const readers = this.otherMembers();
      for (;;) {
        const next = this.heldOwn[0];
        if (!next || next.m.k > tek.version || !readers.every((key) => next.writtenFor.includes(key))) break;
        const m = this.heldOwn.shift()!.m;
        this.sendPayload(encodePayload({ v: 2, t: 'msg', m }), this.host.now(), { a: m.a, s: m.s, k: m.k });
      }
    } catch (err) {
      this.host.log(`group ${this.group.slice(0, 8)}: a held message not published again (${err instanceof Error ? err.name : 'error'})`);
    } finally {
      this.republishing = false;
    }
  }

  /** Sends one transmit the engine made (now, or once a held key turn is saved: unsaved-hold.ts). */
  private transmit({ t, at, tag }: Outgoing): void {
    if (t.kind === 'unicast') {
      this.host.unicast(this.group, t.to, t.bytes);
      return;
    }
    this.host.publish(this.group, t.topic, t.bytes);
    // Sent under a saved key (not past the hold's bound under the unsaved one): no longer to publish again.
    if (t.topic === 'data' && tag !== null && tag !== 'ephemeral' && tag.a === this.host.selfKey && tag.s > 0 && !this.unsavedHold.holding()) this.history.published(tag.s);
    if (t.topic === 'data' && tag !== 'ephemeral') {
      const item = { from: this.host.selfKey, bytes: t.bytes, at, tag };
      this.afterPublish(() => this.traffic.keep(item)).catch((err: unknown) => this.host.log(`group ${this.group.slice(0, 8)}: own data not kept: ${err instanceof Error ? err.name : 'error'}`));
    }
  }

  /** Whether this member holds a key it made (slot and version) that it did not hold when it last looked. */
  private madeNewKey(): boolean {
    const self = this.host.selfKey;
    const made = new Set(
      this.engine
        .exportKeyMaterial()
        .filter((k) => k.creators.includes(self))
        .map((k) => `${k.slot}:${k.version}`),
    );
    const before = this.keysMade;
    this.keysMade = made;
    for (const k of made) if (!before.has(k)) return true;
    return false;
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    const deadline = this.engine.nextDeadline();
    if (deadline === undefined) return;
    const delay = Math.min(Math.max(0, deadline - this.host.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.engine.tick(this.host.now());
      this.drive();
    }, delay);
  }

  /** Engine events → history, board re-share, client events, log lines. */
  private onEvent(ev: EngineEvent): void {
    const sink = this.host.events;
    const group = this.group;
    switch (ev.type) {
      case 'data':
        this.onData(ev.from, ev.payload, ev.sentAt, ev.tekVersion, ev.at, ev.packet);
        break;
      case 'undecryptable': {
        const a = this.undecryptableLimit.admit(ev.from, ev.sentAt, this.host.now());
        this.noteHeldBack(a, 'undecryptable packet placeholders');
        if (a.show) sink.emit('chat.undecryptable', { group, sender: this.host.peerIdOf(ev.from), sentAt: ev.sentAt, receivedAt: ev.at });
        break;
      }
      case 'member-admitted':
        sink.emit('group.member', { group, peerId: this.host.peerIdOf(ev.member), change: 'joined' });
        // Learnt late (roster catch-up): what it sent before was refused here; reconcile to get it
        // (review 39: a restarted newcomer's first message never reached the member that missed it).
        if (this.refusedStrangers.delete(ev.member)) this.onSyncNeeded?.('gap');
        if (ev.by === this.host.selfKey) this.boardShare.admitted(this.engine.keyTable(this.host.now()).tek?.owner === this.host.selfKey, ev.member);
        break;
      case 'member-excluded':
        // The rekey after a leave blocks the leaver too (its keys are replaced), and the engine
        // keeps it as `left`: it was not removed, and its leave was told already, or is told now
        // when this table carried it (`leftHere`).
        for (const m of ev.members) {
          const change = this.engine.rosterState(m) !== 'left' ? 'excluded' : ev.leftHere.includes(m) ? 'left' : null;
          if (change) sink.emit('group.member', { group, peerId: this.host.peerIdOf(m), change });
        }
        this.host.memberDeparted?.(this);
        break;
      case 'member-reinstated':
        for (const m of ev.members) sink.emit('group.member', { group, peerId: this.host.peerIdOf(m), change: 'reinstated' });
        break;
      case 'member-left':
        sink.emit('group.member', { group, peerId: this.host.peerIdOf(ev.member), change: 'left' });
        this.host.memberDeparted?.(this);
        break;
      case 'self-excluded':
        sink.emit('group.excluded', { group, by: this.host.peerIdOf(ev.by) });
        break;
      case 'key-changed':
        sink.emit('keys.changed', { group, reason: ev.reason });
        // The TEK's holder steps its revision for the newcomer: share under the stepped key.
        if (ev.slot.kind === 'tek') this.boardShare.tekStepped();
        // Messages under a TEK this member lacked are still missing: reconcile again.
        this.onSyncNeeded?.('keys');
        break;
      case 'join-progress': {
        const stage = ev.stage === 'listening' ? 'looking-lan' : ev.stage === 'requesting' ? 'reaching-peers' : ev.stage;
        sink.emit('group.joinProgress', { group, stage });
        break;
      }
      case 'joined':
        sink.emit('group.joinProgress', { group, stage: 'keys-received' });
        break;
      case 'join-refused':
        sink.emit('group.joinProgress', { group, stage: 'failed', detail: ev.reason.slice(0, 200) });
        break;
      case 'rejected': {
        if (this.feedingCatchUp && ev.reason === 'replay') break; // reconciliation re-sends what is held
        this.noteRefusal(ev, 'rejected input', false);
        break;
      }
      default:
        break;
    }
  }

  /** One log line when a window first holds something back, one with the count when the next opens. */
  private noteHeldBack(a: Admission, what: string): void {
    const g = this.group.slice(0, 8);
    if (a.closed) this.host.log(`group ${g}: ${a.closed.hidden} ${what} held back last minute (from ${a.closed.keysAtLeast ? 'over ' : ''}${a.closed.keys} source(s))`);
    if (a.firstHidden) this.host.log(`group ${g}: too many ${what} this minute: the rest are held back`);
  }

  private onData(from: MemberKey, bytes: Uint8Array, sentAt: number, tekVersion: number, at: number, packet: DataPacket): void {
    // Who answers for what this packet holds, when not its carrier (noteRefusal): the catch-up server
    // that brought it, now or before its key came (review 42: one that opened later was put on the
    // author the server had named).
    const current = this.isCurrentInput(from, packet);
    this.packetOrigin = current ? (this.feedingCatchUp ? (this.catchUpServer ?? undefined) : undefined) : this.unopened.originOf(from, packet);
    try {
      this.onPayload(from, bytes, tekVersion, at, packet, current);
    } finally {
      this.packetOrigin = undefined;
    }
  }

  private onPayload(from: MemberKey, bytes: Uint8Array, tekVersion: number, at: number, packet: DataPacket, current: boolean): void {
    const payload = decodePayload(bytes);
    if (!payload) {
      this.refuse(from, 'decode', 'undecodable or unsigned application payload', at);
      return;
    }
    const ctx: AuthorshipContext = { group: this.group, crypto: nodeCrypto, rosterState: (key) => this.engine.rosterState(key) ?? undefined, now: at };
    if (payload.t === 'rcpt') {
      this.receivedEphemeral = true;
      const verdict = checkReceipt(ctx, payload.r, from, this.feedingCatchUp ? 'catch-up' : this.isCurrentInput(from, packet) ? 'live' : 'buffered');
      if (!verdict.ok) return this.refuse(from, verdict.reason, verdict.detail, at);
      this.history.confirmed(from, verdict.entries);
      // A fellow member holds what this one lacks and no later message may show it: a gap.
      const revealed = verdict.entries.filter(([author, , hi]) => this.history.hint(author, hi, at));
      if (revealed.length > 0 && !this.feedingCatchUp) {
        this.noteSync(at, `gap found: a receipt from ${from.slice(0, 12)} shows messages of ${revealed.length} author(s) after the last held here`);
        this.onSyncNeeded?.('gap');
      }
      return;
    }
    if (payload.t === 'msg') {
      const verdict = checkAuthorship(ctx, payload.m, { from, tekVersion, boardShare: false });
      if (!verdict.ok) {
        if (verdict.reason === 'bad-signature' && current) this.inputForged = true;
        return this.refuse(from, verdict.reason, verdict.detail, at);
      }
      // Named by its roster entry, never by a name in the message (peer/names.ts).
      // Kept for catch-up only when the history took it: a refused equivocation served on gave an
      // asker both versions of one number, in the server's order (review 29; §12.1 "refused … dropped").
      // Published now, or published earlier and held here until its key came: its arrival bounds its time.
      const liveSince = this.feedingCatchUp ? null : current ? at : this.unopened.liveSince(from, packet);
      if (this.keepReceived(payload.m, from, this.nameOf(from, verdict.body.t === 'chat' ? verdict.body.name : ''), at, false, liveSince)) this.opened(from, packet, { a: payload.m.a, s: payload.m.s, k: tekVersion });
      return;
    }
    // A member re-shared the board or the latest files for a newcomer: each item as its author signed it.
    const files = payload.t === 'files';
    const checked = new Set<string>();
    for (const m of payload.items) {
      // What is held already is not checked again: every member receives every re-share, and
      // each item cost an Ed25519 verify (review 32: about 180 per 64 KiB packet, against one for a chat message).
      // Nor is an item met earlier in this packet (review 40: one item repeated cost a verify per copy).
      if (this.history.isHeldCopy(m) || checked.has(m.sig)) continue;
      checked.add(m.sig);
      const verdict = checkAuthorship(ctx, m, { from, tekVersion, boardShare: !files, fileShare: files });
      if (!verdict.ok) {
        this.refuse(from, verdict.reason, `re-shared ${files ? 'file message' : 'stroke'}: ${verdict.detail}`, at);
        // A forged signature is never an honest sharer's: the rest of the packet is not checked, and
        // its verdict is `reject` (review 40: an insider's packet of forged items cost every member a
        // verify per item, and gossipsub forwarded it).
        if (verdict.reason === 'bad-signature') {
          if (current) this.inputForged = true;
          break;
        }
        continue;
      }
      // A re-share brings a newcomer what was said before it joined. A file message dated after this
      // member joined comes to it live or by reconciliation, where its time is bounded; taken from a
      // re-share, an insider's own file message dated hours back was listed in a stretch of the
      // conversation this member had seen (review 34). Not taken, not counted against the sharer
      // (an honest admitter re-shares a newcomer the latest files, which this member may lack).
      if (files && verdict.body.t === 'file' && datedAfterJoin(m.at, this.ownJoinTime())) continue;
      this.keepReceived(m, from, this.nameOf(m.a), at, true);
    }
    // Not kept for catch-up: a received re-share is served to nobody (its newcomers ask the sharer),
    // and kept it counted against the packets that are (review 40: an insider's stream of empty
    // re-shares pushed every genuine message out of every member's traffic log). One buffered for
    // its key and opened now is dropped from that buffer.
    if (!current) this.unopened.take(from, packet);
  }

  /** The label a member's messages are shown under (peer/names.ts): its roster name, marked when another member shares it. */
  nameOf(key: MemberKey, claimed = ''): string {
    const selfName = this.host.displayName();
    let c = this.names;
    if (!c || c.entries !== this.engine.rosterEntries() || c.selfName !== selfName || !c.names.knows(key)) {
      c = { names: new MemberNames(this.engine.members(), this.host.selfKey, selfName), entries: this.engine.rosterEntries(), selfName };
      this.names = c;
    }
    // A sender whose roster entry has no name yet (a newcomer whose admission is news here) goes by the name its message claims, marked when taken.
    return c.names.named(key) ? c.names.label(key) : c.names.labelUnlisted(key, claimed);
  }

  /** `shared`: it came in a board or file re-share (from before this member's admission, maybe: opens no gap). */
  /** Keeps a message that passed its checks in the history; false when the history refused it (an equivocation). */
  private keepReceived(m: SignedMessage, from: MemberKey, name: string, at: number, shared = false, liveSince: number | null = null): boolean {
    const lastHeld = this.history.lastReadableOf(m.a); // re-shared numbers from before this member's admission open no gap
    const result = this.history.keep(m, this.host.peerIdOf(m.a), name, at, undefined, shared, earliestSendTime({ at, authorAdmittedAt: this.engine.rosterAdmittedAt(m.a), authorLearnedAt: this.engine.rosterLearnedAt(m.a), ownJoin: this.ownJoinTime(), liveSince }));
    // Both proven by the author's own signature: its fault, whoever carried or served it (review 42).
    if (result === 'equivocation') {
      this.refuse(m.a, 'invalid', `a second message under ${m.a.slice(0, 12)}'s number ${m.s}`, at, true);
      return false;
    }
    if (result === 'not-author') this.refuse(m.a, 'invalid', `${m.a.slice(0, 12)} edits or deletes a message it did not write (held for numbering, not applied)`, at, true);
    // A number beyond the next expected one (less what its author declared skipped) shows a gap.
    const expected = m.skip && m.skip[0] <= lastHeld + 1 ? Math.max(lastHeld + 1, m.skip[1] + 1) : lastHeld + 1;
    if (result === 'kept' && lastHeld > 0 && m.s > expected && !this.feedingCatchUp) {
      this.noteSync(at, `gap found: ${m.a.slice(0, 12)} ${m.s - expected} message(s) before number ${m.s}`);
      this.onSyncNeeded?.('gap');
    }
    return true;
  }

  /** When this member joined (message-times.ts `ownJoinTime`). */
  private ownJoinTime(): number {
    return ownJoinTime(this.record.joinedAt, this.engine.rosterAdmittedAt(this.host.selfKey));
  }

  /** A refused application message: dropped, counted in the rejection log, logged; never shown. */
  /** `authorProven`: `from` is the author whose own signature proves the fault (put on it wherever the packet came from). */
  private refuse(from: MemberKey, reason: RejectReason, detail: string, at: number, authorProven = false): void {
    this.noteRefusal({ type: 'rejected', from, reason, detail, at }, 'refused application message', true, authorProven);
  }

  /**
   * A refusal, for the key panel and the log. Fed by reconciliation, the author a packet names is
   * its server's word (catch-up.ts), so nothing is put on that author (review 40: a server made an
   * honest member read red as a forger by serving forgeries in its name): what an honest server
   * never serves (bytes that do not decode or open, a bad signature, a message carried by another)
   * is put on the server, and what an honest one may (an author not known, or blocked, here; an
   * old key) is not shown. Log lines share the engine's per-minute budget (review 29: one re-share
   * of 150 strangers' items wrote 150 lines).
   */
  private noteRefusal(ev: Extract<EngineEvent, { type: 'rejected' }>, what: string, logDetail: boolean, authorProven = false): void {
    this.noteStranger(ev.from, ev.reason);
    const origin = this.packetOrigin !== undefined ? this.packetOrigin : this.feedingCatchUp ? (this.catchUpServer ?? undefined) : undefined;
    if (origin !== undefined && !authorProven) {
      // null: brought by a server not known any more; nothing is put on anyone.
      if (origin === null || !SERVER_FAULTS.has(ev.reason)) return;
      ev = { ...ev, from: origin, detail: `served in ${ev.from.slice(0, 12)}'s name: ${ev.detail}` };
    }
    this.rejections.note(ev);
    const a = this.rejectedLogLimit.admit(`${ev.reason} ${ev.from}`, null, this.host.now());
    this.noteHeldBack(a, 'log lines of rejected input (the key panel counts them all)');
    if (a.show) this.host.log(`group ${this.group.slice(0, 8)}: ${what} from ${ev.from.slice(0, 12)}: ${ev.reason}${logDetail ? `: ${ev.detail}` : ''}`);
  }

  /** `from`'s input was refused as from no member: if it turns out to be one (admitted, learnt late), reconcile (`refusedStrangers`). */
  private noteStranger(from: MemberKey, reason: RejectReason): void {
    if (reason !== 'not-member') return;
    if (this.refusedStrangers.size >= MAX_REFUSED_STRANGERS) this.refusedStrangers.clear();
    this.refusedStrangers.add(from);
  }

  /** An entry for the key panel's log (reconciliation: gaps found and closed). */
  noteSync(at: number, text: string): void {
    this.syncLog.push({ at, kind: 'catch-up', text });
    if (this.syncLog.length > 50) this.syncLog.shift();
  }

  /**
   * Gossip and unicast streams are not ordered with respect to each other: an
   * announcement (say, another newcomer's admission) can overtake this member's
   * own Admit, and a joining engine drops it. Re-offer, in arrival order, the
   * control messages seen while joining once the engine is a member; the engine
   * ignores the ones it already applied.
   */
  private replayEarlyControl(): void {
    for (const item of this.earlyControl.take()) {
      if (this.stopped || this.engine.state() !== 'member') return;
      this.engine.receive(item.from, 'control', item.bytes, this.host.now());
      this.drive();
    }
  }

  // ── catch-up and views ───────────────────────────────────────────────────

  /** The kept traffic (catch-up serves from it). */
  get trafficLog(): TrafficLog {
    return this.traffic;
  }

  /** What this member holds and lacks, per author (reconciliation). */
  get held(): GroupHistory {
    return this.history;
  }

  /** How many data messages are kept for catch-up. */
  trafficKept(): number {
    return this.traffic.size;
  }

  chatHistory(limit: number): ChatMessage[] {
    return this.history.chatHistory(limit);
  }

  board(): BoardStroke[] {
    return this.history.board();
  }

  boardEntries(): BoardEntry[] {
    return this.history.boardEntries();
  }

  unread(): number {
    return this.history.unread(this.host.peerIdOf(this.host.selfKey), this.record.lastReadAt);
  }

  // ── persistence and stop ─────────────────────────────────────────────────

  /** Writes the group's state file now if it changed (see state-file.ts). */
  save(): void {
    this.stateFile.save();
  }

  /** Why this device's copy of the group's state is behind (its last write failed), null when it is current. */
  unsaved(): string | null {
    return this.stateFile.unsaved();
  }

  /** A group's first write: on failure this runtime stops, writing nothing, and the write's error is thrown. */
  saveOrAbandon(): void {
    try {
      this.stateFile.saveOrThrow();
    } catch (err) {
      this.stateFile.discard();
      this.stop();
      throw err;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.persistPublished();
    this.history.releaseOwnSeqs();
    this.stateFile.stop();
    this.stopped = true;
    this.unsavedHold.clear();
    this.receipts.stop();
    this.boardShare.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function newGroupRecord(group: string, name: string, now: number): GroupRecord {
  return { group, name, joinedAt: now, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot: null };
}

export { GroupEngine };
