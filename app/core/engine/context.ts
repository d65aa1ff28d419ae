/**
 * @module core/engine/context
 * The one roof: `EngineCore` holds everything one member knows about one group —
 * the persistent state (`s`, app/core/state.ts), the injected dependencies, and the
 * transient state that is rebuilt after a restart — and the small helpers every
 * room uses (key lookup, participant IDs, outbox, events, the key log).
 *
 * Rooms (the other files of this folder) are plain functions over an EngineCore;
 * none keeps state of its own. Invariants:
 * - `s` is the single source of truth for what is persisted; transient maps are
 *   caches or in-flight work that a restart may forget (docs/architecture.md).
 * - Nothing here reads a clock or draws randomness: `now` is passed in and `rng`
 *   is injected (STYLE §1).
 * - Deadlines live in `timers` (one per kind) or, when there is one per item, in
 *   the item itself (tables, claims, fetches, leave exclusions); `nextDeadline`
 *   in engine.ts reads both.
 *
 * Seeds: 003 [0044]–[0086] (the key table), docs/protocol.md §1–§3.
 */
import type { CryptoProvider, Rng } from '../crypto-provider.js';
import type { EngineEvent, GroupId, GroupParams, KeyEntryView, KeyLogEntry, MemberKey, PanelHook, RejectReason, Transmit } from '../types.js';
import { LocalProtocolError, RemoteProtocolError } from '../errors.js';
import { equalBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { TEK_SLOT, kekSlot, participantId, slotRef, slotsOf, validateParams } from '../params.js';
import { creatorsTag } from '../keys.js';
import { PendingDrops } from './pending-drops.js';
import type { JoinState } from './join-state.js';
import type { ContestStart } from './contest-start.js';
import { MsgType, encodeMessage, type KeyInfo, type Message, type PairwiseEntry, type TableEntry, type TableHeader } from '../wire.js';
import { sameCreators, sortedKeys, type HeldKey, type PersistentState } from '../state.js';
import { KeyTimes, SlotTimes, TimerTable } from './timers.js';

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

/** The member's secret identity: a 32-byte Ed25519 seed (the same key libp2p uses as its peer key). */
export interface Identity {
  seed: Uint8Array;
  name: string;
}

/** One exclusion/refresh table as this member knows it (003 Tables 1–4). */
export interface TableState {
  id: Uint8Array;
  idHex: string;
  header: TableHeader;
  headerBytes: Uint8Array;
  headerSignature: Uint8Array;
  /** Every entry kept (up to ENTRY_CANDIDATES per coordinates, §8.5), in arrival order, and indexed by slot: O(W) work per message, not O(table). */
  entries: TableEntry[];
  pairwise: PairwiseEntry[];
  bySlot: Map<number, TableEntry[]>;
  pairwiseMine: PairwiseEntry | null;
  /** Entries that did not open to the committed TEK' (tried once). */
  failed: Set<TableEntry>;
  /** Per author, the slots of the entries it published itself (at most one per slot it selects, §8.5). */
  authored: Map<MemberKey, Set<number>>;
  /** Entries taken from fetch replies (bounded by relayedEntryCap, §8.5). */
  relayed: number;
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

export type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

export const LABEL = (s: string) => utf8(`conclave/v1/${s}`);
export const headerIds = new WeakMap<TableHeader, { headerBytes: Uint8Array; id: string }>();
/** Participant IDs by (W:V), then by member key (pidOf). */
const sharedPids = new Map<string, Map<MemberKey, number[]>>();
export const MAX_PENDING_DATA = 512;
export const NOT_A_MEMBER = 'not a member of this group';
const MAX_LOG = 200;
/** Table entries seal under keys used once (see entryKey), so the nonce is constant. */
export const ZERO_NONCE = new Uint8Array(24);
export const ENTRY_AAD = LABEL('table-entry');
/**
 * How long the creator of a TEK that concurrent tables raced waits for the rest of them
 * before it reseals (at most a tenth of a heartbeat): one expected delivery delay of a
 * table. A sibling later than that costs one more reseal, never safety (docs/protocol.md §8.2).
 */
export const RESEAL_WINDOW_MS = 40;
/** A reseal reaches every member in one publication (pairwise where its KEKs do not) up to this many pairwise entries; past it, a completion plan whose completers the resealer reaches itself (§8.2). */
export const RESEAL_PAIRWISE_MAX = 1024;
/**
 * A plain exclusion (or refresh) reaches every member in one publication, TEK′ sealed
 * pairwise for each member the excluder's usable KEKs miss, while that is at most this many
 * members; past it, a completion plan (§7.1). Tried only in rosters of at most
 * ONE_HOP_ROSTER_MAX entries (beyond, the miss is larger anyway: about a third of N with
 * W = V = 16), so a large group's excluder plans once, as before. Each pairwise entry costs
 * the excluder one X25519 the first time (cached per member) and every receiver 80 B:
 * at N = 64 the excluder's CPU rose 0.8 → 1.9 ms in the bench's cold copies, the last
 * member read TEK′ at 40 ms, not 68 (docs/performance.md "Round eleven").
 */
export const ONE_HOP_PAIRWISE_MAX = 32;
export const ONE_HOP_ROSTER_MAX = 96;
/** Candidates scored per step of the completion plan (planCompletion). */
export const PLAN_SAMPLE = 64;
/** Most revision steps one key may jump in one message (a revision step costs one hash; 003 [0056]). */
export const MAX_REVISION_JUMP = 10_000;
/** Most versions a table may be ahead of the TEK this member holds (T1). */
export const MAX_VERSION_AHEAD = 1024;
/** Tables of one excluder kept at once (applied, in flight or unread). */
export const MAX_TABLES_PER_EXCLUDER = 64;
/** Most hash steps reading one table may cost (entries with spread-out KEK revisions). */
export const MAX_TABLE_HASH_STEPS = 20_000;
/** Fetches in flight, and data packets buffered per sender (live) or per catch-up server, at most. */
export const MAX_FETCHES = 64;
export const MAX_PENDING_PER_SENDER = 64;
/** How long after its listening phase a listen-first creator may still merge into another instance (H3), in heartbeats. */
export const CREATION_RACE_HEARTBEATS = 20;

/** A fresh join attempt towards `contacts` (nearest first, 001). */
export function cmpKey(a: MemberKey, b: MemberKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function short(k: MemberKey): string {
  return k.slice(0, 8);
}

export function cloneParams(p: GroupParams): GroupParams {
  return { ...p, policy: p.policy.exclude === 'admins' ? { exclude: 'admins', admins: [...p.policy.admins] } : { exclude: 'any-member' } };
}

/** A5: parameters an admitter hands over are valid and within sane bounds (a heartbeat of 0.001 ms would flood). */
export function validateRemoteParams(p: GroupParams): void {
  try {
    validateParams(p);
  } catch (e) {
    throw new RemoteProtocolError('invalid', `group parameters: ${(e as Error).message}`);
  }
  const hour = 3_600_000;
  const within = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  const ok =
    within(p.heartbeatMs, 10, hour) &&
    within(p.graceMs, p.heartbeatMs, 7 * 24 * hour) &&
    within(p.listenMs, 10, hour) &&
    within(p.fetchAfterMs, 10, hour) &&
    p.failoverIntervals <= 1000 &&
    (p.refreshRevisionMs === 0 || within(p.refreshRevisionMs, p.heartbeatMs, 365 * 24 * hour)) &&
    (p.refreshVersionMs === 0 || within(p.refreshVersionMs, p.heartbeatMs, 365 * 24 * hour));
  if (!ok) throw new RemoteProtocolError('invalid', 'group parameters outside the accepted bounds (heartbeat 10 ms–1 h, grace ≥ heartbeat, refreshes 0 or ≥ heartbeat)');
}

/**
 * The tables by ID, with the earliest of their deadlines (completeAt, fetchAt) remembered for
 * nextDeadline, which runs after every input: `earliest` is undefined (recomputed on the next
 * read) after any change of membership here and any change of a table's deadline (its
 * setters, newTableState), so it cannot disagree with the tables.
 */
export class TableMap extends Map<string, TableState> {
  earliest: number | null | undefined = undefined;
  override set(id: string, t: TableState): this {
    this.earliest = undefined;
    return super.set(id, t);
  }
  override delete(id: string): boolean {
    this.earliest = undefined;
    return super.delete(id);
  }
  override clear(): void {
    this.earliest = undefined;
    super.clear();
  }
  /** The earliest completeAt or fetchAt of any table (null: none). */
  earliestDeadline(): number | null {
    if (this.earliest !== undefined) return this.earliest;
    let d: number | null = null;
    for (const t of this.values()) {
      if (t.completeAt !== null && (d === null || t.completeAt < d)) d = t.completeAt;
      if (t.fetchAt !== null && (d === null || t.fetchAt < d)) d = t.fetchAt;
    }
    this.earliest = d;
    return d;
  }
}

/** Everything one member knows about one group; the rooms read and write it. */
export class EngineCore {
  readonly group: GroupId;
  readonly self: MemberKey;
  readonly selfId: number[];
  /** First 8 bytes of this member's key: how a table's plan names it. */
  readonly selfPrefix: Uint8Array;
  readonly groupBytes: Uint8Array;
  readonly crypto: CryptoProvider;
  readonly rng: Rng;
  readonly admission: AdmissionPolicy;
  /** Not readonly: a contest's shadow runs without it, and gets it back when taken over (exclusion-contest.ts). */
  panel: PanelHook | undefined;
  readonly pinnedIds: ReadonlyMap<MemberKey, number[]> | undefined;
  readonly seed: Uint8Array;
  readonly xSecret: Uint8Array;
  readonly displayName: string;

  /** The persistent state: the single source of truth (app/core/state.ts). */
  s: PersistentState;

  // --- transient (not persisted) ---
  /** Scalar deadlines, one per kind (listen, heartbeat, reseal, housekeeping, announce). */
  readonly timers = new TimerTable();
  outbox: Transmit[] = [];
  events: EngineEvent[] = [];
  /** slot → last heartbeat time of its owner */
  heardAt = new SlotTimes();
  /** owner → the roster count its last heartbeat carried (isOwnerAlive stretches its KEKs' window by it) */
  heartbeatRoster = new KeyTimes();
  /** When this member last sent a heartbeat (heartbeatWithinBase). */
  lastOwnHeartbeatAt = -Infinity;
  lastSeen = new KeyTimes();
  lastHeartbeatSentAt = new KeyTimes();
  join: JoinState | null = null;
  readonly tables = new TableMap();
  /** slot → time this member takes over a silent holder's key */
  claims = new Map<number, number>();
  /**
   * Data under a key not held yet. `via`: the catch-up server that brought it (its share, not the
   * author's: the author a server names is only its word, review 42); null when live (gossipsub
   * checked the author's signature on the message).
   */
  pendingData: { from: MemberKey; msg: DataMessage; at: number; via: MemberKey | null }[] = [];
  /** The catch-up server whose reply is being received (`receive`'s `relayedBy`), for the current input only. */
  inputRelay: MemberKey | null = null;
  heldOutgoing: { payload: Uint8Array; at: number }[] = [];
  seenNonces = new Map<string, number>();
  /** Senders and nonces delivered only in copies a catch-up server brought (tek-records.ts `markDelivered`). */
  relayedNonces = new Map<string, number>();
  /** (author, TEK version, creators) whose too-old packet already raised an `undecryptable` in this grace window (data.ts tooOld). */
  tooOldNoted = new Map<string, number>();
  /** leaver → time to run its exclusion */
  leaveExclusions = new Map<MemberKey, number>();
  /** The reseal deadline was set as the TEK's creator (the early, short window). */
  resealEarly = false;
  /** Fetches in progress, by `${slot}:${version}:${tag}`: when the next request is due, whom they asked, how many requests went out (at most MAX_FETCH_TRIES). */
  fetches = new Map<string, { at: number; tried: Set<MemberKey>; tries: number }>();
  /** What each fetch is after. `creators`: the wanted version's creators, when known (a fetch by tag alone has none); `tagOnly` when learnt only from an unopenable header (S1), with the end of its first round. */
  fetchTargets = new Map<string, { slot: number; version: number; tag: Uint8Array; from: MemberKey; creators?: MemberKey[]; tagOnly?: { firstRoundUntil: number } }>();
  /** S1: per member, its one unresolved tag-only fetch, or the rest after one failed (bounded by the roster). */
  tagFetches = new Map<MemberKey, { id: string; version: number; tag: Uint8Array; restUntil: number | null }>();
  log: KeyLogEntry[] = [];
  /** Where each held KEK sits in `s.keks` (heldKey), for one array object at one length. */
  kekIndex: { keks: HeldKey[]; length: number; at: number[] | null } | null = null;
  /** This engine's (W, V) index of participant IDs, shared by every engine of the same shape (pidOf). */
  pidIndex: Map<MemberKey, number[]> | null = null;
  pidIndexW = 0;
  pidIndexV = 0;
  pairwiseCache = new Map<MemberKey, Uint8Array | null>();
  rejectedCounts = new Map<RejectReason, number>();
  /** KEKs replaced by a table, kept for the grace window to read sibling tables and late entries. */
  retiredKeks: { key: HeldKey; at: number }[] = [];
  dataKeyCache: { key: Uint8Array; derived: Uint8Array } | null = null;
  /** The last forward step of a kept TEK (tek-records.ts advanceHeld): taken over by the held key's own step. */
  lastStep: { from: Uint8Array; fromRevision: number; toRevision: number; key: Uint8Array } | null = null;
  /** Control keys (engine/control-seal.ts) by `version:tag:revision`; dropped when a kept TEK expires. */
  controlKeys = new Map<string, Uint8Array>();
  /** Sealed control messages under a TEK this member lacks (a joiner's; a member's from someone ahead): offered again when its TEK changes. */
  pendingSealed: { from: MemberKey; bytes: Uint8Array; at: number }[] = [];
  /** The TEK (version:creators) pendingSealed was last offered under. */
  pendingSealedTek = '';
  /** > 0 while openPendingSealed offers them: held data waits until they are read (data.ts flushHeldOutgoing). */
  openingSealed = 0;
  rosterSlotsCache: { keys: MemberKey[]; slots: Uint16Array } | null = null;
  sortedRoster: MemberKey[] | null = null;
  /** Entries in `s.roster` (only setRoster adds one, none is ever removed): read on every heartbeat. */
  rosterSize: number;
  toldExcluded = new Map<MemberKey, number>();
  /** blockedSet's cache: the blocklist array it was built from, and the set. */
  blockedCache: { list: readonly MemberKey[]; set: Set<MemberKey> } | null = null;
  /** Members this engine saw excluded while they were members (applyBlocklist): only they may be excluded again (noteStillSending). In memory only. */
  excludedMembers = new Set<MemberKey>();
  /** Per excluded member, the sealed messages it sent after its exclusion, counted at most one a heartbeat (noteStillSending). */
  stillSending = new Map<MemberKey, { count: number; lastAt: number; nonces: string[] }>();
  /** Excluded members this member excluded once more because they refused every notice (noteStillSending): at most once each. */
  reExcluded = new Set<MemberKey>();
  /**
   * Contested TEKs (§8.2): a blocked creator → the current members seen sealing under a TEK
   * of its making, and our TEK when first seen (a change of our TEK since drops the entry).
   * Set by onUnopenedControl, emptied by the reseal it schedules (resealTick).
   */
  contested = new Map<MemberKey, { seenFrom: Set<MemberKey>; ourTek: string; excluders: readonly MemberKey[] }>();
  /** The pending 'reseal' timer was set by a contested TEK alone: an ordinary reseal may bring it forward. */
  resealContestedOnly = false;
  /** Blocked creators that already gave this member one contested reseal: at most one each. */
  contestedResealed = new Set<MemberKey>();
  /** Under `admins`, at a non-admin: the wait before a groundless block is dropped (admin-races.ts). */
  readonly drops = new PendingDrops();
  /** This non-admin was just excluded by an admin's table that may yet be void (exclusion-contest.ts); taken by GroupEngine. */
  contest: ContestStart | null = null;
  /** In a contest's shadow, the admin whose exclusion of this member is contested: its tables that name this member are refused (exclusion-contest.ts). */
  contestedExcluder: MemberKey | null = null;
  /** Members on a contested TEK sent a blocking table's header (rekey-triggers.ts nudgeToward), and when. In memory only. */
  nudged = new Map<MemberKey, number>();
  /** creatorsTag (hex) of each blocked member alone, for the blocklist length it was built at. */
  blockedTags: { length: number; byTag: Map<string, MemberKey> } | null = null;
  announceQueue: { key: MemberKey; name: string; admittedAt: number }[] = [];
  /** Newcomers announced once, announced again a few heartbeats later (for members that joined alongside). */
  reannounceQueue: { key: MemberKey; name: string; admittedAt: number }[] = [];
  /** FetchRequests sent and not yet answered, per member asked: only they may send a FetchReply (F2). */
  fetchAsked = new Map<MemberKey, number>();
  /** Until when a listen-first creator may still merge into a winning instance of its group (H3; null: never). */
  creationRaceUntil: number | null = null;
  pendingAdmitted: { from: MemberKey; m: Extract<Message, { type: typeof MsgType.MemberAdmitted }> }[] = [];
  panelViewKey = '';
  pendingPanel: { from: MemberKey; body: Uint8Array }[] = [];

  constructor(deps: EngineDeps, identity: Identity, state: PersistentState) {
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
    this.rosterSize = Object.keys(state.roster).length;
    this.group = state.group;
    this.groupBytes = fromHex(state.group);
    if (this.groupBytes.length !== 16) throw new LocalProtocolError('group ID must be 16 bytes of hex');
    this.selfId = pidOf(this, this.self);
    this.selfPrefix = fromHex(this.self).slice(0, 8);
  }
}

export function blocklist(core: EngineCore): MemberKey[] {
  return [...core.s.blocklist].sort();
}

export function canExclude(core: EngineCore): boolean {
  const p = core.s.params.policy;
  return p.exclude === 'any-member' || p.admins.includes(core.self);
}

export function ownedKeys(core: EngineCore): HeldKey[] {
  const out: HeldKey[] = [];
  if (core.s.tek && core.s.tek.owner === core.self) out.push(core.s.tek);
  for (const k of core.s.keks) if (k.owner === core.self) out.push(k);
  return out;
}

export function ownsTek(core: EngineCore): boolean {
  return core.s.tek?.owner === core.self;
}

export function info(core: EngineCore, k: HeldKey): KeyInfo {
  return { slot: k.slot, version: k.version, revision: k.revision, creators: k.creators };
}

export function checkInfo(core: EngineCore, k: KeyInfo): void {
  const p = core.s.params;
  // On the heartbeat path for every key: no message is built unless the check fails.
  if (k.slot > p.V * p.W) throw new RemoteProtocolError('invalid', `slot ${k.slot} outside the table`);
  if (k.creators.length === 0 || k.version <= 0) throw new RemoteProtocolError('invalid', 'key without version or creators');
}

/** Members that, by their ID, know `slot` (every member knows the TEK). */
export function possibleHolders(core: EngineCore, slot: number): MemberKey[] {
  const out: MemberKey[] = [];
  for (const [key, r] of Object.entries(core.s.roster)) {
    if (key === core.self || r.state !== 'member') continue;
    if (slot === TEK_SLOT || slotsOf(pidOf(core, key), core.s.params.V).includes(slot)) out.push(key);
  }
  return out.sort();
}

/**
 * Every roster key with the W slots its ID selects, as one flat array. Built at the
 * first exclusion (or by buildRosterIndex), then kept up to date as members are added.
 */
export function rosterSlots(core: EngineCore): { keys: MemberKey[]; slots: Uint16Array } {
  if (core.rosterSlotsCache) return core.rosterSlotsCache;
  const W = core.s.params.W;
  const keys = Object.keys(core.s.roster);
  core.rosterSlotsCache = { keys: [], slots: new Uint16Array(Math.max(16, keys.length) * W) };
  for (const key of keys) indexRosterKey(core, key);
  return core.rosterSlotsCache;
}

export function indexRosterKey(core: EngineCore, key: MemberKey): void {
  const c = core.rosterSlotsCache;
  if (!c) return;
  const { V, W } = core.s.params;
  const i = c.keys.length;
  if ((i + 1) * W > c.slots.length) {
    const grown = new Uint16Array(c.slots.length * 2);
    grown.set(c.slots);
    c.slots = grown;
  }
  const id = pidOf(core, key);
  for (let w = 0; w < W; w++) c.slots[i * W + w] = kekSlot(w, id[w]!, V);
  c.keys.push(key);
}

/** Roster keys in ascending order, re-sorted only when the roster grows or shrinks. */
export function rosterInKeyOrder(core: EngineCore): MemberKey[] {
  if (!core.sortedRoster) core.sortedRoster = Object.keys(core.s.roster).sort();
  return core.sortedRoster;
}

/**
 * Every roster write goes through here, so the sorted view can be dropped. Entries are
 * frozen: one is never changed in place (state.ts RosterMember), and a write that tried
 * would throw here in every test, not only where the simulator shares entries.
 */
export function setRoster(core: EngineCore, key: MemberKey, entry: PersistentState['roster'][string]): void {
  const added = !(key in core.s.roster);
  core.s.roster[key] = Object.freeze(entry);
  if (added) {
    core.rosterSize++;
    core.sortedRoster = null;
    indexRosterKey(core, key);
  }
}

/**
 * A fetch of the TEK learnt only from a clear header (a SealedControl or Data packet this
 * member cannot open): nothing vouches for that version, so (S1, docs/protocol.md §12, §14)
 * each member has at most one such fetch unresolved; once one fails, its further "ahead"
 * headers start none for TAG_FETCH_REST_ROUNDS fetch rounds; and failoverTick waits on it
 * for its first round only. A member naming made-up TEKs so costs the group one fetch
 * round now and then, never its TEK holder.
 */
export function scheduleFetchByTag(core: EngineCore, version: number, tag: Uint8Array, from: MemberKey, now: number, delay = core.s.params.fetchAfterMs): void {
  const id = `0:${version}:${toHex(tag)}`;
  if (core.fetches.has(id) || core.fetches.size >= MAX_FETCHES || !mayFetchByTag(core, from, now)) return;
  // The sender that named the key is asked first (it holds that very key; §7.4), then other holders.
  core.fetches.set(id, { at: now + delay, tried: new Set(), tries: 0 });
  core.fetchTargets.set(id, { slot: TEK_SLOT, version, tag, from, tagOnly: { firstRoundUntil: now + delay + core.s.params.fetchAfterMs } });
  if (core.tagFetches.size >= MAX_TAG_FETCH_SENDERS) core.tagFetches.clear();
  core.tagFetches.set(from, { id, version, tag, restUntil: null });
}

/** Fetch rounds a member's headers start no tag-only fetch after one of its tag-only fetches failed (S1). */
export const TAG_FETCH_REST_ROUNDS = 10;
/** Members whose tag-only fetch state is kept at once (beyond: forgotten, S1's bounded memory). */
const MAX_TAG_FETCH_SENDERS = 1024;

function mayFetchByTag(core: EngineCore, from: MemberKey, now: number): boolean {
  const last = core.tagFetches.get(from);
  if (!last) return true;
  if (core.fetches.has(last.id)) return false; // one unresolved tag-only fetch per member
  if (last.restUntil === null) {
    const tek = core.s.tek;
    const resolved = tek && (tek.version > last.version || (tek.version === last.version && equalBytes(creatorsTag(core.crypto, tek.creators), last.tag)));
    if (!resolved) {
      last.restUntil = now + TAG_FETCH_REST_ROUNDS * core.s.params.fetchAfterMs;
      return false;
    }
  } else if (now < last.restUntil) return false;
  core.tagFetches.delete(from);
  return true;
}

/** failoverTick's question (S1): is a fetch of the TEK under way that says this member is behind? A tag-only one counts for its first round only. */
export function fetchingTek(core: EngineCore, now: number): boolean {
  for (const f of core.fetchTargets.values()) if (f.slot === TEK_SLOT && (!f.tagOnly || now < f.tagOnly.firstRoundUntil)) return true;
  return false;
}

/** Half a heartbeat (at most half the fetch delay): time for a table in flight to arrive before fetching. */
export function shortFetchDelay(core: EngineCore): number {
  return Math.floor(Math.min(core.s.params.heartbeatMs, core.s.params.fetchAfterMs) / 2);
}

export function scheduleFetch(core: EngineCore, slot: number, version: number, creators: MemberKey[], from: MemberKey, now: number, delay: number): void {
  const tag = creatorsTag(core.crypto, creators);
  const id = `${slot}:${version}:${toHex(tag)}`;
  // A tag-only fetch of the same key is now vouched for (a table or a heartbeat names it): it blocks failover again.
  const pending = core.fetches.get(id);
  if (pending) {
    delete core.fetchTargets.get(id)!.tagOnly;
    // A reason to ask sooner (a table that cannot be taken without this key) brings a first attempt forward.
    if (pending.tries === 0 && now + delay < pending.at) pending.at = now + delay;
    return;
  }
  if (core.fetches.size >= MAX_FETCHES) return;
  // The sender that named the key is asked first (it holds that very key; §7.4), then other holders.
  core.fetches.set(id, { at: now + delay, tried: new Set(), tries: 0 });
  core.fetchTargets.set(id, { slot, version, tag, from, creators: [...creators].sort() });
}

/** Tells a peer that believes it is a member that we do not know it as one (it then asks for admission again). */
export function refuseNonMember(core: EngineCore, from: MemberKey, what: string): void {
  if (core.s.blocklist.includes(from)) throw new RemoteProtocolError('blocked', `${what} from an excluded member`);
  if (core.s.roster[from]?.state !== 'member') {
    unicast(core, from, { type: MsgType.JoinRefused, reason: NOT_A_MEMBER });
    throw new RemoteProtocolError('not-member', `${what} from a non-member`);
  }
}

/** Which of two versions of one key stands: the higher version; on a tie, the lower smallest creator (docs/protocol.md). */
export function wins(core: EngineCore, a: { version: number; creators: MemberKey[] }, b: { version: number; creators: MemberKey[] }): boolean {
  if (a.version !== b.version) return a.version > b.version;
  // A member that may not reseal (`admins`) ranks a TEK made by a member it blocked last, or stays on it (§8.2 "Concurrent exclusions of an admin").
  if (!canExclude(core)) {
    const blocked = blockedSet(core);
    const aBlocked = a.creators.some((k) => blocked.has(k));
    if (aBlocked !== b.creators.some((k) => blocked.has(k))) return !aBlocked;
  }
  return cmpKey(a.creators[0] ?? '', b.creators[0] ?? '') < 0;
}

export function isOwnerAlive(core: EngineCore, slot: number, now: number): boolean {
  const heard = core.heardAt.get(slot);
  const dir = core.s.slotDir[String(slot)];
  if (!dir?.owner) return false;
  if (dir.owner === core.self) return true;
  if (heard === undefined) return true;
  return now - heard <= core.s.params.failoverIntervals * judgedIntervalMs(core, slot, dir.owner);
}

/**
 * The interval a judge allows an owner between heartbeats for one slot (§4, §8.4). The TEK's
 * owner heartbeats every heartbeatMs. A KEK's owner may be stretched by the roster count of its
 * last heartbeat heard, whether or not that heartbeat also named the TEK: an owner that just
 * stopped owning the TEK is judged by its stretched interval even if the first heartbeat after
 * the change was lost. An owner not heard since this member started may be on any interval a
 * roster half again the size of ours would give it (its roster may be ahead of ours).
 */
function judgedIntervalMs(core: EngineCore, slot: number, owner: MemberKey): number {
  const hb = core.s.params.heartbeatMs;
  if (slot === TEK_SLOT) return hb;
  return hb * heartbeatStretch(core.heartbeatRoster.get(owner) ?? Math.ceil(1.5 * core.rosterSize));
}

/**
 * Heartbeats that do not grow with the group (docs/protocol.md §4): in a group of N nearly
 * every member owns a KEK, so each member would receive about N heartbeats per interval. An
 * owner that does not own the TEK heartbeats every heartbeatMs × heartbeatStretch(its roster
 * count) instead: one interval up to MEMBERS_PER_HEARTBEAT_STRETCH roster entries (every entry
 * ever, members who left or were excluded too: the count heartbeats carry), at most
 * MAX_HEARTBEAT_STRETCH. The TEK's owner keeps heartbeatMs. Every heartbeat carries the
 * sender's roster count, so a judge allows the owner of a KEK the interval that count gives
 * (judgedIntervalMs) and waits failoverIntervals of those before a claim.
 */
export const MEMBERS_PER_HEARTBEAT_STRETCH = 16;
export const MAX_HEARTBEAT_STRETCH = 4;

export function heartbeatStretch(rosterCount: number): number {
  return Math.min(MAX_HEARTBEAT_STRETCH, Math.max(1, Math.ceil(rosterCount / MEMBERS_PER_HEARTBEAT_STRETCH)));
}

/** The interval after a heartbeat from an owner of a roster of `rosterCount` announcing `keys`. */
export function heartbeatIntervalMs(heartbeatMs: number, rosterCount: number, keys: readonly { slot: number }[]): number {
  return keys.some((k) => k.slot === TEK_SLOT) ? heartbeatMs : heartbeatMs * heartbeatStretch(rosterCount);
}

/** The creators a table names for the TEK it makes: its panel (sorted), or its excluder. */
export function tableCreators(h: TableHeader): MemberKey[] {
  return h.panel ? sortedKeys(h.panel.members) : [h.excluder];
}

/** The table this member knows that made TEK `version` with these creators (any order), if any. */
export function tableThatMade(core: EngineCore, version: number, creators: readonly MemberKey[]): TableState | undefined {
  const sorted = sortedKeys([...creators]);
  return [...core.tables.values()].find((o) => o.header.newVersion === version && sameCreators(tableCreators(o.header), sorted));
}

/** The current TEK as `version:creators` (one TEK, whatever its revision), '' without one. */
export function currentTekId(core: EngineCore): string {
  const t = core.s.tek;
  return t ? `${t.version}:${t.creators.join(',')}` : '';
}

/** The blocklist as a set, rebuilt when it grows (it only grows, by push: applyBlocklist). */
export function blockedSet(core: EngineCore): ReadonlySet<MemberKey> {
  const bl = core.s.blocklist;
  const c = core.blockedCache;
  if (c && c.list === bl && c.set.size === bl.length) return c.set;
  const set = new Set(bl);
  core.blockedCache = { list: bl, set };
  return set;
}

export function tekCoversBlocklist(core: EngineCore): boolean {
  const cov = core.s.tek?.coverage;
  if (!cov) return true;
  return core.s.blocklist.every((b) => cov.includes(b));
}

export function isTekCreator(core: EngineCore): boolean {
  return canExclude(core) && (core.s.tek?.creators ?? []).includes(core.self);
}

export function heldKey(core: EngineCore, slot: number): HeldKey | undefined {
  if (slot === TEK_SLOT) return core.s.tek ?? undefined;
  // Runs for every key of every heartbeat (and reads one KEK, not all W of them, in the index).
  const keks = core.s.keks;
  let ix = core.kekIndex;
  if (ix === null || ix.keks !== keks || ix.length !== keks.length) ix = core.kekIndex = indexKeks(keks);
  if (ix.at === null) return keks.find((k) => k.slot === slot);
  const i = Number.isInteger(slot) && slot >= 0 && slot < ix.at.length ? ix.at[slot]! : -1;
  return i >= 0 && keks[i]!.slot === slot ? keks[i] : undefined;
}

/**
 * Position of the first KEK of each slot in `keks`. Valid while the array is the same object
 * of the same length: KEKs are only ever pushed, or the array replaced (filtered, restored),
 * never overwritten in place or re-slotted. `at` is null when a slot is not a small integer.
 */
function indexKeks(keks: HeldKey[]): NonNullable<EngineCore['kekIndex']> {
  let max = -1;
  for (const k of keks) {
    if (!Number.isInteger(k.slot) || k.slot < 0 || k.slot > 0xffff) return { keks, length: keks.length, at: null };
    if (k.slot > max) max = k.slot;
  }
  const at = new Array<number>(max + 1).fill(-1);
  for (let i = keks.length - 1; i >= 0; i--) at[keks[i]!.slot] = i;
  return { keks, length: keks.length, at };
}

export function heldKeys(core: EngineCore): HeldKey[] {
  return core.s.tek ? [core.s.tek, ...core.s.keks] : [...core.s.keks];
}

export function syncDirFromHeld(core: EngineCore): void {
  for (const k of heldKeys(core)) {
    core.s.slotDir[String(k.slot)] = { version: k.version, revision: k.revision, creators: k.creators, owner: k.owner };
  }
}

export function pidOf(core: EngineCore, member: MemberKey): number[] {
  const pinned = core.pinnedIds;
  if (pinned !== undefined && pinned.size > 0) {
    const id = pinned.get(member);
    if (id) return id;
  }
  // A participant ID is a pure function of (key, W, V): engines in one process share one index
  // per (W, V), with no copy per engine (a thousand engines of a thousand members each).
  const p = core.s.params;
  let byKey = core.pidIndex;
  if (byKey === null || core.pidIndexW !== p.W || core.pidIndexV !== p.V) {
    const shape = `${p.W}:${p.V}`;
    byKey = sharedPids.get(shape) ?? null;
    if (byKey === null) sharedPids.set(shape, (byKey = new Map()));
    core.pidIndex = byKey;
    core.pidIndexW = p.W;
    core.pidIndexV = p.V;
  }
  let id = byKey.get(member);
  if (!id) {
    id = participantId(core.crypto, fromHex(member), p.W, p.V);
    if (byKey.size >= 100_000) byKey.clear(); // bounded whatever senders claim
    byKey.set(member, id);
  }
  return id;
}

export function heartbeatAge(core: EngineCore, slot: number, now: number): number | null {
  const h = core.heardAt.get(slot);
  return h === undefined ? null : Math.max(0, now - h);
}

export function slotIndex(core: EngineCore, v: KeyEntryView): number {
  return v.slot.kind === 'tek' ? 0 : kekSlot(v.slot.symbol, v.slot.value, core.s.params.V);
}

export function randomBelow(core: EngineCore, n: number): number {
  if (n <= 1) return 0;
  const b = core.rng(4);
  return (((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!) % n;
}

/** Data only: control messages are sealed first (engine/control-seal.ts publishControl). */
export function publish(core: EngineCore, topic: 'data', m: Message): void {
  core.outbox.push({ kind: 'publish', topic, bytes: encodeMessage(core.groupBytes, m) });
}

export function unicast(core: EngineCore, to: MemberKey, m: Message): void {
  core.outbox.push({ kind: 'unicast', to, bytes: encodeMessage(core.groupBytes, m) });
}

export function emit(core: EngineCore, e: EngineEvent): void {
  core.events.push(e);
}

export function keyChanged(core: EngineCore, slot: number, reason: string, now: number): void {
  const k = heldKey(core, slot);
  if (!k) return;
  emit(core, { type: 'key-changed', slot: slotRef(slot, core.s.params.V), version: k.version, revision: k.revision, reason, at: now });
  if (k.owner === core.self) heartbeatWithinBase(core, now);
}

/**
 * §4: a stretched interval is for keys that did not change. An owner whose key changed (a
 * revision step for a newcomer, a new version, a takeover) heartbeats heartbeatMs after its
 * last heartbeat, as without the stretch: holders learn KEK revision steps from it (§5 step 5),
 * and a table sealed under a revision its holders passed cannot be opened. Earlier than
 * announced is always allowed: a judge only needs the next heartbeat no later.
 */
function heartbeatWithinBase(core: EngineCore, now: number): void {
  const due = Math.max(now, core.lastOwnHeartbeatAt + core.s.params.heartbeatMs);
  const at = core.timers.get('heartbeat');
  if (at !== null && at > due) core.timers.set('heartbeat', due);
}

export function addLog(core: EngineCore, at: number, kind: KeyLogEntry['kind'], text: string): void {
  const entry = { at, kind, text };
  core.log.push(entry);
  if (core.log.length > MAX_LOG) core.log.shift();
  emit(core, { type: 'log', entry });
}

export function reject(core: EngineCore, from: MemberKey, reason: RejectReason, detail: string, now: number): void {
  core.rejectedCounts.set(reason, (core.rejectedCounts.get(reason) ?? 0) + 1);
  emit(core, { type: 'rejected', from, reason, detail, at: now });
}

export function eraseSecrets(core: EngineCore): void {
  for (const k of heldKeys(core)) k.key.fill(0);
  for (const r of core.s.tekRecords) {
    r.key.fill(0);
    for (const o of r.older) o.key.fill(0);
  }
  for (const r of core.retiredKeks) r.key.key.fill(0);
  for (const t of core.tables.values()) t.tekPrime?.fill(0);
  core.dataKeyCache?.derived.fill(0);
  core.lastStep?.key.fill(0);
  core.lastStep = null;
  for (const k of core.controlKeys.values()) k.fill(0);
  core.controlKeys.clear();
  core.pendingSealed = [];
  for (const k of core.pairwiseCache.values()) k?.fill(0);
  core.s.tek = null;
  core.s.keks = [];
  core.s.tekRecords = [];
  core.retiredKeks = [];
  core.dataKeyCache = null;
  core.pairwiseCache.clear();
  core.tables.clear();
  core.pendingData = [];
  core.heldOutgoing = [];
  core.pendingPanel = [];
}

/** Asks `to` for a key (003 [0079]) and remembers the request: only an asked member may answer (F2). */
export function sendFetchRequest(core: EngineCore, to: MemberKey, slot: number, version: number, tag: Uint8Array): void {
  core.fetchAsked.set(to, (core.fetchAsked.get(to) ?? 0) + 1);
  unicast(core, to, { type: MsgType.FetchRequest, slot, version, tag });
}
