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
 * This class only routes: the state lives in `EngineCore` (engine/context.ts), every
 * input enters through engine/gate.ts, and each concern is a room of its own in
 * engine/ (docs/architecture.md draws them). Invariants:
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
import type { EngineEvent, GroupId, GroupParams, KeyOrigin, KeyTableView, MemberKey, RejectReason, Transmit } from './types.js';
import { LocalProtocolError } from './errors.js';
import { toHex } from './bytes.js';
import { MsgType } from './wire.js';
import { decodeState, encodeState, sortedKeys, type PersistentState } from './state.js';
import { CREATION_RACE_HEARTBEATS, EngineCore, cloneParams, type EngineDeps, type EngineState, type Identity, type MemberView } from './engine/context.js';
import { newJoin } from './engine/join-state.js';
import { addLog, blocklist, canExclude, emit, eraseSecrets, ownsTek, pidOf, rosterSlots, short, tekCoversBlocklist } from './engine/context.js';
import { ExclusionContest } from './engine/exclusion-contest.js';
import { openPendingSealed, receive, type Channel } from './engine/gate.js';
import { createKeys, flushAnnouncements, joinTick, tryJoinContact } from './engine/admission.js';
import { failoverTick, sendHeartbeat } from './engine/heartbeat.js';
import { expireTick, expiryAt } from './engine/tek-records.js';
import { startTable, tablesTick } from './engine/exclusion.js';
import { scheduleReseal } from './engine/table-apply.js';
import { settleTick } from './engine/admin-races.js';
import { fetchTick } from './engine/fetch.js';
import { leaveTick, refreshTick, rescheduleLeaveExclusions, resealTick, uncoveredLeaversTick } from './engine/rekey-triggers.js';
import { publishData } from './engine/data.js';
import { publishControl } from './engine/control-seal.js';
import { leaveBody } from './engine/sealing.js';
import { drivePanel } from './engine/panel.js';
import { convergenceSignature, exportKeyMaterial, heldOwners, keyTable, members, tekInfo } from './engine/views.js';
import { restoreProofs, savedProofs } from './engine/roster-sync.js';

export type { AdmissionDecision, AdmissionPolicy, AdmissionRequest, EngineDeps, EngineState, Identity, MemberView } from './engine/context.js';
import type { AdmissionPolicy } from './engine/context.js';

/** Admits everyone: for simulations and tests of other rules only. */
export const admitEveryone: AdmissionPolicy = { check: () => ({ ok: true }) };

/** Admits the listed identity keys only (003 [0067] local admission control, 001 access list). */
export function allowlistAdmission(allowed: Iterable<MemberKey>): AdmissionPolicy {
  const set = new Set(allowed);
  return {
    check: (r) => (set.has(r.member) ? { ok: true } : { ok: false, reason: 'not on the allowlist' }),
  };
}

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

export class GroupEngine {
  readonly group: GroupId;
  readonly self: MemberKey;
  readonly selfId: number[];
  private core: EngineCore;
  /** A self-exclusion an admins' race may void (engine/exclusion-contest.ts). */
  private contest: ExclusionContest | null = null;

  private constructor(
    private readonly deps: EngineDeps,
    private readonly identity: Identity,
    state: PersistentState,
  ) {
    this.core = new EngineCore(deps, identity, state);
    this.group = this.core.group;
    this.self = this.core.self;
    this.selfId = this.core.selfId;
  }

  // ================================================================ construction

  static create(deps: EngineDeps, identity: Identity, o: CreateOptions): GroupEngine {
    const group = o.group ?? toHex(deps.rng(16));
    const e = new GroupEngine(deps, identity, GroupEngine.freshState(group, o.name, o.params, 'listening'));
    // H2: the creator holds the TEK first, so under `admins` it must be one of them.
    if (o.params.policy.exclude === 'admins' && !o.params.policy.admins.includes(e.self)) throw new LocalProtocolError('under the admins policy the creator must be one of the admins');
    if (o.listenFirst) {
      e.core.timers.set('listen', o.now + o.params.listenMs);
      // H3: a listen-first creator may merge into a winning instance only in its first moments.
      e.core.creationRaceUntil = o.now + o.params.listenMs + CREATION_RACE_HEARTBEATS * o.params.heartbeatMs;
      emit(e.core, { type: 'join-progress', stage: 'listening', at: o.now });
    } else {
      createKeys(e.core, o.now);
    }
    return e;
  }

  static join(deps: EngineDeps, identity: Identity, o: JoinOptions): GroupEngine {
    const e = new GroupEngine(deps, identity, GroupEngine.freshState(o.group, o.name, o.params, 'joining'));
    e.core.join = newJoin(o.credential, [...o.contacts], o.now);
    e.core.s.joining = { credential: o.credential, contacts: [...o.contacts] };
    emit(e.core, { type: 'join-progress', stage: 'requesting', at: o.now });
    tryJoinContact(e.core, o.now);
    return e;
  }

  static restore(deps: EngineDeps, identity: Identity, snapshot: Uint8Array, now: number): GroupEngine {
    return GroupEngine.restoreState(deps, identity, decodeState(snapshot), now);
  }

  /** As restore, from a state object the caller hands over (and no longer touches). */
  static restoreState(deps: EngineDeps, identity: Identity, state: PersistentState, now: number): GroupEngine {
    const saved = state.contest;
    delete state.contest;
    const proofs = state.admissionProofs;
    delete state.admissionProofs;
    const e = new GroupEngine(deps, identity, state);
    restoreProofs(e.core, proofs);
    GroupEngine.resume(e.core, now);
    // A contest saved while excluded goes on (engine/exclusion-contest.ts); its step() at the next tick ends it if it ran out meanwhile.
    if (saved && state.state === 'excluded') e.contest = ExclusionContest.restore(deps, identity, saved, state.params.heartbeatMs, now);
    return e;
  }

  /** Timers and windows of a core that starts again from its state (a restart, or a contest's shadow taken over). */
  private static resume(core: EngineCore, now: number): void {
    if (core.s.state === 'member') core.timers.set('heartbeat', now);
    if (core.s.state === 'joining') {
      // H3: a join interrupted by a crash resumes as the same join (its contacts, its
      // credential); it never turns into listening, where any heartbeat could claim it.
      const saved = core.s.joining;
      core.join = newJoin(saved?.credential ?? new Uint8Array(0), [...(saved?.contacts ?? [])], now);
    } else if (core.s.state === 'listening') {
      // A listen-first creator interrupted before creating listens again.
      core.timers.set('listen', now + core.s.params.listenMs);
    }
    // Every owner we knew gets a fresh failover window from now.
    for (const slot of Object.keys(core.s.slotDir)) core.heardAt.set(Number(slot), now);
    // A leave not yet turned into an exclusion is derived from the roster, not kept apart:
    // a member that left and is not blocked is excluded again after the usual back-off.
    if (core.s.state === 'member') rescheduleLeaveExclusions(core, now);
    // A race's reseal was a timer, lost with the process: a TEK that does not cover the blocklist
    // after a restart gets it again (review 25: an admin down across a race kept the block alone, 2 of 10 seeds).
    if (core.s.state === 'member' && canExclude(core)) scheduleReseal(core, now);
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
    return this.core.s.params;
  }
  get groupName(): string {
    return this.core.s.groupName;
  }
  state(): EngineState {
    return this.core.s.state;
  }
  /** Excluded, but an admins' race may still void it (engine/exclusion-contest.ts): until when, else null. */
  exclusionContestedUntil(): number | null {
    return this.core.s.state === 'excluded' && this.contest ? this.contest.deadline() : null;
  }
  isBlocked(member: MemberKey): boolean {
    return this.core.s.blocklist.includes(member);
  }
  blocklist(): MemberKey[] {
    return blocklist(this.core);
  }
  /** When each payload `send` accepted but holds was sent (the TEK does not cover the blocklist yet, §7.2); oldest first. */
  heldSince(): number[] {
    return this.core.heldOutgoing.map((h) => h.at);
  }
  /** The current TEK's public description (no key bytes). */
  tekInfo(): { version: number; revision: number; creators: MemberKey[]; fingerprint: string; origin: KeyOrigin } | null {
    return tekInfo(this.core);
  }
  /** Cheap equality key of (TEK version, revision, creators, blocklist) for convergence checks. */
  convergenceSignature(withRevision = true): string {
    return convergenceSignature(this.core, withRevision);
  }
  rejectedCount(): Map<RejectReason, number> {
    return new Map(this.core.rejectedCounts);
  }

  /**
   * Every peer input enters through the gate (engine/gate.ts). `relayedBy`: the member that served
   * this data packet by reconciliation, naming `from` as its author (the author is then its word).
   */
  receive(from: MemberKey, channel: Channel, bytes: Uint8Array, now: number, relayedBy?: MemberKey): void {
    now = Math.floor(now);
    const contested = this.contest !== null && this.core.s.state === 'excluded';
    this.core.inputRelay = relayedBy ?? null;
    try {
      receive(this.core, from, channel, bytes, now);
    } finally {
      this.core.inputRelay = null;
    }
    if (this.core.contest) {
      this.contest = ExclusionContest.begin(this.deps, this.identity, this.core.contest, this.core.s.params.heartbeatMs, this.core.s.params.graceMs);
      this.core.contest = null;
    } else if (contested) {
      this.core.outbox.push(...this.contest!.feed(from, channel, bytes, now));
      // Lost: over at once (review 26: it lingered for the whole window, its keys in memory, the peer dialling the group).
      if (this.contest!.isLost()) this.endContest(now);
    }
  }

  /** The exclusion stands: the shadow's secrets are erased and the contest forgotten. */
  private endContest(now: number): void {
    const contest = this.contest;
    if (!contest) return;
    this.contest = null;
    contest.end();
    addLog(this.core, now, 'exclude', `the exclusion by ${short(contest.excluder)} stands`);
  }

  /** The exclusion fell with its excluder's (engine/exclusion-contest.ts): a member again, the shadow's core taken over as after a restart. */
  private resumeFromContest(by: MemberKey, now: number): void {
    const contest = this.contest!;
    this.contest = null;
    const old = this.core;
    const fresh = contest.take();
    fresh.panel = old.panel;
    GroupEngine.resume(fresh, now);
    fresh.outbox.push(...old.outbox);
    fresh.events.push(...old.events);
    fresh.log = [...old.log, ...fresh.log];
    this.core = fresh;
    emit(fresh, { type: 'member-reinstated', members: [this.self], by, at: now });
    addLog(fresh, now, 'merge', `this member's exclusion by ${short(contest.excluder)} fell with ${short(contest.excluder)}'s exclusion by ${short(by)}: a member again`);
  }

  tick(now: number): void {
    now = Math.floor(now);
    if (this.core.s.state === 'excluded' && this.contest) this.core.outbox.push(...this.contest.fetch(now));
    const step = this.core.s.state === 'excluded' ? this.contest?.step(now) : undefined;
    if (step?.kind === 'resume') this.resumeFromContest(step.by, now);
    else if (step?.kind === 'end') this.endContest(now);
    const core = this.core;
    const st = core.s.state;
    if (st === 'left' || st === 'excluded') return;
    if (st === 'listening' && core.timers.due('listen', now)) {
      core.timers.stop('listen');
      createKeys(core, now);
    }
    if (core.join) joinTick(core, now); // also after 'joined': KEKs may still be on their way
    if (core.s.state === 'member') {
      flushAnnouncements(core, now);
      tablesTick(core, now);
      // Failover checks and grace-window expiry run on a housekeeping beat of half a
      // heartbeat, not on exact per-key deadlines: cheap to arm, precise enough.
      const housekeeping = core.timers.get('housekeeping');
      const claimDue = [...core.claims.values()].some((c) => c <= now);
      if (housekeeping === null || now >= housekeeping || claimDue) {
        if (housekeeping === null || now >= housekeeping) {
          core.timers.set('housekeeping', now + Math.max(1, Math.floor(core.s.params.heartbeatMs / 2)));
          expireTick(core, now);
          settleTick(core, now);
          uncoveredLeaversTick(core, now);
        }
        failoverTick(core, now);
      }
      fetchTick(core, now);
      leaveTick(core, now);
      resealTick(core, now);
      refreshTick(core, now);
      if (core.timers.due('heartbeat', now)) sendHeartbeat(core, now);
    } else expireTick(core, now);
    if (core.panel && core.s.state === 'member') {
      const due = core.panel.nextDeadline();
      if (due !== null && now >= due) core.panel.tick(now);
    }
    drivePanel(core, now);
    openPendingSealed(core, now);
  }

  send(payload: Uint8Array, now: number): void {
    now = Math.floor(now);
    const core = this.core;
    if (core.s.state !== 'member' || !core.s.tek) throw new LocalProtocolError(`cannot send while ${core.s.state}`);
    if (payload.length > 64 * 1024) throw new LocalProtocolError('payload larger than 64 KiB');
    if (!tekCoversBlocklist(core)) {
      core.heldOutgoing.push({ payload, at: now });
      return;
    }
    publishData(core, payload, now);
  }

  exclude(members: MemberKey[], now: number): void {
    now = Math.floor(now);
    const core = this.core;
    if (core.s.state !== 'member') throw new LocalProtocolError(`cannot exclude while ${core.s.state}`);
    if (!this.canExclude()) throw new LocalProtocolError('the group policy does not allow this member to exclude');
    const targets = sortedKeys(members);
    if (targets.length === 0) throw new LocalProtocolError('nothing to exclude');
    for (const t of targets) {
      if (t === this.self) throw new LocalProtocolError('use leave() to leave the group');
      if (!/^[0-9a-f]{64}$/.test(t)) throw new LocalProtocolError(`not a member key: ${t}`);
    }
    const fresh = targets.filter((t) => !core.s.blocklist.includes(t));
    if (fresh.length === 0) throw new LocalProtocolError('already excluded');
    startTable(core, 'exclude', fresh, now);
    drivePanel(core, now);
  }

  leave(now: number): void {
    now = Math.floor(now);
    const core = this.core;
    if (core.s.state === 'member') publishControl(core, { type: MsgType.Leave, sentAt: now, signature: core.crypto.ed25519Sign(core.seed, leaveBody(core, core.self, now)) });
    core.s.state = 'left';
    addLog(core, now, 'leave', 'left the group');
    eraseSecrets(core);
    // Leaving while an admins' race may void this member's exclusion ends that too (review 26: it resumed after the leave).
    if (this.contest) {
      this.contest.end();
      this.contest = null;
    }
  }

  /** `key` is in this member's roster or among its join's contacts: known, even while joining. */
  knows(key: MemberKey): boolean {
    return this.core.s.roster[key] !== undefined || (this.core.join?.contacts.includes(key) ?? false);
  }

  addContacts(contacts: MemberKey[], now: number): void {
    const j = this.core.join;
    if (!j) return;
    for (const c of contacts) if (!j.contacts.includes(c) && c !== this.self) j.contacts.push(c);
    if (j.certificate === null && j.attemptAt > now) j.attemptAt = now;
  }

  pollTransmit(): Transmit | undefined {
    return this.core.outbox.shift();
  }
  pollEvent(): EngineEvent | undefined {
    return this.core.events.shift();
  }

  /** The earliest deadline of the timer table and of every per-item deadline (tables, claims, fetches, leaves, key requests). */
  nextDeadline(): number | undefined {
    const core = this.core;
    const st = core.s.state;
    if (st === 'left' || st === 'excluded') return this.contest?.deadline();
    // Called after every input in the simulator: no closure per call (earlier() is module-level).
    let d = Infinity;
    d = earlier(d, core.timers.get('listen'));
    if (core.join) {
      if (core.join.certificate === null) d = earlier(d, core.join.attemptAt);
      for (const w of core.join.wanted.values()) d = earlier(d, w.retryAt);
    }
    if (st === 'member') {
      d = earlier(d, core.timers.earliest());
      d = earlier(d, core.tables.earliestDeadline());
      for (const c of core.claims.values()) d = earlier(d, c);
      for (const f of core.fetches.values()) d = earlier(d, f.at);
      for (const l of core.leaveExclusions.values()) d = earlier(d, l);
      const p = core.s.params;
      if (ownsTek(core)) {
        if (p.refreshRevisionMs > 0) d = earlier(d, core.s.lastRevisionRefreshAt + p.refreshRevisionMs);
        if (p.refreshVersionMs > 0) d = earlier(d, core.s.lastVersionRefreshAt + p.refreshVersionMs);
      }
    }
    if (st !== 'member') d = earlier(d, expiryAt(core));
    if (core.panel && st === 'member') d = earlier(d, core.panel.nextDeadline());
    return d === Infinity ? undefined : d;
  }

  snapshot(): Uint8Array {
    const contest = this.core.s.state === 'excluded' ? this.contest?.save() : null;
    const admissionProofs = savedProofs(this.core);
    return encodeState(contest || admissionProofs ? { ...this.core.s, ...(contest ? { contest } : {}), ...(admissionProofs ? { admissionProofs } : {}) } : this.core.s);
  }

  /** The participant ID of any member key under this group's parameters (003 [0048]). */
  participantIdOf(member: MemberKey): number[] {
    return [...pidOf(this.core, member)];
  }

  canExclude(): boolean {
    return canExclude(this.core);
  }

  members(): MemberView[] {
    return members(this.core);
  }

  /**
   * One roster entry's state, or null for a key the roster does not list: what
   * `members().find(…)?.state` gives, without building every member's view
   * (the peer layer asks this for every message it receives).
   */
  rosterState(key: MemberKey): 'member' | 'left' | 'excluded' | null {
    return Object.hasOwn(this.core.s.roster, key) ? (this.core.s.roster[key]?.state ?? null) : null;
  }

  /** When a roster entry's admitter dated its admission (null for a key the roster does not list). */
  rosterAdmittedAt(key: MemberKey): number | null {
    return Object.hasOwn(this.core.s.roster, key) ? (this.core.s.roster[key]?.admittedAt ?? null) : null;
  }

  /** When this member took `key`'s roster entry in, by its own clock (null: from its own Admit, or not listed; RosterMember.learnedAt). */
  rosterLearnedAt(key: MemberKey): number | null {
    return Object.hasOwn(this.core.s.roster, key) ? (this.core.s.roster[key]?.learnedAt ?? null) : null;
  }

  /** The display name a roster entry carries ('' for a key the roster does not list). */
  rosterName(key: MemberKey): string {
    return Object.hasOwn(this.core.s.roster, key) ? (this.core.s.roster[key]?.name ?? '') : '';
  }

  /** How many entries the roster holds, departed members included (grows with every key it lists; cheap). */
  rosterEntries(): number {
    return this.core.rosterSize;
  }

  /** How many roster entries are current members. */
  memberCount(): number {
    let n = 0;
    for (const m of Object.values(this.core.s.roster)) if (m.state === 'member') n++;
    return n;
  }

  keyTable(now: number): KeyTableView {
    return keyTable(this.core, now);
  }

  /** Slot and owner of every key held (TEK first, then KEKs by slot): keyTable's held entries, cheaply (the simulator's report). */
  heldOwners(): { slot: number; owner: MemberKey | null }[] {
    return heldOwners(this.core);
  }

  /** Every key this member currently holds, with its bytes. For the simulator's secrecy oracle only. */
  exportKeyMaterial(): { slot: number; version: number; creators: MemberKey[]; revision: number; key: Uint8Array }[] {
    return exportKeyMaterial(this.core);
  }

  /** Builds the roster index now rather than at the first exclusion (it is then kept up to date). */
  buildRosterIndex(): void {
    rosterSlots(this.core);
  }
}

/** The earlier of a deadline and an optional time. */
function earlier(d: number, t: number | null | undefined): number {
  return t !== null && t !== undefined && t < d ? t : d;
}
