/**
 * @module peer/group
 * One group as a running peer holds it: its engine, driven sans-I/O style
 * (STYLE §1, §5) — after every input drain `pollTransmit`, then `pollEvent`, then
 * arm ONE timer at `nextDeadline` — plus the group's history, whiteboard, kept
 * encrypted traffic (catch-up, issue 5 §7) and admission policy (seed 001).
 *
 * Invariants:
 * - The engine sees only authenticated senders: the caller passes gossipsub's
 *   signed `from` or the Noise-authenticated stream peer.
 * - Data the engine cannot decrypt yet is buffered by the engine itself and
 *   re-tried when keys arrive; this module only turns the outcome into events.
 * - Chat and strokes are deduplicated by (sender, message ID), so live delivery,
 *   re-delivery and catch-up never show a message twice.
 * - Every received message is appended (fsynced) to the history log before its
 *   event reaches clients; engine state is saved shortly after every change and
 *   on stop — only when it changed: most inputs (heartbeats above all) leave it as
 *   it was, and a change to nothing but `lastDataAt` is saved within 10 s.
 * - Admission (001: only holders of an authenticated credential or listed peers
 *   get keys): a valid, unexpired invite signed by a current member, for this
 *   group, within its use limit as counted by this member; or an allowlisted key
 *   (then any credential will do).
 *   Blocklisted keys are always refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GroupEngine, type AdmissionDecision, type AdmissionRequest, type EngineDeps } from '../core/engine.js';
import type { EngineEvent, MemberKey, RejectReason } from '../core/types.js';
import { nobleCrypto, systemRng } from '../crypto/noble.js';
import type { BoardStroke, ChatMessage, Stroke } from '../api/contract.js';
import type { EventSink } from '../api/handler.js';
import type { GroupRecord, Profile } from '../store/profile.js';
import { fromBase64, toBase64 } from '../store/seal.js';
import { decodePayload, encodePayload } from './payload.js';
import { parseInvite } from './invite.js';
import { boardState } from './board.js';
import { memberKeyOfPeer } from '../net/ids.js';
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
  /** Called once the engine reports this member is in (catch-up, mesh). */
  onMember(group: GroupRuntime): void;
  log(line: string): void;
}

export interface TrafficItem {
  from: MemberKey;
  bytes: Uint8Array;
  at: number;
}

export type Verdict = 'accept' | 'reject' | 'ignore';

/** Reasons that mean the sender sent garbage (gossipsub Reject → peer score penalty). */
const HARD_REJECT = new Set<RejectReason>(['decode', 'wire-version', 'wrong-group', 'bad-signature', 'invalid']);

const SAVE_DELAY_MS = 150;
/**
 * `lastDataAt` moves with every data message; catch-up asks from five minutes
 * before it, so a crash that loses its last few seconds loses nothing. Changes to
 * it alone are saved this long after, not 150 ms after.
 */
const LAZY_SAVE_MS = 10_000;
const MAX_EARLY_CONTROL = 512;
const BOARD_SHARE_DELAY_MS = 1500;
const BOARD_SHARE_SETTLE_MS = 700;
const BOARD_SHARE_MAX_WAIT_MS = 6000;
const BOARD_CHUNK_BYTES = 56 * 1024;
const SELF_NAME_FALLBACK = 'anonymous';

export type EngineFactory = (deps: EngineDeps) => GroupEngine;

function parseTraffic(value: unknown): TrafficItem | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { from?: unknown; b?: unknown; at?: unknown };
  if (typeof v.from !== 'string' || !/^[0-9a-f]{64}$/.test(v.from) || typeof v.b !== 'string' || typeof v.at !== 'number') return null;
  const bytes = fromBase64(v.b);
  return bytes ? { from: v.from, bytes, at: v.at } : null;
}

type HistoryRecord = { kind: 'chat'; message: ChatMessage } | { kind: 'stroke'; stroke: BoardStroke };

function parseHistory(value: unknown): HistoryRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { kind?: unknown };
  if (v.kind === 'chat' || v.kind === 'stroke') return value as HistoryRecord;
  return null;
}

export class GroupRuntime {
  readonly engine: GroupEngine;
  readonly group: string;
  readonly history = new Map<string, ChatMessage>();
  /** (sender, message ID) → stroke; the message ID travels with re-shared boards. */
  readonly strokes = new Map<string, BoardStroke & { mid: string }>();
  /** Refused inputs, counted per (reason, sender), for the key panel's live log. */
  readonly rejections = new RejectionLog();
  traffic: TrafficItem[] = [];
  private readonly trafficSeen = new Set<string>();
  private earlyControl: TrafficItem[] = [];
  private shareTimer: NodeJS.Timeout | null = null;
  private shareDeadline = 0;
  private timer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private lazySaveTimer: NodeJS.Timeout | null = null;
  /** The record as last written, without `lastDataAt` (JSON), and that `lastDataAt`. */
  private saved: { contents: string; lastDataAt: number } | null = null;
  /** Persistence of what this member published in the current turn (afterPublish). */
  private published: (() => void)[] = [];
  private stopped = false;
  private wasMember: boolean;

  constructor(
    private readonly host: GroupHost,
    readonly record: GroupRecord,
    factory: EngineFactory,
    private readonly keepTraffic: number,
  ) {
    const deps: EngineDeps = {
      crypto: nobleCrypto,
      rng: systemRng,
      admission: { check: (request, now) => this.admit(request, now) },
    };
    this.engine = factory(deps);
    this.group = this.engine.group;
    this.record.group = this.group;
    this.wasMember = this.engine.state() === 'member';
    this.loadLogs();
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
    for (const ev of events) {
      if (ev.type === 'rejected' && ev.from === from) verdict = HARD_REJECT.has(ev.reason) ? 'reject' : 'ignore';
    }
    // Kept for catch-up even when this member cannot read it: others may (issue 5 §7).
    // Catch-up input is kept too, so a member that caught up can serve the next one.
    if (channel === 'data' && verdict === 'accept') this.keep({ from, bytes, at: now });
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
      this.recordChat(message);
      return message;
    });
  }

  /** Publishes a stroke; resolves once it is in this member's history (fsynced). */
  draw(stroke: Stroke): Promise<void> {
    const id = randomBytes(16).toString('hex');
    const now = this.host.now();
    this.sendPayload(encodePayload({ v: 1, t: 'stroke', id, stroke }), now);
    return this.afterPublish(() => this.recordStroke(id, { group: this.group, sender: this.host.peerIdOf(this.host.selfKey), stroke, sentAt: now }));
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

  addContacts(contacts: MemberKey[]): void {
    if (this.engine.state() === 'joining' || this.engine.state() === 'listening') {
      this.engine.addContacts(contacts, this.host.now());
      this.drive();
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
          this.afterPublish(() => this.keep(item)).catch((err: unknown) => this.host.log(`group ${this.group.slice(0, 8)}: own data not kept: ${err instanceof Error ? err.name : 'error'}`));
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
    this.scheduleSave();
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
        if (ev.by === this.host.selfKey) {
          // The newcomer reads only what is sealed under the TEK revision stepped for it. The
          // TEK's holder stepped it while granting; any other admitter waits for the holder's
          // step to reach it (key-changed, below), at most 6 s: after a fixed 1.5 s it shared
          // the board under the old revision whenever the step took longer (a busy machine).
          const holdsTek = this.engine.keyTable(this.host.now()).tek?.owner === this.host.selfKey;
          this.scheduleBoardShare(holdsTek ? BOARD_SHARE_DELAY_MS : BOARD_SHARE_MAX_WAIT_MS, true);
        }
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
        if (ev.slot.kind === 'tek' && this.shareTimer) this.scheduleBoardShare(BOARD_SHARE_SETTLE_MS, false);
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
      this.recordChat({ id: payload.id, group: this.group, sender, senderName: name, text: payload.text, sentAt, receivedAt: at });
    } else if (payload.t === 'stroke') {
      this.recordStroke(payload.id, { group: this.group, sender, stroke: payload.stroke, sentAt });
    } else {
      // A member re-shared the board for a newcomer: its strokes keep their authors and IDs.
      for (const item of payload.items) {
        if (memberKeyOfPeer(item.sender) === null) continue;
        this.recordStroke(item.mid, { group: this.group, sender: item.sender, stroke: item.stroke, sentAt: item.sentAt });
      }
    }
  }

  private recordChat(message: ChatMessage): void {
    const key = `${message.sender}:${message.id}`;
    if (this.history.has(key)) return;
    this.history.set(key, message);
    this.host.profile.append(this.group, 'history', { kind: 'chat', message });
    this.host.events.emit('chat.message', message);
  }

  private recordStroke(id: string, stroke: BoardStroke): void {
    const key = `${stroke.sender}:${id}`;
    if (this.strokes.has(key)) return;
    this.strokes.set(key, { ...stroke, mid: id });
    this.host.profile.append(this.group, 'history', { kind: 'stroke', id, stroke });
    this.host.events.emit('board.stroke', stroke);
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

  /**
   * A newcomer cannot read traffic from before its admission (the TEK revision
   * steps on every join, 003 [0070]), yet it should see the current board. The
   * member that admitted it re-shares the strokes now on the board, under the
   * current key, in chunks that fit one payload, once the TEK's revision step for
   * the newcomer has reached this member (or after 6 s). Chat history is not
   * re-shared.
   */
  private scheduleBoardShare(delayMs: number, fresh: boolean): void {
    const now = this.host.now();
    if (fresh || this.shareDeadline === 0) this.shareDeadline = now + BOARD_SHARE_MAX_WAIT_MS;
    if (this.shareTimer) clearTimeout(this.shareTimer);
    this.shareTimer = setTimeout(() => {
      this.shareTimer = null;
      this.shareDeadline = 0;
      this.shareBoard();
    }, Math.max(0, Math.min(delayMs, this.shareDeadline - now)));
  }

  private shareBoard(): void {
    if (this.stopped || this.engine.state() !== 'member') return;
    const items = boardState(this.strokes.values()).map((s) => ({ mid: s.mid, sender: s.sender, sentAt: s.sentAt, stroke: s.stroke }));
    let chunk: typeof items = [];
    let size = 0;
    const flush = (): void => {
      if (chunk.length === 0) return;
      try {
        this.sendPayload(encodePayload({ v: 1, t: 'board', id: randomBytes(16).toString('hex'), items: chunk }), this.host.now());
      } catch (err) {
        this.host.log(`group ${this.group.slice(0, 8)}: board not re-shared: ${err instanceof Error ? err.message : 'error'}`);
      }
      chunk = [];
      size = 0;
    };
    for (const item of items) {
      const bytes = JSON.stringify(item).length + 1;
      if (bytes > BOARD_CHUNK_BYTES) continue; // a single stroke too large to re-share
      if (size + bytes > BOARD_CHUNK_BYTES) flush();
      chunk.push(item);
      size += bytes;
    }
    flush();
  }

  // ── catch-up traffic ─────────────────────────────────────────────────────

  private keep(item: TrafficItem): void {
    const digest = createHash('sha256').update(item.bytes).digest('base64');
    if (this.trafficSeen.has(digest)) return;
    this.trafficSeen.add(digest);
    this.traffic.push(item);
    this.host.profile.append(this.group, 'traffic', { from: item.from, b: toBase64(item.bytes), at: item.at });
    if (this.traffic.length > this.keepTraffic * 2) {
      this.traffic = this.traffic.slice(-this.keepTraffic);
      this.trafficSeen.clear();
      for (const t of this.traffic) this.trafficSeen.add(createHash('sha256').update(t.bytes).digest('base64'));
      this.host.profile.rewrite(this.group, 'traffic', this.traffic.map((t) => ({ from: t.from, b: toBase64(t.bytes), at: t.at })));
    }
  }

  /** Kept traffic received at or after `since`, oldest first, capped. */
  trafficSince(since: number, max: number): TrafficItem[] {
    const items = this.traffic.filter((t) => t.at >= since);
    return items.slice(-max);
  }

  // ── admission (001) ──────────────────────────────────────────────────────

  private admit(request: AdmissionRequest, now: number): AdmissionDecision {
    if (this.record.blocklist.includes(request.member)) return { ok: false, reason: 'blocked' };
    if (this.host.allowlisted(request.member)) return { ok: true }; // 001: an authenticated list of permitted nodes
    let invite;
    try {
      invite = parseInvite(new TextDecoder().decode(request.credential), now);
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : 'bad invite' };
    }
    if (invite.group !== this.group) return { ok: false, reason: 'invite is for another group' };
    const inviterIsMember =
      invite.inviterKey === this.host.selfKey || this.engine.members().some((m) => m.key === invite.inviterKey && m.state === 'member');
    if (!inviterIsMember) return { ok: false, reason: 'invite was not issued by a current member' };
    const used = (this.record.inviteUses[invite.id] ??= []);
    if (!used.includes(request.member)) {
      if (used.length >= invite.uses) return { ok: false, reason: 'invite has been used up' };
      used.push(request.member);
      this.scheduleSave();
    }
    return { ok: true };
  }

  // ── views ────────────────────────────────────────────────────────────────

  chatHistory(limit: number): ChatMessage[] {
    const all = [...this.history.values()].sort((a, b) => a.sentAt - b.sentAt || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1));
    return all.slice(-limit);
  }

  board(): BoardStroke[] {
    return boardState(this.strokes.values()).map(({ mid: _mid, ...stroke }) => stroke);
  }

  unread(): number {
    const self = this.host.peerIdOf(this.host.selfKey);
    let n = 0;
    for (const m of this.history.values()) if (m.sender !== self && m.receivedAt > this.record.lastReadAt) n++;
    return n;
  }

  // ── persistence ──────────────────────────────────────────────────────────

  private loadLogs(): void {
    const history = this.host.profile.read(this.group, 'history', parseHistory);
    for (const r of history.records) {
      if (r.kind === 'chat') this.history.set(`${r.message.sender}:${r.message.id}`, r.message);
      else {
        const id = (r as unknown as { id?: string }).id ?? r.stroke.stroke.id;
        this.strokes.set(`${r.stroke.sender}:${id}`, { ...r.stroke, mid: id });
      }
    }
    const traffic = this.host.profile.read(this.group, 'traffic', parseTraffic);
    this.traffic = traffic.records.slice(-this.keepTraffic);
    for (const t of this.traffic) this.trafficSeen.add(createHash('sha256').update(t.bytes).digest('base64'));
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save(false);
    }, SAVE_DELAY_MS);
  }

  /**
   * Writes the group's state file (sealed, atomically, fsynced) if it changed
   * since the last write. Called 150 ms after every input the engine was driven
   * by: without the comparison, a member of a ten-member group rewrote and
   * fsynced an unchanged file several times a second (every heartbeat), which
   * stalled its event loop whenever the disk was busy. With `eager` false (the
   * timer), a change to `lastDataAt` alone is left for the lazy save.
   */
  save(eager = true): void {
    try {
      this.record.snapshot = toBase64(this.engine.snapshot());
      const { lastDataAt, ...rest } = this.record;
      const contents = JSON.stringify(rest);
      if (this.saved && this.saved.contents === contents) {
        if (this.saved.lastDataAt === lastDataAt) return;
        if (!eager) {
          this.lazySaveTimer ??= setTimeout(() => {
            this.lazySaveTimer = null;
            if (!this.stopped) this.save();
          }, LAZY_SAVE_MS);
          return;
        }
      }
      this.host.profile.saveGroup(this.record);
      this.saved = { contents, lastDataAt };
    } catch (err) {
      this.host.log(`group ${this.group.slice(0, 8)}: could not save state: ${err instanceof Error ? err.name : 'error'}`);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.persistPublished();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.lazySaveTimer) clearTimeout(this.lazySaveTimer);
    this.lazySaveTimer = null;
    this.save();
    this.stopped = true;
    if (this.shareTimer) clearTimeout(this.shareTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function newGroupRecord(group: string, name: string, now: number): GroupRecord {
  return { group, name, joinedAt: now, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot: null };
}

export { GroupEngine };
