/**
 * @module core/engine
 * The distributed flat key table as a sans-I/O engine (003 [0044]–[0085]).
 *
 * One `GroupEngine` is one member's view of one group. It takes inputs
 * (`receive(from, channel, bytes, now)`, `tick(now)`, commands) and is polled for
 * outputs. It never reads a clock, draws randomness on its own, or touches I/O:
 * time comes in as `now`, randomness and crypto are injected (`EngineDeps`).
 *
 * Polling order (as quinn-proto documents for its Connection): after any input,
 * drain `pollTransmit()` until it returns undefined, then `pollEvent()`, then arm
 * ONE timer at `nextDeadline()` and call `tick(now)` when it fires.
 *
 * Invariants:
 * - Bad input from a peer never throws out of the engine and never changes state:
 *   every input is decoded and validated before anything is mutated, and a failure
 *   becomes a `rejected` event (STYLE §7, §8).
 * - The member holds at most W + 1 keys (TEK + its W KEKs).
 * - Only the owner (key holder) of a key steps its revision for a newcomer, so
 *   revision steps of one key are serialized (deviation from 003 [0063], see
 *   docs/protocol.md "Join").
 * - Data is only sent under a TEK whose table's blocklist covers this member's
 *   whole blocklist; otherwise it is held until the re-exclusion lands (issue 3).
 *
 * The rules, their seed paragraphs and their tests are listed in docs/protocol.md.
 */
import type { CryptoProvider, Rng } from './crypto-provider.js';
import type {
  EngineEvent,
  GroupId,
  GroupParams,
  KeyEntryView,
  KeyLogEntry,
  KeyOrigin,
  KeyTableView,
  MemberKey,
  PanelHook,
  RejectReason,
  Transmit,
} from './types.js';
import { LocalProtocolError, RemoteProtocolError, ensure } from './errors.js';
import { concat, equalBytes, fromHex, toHex, utf8 } from './bytes.js';
import {
  TEK_SLOT,
  idToString,
  kekSlot,
  participantId,
  slotName,
  slotRef,
  slotsOf,
  validateParams,
} from './params.js';
import {
  KEY_BYTES,
  advanceRevision,
  creatorsTag,
  dataKey,
  fingerprint,
  pairwiseKey,
  replaceKey,
  wrapKey,
} from './keys.js';
import {
  MsgType,
  dataAad,
  decodeMessage,
  LIMITS,
  encodeMessage,
  encodeTableHeader,
  type Certificate,
  type PairwiseEntry,
  type PlanStep,
  type ReplacedKek,
  type KeyInfo,
  type Message,
  type OwnerInfo,
  type SealedKey,
  type TableEntry,
  type TableHeader,
} from './wire.js';
import {
  decodeState,
  encodeState,
  sameCreators,
  sortedKeys,
  type HeldKey,
  type PersistentState,
} from './state.js';

export interface EngineDeps {
  crypto: CryptoProvider;
  rng: Rng;
  /** Admission control hook (001; 003 [0063], [0067]): may this newcomer join? Default: refuse everyone. */
  admission?: AdmissionPolicy;
  /** Source of jointly generated TEKs (fractional-key panel, issue 4). Optional. */
  panel?: PanelHook;
  /**
   * Pins participant IDs for chosen identities (scenarios that pick bit patterns,
   * e.g. complementary IDs). Every member of a run must use the same map.
   */
  participantIds?: ReadonlyMap<MemberKey, number[]>;
}

/** The newcomer's request as the admission hook sees it. `credential` is opaque to the engine (an invite). */
export interface AdmissionRequest {
  group: GroupId;
  member: MemberKey;
  name: string;
  credential: Uint8Array;
}
export type AdmissionDecision = { ok: true } | { ok: false; reason: string };
export interface AdmissionPolicy {
  check(request: AdmissionRequest, now: number): AdmissionDecision;
}

/** Admits everyone: for simulations and tests of other rules only. */
export const admitEveryone: AdmissionPolicy = { check: () => ({ ok: true }) };

/** Admits the listed identity keys only (003 [0067] local admission control, 001 access list). */
export function allowlistAdmission(allowed: Iterable<MemberKey>): AdmissionPolicy {
  const set = new Set(allowed);
  return {
    check: (r) => (set.has(r.member) ? { ok: true } : { ok: false, reason: 'not on the allowlist' }),
  };
}

/** The member's secret identity: a 32-byte Ed25519 seed (the same key libp2p uses as its peer key). */
export interface Identity {
  seed: Uint8Array;
  name: string;
}

export interface MemberView {
  key: MemberKey;
  name: string;
  participantId: number[];
  admin: boolean;
  state: 'member' | 'excluded' | 'left';
  /** Last time anything was heard from this member (null: never). */
  lastSeen: number | null;
}

export type EngineState = 'listening' | 'joining' | 'member' | 'excluded' | 'left';

export interface CreateOptions {
  /** Omit to derive a fresh group ID from the RNG (a new group). The simulator passes a fixed one. */
  group?: GroupId;
  name: string;
  params: GroupParams;
  now: number;
  /** true: listen for heartbeats for params.listenMs before creating (003 [0059]). */
  listenFirst?: boolean;
}

export interface JoinOptions {
  group: GroupId;
  name: string;
  params: GroupParams;
  credential: Uint8Array;
  /** Members to ask for admission, nearest first (001). */
  contacts: MemberKey[];
  now: number;
}

/** One exclusion/refresh table as this member knows it (003 Tables 1–4). */
interface TableState {
  id: Uint8Array;
  idHex: string;
  header: TableHeader;
  headerBytes: Uint8Array;
  headerSignature: Uint8Array;
  /** Every entry seen, in arrival order, and indexed by slot: O(W) work per message, not O(table). */
  entries: TableEntry[];
  pairwise: PairwiseEntry[];
  bySlot: Map<number, TableEntry[]>;
  pairwiseMine: PairwiseEntry | null;
  /** Entries that did not open to the committed TEK' (tried once). */
  failed: Set<TableEntry>;
  /** Members that published parts of this table: whom to fetch TEK' from. */
  publishers: Set<MemberKey>;
  tekPrime: Uint8Array | null;
  blocklistApplied: boolean;
  /** False while the header is trusted only because its excluder sent it (transport-authenticated). */
  signatureChecked: boolean;
  applied: boolean;
  /** State before applying, to switch to a sibling table that wins (issue 3). */
  undo: { tek: HeldKey | null; keks: HeldKey[] } | null;
  firstSeen: number;
  /** When this member adds its entries (planned completer, or after a fetch). */
  completeAt: number | null;
  completed: boolean;
  /** This member published part of the table (it answers a target that missed it). */
  published: boolean;
  /** TEK' came by unicast fetch: complete the table for others in the same position (003 [0079]). */
  fetched: boolean;
  fetchAt: number | null;
  fetchTried: Set<MemberKey>;
}

interface JoinState {
  credential: Uint8Array;
  contacts: MemberKey[];
  next: number;
  attemptAt: number;
  certificate: Certificate | null;
  /** slot → { owner asked, next retry, tries } */
  wanted: Map<number, { asked: MemberKey | null; retryAt: number; tries: number }>;
}

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);
const headerIds = new WeakMap<TableHeader, { headerBytes: Uint8Array; id: string }>();
const sharedPids = new Map<string, number[]>();
const MAX_PENDING_DATA = 512;
const NOT_A_MEMBER = 'not a member of this group';
const MAX_LOG = 200;
/** Table entries seal under keys used once (see entryKey), so the nonce is constant. */
const ZERO_NONCE = new Uint8Array(24);
const ENTRY_AAD = LABEL('table-entry');

/** Candidates scored per step of the completion plan (planCompletion). */
const PLAN_SAMPLE = 64;

function cmpKey(a: MemberKey, b: MemberKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class GroupEngine {
  readonly group: GroupId;
  readonly self: MemberKey;
  readonly selfId: number[];
  /** First 8 bytes of this member's key: how a table's plan names it. */
  private readonly selfPrefix: Uint8Array;
  private readonly groupBytes: Uint8Array;
  private readonly crypto: CryptoProvider;
  private readonly rng: Rng;
  private readonly admission: AdmissionPolicy;
  private readonly panel: PanelHook | undefined;
  private readonly pinnedIds: ReadonlyMap<MemberKey, number[]> | undefined;
  private readonly seed: Uint8Array;
  private readonly xSecret: Uint8Array;
  private readonly displayName: string;

  private s: PersistentState;

  // --- transient (not persisted) ---
  private outbox: Transmit[] = [];
  private events: EngineEvent[] = [];
  private heardAt = new Map<number, number>(); // slot → last heartbeat time of its owner
  private lastSeen = new Map<MemberKey, number>();
  private lastHeartbeatSentAt = new Map<MemberKey, number>();
  private nextHeartbeatAt: number | null = null;
  private listenUntil: number | null = null;
  private join: JoinState | null = null;
  private tables = new Map<string, TableState>();
  private claims = new Map<number, number>(); // slot → time this member takes over
  private pendingData: { from: MemberKey; msg: Extract<Message, { type: typeof MsgType.Data }>; at: number }[] = [];
  private heldOutgoing: { payload: Uint8Array; at: number }[] = [];
  private seenNonces = new Map<string, number>();
  private leaveExclusions = new Map<MemberKey, number>(); // leaver → time to run its exclusion
  private resealAt: number | null = null;
  private housekeepingAt: number | null = null;
  private fetches = new Map<string, { at: number; tried: Set<MemberKey> }>(); // `${slot}:${version}:${tag}` → retry
  private log: KeyLogEntry[] = [];
  private pidCache = new Map<MemberKey, number[]>();
  private pairwiseCache = new Map<MemberKey, Uint8Array | null>();
  private rejectedCounts = new Map<RejectReason, number>();
  /** KEKs replaced by a table, kept for the grace window to read sibling tables and late entries. */
  private retiredKeks: { key: HeldKey; at: number }[] = [];

  private constructor(deps: EngineDeps, identity: Identity, state: PersistentState) {
    this.crypto = deps.crypto;
    this.rng = deps.rng;
    this.admission = deps.admission ?? { check: () => ({ ok: false, reason: 'no admission policy configured' }) };
    this.panel = deps.panel;
    this.pinnedIds = deps.participantIds;
    if (identity.seed.length !== 32) throw new LocalProtocolError('identity seed must be 32 bytes');
    this.seed = identity.seed;
    this.displayName = identity.name;
    this.self = toHex(this.crypto.ed25519PublicKey(identity.seed));
    this.xSecret = this.crypto.x25519SecretFromEd25519Seed(identity.seed);
    validateParams(state.params);
    this.s = state;
    this.group = state.group;
    this.groupBytes = fromHex(state.group);
    if (this.groupBytes.length !== 16) throw new LocalProtocolError('group ID must be 16 bytes of hex');
    this.selfId = this.pidOf(this.self);
    this.selfPrefix = fromHex(this.self).slice(0, 8);
  }

  // ================================================================ construction

  static create(deps: EngineDeps, identity: Identity, o: CreateOptions): GroupEngine {
    const group = o.group ?? toHex(deps.rng(16));
    const e = new GroupEngine(deps, identity, GroupEngine.freshState(group, o.name, o.params, 'listening'));
    if (o.listenFirst) {
      e.listenUntil = o.now + o.params.listenMs;
      e.emit({ type: 'join-progress', stage: 'listening', at: o.now });
    } else {
      e.createKeys(o.now);
    }
    return e;
  }

  static join(deps: EngineDeps, identity: Identity, o: JoinOptions): GroupEngine {
    const e = new GroupEngine(deps, identity, GroupEngine.freshState(o.group, o.name, o.params, 'joining'));
    e.join = { credential: o.credential, contacts: [...o.contacts], next: 0, attemptAt: o.now, certificate: null, wanted: new Map() };
    e.emit({ type: 'join-progress', stage: 'requesting', at: o.now });
    e.tryJoinContact(o.now);
    return e;
  }

  static restore(deps: EngineDeps, identity: Identity, snapshot: Uint8Array, now: number): GroupEngine {
    return GroupEngine.restoreState(deps, identity, decodeState(snapshot), now);
  }

  /** As restore, from a state object the caller hands over (and no longer touches). */
  static restoreState(deps: EngineDeps, identity: Identity, state: PersistentState, now: number): GroupEngine {
    const e = new GroupEngine(deps, identity, state);
    if (e.s.state === 'member') e.nextHeartbeatAt = now;
    if (e.s.state === 'joining' || e.s.state === 'listening') {
      // A join interrupted by a crash starts over from the listening stage.
      e.s.state = 'listening';
      e.listenUntil = now + e.s.params.listenMs;
    }
    // Every owner we knew gets a fresh failover window from now.
    for (const slot of Object.keys(e.s.slotDir)) e.heardAt.set(Number(slot), now);
    return e;
  }

  private static freshState(group: string, name: string, params: GroupParams, state: PersistentState['state']): PersistentState {
    return {
      format: 1,
      group,
      groupName: name,
      params: cloneParams(params),
      state,
      roster: {},
      blocklist: [],
      tek: null,
      keks: [],
      tekRecords: [],
      slotDir: {},
      admittedAt: null,
      lastRevisionRefreshAt: 0,
      lastVersionRefreshAt: 0,
    };
  }

  // ================================================================ public surface

  get params(): GroupParams {
    return this.s.params;
  }
  get groupName(): string {
    return this.s.groupName;
  }
  state(): EngineState {
    return this.s.state;
  }
  isBlocked(member: MemberKey): boolean {
    return this.s.blocklist.includes(member);
  }
  blocklist(): MemberKey[] {
    return [...this.s.blocklist].sort();
  }
  /** The current TEK's public description (no key bytes). */
  tekInfo(): { version: number; revision: number; creators: MemberKey[]; fingerprint: string; origin: KeyOrigin } | null {
    const t = this.s.tek;
    if (!t) return null;
    return { version: t.version, revision: t.revision, creators: [...t.creators], fingerprint: fingerprint(this.crypto, t.key), origin: t.origin };
  }
  /** Cheap equality key of (TEK version, revision, creators, blocklist) for convergence checks. */
  convergenceSignature(withRevision = true): string {
    const t = this.s.tek;
    if (!t) return 'none';
    return `${t.version}:${withRevision ? t.revision : '*'}:${t.creators.join(',')}|${this.s.blocklist.length}:${this.s.blocklist[this.s.blocklist.length - 1] ?? ''}`;
  }
  rejectedCount(): Map<RejectReason, number> {
    return new Map(this.rejectedCounts);
  }

  receive(from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array, now: number): void {
    now = Math.floor(now);
    if (this.s.state === 'left') return;
    try {
      const msg = decodeMessage(this.groupBytes, channel, bytes);
      if (from === this.self) return; // our own publication echoed back
      this.dispatch(from, msg, now);
    } catch (err) {
      if (err instanceof RemoteProtocolError) this.reject(from, err.reason, err.message, now);
      else throw err;
    }
    this.drivePanel(now);
  }

  tick(now: number): void {
    now = Math.floor(now);
    const st = this.s.state;
    if (st === 'left' || st === 'excluded') return;
    if (st === 'listening' && this.listenUntil !== null && now >= this.listenUntil) {
      this.listenUntil = null;
      this.createKeys(now);
    }
    if (this.join) this.joinTick(now); // also after 'joined': KEKs may still be on their way
    if (this.s.state === 'member') {
      this.flushAnnouncements(now);
      this.tablesTick(now);
      // Failover checks and grace-window expiry run on a housekeeping beat of half a
      // heartbeat, not on exact per-key deadlines: cheap to arm, precise enough.
      const claimDue = [...this.claims.values()].some((c) => c <= now);
      if (this.housekeepingAt === null || now >= this.housekeepingAt || claimDue) {
        if (this.housekeepingAt === null || now >= this.housekeepingAt) {
          this.housekeepingAt = now + Math.max(1, Math.floor(this.s.params.heartbeatMs / 2));
          this.expireTick(now);
        }
        this.failoverTick(now);
      }
      this.fetchTick(now);
      this.leaveTick(now);
      this.resealTick(now);
      this.refreshTick(now);
      if (this.nextHeartbeatAt !== null && now >= this.nextHeartbeatAt) {
        this.sendHeartbeat(now);
      }
    } else this.expireTick(now);
    if (this.panel && this.s.state === 'member') {
      const due = this.panel.nextDeadline();
      if (due !== null && now >= due) this.panel.tick(now);
    }
    this.drivePanel(now);
  }

  send(payload: Uint8Array, now: number): void {
    now = Math.floor(now);
    if (this.s.state !== 'member' || !this.s.tek) throw new LocalProtocolError(`cannot send while ${this.s.state}`);
    if (payload.length > 64 * 1024) throw new LocalProtocolError('payload larger than 64 KiB');
    if (!this.tekCoversBlocklist()) {
      this.heldOutgoing.push({ payload, at: now });
      return;
    }
    this.publishData(payload, now);
  }

  exclude(members: MemberKey[], now: number): void {
    now = Math.floor(now);
    if (this.s.state !== 'member') throw new LocalProtocolError(`cannot exclude while ${this.s.state}`);
    if (!this.canExclude()) throw new LocalProtocolError('the group policy does not allow this member to exclude');
    const targets = sortedKeys(members);
    if (targets.length === 0) throw new LocalProtocolError('nothing to exclude');
    for (const t of targets) {
      if (t === this.self) throw new LocalProtocolError('use leave() to leave the group');
      if (!/^[0-9a-f]{64}$/.test(t)) throw new LocalProtocolError(`not a member key: ${t}`);
    }
    const fresh = targets.filter((t) => !this.s.blocklist.includes(t));
    if (fresh.length === 0) throw new LocalProtocolError('already excluded');
    this.startTable('exclude', fresh, now);
    this.drivePanel(now);
  }

  leave(now: number): void {
    now = Math.floor(now);
    if (this.s.state === 'member') {
      this.publish('control', { type: MsgType.Leave, sentAt: now });
    }
    this.s.state = 'left';
    this.addLog(now, 'leave', 'left the group');
    this.eraseSecrets();
  }

  addContacts(contacts: MemberKey[], now: number): void {
    if (!this.join) return;
    for (const c of contacts) if (!this.join.contacts.includes(c) && c !== this.self) this.join.contacts.push(c);
    if (this.join.certificate === null && this.join.attemptAt > now) this.join.attemptAt = now;
  }

  pollTransmit(): Transmit | undefined {
    return this.outbox.shift();
  }
  pollEvent(): EngineEvent | undefined {
    return this.events.shift();
  }

  nextDeadline(): number | undefined {
    const st = this.s.state;
    if (st === 'left' || st === 'excluded') return undefined;
    let d = Infinity;
    const at = (t: number | null | undefined) => {
      if (t !== null && t !== undefined && t < d) d = t;
    };
    at(this.listenUntil);
    if (this.join) {
      if (this.join.certificate === null) at(this.join.attemptAt);
      for (const w of this.join.wanted.values()) at(w.retryAt);
    }
    if (st === 'member') {
      at(this.nextHeartbeatAt);
      for (const t of this.tables.values()) {
        at(t.completeAt);
        at(t.fetchAt);
      }
      for (const c of this.claims.values()) at(c);
      for (const f of this.fetches.values()) at(f.at);
      for (const l of this.leaveExclusions.values()) at(l);
      at(this.resealAt);
      at(this.housekeepingAt);
      at(this.announceAt);
      const p = this.s.params;
      if (this.ownsTek()) {
        if (p.refreshRevisionMs > 0) at(this.s.lastRevisionRefreshAt + p.refreshRevisionMs);
        if (p.refreshVersionMs > 0) at(this.s.lastVersionRefreshAt + p.refreshVersionMs);
      }
    }
    if (st !== 'member') at(this.expiryAt());
    if (this.panel && st === 'member') at(this.panel.nextDeadline());
    return d === Infinity ? undefined : d;
  }

  snapshot(): Uint8Array {
    return encodeState(this.s);
  }

  /** The participant ID of any member key under this group's parameters (003 [0048]). */
  participantIdOf(member: MemberKey): number[] {
    return [...this.pidOf(member)];
  }

  canExclude(): boolean {
    const p = this.s.params.policy;
    return p.exclude === 'any-member' || p.admins.includes(this.self);
  }

  members(): MemberView[] {
    const admins = this.s.params.policy.exclude === 'admins' ? this.s.params.policy.admins : [];
    return Object.entries(this.s.roster)
      .map(([key, m]) => ({
        key,
        name: m.name,
        participantId: this.pidOf(key),
        admin: admins.includes(key),
        state: m.state,
        lastSeen: key === this.self ? null : (this.lastSeen.get(key) ?? null),
      }))
      .sort((a, b) => cmpKey(a.key, b.key));
  }

  keyTable(now: number): KeyTableView {
    const view = (k: HeldKey): KeyEntryView => ({
      slot: slotRef(k.slot, this.s.params.V),
      version: k.version,
      revision: k.revision,
      creators: [...k.creators],
      owner: k.owner,
      held: true,
      heartbeatAgeMs: k.owner === this.self ? 0 : this.heartbeatAge(k.slot, now),
      fingerprint: fingerprint(this.crypto, k.key),
      origin: k.origin,
      basedOn: k.basedOn ? { ...k.basedOn, creators: [...k.basedOn.creators] } : null,
    });
    const slots: KeyEntryView[] = [];
    const held = new Map(this.s.keks.map((k) => [k.slot, k]));
    const seen = new Set<number>();
    for (const k of this.s.keks) {
      slots.push(view(k));
      seen.add(k.slot);
    }
    for (const [slotStr, info] of Object.entries(this.s.slotDir)) {
      const slot = Number(slotStr);
      if (slot === TEK_SLOT || seen.has(slot) || held.has(slot)) continue;
      slots.push({
        slot: slotRef(slot, this.s.params.V),
        version: info.version,
        revision: info.revision,
        creators: [...info.creators],
        owner: info.owner,
        held: false,
        heartbeatAgeMs: this.heartbeatAge(slot, now),
        fingerprint: null,
        basedOn: null,
      });
    }
    slots.sort((a, b) => this.slotIndex(a) - this.slotIndex(b));
    return {
      group: this.group,
      W: this.s.params.W,
      V: this.s.params.V,
      self: this.self,
      selfId: [...this.selfId],
      tek: this.s.tek ? view(this.s.tek) : null,
      slots,
      blocklist: this.blocklist(),
      log: [...this.log],
    };
  }

  /** Every key this member currently holds, with its bytes. For the simulator's secrecy oracle only. */
  exportKeyMaterial(): { slot: number; version: number; creators: MemberKey[]; revision: number; key: Uint8Array }[] {
    const out = [];
    for (const r of this.s.tekRecords) {
      out.push({ slot: TEK_SLOT, version: r.version, creators: [...r.creators], revision: r.revision, key: r.key });
      for (const o of r.older) out.push({ slot: TEK_SLOT, version: r.version, creators: [...r.creators], revision: o.revision, key: o.key });
    }
    for (const k of this.s.keks) out.push({ slot: k.slot, version: k.version, creators: [...k.creators], revision: k.revision, key: k.key });
    for (const { key: o } of this.retiredKeks) out.push({ slot: o.slot, version: o.version, creators: [...o.creators], revision: o.revision, key: o.key });
    return out;
  }

  // ================================================================ dispatch

  private dispatch(from: MemberKey, m: Message, now: number): void {
    switch (m.type) {
      case MsgType.Heartbeat:
        return this.onHeartbeat(from, m, now);
      case MsgType.Revision:
        return this.onRevision(from, m.keys, now);
      case MsgType.MemberAdmitted:
        return this.onMemberAdmitted(from, m, now);
      case MsgType.JoinRequest:
        return this.onJoinRequest(from, m, now);
      case MsgType.Admit:
        return this.onAdmit(from, m, now);
      case MsgType.JoinRefused:
        return this.onJoinRefused(from, m.reason, now);
      case MsgType.KeyRequest:
        return this.onKeyRequest(from, m, now);
      case MsgType.KeyGrant:
        return this.onKeyGrant(from, m.grants, now);
      case MsgType.Data:
        return this.onData(from, m, now);
      case MsgType.Table:
        return this.onTable(from, m, now);
      case MsgType.FetchRequest:
        return this.onFetchRequest(from, m, now);
      case MsgType.FetchReply:
        return this.onFetchReply(from, m, now);
      case MsgType.Leave:
        return this.onLeave(from, now);
      case MsgType.Panel:
        return this.onPanel(from, m.body, now);
    }
  }

  // ================================================================ creation (003 [0059])

  private createKeys(now: number): void {
    const creators = [this.self];
    const origin: KeyOrigin = { kind: 'single', creator: this.self };
    this.s.tek = { slot: TEK_SLOT, version: 1, creators, revision: 0, key: this.rng(KEY_BYTES), basedOn: null, origin, owner: this.self, coverage: [] };
    this.s.keks = slotsOf(this.selfId, this.s.params.V).map((slot) => ({
      slot,
      version: 1,
      creators,
      revision: 0,
      key: this.rng(KEY_BYTES),
      basedOn: null,
      origin,
      owner: this.self,
    }));
    this.recordTek(this.s.tek, now);
    this.setRoster(this.self, { name: this.displayName, admittedAt: now, state: 'member' });
    this.s.admittedAt = now;
    this.s.state = 'member';
    this.s.lastRevisionRefreshAt = now;
    this.s.lastVersionRefreshAt = now;
    this.syncDirFromHeld();
    this.nextHeartbeatAt = now;
    this.emit({ type: 'group-created', group: this.group, at: now });
    this.emit({ type: 'joined', group: this.group, at: now });
    this.addLog(now, 'create', `created the group: TEK v1 and ${this.s.keks.length} KEKs`);
    this.keyChanged(TEK_SLOT, 'created', now);
  }

  // ================================================================ heartbeats (003 [0059]–[0060], claim 9)

  private ownedKeys(): HeldKey[] {
    const out: HeldKey[] = [];
    if (this.s.tek && this.s.tek.owner === this.self) out.push(this.s.tek);
    for (const k of this.s.keks) if (k.owner === this.self) out.push(k);
    return out;
  }

  private ownsTek(): boolean {
    return this.s.tek?.owner === this.self;
  }

  private info(k: HeldKey): KeyInfo {
    return { slot: k.slot, version: k.version, revision: k.revision, creators: k.creators };
  }

  private sendHeartbeat(now: number): void {
    this.nextHeartbeatAt = now + this.s.params.heartbeatMs;
    const owned = this.ownedKeys();
    if (owned.length === 0) return;
    const history = this.s.tekRecords
      .filter((r) => r.retiredAt !== null)
      .slice(-4)
      .map((r) => ({ slot: TEK_SLOT, version: r.version, revision: r.revision, creators: r.creators }));
    this.publish('control', {
      type: MsgType.Heartbeat,
      sentAt: now,
      keys: owned.map((k) => this.info(k)),
      history,
      blocklistCount: this.s.blocklist.length,
      rosterCount: Object.keys(this.s.roster).length,
    });
  }

  private onHeartbeat(from: MemberKey, m: Extract<Message, { type: typeof MsgType.Heartbeat }>, now: number): void {
    const last = this.lastHeartbeatSentAt.get(from);
    ensure(last === undefined || m.sentAt > last, 'replay', 'heartbeat not newer than the last one from this sender');
    if (this.s.blocklist.includes(from)) this.tellExcluded(from, now);
    ensure(!this.s.blocklist.includes(from), 'blocked', 'heartbeat from an excluded member');
    for (const k of m.keys) this.checkInfo(k);
    if (this.s.state === 'listening') {
      // Someone already heads this group: join it instead of creating (003 [0059], [0061]).
      this.lastHeartbeatSentAt.set(from, m.sentAt);
      if (m.keys.some((k) => k.slot === TEK_SLOT)) {
        this.listenUntil = null;
        this.s.state = 'joining';
        this.join = { credential: new Uint8Array(0), contacts: [from], next: 0, attemptAt: now, certificate: null, wanted: new Map() };
        this.tryJoinContact(now);
      }
      return;
    }
    if (this.s.state !== 'member' && this.s.state !== 'joining') return;
    if (this.s.state === 'member' && this.s.roster[from] === undefined) {
      // A holder from another instance of this group (a creation race, 003 [0060]): if
      // its TEK wins, join it through a unicast admission; otherwise it will join us.
      const theirs = m.keys.find((k) => k.slot === TEK_SLOT);
      ensure(theirs && this.s.tek && this.wins({ version: theirs.version, creators: sortedKeys(theirs.creators) }, this.s.tek), 'not-member', 'heartbeat from a peer that is not a member');
      this.lastHeartbeatSentAt.set(from, m.sentAt);
      this.startMergeJoin(from, now);
      return;
    }
    this.lastHeartbeatSentAt.set(from, m.sentAt);
    this.lastSeen.set(from, now);
    for (const k of m.keys) this.learnOwnership(from, k, now);
    if (this.s.state !== 'member') return;
    if (m.blocklistCount > this.s.blocklist.length && this.s.tek) {
      // The sender knows of an exclusion we missed: fetch the current TEK and its table (003 [0039], [0079]).
      // Give tables in flight half a heartbeat to arrive first (concurrent exclusions).
      const tk = m.keys.find((k) => k.slot === TEK_SLOT) ?? m.history[m.history.length - 1];
      if (tk) this.scheduleFetch(TEK_SLOT, tk.version, tk.creators, from, now, this.shortFetchDelay());
    }
  }

  private checkInfo(k: KeyInfo): void {
    const p = this.s.params;
    // On the heartbeat path for every key: no message is built unless the check fails.
    if (k.slot > p.V * p.W) throw new RemoteProtocolError('invalid', `slot ${k.slot} outside the table`);
    if (k.creators.length === 0 || k.version <= 0) throw new RemoteProtocolError('invalid', 'key without version or creators');
  }

  /** A holder announced a key it owns: update the directory, step revisions, detect superseding (003 [0085]). */
  private learnOwnership(from: MemberKey, k: KeyInfo, now: number): void {
    const dir = this.s.slotDir[k.slot];
    // Fast path: the steady state, where a holder repeats what we already know (003 [0059]).
    if (dir && dir.owner === from && dir.version === k.version && dir.revision === k.revision && sameCreators(dir.creators, k.creators)) {
      this.heardAt.set(k.slot, now);
      if (k.slot !== TEK_SLOT && this.selfId[Math.floor((k.slot - 1) / this.s.params.V)] !== (k.slot - 1) % this.s.params.V) return;
      const held = this.heldKey(k.slot);
      if (!held || (held.version === k.version && held.revision === k.revision && held.owner === from)) return;
    }
    const creators = sortedKeys(k.creators);
    const newer = !dir || this.wins({ version: k.version, creators }, dir) || (k.version === dir.version && sameCreators(creators, dir.creators) && k.revision >= dir.revision);
    const sameKeyOtherOwner = dir && k.version === dir.version && sameCreators(creators, dir.creators) && k.revision === dir.revision && dir.owner !== from;
    if (newer) {
      if (sameKeyOtherOwner && dir.owner !== null && cmpKey(dir.owner, from) < 0 && this.isOwnerAlive(k.slot, now)) {
        // Two holders announce the same key: the lower key keeps the role (003 [0069]).
      } else {
        this.s.slotDir[k.slot] = { version: k.version, revision: k.revision, creators, owner: from };
        this.heardAt.set(k.slot, now);
        this.claims.delete(k.slot);
      }
    } else if (dir && dir.owner === from) {
      this.heardAt.set(k.slot, now);
    }
    const held = this.heldKey(k.slot);
    if (!held || this.s.state !== 'member') return;
    if (k.version === held.version && sameCreators(creators, held.creators)) {
      if (k.revision > held.revision) this.stepHeld(held, k.revision, now, 'revision announced by its holder');
      if (held.owner === this.self && from !== this.self) {
        // (a) a newer revision, or the same key announced by a lower-keyed holder: stop heartbeating it.
        if (k.revision > held.revision || cmpKey(from, this.self) < 0) {
          held.owner = from;
          this.addLog(now, 'failover', `${slotName(k.slot, this.s.params.V)}: ${short(from)} keeps the holder role`);
        }
      } else if (held.owner !== from && this.s.slotDir[k.slot]?.owner === from) {
        held.owner = from;
      }
    } else if (this.wins({ version: k.version, creators }, held)) {
      // (b) a newer version, or (d) a concurrent one that wins the tie: find its table or fetch it.
      if (!this.tableWillResolve(k.slot, k.version, creators)) this.scheduleFetch(k.slot, k.version, creators, from, now, k.version > held.version ? this.s.params.fetchAfterMs : this.shortFetchDelay());
      if (held.owner === this.self) held.owner = from;
    }
  }

  private onRevision(from: MemberKey, keys: KeyInfo[], now: number): void {
    if (this.s.state !== 'member') return; // a joiner learns revisions with its keys
    ensure(this.s.roster[from]?.state === 'member', 'not-member', 'revision from a non-member');
    for (const k of keys) this.checkInfo(k);
    this.lastSeen.set(from, now);
    for (const k of keys) {
      const held = this.heldKey(k.slot);
      const creators = sortedKeys(k.creators);
      if (held && held.version === k.version && sameCreators(held.creators, creators) && k.revision > held.revision) {
        this.stepHeld(held, k.revision, now, `revision step announced by ${short(from)}`);
      }
      const dir = this.s.slotDir[String(k.slot)];
      if (dir && dir.version === k.version && sameCreators(dir.creators, creators) && k.revision > dir.revision) dir.revision = k.revision;
    }
  }

  /** Steps a held key forward through the one-way function (003 [0056], [0071]). */
  private stepHeld(held: HeldKey, toRevision: number, now: number, why: string): void {
    if (toRevision <= held.revision) return;
    held.key = advanceRevision(this.crypto, held.key, held.revision, toRevision);
    held.revision = toRevision;
    if (held.slot === TEK_SLOT) this.recordTek(held, now);
    const dir = this.s.slotDir[String(held.slot)];
    if (dir && dir.version === held.version && sameCreators(dir.creators, held.creators) && dir.revision < toRevision) dir.revision = toRevision;
    this.keyChanged(held.slot, why, now);
    if (held.slot === TEK_SLOT) this.retryPendingData(now);
  }

  // ================================================================ join (003 [0061]–[0066]; 001)

  /** Leaves our losing instance of the group and asks the winning one for admission (003 [0060]). */
  private startMergeJoin(contact: MemberKey, now: number): void {
    this.addLog(now, 'merge', `another instance of this group (holder ${short(contact)}) wins: joining it`);
    this.retireTek(now);
    this.s.tek = null;
    this.s.state = 'joining';
    this.nextHeartbeatAt = null;
    this.join = { credential: new Uint8Array(0), contacts: [contact], next: 0, attemptAt: now, certificate: null, wanted: new Map() };
    this.tryJoinContact(now);
  }

  private tryJoinContact(now: number): void {
    const j = this.join;
    if (!j || j.certificate) return;
    const contacts = j.contacts.filter((c) => c !== this.self);
    if (contacts.length === 0) {
      j.attemptAt = now + this.s.params.heartbeatMs;
      return;
    }
    const to = contacts[j.next % contacts.length]!;
    j.next++;
    j.attemptAt = now + 2 * this.s.params.heartbeatMs;
    this.unicast(to, { type: MsgType.JoinRequest, name: this.displayName, credential: j.credential, sentAt: now });
    this.emit({ type: 'join-progress', stage: 'waiting-admission', at: now });
  }

  private joinTick(now: number): void {
    const j = this.join;
    if (!j) return;
    if (!j.certificate && now >= j.attemptAt) this.tryJoinContact(now);
    if (j.certificate) this.requestWantedKeys(now);
    if (j.certificate && j.wanted.size === 0) this.join = null;
  }

  private onJoinRequest(from: MemberKey, m: Extract<Message, { type: typeof MsgType.JoinRequest }>, now: number): void {
    if (this.s.state !== 'member') {
      this.unicast(from, { type: MsgType.JoinRefused, reason: 'not a member yet' });
      return;
    }
    const refuse = (reason: string, code: RejectReason) => {
      this.unicast(from, { type: MsgType.JoinRefused, reason });
      throw new RemoteProtocolError(code, reason);
    };
    if (this.s.blocklist.includes(from)) refuse('this identity was excluded from the group', 'blocked');
    const pid = this.pidOf(from);
    const pidStr = idToString(pid);
    for (const [key, mem] of Object.entries(this.s.roster)) {
      if (key !== from && mem.state === 'member' && idToString(this.pidOf(key)) === pidStr) {
        refuse(`participant ID ${pidStr} is already used by another member`, 'id-collision');
      }
    }
    const decision = this.admission.check({ group: this.group, member: from, name: m.name, credential: m.credential }, now);
    if (!decision.ok) refuse(`admission refused: ${decision.reason}`, 'admission-refused');

    const known = this.s.roster[from];
    const admittedAt = known?.state === 'member' ? known.admittedAt : now;
    const certificate = this.certify(from, admittedAt);
    const wanted = [TEK_SLOT, ...slotsOf(pid, this.s.params.V)];
    const { grants, revisions } = this.grantKeys(from, wanted, now, false);
    if (!known || known.state !== 'member') {
      // One announcement carries the new members and the TEK revision step made for them;
      // admissions within a short window share it (a burst of joins costs one message).
      this.setRoster(from, { name: m.name.slice(0, 64), admittedAt, state: 'member' });
      this.announceQueue.push({ key: from, name: m.name.slice(0, 64), admittedAt });
      if (this.announceAt === null) this.announceAt = now + Math.max(1, Math.min(250, Math.floor(this.s.params.heartbeatMs / 4)));
      this.emit({ type: 'member-admitted', member: from, by: this.self, name: m.name, at: now });
      this.addLog(now, 'join', `admitted ${m.name || short(from)} (${pidStr})`);
    } else if (revisions.length) this.publish('control', { type: MsgType.Revision, keys: revisions });
    const owners: OwnerInfo[] = [];
    for (const [slotStr, d] of Object.entries(this.s.slotDir)) {
      if (d.owner) owners.push({ slot: Number(slotStr), version: d.version, revision: d.revision, creators: d.creators, owner: d.owner });
    }
    const roster = Object.entries(this.s.roster)
      .filter(([, r]) => r.state === 'member')
      .map(([key, r]) => ({ key, name: r.name, admittedAt: r.admittedAt }));
    this.unicast(from, {
      type: MsgType.Admit,
      groupName: this.s.groupName,
      params: this.s.params,
      roster,
      blocklist: this.s.blocklist,
      owners,
      grants,
      certificate,
    });
  }

  private certify(member: MemberKey, admittedAt: number): Certificate {
    const body = this.certBody(this.self, member, admittedAt);
    return { admitter: this.self, member, admittedAt, signature: this.crypto.ed25519Sign(this.seed, body) };
  }

  private certBody(admitter: MemberKey, member: MemberKey, admittedAt: number): Uint8Array {
    return concat(LABEL('admission'), this.groupBytes, fromHex(admitter), fromHex(member), utf8(String(admittedAt)));
  }

  private verifyCertificate(c: Certificate, member: MemberKey): void {
    ensure(c.member === member, 'invalid', 'certificate names another member');
    const admitter = this.s.roster[c.admitter];
    ensure(c.admitter === this.self || (admitter && admitter.state === 'member') || this.s.state !== 'member', 'not-member', 'certificate from a non-member');
    ensure(!this.s.blocklist.includes(c.admitter), 'blocked', 'certificate from an excluded member');
    ensure(this.crypto.ed25519Verify(fromHex(c.admitter), this.certBody(c.admitter, member, c.admittedAt), c.signature), 'bad-signature', 'admission certificate signature does not verify');
  }

  /**
   * Hands `member` the keys it needs that this member owns (or that a silent owner
   * left behind), each stepped one revision first so the newcomer cannot read any
   * earlier traffic (003 [0064], backward secrecy).
   */
  private grantKeys(member: MemberKey, slots: number[], now: number, fallback: boolean): { grants: SealedKey[]; revisions: KeyInfo[] } {
    const grants: SealedKey[] = [];
    const pk = this.pairwise(member);
    if (!pk) return { grants, revisions: [] };
    const bumpedTek: KeyInfo[] = [];
    for (const slot of slots) {
      const held = this.heldKey(slot);
      if (!held) continue;
      const mayAnswer = held.owner === this.self || (fallback && !this.isOwnerAlive(slot, now));
      if (!mayAnswer) continue;
      if (fallback && held.owner !== this.self) held.owner = this.self;
      this.stepHeld(held, held.revision + 1, now, `revision step for newcomer ${short(member)}`);
      if (slot === TEK_SLOT) bumpedTek.push(this.info(held));
      grants.push(this.seal(member, pk, held, 'grant'));
    }
    return { grants, revisions: bumpedTek };
  }

  private seal(member: MemberKey, pk: Uint8Array, held: HeldKey, purpose: string): SealedKey {
    const nonce = this.rng(24);
    const info = this.info(held);
    const aad = this.sealAad(purpose, member, info);
    return {
      info,
      basedOn: held.basedOn,
      owner: held.owner ?? this.self,
      nonce,
      sealed: this.crypto.seal(pk, nonce, held.key, aad),
    };
  }

  private sealAad(purpose: string, member: MemberKey, info: KeyInfo): Uint8Array {
    return concat(LABEL(`seal/${purpose}`), this.groupBytes, fromHex(member), utf8(`${info.slot}:${info.version}:${info.revision}:${info.creators.join(',')}`));
  }

  private openSealed(from: MemberKey, s: SealedKey, purpose: string): Uint8Array {
    const pk = this.pairwise(from);
    ensure(pk, 'invalid', 'sender has no usable X25519 key');
    const key = this.crypto.open(pk, s.nonce, s.sealed, this.sealAad(purpose, this.self, s.info));
    ensure(key && key.length === KEY_BYTES, 'decrypt-failed', 'sealed key does not open');
    return key;
  }

  /** Pairwise key with another identity: X25519 of the Ed25519 keys, through HKDF. Cached. */
  private pairwise(member: MemberKey): Uint8Array | null {
    if (this.pairwiseCache.has(member)) return this.pairwiseCache.get(member)!;
    let out: Uint8Array | null = null;
    const pub = this.crypto.x25519PublicFromEd25519(fromHex(member));
    if (pub) {
      const shared = this.crypto.x25519(this.xSecret, pub);
      if (shared) {
        const [a, b] = [this.self, member].sort() as [string, string];
        out = pairwiseKey(this.crypto, shared, concat(this.groupBytes, fromHex(a), fromHex(b)));
      }
    }
    this.pairwiseCache.set(member, out);
    return out;
  }

  private onAdmit(from: MemberKey, m: Extract<Message, { type: typeof MsgType.Admit }>, now: number): void {
    ensure(this.s.state === 'joining' && this.join !== null, 'stale', 'admission while not joining');
    ensure(m.certificate.admitter === from, 'invalid', 'certificate not from its sender');
    ensure(m.certificate.member === this.self, 'invalid', 'certificate names another member');
    ensure(this.crypto.ed25519Verify(fromHex(from), this.certBody(from, this.self, m.certificate.admittedAt), m.certificate.signature), 'bad-signature', 'admission certificate signature does not verify');
    validateRemoteParams(m.params);
    const opened = m.grants.map((g) => ({ g, key: this.openSealed(from, g, 'grant') }));
    for (const { g } of opened) this.checkGrantFor(g);
    // Validated: apply in one step (STYLE §8).
    this.s.params = cloneParams(m.params);
    this.s.groupName = m.groupName;
    for (const r of m.roster) {
      if (!m.blocklist.includes(r.key)) this.setRoster(r.key, { name: r.name, admittedAt: r.admittedAt, state: 'member' });
    }
    this.setRoster(this.self, { name: this.displayName, admittedAt: m.certificate.admittedAt, state: 'member' });
    for (const b of m.blocklist) {
      if (!this.s.blocklist.includes(b)) this.s.blocklist.push(b);
      const r = this.s.roster[b];
      if (r) r.state = 'excluded';
    }
    for (const o of m.owners) {
      this.s.slotDir[String(o.slot)] = { version: o.version, revision: o.revision, creators: sortedKeys(o.creators), owner: o.owner };
      this.heardAt.set(o.slot, now);
    }
    this.s.admittedAt = m.certificate.admittedAt;
    this.join.certificate = m.certificate;
    this.lastSeen.set(from, now);
    for (const { g, key } of opened) this.installGrant(g, key, now, m.blocklist);
    this.emit({ type: 'join-progress', stage: 'keys-received', at: now });
    this.addLog(now, 'join', `admitted by ${short(from)}`);
    // Ask the holders for every key still missing, and create slots nobody holds (003 [0062], [0066]).
    const need = [TEK_SLOT, ...slotsOf(this.selfId, this.s.params.V)];
    for (const slot of need) {
      if (this.heldKey(slot)) continue;
      const dir = this.s.slotDir[String(slot)];
      if (!dir || !dir.owner || this.s.blocklist.includes(dir.owner)) {
        if (slot === TEK_SLOT) this.join.wanted.set(slot, { asked: null, retryAt: now, tries: 0 });
        else this.createSlot(slot, now);
      } else {
        this.join.wanted.set(slot, { asked: null, retryAt: now, tries: 0 });
      }
    }
    this.requestWantedKeys(now);
    this.maybeJoined(now);
  }

  private checkGrantFor(g: SealedKey): void {
    const ok = g.info.slot === TEK_SLOT || slotsOf(this.selfId, this.s.params.V).includes(g.info.slot);
    ensure(ok, 'invalid', `granted ${slotName(g.info.slot, this.s.params.V)}, which this member does not hold`);
  }

  private installGrant(g: SealedKey, key: Uint8Array, now: number, coverage: MemberKey[]): void {
    const creators = sortedKeys(g.info.creators);
    const held: HeldKey = {
      slot: g.info.slot,
      version: g.info.version,
      creators,
      revision: g.info.revision,
      key,
      basedOn: g.basedOn,
      origin: creators.length > 1 ? { kind: 'merge', creators } : { kind: 'single', creator: creators[0]! },
      owner: g.owner,
    };
    const existing = this.heldKey(g.info.slot);
    if (existing && (existing.version > held.version || (existing.version === held.version && existing.revision >= held.revision && sameCreators(existing.creators, creators)))) return;
    if (g.info.slot === TEK_SLOT) {
      held.coverage = [...coverage];
      if (this.s.tek) this.retireTek(now);
      this.s.tek = held;
      this.recordTek(held, now);
    } else {
      this.s.keks = this.s.keks.filter((k) => k.slot !== g.info.slot);
      this.s.keks.push(held);
    }
    const dir = this.s.slotDir[String(g.info.slot)];
    if (!dir || dir.version < held.version || (dir.version === held.version && dir.revision < held.revision)) {
      this.s.slotDir[String(g.info.slot)] = { version: held.version, revision: held.revision, creators, owner: g.owner };
    }
    this.join?.wanted.delete(g.info.slot);
    this.keyChanged(g.info.slot, 'received', now);
  }

  private createSlot(slot: number, now: number): void {
    const held: HeldKey = {
      slot,
      version: 1,
      creators: [this.self],
      revision: 0,
      key: this.rng(KEY_BYTES),
      basedOn: null,
      origin: { kind: 'single', creator: this.self },
      owner: this.self,
    };
    this.s.keks = this.s.keks.filter((k) => k.slot !== slot);
    this.s.keks.push(held);
    this.s.slotDir[String(slot)] = { version: 1, revision: 0, creators: [this.self], owner: this.self };
    this.addLog(now, 'create', `created ${slotName(slot, this.s.params.V)} (nobody held it) and holds it`);
    this.keyChanged(slot, 'created', now);
    if (this.nextHeartbeatAt === null) this.nextHeartbeatAt = now;
  }

  private requestWantedKeys(now: number): void {
    const j = this.join;
    if (!j || !j.certificate) return;
    const byOwner = new Map<MemberKey, number[]>();
    for (const [slot, w] of j.wanted) {
      if (w.retryAt > now) continue;
      const dir = this.s.slotDir[String(slot)];
      let to = dir?.owner && dir.owner !== this.self && !this.s.blocklist.includes(dir.owner) ? dir.owner : null;
      // After repeated silence, ask any member that may hold the key (fallback, 003 [0063]).
      if (w.tries >= this.s.params.failoverIntervals || !to) {
        const holders = this.possibleHolders(slot);
        if (holders.length === 0) {
          if (slot !== TEK_SLOT) {
            j.wanted.delete(slot);
            this.createSlot(slot, now);
          } else w.retryAt = now + 2 * this.s.params.heartbeatMs;
          continue;
        }
        to = holders[w.tries % holders.length]!;
      }
      w.asked = to;
      w.tries++;
      w.retryAt = now + 2 * this.s.params.heartbeatMs;
      const list = byOwner.get(to) ?? [];
      list.push(slot);
      byOwner.set(to, list);
    }
    for (const [to, slots] of byOwner) this.unicast(to, { type: MsgType.KeyRequest, slots, certificate: j.certificate });
  }

  /** Members that, by their ID, know `slot` (every member knows the TEK). */
  private possibleHolders(slot: number): MemberKey[] {
    const out: MemberKey[] = [];
    for (const [key, r] of Object.entries(this.s.roster)) {
      if (key === this.self || r.state !== 'member') continue;
      if (slot === TEK_SLOT || slotsOf(this.pidOf(key), this.s.params.V).includes(slot)) out.push(key);
    }
    return out.sort();
  }

  private onKeyRequest(from: MemberKey, m: Extract<Message, { type: typeof MsgType.KeyRequest }>, now: number): void {
    ensure(this.s.state === 'member', 'stale', 'key request while not a member');
    ensure(!this.s.blocklist.includes(from), 'blocked', 'key request from an excluded member');
    // A newcomer whose admission we already heard announced by its admitter is a member;
    // otherwise its admitter's signed certificate must show it (one signature check).
    if (this.s.roster[from]?.state !== 'member') this.verifyCertificate(m.certificate, from);
    const theirSlots = new Set([TEK_SLOT, ...slotsOf(this.pidOf(from), this.s.params.V)]);
    for (const s of m.slots) ensure(theirSlots.has(s), 'not-authorized', `${slotName(s, this.s.params.V)} is not selected by the requester's ID`);
    if (!this.s.roster[from]) {
      this.setRoster(from, { name: '', admittedAt: m.certificate.admittedAt, state: 'member' });
    }
    this.lastSeen.set(from, now);
    const { grants, revisions } = this.grantKeys(from, m.slots, now, true);
    if (revisions.length) this.publish('control', { type: MsgType.Revision, keys: revisions });
    if (grants.length) this.unicast(from, { type: MsgType.KeyGrant, grants });
  }

  private onKeyGrant(from: MemberKey, grants: SealedKey[], now: number): void {
    const fetching = this.s.state === 'member';
    ensure(this.s.state === 'joining' || fetching, 'stale', 'key grant while not joining');
    const opened = grants.map((g) => ({ g, key: this.openSealed(from, g, 'grant') }));
    for (const { g } of opened) this.checkGrantFor(g);
    for (const { g, key } of opened) {
      const cur = this.heldKey(g.info.slot);
      if (cur && cur.version === g.info.version && sameCreators(cur.creators, sortedKeys(g.info.creators)) && cur.revision >= g.info.revision) {
        throw new RemoteProtocolError('replay', 'grant of a key already held');
      }
      this.installGrant(g, key, now, this.s.tek?.coverage ?? this.s.blocklist);
    }
    this.maybeJoined(now);
  }

  private onJoinRefused(from: MemberKey, reason: string, now: number): void {
    if (this.s.state === 'member' && reason === NOT_A_MEMBER && this.s.roster[from]?.state === 'member') {
      // The group does not know us (e.g. our admitter was excluded as it admitted us): ask again.
      this.addLog(now, 'join', `${short(from)} does not know this member: asking for admission again`);
      this.startMergeJoin(from, now);
      return;
    }
    ensure(this.s.state === 'joining' && this.join && !this.join.certificate, 'stale', 'refusal while not waiting for admission');
    this.emit({ type: 'join-refused', reason: `${short(from)}: ${reason}`, at: now });
    // Try the next contact after a pause; the user sees each refusal.
    this.join.attemptAt = now + 2 * this.s.params.heartbeatMs;
  }

  private maybeJoined(now: number): void {
    if (this.s.state !== 'joining' || !this.s.tek) return;
    this.s.state = 'member';
    this.nextHeartbeatAt = now;
    this.s.lastRevisionRefreshAt = now;
    this.s.lastVersionRefreshAt = now;
    this.emit({ type: 'joined', group: this.group, at: now });
    this.retryPendingData(now);
    const admitted = this.pendingAdmitted;
    this.pendingAdmitted = [];
    for (const a of admitted) {
      try {
        this.onMemberAdmitted(a.from, a.m, now);
      } catch (err) {
        if (err instanceof RemoteProtocolError) this.reject(a.from, err.reason, err.message, now);
        else throw err;
      }
    }
    const panel = this.pendingPanel;
    this.pendingPanel = [];
    if (this.panel) for (const p of panel) this.panel.receive(p.from, p.body, now);
  }

  /** Publishes the batched admissions with the TEK's current public state. */
  private flushAnnouncements(now: number): void {
    if (this.announceAt === null || now < this.announceAt) return;
    this.announceAt = null;
    const members = this.announceQueue.splice(0, 1000);
    if (members.length === 0) return;
    const tek = this.s.tek;
    const revisions = tek && tek.owner === this.self ? [this.info(tek)] : [];
    this.publish('control', { type: MsgType.MemberAdmitted, members, revisions });
    if (this.announceQueue.length) this.announceAt = now;
  }

  private onMemberAdmitted(from: MemberKey, m: Extract<Message, { type: typeof MsgType.MemberAdmitted }>, now: number): void {
    if (this.s.state === 'joining') {
      // Another newcomer's admission may overtake our own Admit: keep it for after joining.
      if (this.pendingAdmitted.length < 512) this.pendingAdmitted.push({ from, m });
      return;
    }
    if (this.s.state !== 'member') return;
    ensure(this.s.roster[from]?.state === 'member', 'not-member', 'admission announced by a non-member');
    for (const k of m.revisions) this.checkInfo(k);
    this.lastSeen.set(from, now);
    if (m.revisions.length) this.onRevision(from, m.revisions, now);
    for (const e of m.members) {
      // An excluded identity is never re-added by an announcement ([0075]).
      if (this.s.blocklist.includes(e.key)) continue;
      const known = this.s.roster[e.key];
      if (known?.state === 'member') {
        if (!known.name) known.name = e.name;
        continue;
      }
      this.setRoster(e.key, { name: e.name, admittedAt: e.admittedAt, state: 'member' });
      this.emit({ type: 'member-admitted', member: e.key, by: from, name: e.name, at: now });
      this.addLog(now, 'join', `${short(from)} admitted ${e.name || short(e.key)}`);
    }
  }

  // ================================================================ data (003 [0070]–[0071], FIG. 8)

  private publishData(payload: Uint8Array, now: number): void {
    const tek = this.s.tek!;
    const senderId = Uint8Array.from(this.selfId);
    const header = {
      type: MsgType.Data,
      senderId,
      tekVersion: tek.version,
      tekTag: creatorsTag(this.crypto, tek.creators),
      revision: tek.revision,
      sentAt: now,
      nonce: this.rng(24),
      ciphertext: new Uint8Array(0),
    } as Extract<Message, { type: typeof MsgType.Data }>;
    const aad = dataAad(this.groupBytes, header);
    header.ciphertext = this.crypto.seal(this.dataKeyOf(tek.key), header.nonce, payload, aad);
    this.publish('data', header);
  }

  private onData(from: MemberKey, m: Extract<Message, { type: typeof MsgType.Data }>, now: number): void {
    ensure(!this.s.blocklist.includes(from), 'blocked', 'data from an excluded member');
    const nonceId = `${from}:${toHex(m.nonce)}`;
    ensure(!this.seenNonces.has(nonceId), 'replay', 'data packet already received');
    ensure(equalBytes(m.senderId, Uint8Array.from(this.pidOf(from))), 'invalid', 'header participant ID does not match the sender');
    if (this.s.state !== 'member') {
      if (this.s.state === 'excluded') this.emit({ type: 'undecryptable', from, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now });
      return;
    }
    const result = this.decryptData(m);
    if (result === 'unknown') {
      // A version we do not have yet: keep it until the table or a fetch brings the key.
      this.seenNonces.set(nonceId, now);
      this.pendingData.push({ from, msg: m, at: now });
      if (this.pendingData.length > MAX_PENDING_DATA) {
        const dropped = this.pendingData.shift()!;
        this.emit({ type: 'undecryptable', from: dropped.from, sentAt: dropped.msg.sentAt, tekVersion: dropped.msg.tekVersion, at: now });
      }
      if (this.s.tek && m.tekVersion >= this.s.tek.version) {
        this.scheduleFetchByTag(m.tekVersion, m.tekTag, from, now);
      }
      return;
    }
    ensure(result !== 'failed', 'decrypt-failed', 'data packet does not decrypt under its announced key');
    if (result === 'too-old') {
      this.seenNonces.set(nonceId, now);
      this.emit({ type: 'undecryptable', from, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now });
      return;
    }
    this.seenNonces.set(nonceId, now);
    this.lastSeen.set(from, now);
    this.emit({ type: 'data', from, payload: result, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now });
  }

  private decryptData(m: Extract<Message, { type: typeof MsgType.Data }>): Uint8Array | 'unknown' | 'failed' | 'too-old' {
    const rec = this.s.tekRecords.find((r) => r.version === m.tekVersion && equalBytes(creatorsTag(this.crypto, r.creators), m.tekTag));
    if (!rec) return 'unknown';
    let key: Uint8Array | null = null;
    if (m.revision >= rec.revision) {
      if (m.revision - rec.revision > 10_000) return 'failed';
      key = advanceRevision(this.crypto, rec.key, rec.revision, m.revision);
    } else {
      const older = rec.older.filter((o) => o.revision <= m.revision).sort((a, b) => b.revision - a.revision)[0];
      if (!older) return 'too-old';
      key = advanceRevision(this.crypto, older.key, older.revision, m.revision);
    }
    const pt = this.crypto.open(this.dataKeyOf(key), m.nonce, m.ciphertext, dataAad(this.groupBytes, m));
    if (!pt) return 'failed';
    // A packet at a later revision of our current TEK tells us a join happened (003 [0070]).
    const tek = this.s.tek;
    if (tek && tek.version === m.tekVersion && sameCreators(tek.creators, rec.creators) && m.revision > tek.revision) {
      tek.key = key;
      tek.revision = m.revision;
      this.recordTek(tek, -1);
    }
    return pt;
  }

  private dataKeyCache: { key: Uint8Array; derived: Uint8Array } | null = null;
  private dataKeyOf(tek: Uint8Array): Uint8Array {
    if (this.dataKeyCache && equalBytes(this.dataKeyCache.key, tek)) return this.dataKeyCache.derived;
    const derived = dataKey(this.crypto, tek);
    this.dataKeyCache = { key: tek, derived };
    return derived;
  }

  private retryPendingData(now: number): void {
    if (this.pendingData.length === 0 || this.s.state !== 'member') return;
    const still: typeof this.pendingData = [];
    for (const p of this.pendingData) {
      const r = this.decryptData(p.msg);
      if (r === 'unknown') still.push(p);
      else if (r instanceof Uint8Array) this.emit({ type: 'data', from: p.from, payload: r, sentAt: p.msg.sentAt, tekVersion: p.msg.tekVersion, at: now });
      else this.emit({ type: 'undecryptable', from: p.from, sentAt: p.msg.sentAt, tekVersion: p.msg.tekVersion, at: now });
    }
    this.pendingData = still;
  }

  /** Keeps the TEK's current revision readable; earlier revisions and versions expire after the grace window. */
  private recordTek(tek: HeldKey, now: number): void {
    let rec = this.s.tekRecords.find((r) => r.version === tek.version && sameCreators(r.creators, tek.creators));
    if (!rec) {
      rec = { version: tek.version, creators: [...tek.creators], revision: tek.revision, key: tek.key, older: [], retiredAt: null };
      this.s.tekRecords.push(rec);
      return;
    }
    if (tek.revision > rec.revision) {
      // Superseded revisions stay derivable from the oldest one kept, until a grace
      // window after the latest step (003 [0071]); one entry suffices for all of them.
      const until = (now < 0 ? 0 : now) + this.s.params.graceMs;
      const oldest = rec.older[0];
      if (oldest) oldest.until = Math.max(oldest.until, until);
      else rec.older.push({ revision: rec.revision, key: rec.key, until });
      rec.revision = tek.revision;
      rec.key = tek.key;
    }
  }

  private retireTek(now: number): void {
    const t = this.s.tek;
    if (!t) return;
    const rec = this.s.tekRecords.find((r) => r.version === t.version && sameCreators(r.creators, t.creators));
    if (rec && rec.retiredAt === null) rec.retiredAt = now;
  }

  private expiryAt(): number | null {
    let d: number | null = null;
    const g = this.s.params.graceMs;
    for (const r of this.s.tekRecords) {
      if (r.retiredAt !== null && (d === null || r.retiredAt + g < d)) d = r.retiredAt + g;
      for (const o of r.older) if (d === null || o.until < d) d = o.until;
    }
    for (const p of this.pendingData) if (d === null || p.at + g < d) d = p.at + g;
    return d;
  }

  /** Erases superseded keys after the grace window (003 [0071]) and drops stale buffers. */
  private expireTick(now: number): void {
    const g = this.s.params.graceMs;
    this.s.tekRecords = this.s.tekRecords.filter((r) => r.retiredAt === null || r.retiredAt + g > now);
    for (const r of this.s.tekRecords) r.older = r.older.filter((o) => o.until > now);
    const keep: typeof this.pendingData = [];
    for (const p of this.pendingData) {
      if (p.at + g > now) keep.push(p);
      else this.emit({ type: 'undecryptable', from: p.from, sentAt: p.msg.sentAt, tekVersion: p.msg.tekVersion, at: now });
    }
    this.pendingData = keep;
    for (const [id, at] of this.seenNonces) if (at + g < now) this.seenNonces.delete(id);
    for (const [id, t] of this.tables) if (t.applied && t.firstSeen + g < now && t.completeAt === null) this.tables.delete(id);
    if (this.retiredKeks.length > 0) this.retiredKeks = this.retiredKeks.filter((r) => r.at + g > now);
  }

  // ================================================================ exclusion tables (003 [0072]–[0079], Tables 1–4)

  /** Starts an exclusion (targets ≠ []) or a periodic version refresh (targets = []). */
  private startTable(kind: 'exclude' | 'refresh', targets: MemberKey[], now: number): void {
    const tek = this.s.tek!;
    const panelKey = this.panel?.takeKey(kind, targets, now) ?? null;
    const tekPrime = panelKey ? panelKey.key : this.rng(KEY_BYTES);
    if (!panelKey && this.s.params.panelSize >= 4 && this.panel) {
      this.emit({ type: 'panel-fallback', reason: 'no panel key available: this TEK version has a single creator', at: now });
      this.addLog(now, 'fallback-single', 'TEK version from a single creator: no fresh panel key here (this member is off the panel, the panel is not ready, or a removed member knew its key)');
    }
    const blocklist = sortedKeys([...this.s.blocklist, ...targets]);
    const header: TableHeader = {
      kind,
      excluder: this.self,
      targets,
      base: { version: tek.version, creators: tek.creators },
      newVersion: tek.version + 1,
      createdAt: now,
      blocklist,
      tekCommitment: new Uint8Array(32),
      panel: panelKey ? { round: panelKey.round, members: sortedKeys(panelKey.members) } : null,
      replaced: this.replacedKeks(targets),
      plan: [],
    };
    const unusable = this.unusableSlots(header);
    const ownUsable = slotsOf(this.selfId, this.s.params.V).filter((s) => !unusable.has(s) && this.heldKey(s));
    const { plan, pairwiseFor } = this.planCompletion(blocklist, unusable, ownUsable);
    header.plan = plan;
    header.tekCommitment = this.commitTek(header, tekPrime);
    const headerBytes = encodeTableHeader(header);
    const headerSignature = this.crypto.ed25519Sign(this.seed, concat(LABEL('table'), this.groupBytes, headerBytes));
    const t = this.newTableState(header, headerBytes, headerSignature, now);
    t.tekPrime = tekPrime;
    this.tables.set(t.idHex, t);
    t.blocklistApplied = true;
    this.applyBlocklist(header, now);
    this.applyTable(t, now);
    const entries = this.makeEntries(t, null);
    const pairwise: PairwiseEntry[] = [];
    for (const m of pairwiseFor.slice(0, LIMITS.pairwise)) {
      const pk = this.pairwise(m);
      if (pk) pairwise.push({ member: m, sealed: this.crypto.seal(this.pairwiseEntryKey(t, pk, m), ZERO_NONCE, tekPrime, ENTRY_AAD) });
    }
    this.addEntries(t, entries, pairwise);
    t.completed = true;
    this.publishTable(t, entries, pairwise);
    const what = kind === 'exclude' ? `excluded ${targets.map(short).join(', ')}` : 'refreshed the TEK version';
    const extra = pairwise.length > 0 ? `, ${pairwise.length} pairwise` : '';
    this.addLog(now, kind === 'exclude' ? 'exclude' : 'refresh', `${what}: TEK v${header.newVersion} (${entries.length} entries, ${plan.length} completers planned${extra})`);
  }

  /** The commitment binds TEK' to this table, so a forged or wrong TEK' is detected (issue 3 §5). */
  private commitTek(header: Pick<TableHeader, 'excluder' | 'newVersion' | 'createdAt'>, tekPrime: Uint8Array): Uint8Array {
    return this.crypto.sha256(concat(LABEL('tek-commitment'), this.groupBytes, fromHex(header.excluder), utf8(`${header.newVersion}:${header.createdAt}`), tekPrime));
  }

  private newTableState(header: TableHeader, headerBytes: Uint8Array, headerSignature: Uint8Array, now: number): TableState {
    const id = this.crypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16);
    return {
      id,
      idHex: toHex(id),
      header,
      headerBytes,
      headerSignature,
      entries: [],
      pairwise: [],
      bySlot: new Map(),
      pairwiseMine: null,
      failed: new Set(),
      publishers: new Set(),
      tekPrime: null,
      signatureChecked: true,
      blocklistApplied: false,
      applied: false,
      undo: null,
      firstSeen: now,
      completeAt: null,
      completed: false,
      published: false,
      fetched: false,
      fetchAt: null,
      fetchTried: new Set(),
    };
  }

  /** The targets' KEKs at the version and revision this member knows (held, or from heartbeats). */
  private replacedKeks(targets: MemberKey[]): ReplacedKek[] {
    const slots = new Set<number>();
    for (const m of targets) for (const s of slotsOf(this.pidOf(m), this.s.params.V)) slots.add(s);
    const out: ReplacedKek[] = [];
    for (const slot of [...slots].sort((a, b) => a - b)) {
      const k = this.heldKey(slot) ?? this.s.slotDir[String(slot)];
      if (k) out.push({ slot, version: k.version, revision: k.revision });
    }
    return out;
  }

  /**
   * Slots whose KEK may not carry TEK': every slot of the targets AND of every member
   * blocked earlier (the header's full blocklist). The seed (003 [0073]) excludes only
   * the leaver's slots; but a replacement is derived from (old KEK, TEK'), so a member
   * excluded earlier (who knew the old KEK) and one excluded later (who knew TEK') could
   * pool them. A slot any blocked member ever held therefore never carries TEK' again
   * (docs/protocol.md §7.1). Cached per table.
   */
  private unusableSlots(h: TableHeader): Set<number> {
    const cached = this.unusableCache.get(h);
    if (cached) return cached;
    const out = new Set<number>();
    for (const t of h.targets) for (const s of slotsOf(this.pidOf(t), this.s.params.V)) out.add(s);
    for (const t of h.blocklist) for (const s of slotsOf(this.pidOf(t), this.s.params.V)) out.add(s);
    this.unusableCache.set(h, out);
    return out;
  }
  private unusableCache = new WeakMap<TableHeader, Set<number>>();

  /**
   * Greedy set cover of the remaining members (003 [0073], [0076]): starting from the
   * excluder's own usable KEKs, repeatedly pick the member who can already read TEK'
   * and whose usable KEKs reach the most members not yet reached, and the symbols of
   * its that reach someone new. Members none of whose KEKs is usable get TEK' pairwise.
   * Each step scores a bounded, evenly spread sample of the candidates (PLAN_SAMPLE).
   */
  private planCompletion(blocklist: MemberKey[], unusable: Set<number>, ownUsable: number[]): { plan: PlanStep[]; pairwiseFor: MemberKey[] } {
    const { V, W } = this.s.params;
    const { keys, slots } = this.rosterSlots();
    const n = keys.length;
    const S = V * W + 1;
    const bad = new Uint8Array(S);
    for (const s of unusable) bad[s] = 1;
    const blocked = new Set(blocklist);
    // Members to reach, and the usable-slot holder lists (CSR) over them.
    const active = new Uint8Array(n);
    const count = new Int32Array(S);
    const pairwiseFor: MemberKey[] = [];
    let toReach = 0;
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      if (key === this.self || this.s.roster[key]?.state !== 'member' || blocked.has(key)) continue;
      let usable = 0;
      for (let w = 0; w < W; w++) if (!bad[slots[i * W + w]!]) usable++;
      if (usable === 0) {
        pairwiseFor.push(key);
        continue;
      }
      active[i] = 1;
      toReach++;
      for (let w = 0; w < W; w++) if (!bad[slots[i * W + w]!]) count[slots[i * W + w]!]!++;
    }
    const start = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) start[s + 1] = start[s]! + count[s]!;
    const holders = new Int32Array(start[S]!);
    const fillAt = start.slice(0, S);
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      for (let w = 0; w < W; w++) {
        const sl = slots[i * W + w]!;
        if (!bad[sl]) holders[fillAt[sl]!++] = i;
      }
    }
    const uncovered = count; // members not yet reached, per slot
    const filled = new Uint8Array(S);
    const reached = new Uint8Array(n);
    const candidates: number[] = [];
    let reachedCount = 0;
    const gainOf = (i: number) => {
      let g = 0;
      for (let w = 0; w < W; w++) {
        const sl = slots[i * W + w]!;
        if (!bad[sl] && !filled[sl]) g += uncovered[sl]!;
      }
      return g;
    };
    const fill = (sl: number) => {
      if (filled[sl]) return;
      filled[sl] = 1;
      for (let h = start[sl]!; h < start[sl + 1]!; h++) {
        const j = holders[h]!;
        if (reached[j]) continue;
        reached[j] = 1;
        reachedCount++;
        candidates.push(j);
        for (let w = 0; w < W; w++) uncovered[slots[j * W + w]!]!--;
      }
    };
    for (const sl of ownUsable) fill(sl);
    const plan: PlanStep[] = [];
    const chosen = new Uint8Array(n);
    while (reachedCount < toReach && plan.length < 255) {
      // Score at most PLAN_SAMPLE candidates, spread evenly over those reached so far:
      // a near-greedy choice at a bounded cost per step, whatever the group size.
      const stride = Math.max(1, Math.floor(candidates.length / PLAN_SAMPLE));
      let best = -1;
      let bestGain = 0;
      for (let c = 0; c < candidates.length; c += stride) {
        const i = candidates[c]!;
        if (chosen[i]) continue;
        const g = gainOf(i);
        if (g > bestGain) [best, bestGain] = [i, g];
      }
      if (best < 0) break;
      chosen[best] = 1;
      const mine: number[] = [];
      for (let w = 0; w < W; w++) {
        const sl = slots[best * W + w]!;
        if (!bad[sl] && !filled[sl]) mine.push(sl);
      }
      mine.sort((x, y) => uncovered[y]! - uncovered[x]!);
      const symbols: number[] = [];
      for (const sl of mine) {
        if (uncovered[sl]! <= 0) continue;
        symbols.push(Math.floor((sl - 1) / V));
        fill(sl);
      }
      if (symbols.length > 0) plan.push({ prefix: fromHex(keys[best]!).slice(0, 8), symbols: symbols.sort((x, y) => x - y) });
    }
    for (let i = 0; i < n; i++) if (active[i] && !reached[i]) pairwiseFor.push(keys[i]!);
    return { plan, pairwiseFor: pairwiseFor.sort() };
  }

  /**
   * Every roster key with the W slots its ID selects, as one flat array. Built at the
   * first exclusion (or by buildRosterIndex), then kept up to date as members are added.
   */
  private rosterSlots(): { keys: MemberKey[]; slots: Uint16Array } {
    if (this.rosterSlotsCache) return this.rosterSlotsCache;
    const W = this.s.params.W;
    const keys = Object.keys(this.s.roster);
    this.rosterSlotsCache = { keys: [], slots: new Uint16Array(Math.max(16, keys.length) * W) };
    for (const key of keys) this.indexRosterKey(key);
    return this.rosterSlotsCache;
  }

  private indexRosterKey(key: MemberKey): void {
    const c = this.rosterSlotsCache;
    if (!c) return;
    const { V, W } = this.s.params;
    const i = c.keys.length;
    if ((i + 1) * W > c.slots.length) {
      const grown = new Uint16Array(c.slots.length * 2);
      grown.set(c.slots);
      c.slots = grown;
    }
    const id = this.pidOf(key);
    for (let w = 0; w < W; w++) c.slots[i * W + w] = kekSlot(w, id[w]!, V);
    c.keys.push(key);
  }

  /** Builds the roster index now rather than at the first exclusion (it is then kept up to date). */
  buildRosterIndex(): void {
    this.rosterSlots();
  }
  private rosterSlotsCache: { keys: MemberKey[]; slots: Uint16Array } | null = null;

  /** TEK' under each of this member's usable KEKs that no entry covers yet; `symbols` limits it to a plan step. */
  private makeEntries(t: TableState, symbols: readonly number[] | null): TableEntry[] {
    const unusable = this.unusableSlots(t.header);
    const V = this.s.params.V;
    const entries: TableEntry[] = [];
    for (const sym of symbols ?? this.selfId.map((_, i) => i)) {
      const value = this.selfId[sym];
      if (value === undefined) continue;
      const slot = kekSlot(sym, value, V);
      if (unusable.has(slot) || t.bySlot.has(slot)) continue;
      const k = this.heldKey(slot);
      if (!k) continue;
      const e: TableEntry = { slot, kekVersion: k.version, kekRevision: k.revision, sealed: new Uint8Array(0) };
      e.sealed = this.crypto.seal(this.entryKey(t, e, k.key), ZERO_NONCE, t.tekPrime!, ENTRY_AAD);
      entries.push(e);
    }
    return entries;
  }

  /** The wrap key of one entry is unique to (KEK, table, slot, version, revision): a zero nonce is safe. */
  private entryKey(t: TableState, e: Pick<TableEntry, 'slot' | 'kekVersion' | 'kekRevision'>, kek: Uint8Array): Uint8Array {
    return wrapKey(this.crypto, kek, concat(t.id, utf8(`${e.slot}:${e.kekVersion}:${e.kekRevision}`)));
  }

  private pairwiseEntryKey(t: TableState, pairwise: Uint8Array, member: MemberKey): Uint8Array {
    return wrapKey(this.crypto, pairwise, concat(t.id, fromHex(member)));
  }

  /** Indexes new entries; returns how many were new. */
  private addEntries(t: TableState, entries: readonly TableEntry[], pairwise: readonly PairwiseEntry[]): number {
    let added = 0;
    for (const e of entries) {
      const list = t.bySlot.get(e.slot);
      if (list?.some((x) => x.kekVersion === e.kekVersion && x.kekRevision === e.kekRevision)) continue;
      if (list) list.push(e);
      else t.bySlot.set(e.slot, [e]);
      t.entries.push(e);
      added++;
    }
    for (const p of pairwise) {
      if (t.pairwise.some((x) => x.member === p.member)) continue;
      t.pairwise.push(p);
      if (p.member === this.self) t.pairwiseMine = p;
      added++;
    }
    return added;
  }

  private publishTable(t: TableState, entries: TableEntry[], pairwise: PairwiseEntry[]): void {
    if (!this.relayable(t)) return;
    t.published = true;
    this.publish('control', { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries, pairwise });
  }

  private tableMessageBytes(t: TableState): Uint8Array {
    return encodeMessage(this.groupBytes, { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries: t.entries, pairwise: t.pairwise });
  }

  private onTable(from: MemberKey, m: Extract<Message, { type: typeof MsgType.Table }>, now: number): void {
    if (this.s.state !== 'member') return; // a joiner gets the current TEK with its admission
    const h = m.header;
    const { headerBytes, id } = this.headerId(h);
    let t = this.tables.get(id);
    if (!t) {
      // Validate everything about the header before any state changes. A header that
      // comes from its excluder itself is authenticated by the transport (`from`); its
      // signature is checked before this member relays it (relayable()).
      const direct = from === h.excluder;
      ensure(direct || this.headerSignatureOk(h, headerBytes, m.headerSignature), 'bad-signature', 'table header signature does not verify');
      this.authorizeTable(h);
      ensure(h.newVersion === h.base.version + 1, 'invalid', 'a table makes exactly the next version');
      if (this.s.tek && h.newVersion < this.s.tek.version - 1) throw new RemoteProtocolError('stale', `table for TEK v${h.newVersion}, current is v${this.s.tek.version}`);
      this.checkReplaced(h);
      t = this.newTableState(h, headerBytes, m.headerSignature, now);
      t.signatureChecked = !direct;
    } else if (!equalBytes(t.headerSignature, m.headerSignature)) {
      ensure(this.headerSignatureOk(h, headerBytes, m.headerSignature), 'bad-signature', 'table header signature does not verify');
    }
    const p = this.s.params;
    const unusable = this.unusableSlots(t.header);
    for (const e of m.entries) {
      ensure(e.slot >= 1 && e.slot <= p.V * p.W, 'invalid', `entry for slot ${e.slot} outside the KEK table`);
      ensure(!unusable.has(e.slot), 'invalid', `entry under ${slotName(e.slot, p.V)}, a KEK an excluded member knew`);
    }
    const known = this.tables.get(id);
    if (known) {
      const fresh = m.entries.some((e) => !known.bySlot.get(e.slot)?.some((x) => x.kekVersion === e.kekVersion && x.kekRevision === e.kekRevision)) || m.pairwise.some((x) => !known.pairwise.some((y) => y.member === x.member));
      if (!fresh) throw new RemoteProtocolError('replay', 'table brings nothing new');
    }
    // Apply.
    if (!known) this.tables.set(id, t);
    this.addEntries(t, m.entries, m.pairwise);
    if (from !== this.self) t.publishers.add(from);
    this.lastSeen.set(from, now);
    if (!t.blocklistApplied) {
      t.blocklistApplied = true;
      this.applyBlocklist(t.header, now);
    }
    if (this.s.state !== 'member') return; // we were excluded by it
    this.progressTable(t, now);
    // A table older than our TEK (one that crossed ours), or a concurrent one that loses to
    // ours, may have blocked members our TEK was not made against: reseal (docs/protocol.md
    // §8.2). A concurrent one that would win is applied once readable instead.
    const tek = this.s.tek;
    const v = t.header.newVersion;
    if (tek && !t.applied && (v < tek.version || (v === tek.version && cmpKey(t.header.excluder, tek.creators[0] ?? '') > 0))) this.scheduleReseal(now);
  }

  /**
   * An excluded member still heartbeating two intervals after its table missed every
   * publication of it: a member that published the table sends it the signed header (no
   * entries) so it learns of its exclusion (003 [0075]). At most once per heartbeat
   * interval per member; a heartbeat that merely crossed the table gets no answer.
   */
  private tellExcluded(member: MemberKey, now: number): void {
    const last = this.toldExcluded.get(member);
    const hb = this.s.params.heartbeatMs;
    if (last !== undefined && now - last < hb) return;
    const t = [...this.tables.values()].find((x) => x.header.blocklist.includes(member));
    if (!t || !t.published || now - t.firstSeen < 2 * hb || !this.relayable(t)) return;
    this.toldExcluded.set(member, now);
    this.unicast(member, { type: MsgType.Table, header: t.header, headerSignature: t.headerSignature, entries: [], pairwise: [] });
  }
  private toldExcluded = new Map<MemberKey, number>();

  private headerSignatureOk(h: TableHeader, headerBytes: Uint8Array, signature: Uint8Array): boolean {
    return this.crypto.ed25519Verify(fromHex(h.excluder), concat(LABEL('table'), this.groupBytes, headerBytes), signature);
  }

  /** Before a header is passed on to others, its signature must verify (once per table). */
  private relayable(t: TableState): boolean {
    if (!t.signatureChecked) {
      if (!this.headerSignatureOk(t.header, t.headerBytes, t.headerSignature)) {
        this.reject(t.header.excluder, 'bad-signature', 'table header signature does not verify: not relayed', -1);
        return false;
      }
      t.signatureChecked = true;
    }
    return true;
  }

  /** The header's replaced KEKs are the targets' slots, each once, in order. */
  private checkReplaced(h: TableHeader): void {
    const allowed = new Set<number>();
    for (const m of h.targets) for (const s of slotsOf(this.pidOf(m), this.s.params.V)) allowed.add(s);
    let last = 0;
    for (const r of h.replaced) {
      ensure(allowed.has(r.slot) && r.slot > last, 'invalid', 'a table may replace only its targets\' KEKs, each once, in order');
      last = r.slot;
    }
  }

  /** Encoded header and table ID, memoized per decoded header (published tables reach every member as one object). */
  private headerId(h: TableHeader): { headerBytes: Uint8Array; id: string } {
    let v = headerIds.get(h);
    if (!v) {
      const headerBytes = encodeTableHeader(h);
      v = { headerBytes, id: toHex(this.crypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16)) };
      headerIds.set(h, v);
    }
    return v;
  }

  /** Who may change keys (issue 3 §5): exclusions by the policy; refreshes by the TEK holder or an admin. */
  private authorizeTable(h: TableHeader): void {
    const excluder = this.s.roster[h.excluder];
    const blockedConcurrently = excluder?.state === 'excluded' && (excluder.blockedAtVersion ?? 0) >= h.newVersion;
    // A member that announced its leave may still have made a table just before (concurrently).
    ensure(excluder && (excluder.state === 'member' || excluder.state === 'left' || blockedConcurrently), 'not-member', 'table from a non-member');
    const p = this.s.params.policy;
    if (h.kind === 'exclude') {
      ensure(h.targets.length > 0, 'invalid', 'exclusion without targets');
      ensure(!h.targets.includes(h.excluder), 'invalid', 'a member cannot exclude itself');
      ensure(p.exclude === 'any-member' || p.admins.includes(h.excluder), 'not-authorized', `${short(h.excluder)} is not an admin and the group lets only admins exclude`);
    } else {
      ensure(h.targets.length === 0, 'invalid', 'a refresh excludes nobody');
      const tekOwner = this.s.slotDir[String(TEK_SLOT)]?.owner ?? this.s.tek?.owner;
      const allowed = p.exclude === 'any-member' || p.admins.includes(h.excluder) || tekOwner === h.excluder;
      ensure(allowed, 'not-authorized', `${short(h.excluder)} may not refresh the group key under this policy`);
    }
  }

  /** [0075]: the blocklist changes together with the key change. */
  private applyBlocklist(h: TableHeader, now: number): void {
    // The header carries the excluder's whole blocklist: taking the union heals a member
    // that missed (or refused, in a race) an earlier table. Under the admins policy only
    // an admin's list is taken beyond its own targets.
    const p = this.s.params.policy;
    const trusted = p.exclude === 'any-member' || p.admins.includes(h.excluder);
    const wanted = trusted ? [...h.targets, ...h.blocklist] : h.targets;
    const newly = [...new Set(wanted)].filter((t) => !this.s.blocklist.includes(t) && t !== h.excluder);
    if (newly.length === 0) return;
    for (const t of newly) {
      this.s.blocklist.push(t);
      const r = this.s.roster[t];
      if (r) {
        r.state = r.state === 'left' ? 'left' : 'excluded';
        r.blockedAtVersion = h.newVersion;
      } else this.setRoster(t, { name: '', admittedAt: 0, state: 'excluded', blockedAtVersion: h.newVersion });
      this.leaveExclusions.delete(t);
    }
    this.s.blocklist.sort();
    if (newly.includes(this.self)) {
      this.s.state = 'excluded';
      this.emit({ type: 'self-excluded', by: h.excluder, at: now });
      this.addLog(now, 'exclude', `this member was excluded by ${short(h.excluder)}`);
      this.eraseSecrets();
      return;
    }
    this.emit({ type: 'member-excluded', members: newly, by: h.excluder, at: now });
    if (h.excluder !== this.self) this.addLog(now, 'exclude', `${short(h.excluder)} excluded ${newly.map(short).join(', ')}`);
    // Owners that were excluded no longer hold anything.
    for (const d of Object.values(this.s.slotDir)) if (d.owner && newly.includes(d.owner)) d.owner = null;
    if (this.s.tek && this.s.tek.owner && newly.includes(this.s.tek.owner)) this.s.tek.owner = null;
    for (const k of this.s.keks) if (k.owner && newly.includes(k.owner)) k.owner = null;
  }

  /** Reads TEK' if possible, applies the table, and completes it when this member is planned or fetched it (003 [0079]). */
  private progressTable(t: TableState, now: number): void {
    if (!t.tekPrime) t.tekPrime = this.readTekPrime(t);
    if (!t.tekPrime) {
      if (t.fetchAt === null) t.fetchAt = now + this.s.params.fetchAfterMs + this.randomBelow(Math.max(2, this.s.params.heartbeatMs));
      return;
    }
    t.fetchAt = null;
    this.applyTable(t, now);
    if (!t.applied || t.completed || t.completeAt !== null) return;
    const planned = this.plannedSymbols(t);
    if (planned) t.completeAt = now;
    else if (t.fetched) t.completeAt = now + 1 + this.randomBelow(Math.max(2, this.s.params.heartbeatMs));
  }

  /** The symbols the excluder's plan asks this member to add, or null if it is not in the plan. */
  private plannedSymbols(t: TableState): number[] | null {
    const mine = this.selfPrefix;
    for (const step of t.header.plan) if (equalBytes(step.prefix, mine)) return step.symbols;
    return null;
  }

  private readTekPrime(t: TableState): Uint8Array | null {
    const unusable = this.unusableSlots(t.header);
    for (const slot of slotsOf(this.selfId, this.s.params.V)) {
      if (unusable.has(slot)) continue;
      for (const e of t.bySlot.get(slot) ?? []) {
        if (t.failed.has(e)) continue;
        const kek = this.kekAt(slot, e.kekVersion, e.kekRevision);
        if (!kek) continue;
        const pt = this.crypto.open(this.entryKey(t, e, kek), ZERO_NONCE, e.sealed, ENTRY_AAD);
        if (pt && equalBytes(this.commitTek(t.header, pt), t.header.tekCommitment)) return pt;
        t.failed.add(e);
        this.reject(this.self, 'decrypt-failed', `table entry under ${slotName(slot, this.s.params.V)} does not open to the committed TEK'`, -1);
      }
    }
    const p = t.pairwiseMine;
    if (p) {
      const pk = this.pairwise(t.header.excluder);
      const pt = pk ? this.crypto.open(this.pairwiseEntryKey(t, pk, this.self), ZERO_NONCE, p.sealed, ENTRY_AAD) : null;
      if (pt && equalBytes(this.commitTek(t.header, pt), t.header.tekCommitment)) return pt;
      t.pairwiseMine = null;
    }
    return null;
  }

  /** My KEK for `slot` at (version, revision), stepping forward if needed; a KEK replaced recently still counts. */
  private kekAt(slot: number, version: number, revision: number): Uint8Array | null {
    const candidates = [this.heldKey(slot), ...this.retiredKeks.filter((r) => r.key.slot === slot).map((r) => r.key)];
    for (const k of candidates) {
      if (!k || k.version !== version || k.revision > revision || revision - k.revision > 10_000) continue;
      return advanceRevision(this.crypto, k.key, k.revision, revision);
    }
    return null;
  }

  private applyTable(t: TableState, now: number): void {
    if (t.applied || !t.tekPrime) return;
    const tek = this.s.tek!;
    const h = t.header;
    const baseTag = sortedKeys(h.base.creators);
    const newCreators = h.panel ? sortedKeys(h.panel.members) : [h.excluder];
    if (tek.version === h.base.version && sameCreators(tek.creators, baseTag)) {
      this.installTableTek(t, newCreators, now);
      return;
    }
    if (tek.version === h.newVersion && !sameCreators(tek.creators, newCreators)) {
      // A sibling: another table made the same version from the same base concurrently (003 [0083]).
      const sibling = [...this.tables.values()].find((o) => o.applied && o.header.newVersion === h.newVersion && o !== t);
      if (sibling && sibling.undo && sameCreators(sortedKeys(sibling.header.base.creators), baseTag) && cmpKey(h.excluder, sibling.header.excluder) < 0) {
        // Rule: the table whose excluder has the lower key wins; the other is undone (docs/protocol.md "Concurrent tables").
        const loser = this.s.tek!;
        this.undoTable(sibling, now);
        this.installTableTek(t, newCreators, now);
        this.keepReadable(loser, now);
        this.addLog(now, 'merge', `concurrent TEK v${h.newVersion}: kept ${short(h.excluder)}'s table over ${short(sibling.header.excluder)}'s`);
        this.scheduleReseal(now);
      } else if (sibling) {
        this.addLog(now, 'merge', `concurrent TEK v${h.newVersion}: kept ${short(sibling.header.excluder)}'s table over ${short(h.excluder)}'s`);
        this.keepReadable({ slot: TEK_SLOT, version: h.newVersion, creators: newCreators, revision: 0, key: t.tekPrime!, basedOn: null, origin: { kind: 'single', creator: h.excluder }, owner: h.excluder }, now);
        this.scheduleReseal(now);
      }
      return;
    }
    if (tek.version < h.base.version) {
      // We missed an earlier change, or its table is still on its way (a reseal can overtake
      // the completions of the table it builds on): give it half a heartbeat, then fetch.
      this.scheduleFetch(TEK_SLOT, h.newVersion, newCreators, h.excluder, now, this.shortFetchDelay());
    }
  }

  private installTableTek(t: TableState, creators: MemberKey[], now: number): void {
    const h = t.header;
    const old = this.s.tek!;
    t.undo = { tek: { ...old }, keks: this.s.keks.map((k) => ({ ...k })) };
    this.retireTek(now);
    const origin: KeyOrigin = h.panel ? { kind: 'panel', round: h.panel.round, members: creators } : { kind: 'single', creator: h.excluder };
    this.s.tek = {
      slot: TEK_SLOT,
      version: h.newVersion,
      creators,
      revision: 0,
      key: t.tekPrime!,
      basedOn: { version: old.version, revision: old.revision, creators: old.creators },
      origin,
      owner: h.excluder,
      coverage: [...h.blocklist],
    };
    this.recordTek(this.s.tek, now);
    this.s.slotDir[String(TEK_SLOT)] = { version: h.newVersion, revision: 0, creators, owner: h.excluder };
    this.heardAt.set(TEK_SLOT, now);
    t.applied = true;
    if (h.kind === 'refresh' || h.excluder === this.self) {
      this.s.lastVersionRefreshAt = now;
      this.s.lastRevisionRefreshAt = now;
    }
    this.keyChanged(TEK_SLOT, h.kind === 'exclude' ? 'exclusion' : 'refresh', now);
    this.deriveReplacements(t, now);
    if (h.panel) {
      this.addLog(now, 'panel-round', `TEK v${h.newVersion} from panel round ${h.panel.round}`);
      this.panel?.consumed(h.panel.round, h.panel.members, now);
    }
    this.retryPendingData(now);
    this.flushHeldOutgoing(now);
  }

  /**
   * 003 [0073]: every KEK a target knew is replaced. The replacement is derived, not sent:
   * HKDF(old KEK at the header's revision ‖ TEK', table ID), computable exactly by the
   * members that hold the old KEK and can read TEK' (deviation: the seed seals a fresh
   * KEK under the same two keys, which protects it no better and costs an entry per slot
   * and completer). A holder that cannot step to the named revision fetches the new version.
   */
  private deriveReplacements(t: TableState, now: number): void {
    const h = t.header;
    const mine = new Set(slotsOf(this.selfId, this.s.params.V));
    for (const r of h.replaced) {
      if (!mine.has(r.slot)) continue;
      const k = this.heldKey(r.slot);
      const owner = this.replacementOwner(r.slot, h, k?.owner ?? this.s.slotDir[String(r.slot)]?.owner ?? null);
      if (k && k.version === r.version && k.revision <= r.revision) {
        const old = advanceRevision(this.crypto, k.key, k.revision, r.revision);
        this.retiredKeks.push({ key: { ...k }, at: now });
        const held: HeldKey = {
          slot: r.slot,
          version: r.version + 1,
          creators: [h.excluder],
          revision: 0,
          key: replaceKey(this.crypto, old, t.tekPrime!, t.id),
          basedOn: { version: r.version, revision: r.revision, creators: k.creators },
          origin: { kind: 'single', creator: h.excluder },
          owner,
        };
        this.s.keks = this.s.keks.filter((x) => x.slot !== r.slot);
        this.s.keks.push(held);
        this.s.slotDir[String(r.slot)] = { version: held.version, revision: 0, creators: [h.excluder], owner };
        this.heardAt.set(r.slot, now);
        this.keyChanged(r.slot, `replaced by the table of TEK v${h.newVersion}`, now);
      } else if (!k || k.version <= r.version) {
        if (owner && owner !== this.self) this.scheduleFetch(r.slot, r.version + 1, [h.excluder], owner, now, this.s.params.fetchAfterMs);
      }
    }
  }

  /**
   * Owner of a derived replacement: the excluder if it holds the slot (003 [0073]);
   * else the old version's owner if it stays; else the lowest-keyed member holding it.
   */
  private replacementOwner(slot: number, h: TableHeader, previous: MemberKey | null): MemberKey | null {
    const V = this.s.params.V;
    const symbol = Math.floor((slot - 1) / V);
    const value = (slot - 1) % V;
    if (this.pidOf(h.excluder)[symbol] === value) return h.excluder;
    if (previous !== null && this.s.roster[previous]?.state === 'member' && !h.blocklist.includes(previous)) return previous;
    for (const key of this.rosterInKeyOrder()) {
      if (this.s.roster[key]?.state === 'member' && this.pidOf(key)[symbol] === value && !h.blocklist.includes(key)) return key;
    }
    return null;
  }

  /** Roster keys in ascending order, re-sorted only when the roster grows or shrinks. */
  private rosterInKeyOrder(): MemberKey[] {
    if (!this.sortedRoster) this.sortedRoster = Object.keys(this.s.roster).sort();
    return this.sortedRoster;
  }
  private sortedRoster: MemberKey[] | null = null;

  /** Every roster write goes through here, so the sorted view can be dropped. */
  private setRoster(key: MemberKey, entry: PersistentState['roster'][string]): void {
    const added = !(key in this.s.roster);
    this.s.roster[key] = entry;
    if (added) {
      this.sortedRoster = null;
      this.indexRosterKey(key);
    }
  }

  /** A losing sibling's TEK′ still excludes its own targets: keep it readable for the grace window, never send under it. */
  private keepReadable(k: HeldKey, now: number): void {
    if (this.s.tekRecords.some((r) => r.version === k.version && sameCreators(r.creators, k.creators))) return;
    this.s.tekRecords.push({ version: k.version, creators: [...k.creators], revision: k.revision, key: k.key, older: [], retiredAt: now });
    this.retryPendingData(now);
  }

  private undoTable(t: TableState, now: number): void {
    if (!t.undo) return;
    const tekRecs = this.s.tekRecords.filter((r) => !(r.version === this.s.tek!.version && sameCreators(r.creators, this.s.tek!.creators)));
    this.s.tekRecords = tekRecs;
    this.s.tek = t.undo.tek;
    const rec = this.s.tekRecords.find((r) => r.version === this.s.tek!.version && sameCreators(r.creators, this.s.tek!.creators));
    if (rec) rec.retiredAt = null;
    this.s.keks = t.undo.keks;
    t.applied = false;
    t.undo = null;
    t.completeAt = null;
    this.keyChanged(TEK_SLOT, 'concurrent table lost', now);
  }

  private tablesTick(now: number): void {
    for (const t of this.tables.values()) {
      if (t.completeAt !== null && now >= t.completeAt) {
        // Complete the table with the slots nobody covered yet (suppression), then rebroadcast (003 [0073], [0079]).
        t.completeAt = null;
        if (!t.applied || t.completed) continue;
        t.completed = true;
        const entries = this.makeEntries(t, this.plannedSymbols(t));
        if (entries.length > 0) {
          this.addEntries(t, entries, []);
          this.publishTable(t, entries, []);
        }
      }
      if (t.fetchAt !== null && now >= t.fetchAt && this.tableIsMoot(t)) {
        // A sibling with a lower excluder, or a newer version, makes this TEK' useless: no fetch.
        t.fetchAt = null;
      }
      if (t.fetchAt !== null && now >= t.fetchAt) {
        // Still no readable TEK': ask a member who has it, over a unicast (003 [0079]).
        const authors = [...t.publishers, t.header.excluder].filter((a) => a !== this.self && !this.s.blocklist.includes(a) && !t.fetchTried.has(a));
        const to = authors[0] ?? t.header.excluder;
        t.fetchTried.add(to);
        if (authors.length <= 1) t.fetchTried.clear();
        t.fetchAt = now + this.s.params.fetchAfterMs;
        this.unicast(to, { type: MsgType.FetchRequest, slot: TEK_SLOT, version: t.header.newVersion, tag: creatorsTag(this.crypto, t.header.panel ? t.header.panel.members : [t.header.excluder]) });
      }
    }
  }

  /** True when this table can no longer become our TEK: our TEK is newer, or a winning sibling exists. */
  private tableIsMoot(t: TableState): boolean {
    const tek = this.s.tek;
    if (!tek) return false;
    if (tek.version > t.header.newVersion) return true;
    for (const o of this.tables.values()) {
      if (o === t || o.header.newVersion !== t.header.newVersion) continue;
      if (!sameCreators(sortedKeys(o.header.base.creators), sortedKeys(t.header.base.creators))) continue;
      if (cmpKey(o.header.excluder, t.header.excluder) < 0) return true;
    }
    return false;
  }

  private tableWillResolve(slot: number, version: number, creators: MemberKey[]): boolean {
    if (slot !== TEK_SLOT) return [...this.tables.values()].some((t) => !t.applied && t.header.replaced.some((r) => r.slot === slot));
    return [...this.tables.values()].some((t) => t.header.newVersion === version && sameCreators(t.header.panel ? sortedKeys(t.header.panel.members) : [t.header.excluder], creators) && t.fetchAt !== null);
  }

  // ---------------------------------------------------------------- fetch (003 [0079], [0040])

  private scheduleFetchByTag(version: number, tag: Uint8Array, from: MemberKey, now: number): void {
    const id = `0:${version}:${toHex(tag)}`;
    if (this.fetches.has(id)) return;
    this.fetches.set(id, { at: now + this.s.params.fetchAfterMs, tried: new Set([from]) });
    this.fetchTargets.set(id, { slot: TEK_SLOT, version, tag, from });
  }

  private fetchTargets = new Map<string, { slot: number; version: number; tag: Uint8Array; from: MemberKey }>();

  /** Half a heartbeat (at most half the fetch delay): time for a table in flight to arrive before fetching. */
  private shortFetchDelay(): number {
    return Math.floor(Math.min(this.s.params.heartbeatMs, this.s.params.fetchAfterMs) / 2);
  }

  private scheduleFetch(slot: number, version: number, creators: MemberKey[], from: MemberKey, now: number, delay: number): void {
    const tag = creatorsTag(this.crypto, creators);
    const id = `${slot}:${version}:${toHex(tag)}`;
    if (this.fetches.has(id)) return;
    this.fetches.set(id, { at: now + delay, tried: new Set() });
    this.fetchTargets.set(id, { slot, version, tag, from });
  }

  private fetchTick(now: number): void {
    for (const [id, f] of this.fetches) {
      if (now < f.at) continue;
      const target = this.fetchTargets.get(id)!;
      const held = this.heldKey(target.slot);
      const satisfied =
        held && (held.version > target.version || (held.version === target.version && equalBytes(creatorsTag(this.crypto, held.creators), target.tag)));
      if (satisfied || f.tried.size > 8) {
        this.fetches.delete(id);
        this.fetchTargets.delete(id);
        continue;
      }
      const to = f.tried.has(target.from) ? (this.possibleHolders(target.slot).find((m) => !f.tried.has(m)) ?? target.from) : target.from;
      f.tried.add(to);
      f.at = now + this.s.params.fetchAfterMs;
      this.unicast(to, { type: MsgType.FetchRequest, slot: target.slot, version: target.version, tag: target.tag });
    }
  }

  /** Tells a peer that believes it is a member that we do not know it as one (it then asks for admission again). */
  private refuseNonMember(from: MemberKey, what: string): void {
    if (this.s.blocklist.includes(from)) throw new RemoteProtocolError('blocked', `${what} from an excluded member`);
    if (this.s.roster[from]?.state !== 'member') {
      this.unicast(from, { type: MsgType.JoinRefused, reason: NOT_A_MEMBER });
      throw new RemoteProtocolError('not-member', `${what} from a non-member`);
    }
  }

  private onFetchRequest(from: MemberKey, m: Extract<Message, { type: typeof MsgType.FetchRequest }>, now: number): void {
    ensure(this.s.state === 'member', 'stale', 'fetch while not a member');
    this.refuseNonMember(from, 'fetch');
    const p = this.s.params;
    ensure(m.slot <= p.V * p.W, 'invalid', `slot ${m.slot} outside the table`);
    ensure(m.slot === TEK_SLOT || slotsOf(this.pidOf(from), p.V).includes(m.slot), 'not-authorized', `${slotName(m.slot, p.V)} is not selected by the requester's ID`);
    this.lastSeen.set(from, now);
    const held = this.heldKey(m.slot);
    const pk = this.pairwise(from);
    const sealed = held && pk && held.version >= m.version ? this.seal(from, pk, held, 'fetch') : null;
    let table: Uint8Array | null = null;
    if (m.slot === TEK_SLOT && held) {
      const t = [...this.tables.values()].find((x) => x.applied && x.header.newVersion === held.version);
      if (t && this.relayable(t)) table = this.tableMessageBytes(t);
    }
    this.unicast(from, { type: MsgType.FetchReply, table, key: sealed });
  }

  /** Which of two versions of one key stands: the higher version; on a tie, the lower smallest creator (docs/protocol.md). */
  private wins(a: { version: number; creators: MemberKey[] }, b: { version: number; creators: MemberKey[] }): boolean {
    if (a.version !== b.version) return a.version > b.version;
    return cmpKey(a.creators[0] ?? '', b.creators[0] ?? '') < 0;
  }

  private onFetchReply(from: MemberKey, m: Extract<Message, { type: typeof MsgType.FetchReply }>, now: number): void {
    ensure(this.s.state === 'member', 'stale', 'fetch reply while not a member');
    let key: Uint8Array | null = null;
    if (m.key) {
      const slot = m.key.info.slot;
      ensure(slot === TEK_SLOT || slotsOf(this.selfId, this.s.params.V).includes(slot), 'invalid', 'fetched a key this member does not hold');
      key = this.crypto.open(this.pairwise(from) ?? new Uint8Array(32), m.key.nonce, m.key.sealed, this.sealAad('fetch', this.self, m.key.info));
      ensure(key && key.length === KEY_BYTES, 'decrypt-failed', 'fetched key does not open');
    }
    if (m.table) this.receive(from, 'unicast', m.table, now);
    if (!m.key || !key || this.s.state !== 'member') return;
    const info = m.key.info;
    const creators = sortedKeys(info.creators);
    if (info.slot === TEK_SLOT) {
      // If a table for this version is known, the fetched TEK' must match its commitment.
      const t = [...this.tables.values()].find((x) => x.header.newVersion === info.version && sameCreators(x.header.panel ? sortedKeys(x.header.panel.members) : [x.header.excluder], creators));
      if (t && !t.tekPrime && info.revision === 0 && equalBytes(this.commitTek(t.header, key), t.header.tekCommitment)) {
        t.tekPrime = key;
        t.fetched = true;
        this.progressTable(t, now);
        return;
      }
    }
    const cur = this.heldKey(info.slot);
    const better = !cur || this.wins({ version: info.version, creators }, cur) || (info.version === cur.version && sameCreators(cur.creators, creators) && info.revision > cur.revision);
    if (!better) return;
    const held: HeldKey = {
      slot: info.slot,
      version: info.version,
      creators,
      revision: info.revision,
      key,
      basedOn: m.key.basedOn,
      origin: creators.length > 1 ? { kind: 'merge', creators } : { kind: 'single', creator: creators[0]! },
      owner: m.key.owner,
    };
    if (info.slot === TEK_SLOT) {
      const t = [...this.tables.values()].find((x) => x.header.newVersion === info.version);
      held.coverage = t ? [...t.header.blocklist] : [...this.s.blocklist];
      this.retireTek(now);
      this.s.tek = held;
      this.recordTek(held, now);
    } else {
      this.s.keks = this.s.keks.filter((k) => k.slot !== info.slot);
      this.s.keks.push(held);
    }
    this.s.slotDir[String(info.slot)] = { version: info.version, revision: info.revision, creators, owner: m.key.owner };
    this.heardAt.set(info.slot, now);
    this.addLog(now, 'merge', `${slotName(info.slot, this.s.params.V)}: adopted v${info.version} by ${creators.map(short).join('+')} from ${short(from)}`);
    this.keyChanged(info.slot, `fetched from ${short(from)}`, now);
    if (info.slot === TEK_SLOT) {
      this.retryPendingData(now);
      this.flushHeldOutgoing(now);
    }
  }

  // ================================================================ failover (003 [0068]–[0069])

  private isOwnerAlive(slot: number, now: number): boolean {
    const heard = this.heardAt.get(slot);
    const dir = this.s.slotDir[String(slot)];
    if (!dir?.owner) return false;
    if (dir.owner === this.self) return true;
    if (heard === undefined) return true;
    return now - heard <= this.s.params.failoverIntervals * this.s.params.heartbeatMs;
  }

  private failoverTick(now: number): void {
    for (const k of this.heldKeys()) {
      if (k.owner === this.self) {
        this.claims.delete(k.slot);
        continue;
      }
      const dir = this.s.slotDir[String(k.slot)];
      const sameKey = dir && dir.version === k.version && sameCreators(dir.creators, k.creators);
      if (dir && !sameKey) {
        // We are behind on this key: the fetch brings it; never claim a stale key.
        this.claims.delete(k.slot);
        continue;
      }
      if (!this.heardAt.has(k.slot)) this.heardAt.set(k.slot, now);
      if (this.isOwnerAlive(k.slot, now)) {
        this.claims.delete(k.slot);
        continue;
      }
      const claimAt = this.claims.get(k.slot);
      if (claimAt === undefined) {
        // Election without flooding: claim after a random pause; a lower-keyed claimant's heartbeat wins (003 [0068]).
        this.claims.set(k.slot, now + 1 + this.randomBelow(this.s.params.heartbeatMs));
      } else if (now >= claimAt) {
        this.claims.delete(k.slot);
        const previous = k.owner;
        k.owner = this.self;
        this.s.slotDir[String(k.slot)] = { version: k.version, revision: k.revision, creators: k.creators, owner: this.self };
        this.addLog(now, 'failover', `took over ${slotName(k.slot, this.s.params.V)} from silent holder ${previous ? short(previous) : 'none'}`);
        this.keyChanged(k.slot, 'failover', now);
        this.sendHeartbeat(now);
      }
    }
  }

  // ================================================================ leave, refresh, reseal

  private onLeave(from: MemberKey, now: number): void {
    const r = this.s.roster[from];
    ensure(r?.state === 'member', 'not-member', 'leave from a non-member');
    r.state = 'left';
    this.emit({ type: 'member-left', member: from, at: now });
    this.addLog(now, 'leave', `${r.name || short(from)} left`);
    if (this.s.state !== 'member') return;
    // A remaining member runs the exclusion: the TEK holder at once, others after a back-off (003 [0072]).
    const tekOwner = this.s.tek?.owner;
    const first = tekOwner && tekOwner !== from && this.s.roster[tekOwner]?.state === 'member' ? tekOwner : this.lowestMember([from]);
    const delay = first === this.self ? 0 : 3 * this.s.params.heartbeatMs + this.randomBelow(this.s.params.heartbeatMs * 2);
    this.leaveExclusions.set(from, now + delay);
  }

  private leaveTick(now: number): void {
    for (const [leaver, at] of this.leaveExclusions) {
      if (now < at) continue;
      this.leaveExclusions.delete(leaver);
      if (this.s.blocklist.includes(leaver)) continue;
      const policy = this.s.params.policy;
      if (policy.exclude === 'admins' && !policy.admins.includes(this.self)) continue;
      this.startTable('exclude', [leaver], now);
    }
  }

  private lowestMember(except: MemberKey[]): MemberKey | undefined {
    return Object.entries(this.s.roster)
      .filter(([k, r]) => r.state === 'member' && !except.includes(k))
      .map(([k]) => k)
      .sort()[0];
  }

  private tekCoversBlocklist(): boolean {
    const cov = this.s.tek?.coverage;
    if (!cov) return true;
    return this.s.blocklist.every((b) => cov.includes(b));
  }

  /** After concurrent tables, the TEK may not exclude everyone blocked: run one more exclusion of the rest (issue 3). */
  /**
   * The creator of the current TEK reseals after a short window (a tenth of a heartbeat,
   * at most 100 ms) in which the other concurrent tables reach it, so that one reseal
   * covers them all; every other member only after 2–4 heartbeats, in case it is gone.
   */
  private scheduleReseal(now: number): void {
    if (this.tekCoversBlocklist()) return;
    if (this.resealAt !== null) return;
    const hb = this.s.params.heartbeatMs;
    const first = this.isTekCreator();
    this.resealAt = now + (first ? Math.max(1, Math.min(100, Math.floor(hb / 10))) : 2 * hb + this.randomBelow(2 * hb));
    this.resealEarlyAt = first ? this.resealAt : null;
  }
  private resealEarlyAt: number | null = null;

  private isTekCreator(): boolean {
    return this.canExclude() && (this.s.tek?.creators ?? []).includes(this.self);
  }

  private resealTick(now: number): void {
    // A reseal is scheduled only when concurrent tables were resolved (applyTable): a TEK
    // that merely lags behind the blocklist is waiting for a table that is on its way.
    if (this.resealAt === null || now < this.resealAt) return;
    const early = this.resealEarlyAt === this.resealAt;
    this.resealAt = null;
    if (this.tekCoversBlocklist()) return;
    if (!this.canExclude()) return;
    if (early && !this.isTekCreator()) {
      // Scheduled as the creator of a TEK that has since lost to a concurrent one: back off.
      this.scheduleReseal(now);
      return;
    }
    const cov = this.s.tek!.coverage ?? [];
    const missing = this.s.blocklist.filter((b) => !cov.includes(b));
    // Re-exclude every member the concurrent tables blocked, so that no slot any of them knew stays in use.
    const concurrent = new Set(missing);
    for (const t of this.tables.values()) if (t.header.newVersion === this.s.tek!.version) for (const x of t.header.targets) concurrent.add(x);
    const targets = sortedKeys(concurrent);
    this.startTable('exclude', targets, now);
    this.addLog(now, 'merge', `resealed after concurrent exclusions of ${targets.map(short).join(', ')}`);
  }

  private flushHeldOutgoing(now: number): void {
    if (!this.tekCoversBlocklist()) return;
    const held = this.heldOutgoing;
    this.heldOutgoing = [];
    for (const h of held) this.publishData(h.payload, now);
  }

  /** Periodic refresh (003 [0057], 002 key lifetimes): the TEK holder bumps revisions and makes new versions. */
  private refreshTick(now: number): void {
    if (!this.ownsTek()) return;
    const p = this.s.params;
    if (p.refreshVersionMs > 0 && now >= this.s.lastVersionRefreshAt + p.refreshVersionMs) {
      this.s.lastVersionRefreshAt = now;
      this.s.lastRevisionRefreshAt = now;
      this.startTable('refresh', [], now);
      return;
    }
    if (p.refreshRevisionMs > 0 && now >= this.s.lastRevisionRefreshAt + p.refreshRevisionMs) {
      this.s.lastRevisionRefreshAt = now;
      const tek = this.s.tek!;
      this.stepHeld(tek, tek.revision + 1, now, 'periodic revision refresh');
      this.publish('control', { type: MsgType.Revision, keys: [this.info(tek)] });
      this.addLog(now, 'refresh', `TEK revision ${tek.revision}`);
    }
  }

  // ================================================================ fractional-key panel (004; issue 4 §7)

  private onPanel(from: MemberKey, body: Uint8Array, now: number): void {
    ensure(this.panel, 'invalid', 'this member runs no fractional-key panel');
    if (this.s.state === 'joining') {
      // The admitter's panel may count us before our keys arrive: keep a few, replay on joining.
      ensure(this.pendingPanel.length < 64, 'stale', 'too many panel messages while joining');
      this.pendingPanel.push({ from, body });
      return;
    }
    ensure(this.s.state === 'member', 'stale', 'panel message while not a member');
    this.refuseNonMember(from, 'panel message');
    this.panel.receive(from, body, now);
  }

  private announceQueue: { key: MemberKey; name: string; admittedAt: number }[] = [];
  private announceAt: number | null = null;
  private pendingAdmitted: { from: MemberKey; m: Extract<Message, { type: typeof MsgType.MemberAdmitted }> }[] = [];
  private panelViewKey = '';
  private pendingPanel: { from: MemberKey; body: Uint8Array }[] = [];

  /** Feeds membership changes to the panel and carries its messages and log lines. */
  private drivePanel(now: number): void {
    const panel = this.panel;
    if (!panel || this.s.params.panelSize < 4 || this.s.state !== 'member') return;
    const members = Object.entries(this.s.roster)
      .filter(([k, r]) => r.state === 'member' && !this.s.blocklist.includes(k))
      .map(([key, r]) => ({ key, admittedAt: r.admittedAt }));
    const viewKey = `${members.length}:${this.s.blocklist.length}:${members.map((m) => m.key).sort().join('')}`;
    if (viewKey !== this.panelViewKey) {
      this.panelViewKey = viewKey;
      panel.update({ self: this.self, members, blocked: [...this.s.blocklist], panelSize: this.s.params.panelSize }, now);
    }
    for (let t = panel.pollTransmit(); t; t = panel.pollTransmit()) this.unicast(t.to, { type: MsgType.Panel, body: t.bytes });
    for (let e = panel.pollEvent(); e; e = panel.pollEvent()) {
      if (e.kind === 'rejected') this.reject(e.from, 'invalid', `panel: ${e.text}`, now);
      else this.addLog(now, e.kind, e.text);
    }
  }

  // ================================================================ helpers

  private heldKey(slot: number): HeldKey | undefined {
    if (slot === TEK_SLOT) return this.s.tek ?? undefined;
    return this.s.keks.find((k) => k.slot === slot);
  }

  private heldKeys(): HeldKey[] {
    return this.s.tek ? [this.s.tek, ...this.s.keks] : [...this.s.keks];
  }

  private syncDirFromHeld(): void {
    for (const k of this.heldKeys()) {
      this.s.slotDir[String(k.slot)] = { version: k.version, revision: k.revision, creators: k.creators, owner: k.owner };
    }
  }

  private pidOf(member: MemberKey): number[] {
    let id = this.pidCache.get(member);
    if (!id) {
      id = this.pinnedIds?.get(member);
      if (!id) {
        // A participant ID is a pure function of (key, W, V): engines in one process share the work.
        const p = this.s.params;
        const k = `${p.W}:${p.V}:${member}`;
        id = sharedPids.get(k);
        if (!id) {
          id = participantId(this.crypto, fromHex(member), p.W, p.V);
          if (sharedPids.size >= 100_000) sharedPids.clear();
          sharedPids.set(k, id);
        }
      }
      this.pidCache.set(member, id);
    }
    return id;
  }

  private heartbeatAge(slot: number, now: number): number | null {
    const h = this.heardAt.get(slot);
    return h === undefined ? null : Math.max(0, now - h);
  }

  private slotIndex(v: KeyEntryView): number {
    return v.slot.kind === 'tek' ? 0 : kekSlot(v.slot.symbol, v.slot.value, this.s.params.V);
  }

  private randomBelow(n: number): number {
    if (n <= 1) return 0;
    const b = this.rng(4);
    return (((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!) % n;
  }

  private publish(topic: 'control' | 'data', m: Message): void {
    this.outbox.push({ kind: 'publish', topic, bytes: encodeMessage(this.groupBytes, m) });
  }

  private unicast(to: MemberKey, m: Message): void {
    this.outbox.push({ kind: 'unicast', to, bytes: encodeMessage(this.groupBytes, m) });
  }

  private emit(e: EngineEvent): void {
    this.events.push(e);
  }

  private keyChanged(slot: number, reason: string, now: number): void {
    const k = this.heldKey(slot);
    if (!k) return;
    this.emit({ type: 'key-changed', slot: slotRef(slot, this.s.params.V), version: k.version, revision: k.revision, reason, at: now });
  }

  private addLog(at: number, kind: KeyLogEntry['kind'], text: string): void {
    const entry = { at, kind, text };
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.shift();
    this.emit({ type: 'log', entry });
  }

  private reject(from: MemberKey, reason: RejectReason, detail: string, now: number): void {
    this.rejectedCounts.set(reason, (this.rejectedCounts.get(reason) ?? 0) + 1);
    this.emit({ type: 'rejected', from, reason, detail, at: now });
  }

  private eraseSecrets(): void {
    for (const k of this.heldKeys()) k.key.fill(0);
    this.s.tek = null;
    this.s.keks = [];
    this.s.tekRecords = [];
    this.tables.clear();
    this.pendingData = [];
    this.heldOutgoing = [];
  }
}

function short(k: MemberKey): string {
  return k.slice(0, 8);
}

function cloneParams(p: GroupParams): GroupParams {
  return { ...p, policy: p.policy.exclude === 'admins' ? { exclude: 'admins', admins: [...p.policy.admins] } : { exclude: 'any-member' } };
}

function validateRemoteParams(p: GroupParams): void {
  try {
    validateParams(p);
  } catch (e) {
    throw new RemoteProtocolError('invalid', `group parameters: ${(e as Error).message}`);
  }
}

