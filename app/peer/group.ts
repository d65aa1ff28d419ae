/**
 * @module peer/group
 * One group as a running peer holds it: its engine, driven sans-I/O style
 * (STYLE §1, §5) — after every input drain `pollTransmit`, then `pollEvent`, then
 * arm ONE timer at `nextDeadline` — and the engine's events turned into what
 * the group keeps and what clients see. What it keeps lives beside it:
 * `history.ts` (chat and board), `traffic.ts` (kept ciphertexts for catch-up,
 * issue 5 §7), `state-file.ts` (when the state is saved), `board-share.ts` (the
 * board for a newcomer) and `admission.ts` (who gets in, seed 001).
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
 *   event reaches clients; what this member publishes is persisted once the
 *   publish has reached the sockets (`afterPublish`), and at stop at the latest.
 * - Control messages seen while joining are re-offered, in arrival order, once
 *   the engine is a member (gossip can overtake this member's own Admit).
 */
import { randomBytes } from 'node:crypto';
import { GroupEngine, type EngineDeps } from '../core/engine.js';
import type { EngineEvent, MemberKey, RejectReason } from '../core/types.js';
import { nobleCrypto, systemRng } from '../crypto/noble.js';
import type { BoardStroke, ChatMessage, Stroke } from '../api/contract.js';
import type { EventSink } from '../api/handler.js';
import type { GroupRecord, Profile } from '../store/profile.js';
import { memberKeyOfPeer } from '../net/ids.js';
import { decodePayload, encodePayload } from './payload.js';
import { admit } from './admission.js';
import { BoardShare } from './board-share.js';
import { GroupHistory } from './history.js';
import { StateFile } from './state-file.js';
import { TrafficLog, type TrafficItem } from './traffic.js';
import { RejectionLog } from './key-panel.js';

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
  /** Called once the engine reports this member is in (catch-up, mesh, invite ledger). */
  onMember(group: GroupRuntime): void;
  /** The group's invite ledger changed here (an admission counted a use): tell fellow members (issue 15 §2). */
  invitesChanged?(group: GroupRuntime): void;
  log(line: string): void;
}

export type Verdict = 'accept' | 'reject' | 'ignore';

/** Reasons that mean the sender sent garbage (gossipsub Reject → peer score penalty). */
const HARD_REJECT = new Set<RejectReason>(['decode', 'wire-version', 'wrong-group', 'bad-signature', 'invalid']);

const MAX_EARLY_CONTROL = 512;
const SELF_NAME_FALLBACK = 'anonymous';

export type EngineFactory = (deps: EngineDeps) => GroupEngine;

export class GroupRuntime {
  readonly engine: GroupEngine;
  readonly group: string;
  /** Refused inputs, counted per (reason, sender), for the key panel's live log. */
  readonly rejections = new RejectionLog();
  private readonly history: GroupHistory;
  private readonly traffic: TrafficLog;
  private readonly stateFile: StateFile;
  private readonly boardShare: BoardShare;
  private earlyControl: TrafficItem[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Persistence of what this member published in the current turn (afterPublish). */
  private published: (() => void)[] = [];
  private stopped = false;
  private wasMember: boolean;
  /** The last `receive` opened a data message of its sender (row D1's proof; the transport's membership check reads it). */
  lastInputOpened = false;

  constructor(
    private readonly host: GroupHost,
    readonly record: GroupRecord,
    factory: EngineFactory,
    keepTraffic: number,
  ) {
    const deps: EngineDeps = {
      crypto: nobleCrypto,
      rng: systemRng,
      admission: {
        check: (request, now) =>
          admit(
            {
              group: this.group,
              record: this.record,
              selfKey: this.host.selfKey,
              allowlisted: (key) => this.host.allowlisted(key),
              isCurrentMember: (key) => this.engine.members().some((m) => m.key === key && m.state === 'member'),
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
    this.group = this.engine.group;
    this.record.group = this.group;
    this.wasMember = this.engine.state() === 'member';
    this.history = new GroupHistory(host.profile, this.group, host.events);
    this.traffic = new TrafficLog(host.profile, this.group, keepTraffic);
    this.stateFile = new StateFile(host.profile, record, () => this.engine.snapshot(), (line) => host.log(line));
    this.boardShare = new BoardShare({
      now: () => host.now(),
      canShare: () => !this.stopped && this.engine.state() === 'member',
      strokes: () => this.history.boardStrokes(),
      send: (payload) => this.sendPayload(payload, host.now()),
      log: (line) => host.log(`group ${this.group.slice(0, 8)}: ${line}`),
    });
  }

  // ── inputs ────────────────────────────────────────────────────────────────

  /** Bytes from an authenticated peer; the verdict feeds gossipsub's validator. */
  receive(from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array, fromCatchUp = false): Verdict {
    if (this.stopped) return 'ignore';
    if (this.record.blocklist.includes(from)) return 'ignore';
    const now = this.host.now();
    const joining = this.engine.state() === 'joining' || this.engine.state() === 'listening';
    if (joining && channel === 'control' && this.earlyControl.length < MAX_EARLY_CONTROL) this.earlyControl.push({ from, bytes, at: now });
    this.engine.receive(from, channel, bytes, now);
    const events = this.drive();
    let verdict: Verdict = 'accept';
    this.lastInputOpened = events.some((ev) => ev.type === 'data' && ev.from === from);
    for (const ev of events) {
      if (ev.type === 'rejected' && ev.from === from) verdict = HARD_REJECT.has(ev.reason) ? 'reject' : 'ignore';
    }
    // Kept for catch-up even when this member cannot read it: others may (issue 5 §7).
    // Catch-up input is kept too, so a member that caught up can serve the next one.
    if (channel === 'data' && verdict === 'accept') this.traffic.keep({ from, bytes, at: now });
    void fromCatchUp;
    return verdict;
  }

  /** Publishes a chat message; resolves once it is in this member's history (fsynced). */
  sendChat(text: string): Promise<ChatMessage> {
    const id = randomBytes(16).toString('hex');
    const now = this.host.now();
    const name = this.host.displayName();
    this.sendPayload(encodePayload({ v: 1, t: 'chat', id, text, name }), now);
    const message: ChatMessage = { id, group: this.group, sender: this.host.peerIdOf(this.host.selfKey), senderName: name, text, sentAt: now, receivedAt: now };
    return this.afterPublish(() => {
      this.history.recordChat(message);
      return message;
    });
  }

  /** Publishes a stroke; resolves once it is in this member's history (fsynced). */
  draw(stroke: Stroke): Promise<void> {
    const id = randomBytes(16).toString('hex');
    const now = this.host.now();
    this.sendPayload(encodePayload({ v: 1, t: 'stroke', id, stroke }), now);
    return this.afterPublish(() => this.history.recordStroke(id, { group: this.group, sender: this.host.peerIdOf(this.host.selfKey), stroke, sentAt: now }));
  }

  /**
   * Runs `job` (persisting what this member just published) once the publish has
   * reached the sockets: gossipsub signs, frames, encrypts and writes in promise
   * continuations, which all run before a setImmediate callback. The history and
   * traffic logs fsync every record; done before the publish, those flushes sat
   * between a message's sentAt and the wire (two per message, tens of ms each
   * when the disk is busy). Jobs left at stop() run there.
   */
  private afterPublish<T>(job: () => T): Promise<T> {
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

  private sendPayload(payload: Uint8Array, now: number): void {
    this.engine.send(payload, now);
    this.drive();
  }

  // ── the polling loop ──────────────────────────────────────────────────────

  /** Drain transmits, then events, then arm the one timer. Returns the events seen. */
  drive(): EngineEvent[] {
    const now = this.host.now();
    for (let t = this.engine.pollTransmit(); t; t = this.engine.pollTransmit()) {
      if (t.kind === 'publish') {
        this.host.publish(this.group, t.topic, t.bytes);
        if (t.topic === 'data') {
          const item = { from: this.host.selfKey, bytes: t.bytes, at: now };
          this.afterPublish(() => this.traffic.keep(item)).catch((err: unknown) => this.host.log(`group ${this.group.slice(0, 8)}: own data not kept: ${err instanceof Error ? err.name : 'error'}`));
        }
      } else {
        this.host.unicast(this.group, t.to, t.bytes);
      }
    }
    const events: EngineEvent[] = [];
    for (let ev = this.engine.pollEvent(); ev; ev = this.engine.pollEvent()) {
      events.push(ev);
      this.onEvent(ev);
    }
    this.armTimer();
    this.stateFile.schedule();
    if (!this.wasMember && this.engine.state() === 'member') {
      this.wasMember = true;
      setImmediate(() => this.replayEarlyControl());
      this.host.onMember(this);
    }
    return events;
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
        this.onData(ev.from, ev.payload, ev.sentAt, ev.at);
        break;
      case 'undecryptable':
        sink.emit('chat.undecryptable', { group, sender: this.host.peerIdOf(ev.from), sentAt: ev.sentAt, receivedAt: ev.at });
        break;
      case 'member-admitted':
        sink.emit('group.member', { group, peerId: this.host.peerIdOf(ev.member), change: 'joined' });
        if (ev.by === this.host.selfKey) this.boardShare.admitted(this.engine.keyTable(this.host.now()).tek?.owner === this.host.selfKey);
        break;
      case 'member-excluded':
        for (const m of ev.members) sink.emit('group.member', { group, peerId: this.host.peerIdOf(m), change: 'excluded' });
        break;
      case 'member-left':
        sink.emit('group.member', { group, peerId: this.host.peerIdOf(ev.member), change: 'left' });
        break;
      case 'self-excluded':
        sink.emit('group.excluded', { group, by: this.host.peerIdOf(ev.by) });
        break;
      case 'key-changed':
        sink.emit('keys.changed', { group, reason: ev.reason });
        // The TEK's holder steps its revision for the newcomer: share under the stepped key.
        if (ev.slot.kind === 'tek') this.boardShare.tekStepped();
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
      case 'rejected':
        this.rejections.note(ev);
        this.host.log(`group ${group.slice(0, 8)}: rejected input from ${ev.from.slice(0, 12)}: ${ev.reason}`);
        break;
      default:
        break;
    }
  }

  private onData(from: MemberKey, bytes: Uint8Array, sentAt: number, at: number): void {
    const payload = decodePayload(bytes);
    if (!payload) {
      this.host.log(`group ${this.group.slice(0, 8)}: undecodable application payload from ${from.slice(0, 12)}`);
      return;
    }
    this.record.lastDataAt = Math.max(this.record.lastDataAt, sentAt);
    const sender = this.host.peerIdOf(from);
    if (payload.t === 'chat') {
      const name = this.engine.members().find((m) => m.key === from)?.name || payload.name || SELF_NAME_FALLBACK;
      this.history.recordChat({ id: payload.id, group: this.group, sender, senderName: name, text: payload.text, sentAt, receivedAt: at });
    } else if (payload.t === 'stroke') {
      this.history.recordStroke(payload.id, { group: this.group, sender, stroke: payload.stroke, sentAt });
    } else {
      // A member re-shared the board for a newcomer: its strokes keep their authors and IDs.
      for (const item of payload.items) {
        if (memberKeyOfPeer(item.sender) === null) continue;
        this.history.recordStroke(item.mid, { group: this.group, sender: item.sender, stroke: item.stroke, sentAt: item.sentAt });
      }
    }
  }

  /**
   * Gossip and unicast streams are not ordered with respect to each other: an
   * announcement (say, another newcomer's admission) can overtake this member's
   * own Admit, and a joining engine drops it. Re-offer, in arrival order, the
   * control messages seen while joining once the engine is a member; the engine
   * ignores the ones it already applied.
   */
  private replayEarlyControl(): void {
    const early = this.earlyControl;
    this.earlyControl = [];
    for (const item of early) {
      if (this.stopped || this.engine.state() !== 'member') return;
      this.engine.receive(item.from, 'control', item.bytes, this.host.now());
      this.drive();
    }
  }

  // ── catch-up and views ───────────────────────────────────────────────────

  /** Kept traffic received at or after `since`, oldest first, capped (catch-up serves it). */
  trafficSince(since: number, max: number): TrafficItem[] {
    return this.traffic.since(since, max);
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

  unread(): number {
    return this.history.unread(this.host.peerIdOf(this.host.selfKey), this.record.lastReadAt);
  }

  // ── persistence and stop ─────────────────────────────────────────────────

  /** Writes the group's state file now if it changed (see state-file.ts). */
  save(): void {
    this.stateFile.save();
  }

  stop(): void {
    if (this.stopped) return;
    this.persistPublished();
    this.stateFile.stop();
    this.stopped = true;
    this.boardShare.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function newGroupRecord(group: string, name: string, now: number): GroupRecord {
  return { group, name, joinedAt: now, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot: null };
}

export { GroupEngine };
