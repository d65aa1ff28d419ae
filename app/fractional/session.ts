/**
 * @module fractional/session
 * `PanelSession`: one panel member's side of the fractional-key protocol of seed
 * 004, as a sans-I/O state machine (STYLE §1). It runs distributed
 * initialization (004 §II.B, process 400, checked as in §VI.B, process 900),
 * generation rounds (§III, process 500, each contribution checked against a
 * commitment, §VI), and recovery of a failed member's pad (§IV, process 700).
 *
 * Invariants:
 * - a panel has at least 4 members (004 §V: with ⊙ = modular addition, 3 allow
 *   the fractional attack); the constructor throws otherwise;
 * - θ_j (j ≥ 2), every FK and every pad stay in this object: only commitments,
 *   hidden values and (during initialization and recovery, encrypted to one
 *   recipient) θ₁/ξ/θ leave it;
 * - an input is validated completely before anything is changed: a rejected
 *   message leaves the state exactly as it was and becomes a `rejected` event;
 * - at most one process (init, round, recovery) runs at a time; every process
 *   consumes its iteration number, whether it completes or not, so numbers are
 *   never reused;
 * - no clock, no randomness of its own: `now` and `deps.rng` are injected, and
 *   the same inputs and RNG give the same bytes and events.
 */
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import type { Point, Scalar } from './arithmetic.js';
import {
  closeRing,
  commit,
  decodePoint,
  decodeScalar,
  deriveSharedKey,
  drawScalar,
  encodePoint,
  encodeScalar,
  hideFraction,
  IDENTITY,
  nextBinding,
  nextPad,
  padFromBinding,
  recoverPad,
  remove,
  ringStep,
  sumPoints,
  timesPoint,
} from './arithmetic.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { commitmentsDigest, stateDigest } from './digests.js';
import type { PanelRejectReason } from './errors.js';
import { BugError, LocalProtocolError } from './errors.js';
import type { Mode, PanelBody, PanelMessage } from './wire.js';
import type { OpeningKeys, SealTarget } from './wire.js';
import { decodeSigned, encodeSigned, EPOCH_BYTES, MAX_PANEL_SIZE, modeOf, open, openingKeys, seal, sealTarget } from './wire.js';

/** Early messages kept per sender: more than one process's worth from one member is refused. */
const DEFERRED_PER_SENDER = 6;

/** The smallest panel that resists the fractional attack (004 §V, corollary). */
export const MIN_PANEL_SIZE = 4;

export interface PanelDeps {
  crypto: CryptoProvider;
  rng: Rng;
}

export interface PanelOptions {
  /** The group initiator of 004 §II; default: the first member of the list. The ring runs from it in list order. */
  initiator?: MemberKey;
  /** How long one process may run here before it fails with `timeout`. Default 30 000 ms. */
  processTimeoutMs?: number;
  /** The largest accepted |T_i − now| of an incoming message. Default 600 000 ms. */
  maxSkewMs?: number;
}

export type PanelProcessKind = 'init' | 'round' | 'recovery';

export type PanelEvent =
  | { type: 'initialized'; iteration: number; members: MemberKey[]; at: number }
  /** SK_j = f(θ_{j+1}) (004 §III step 550); `round` is the iteration j. */
  | { type: 'round-complete'; round: number; key: Uint8Array; members: MemberKey[]; at: number }
  | { type: 'recovered'; iteration: number; failed: MemberKey; replacement: MemberKey; members: MemberKey[]; at: number }
  /** `member` sent a value that contradicts its own commitment (004 §VI); the proof is the signed message. */
  | { type: 'cheater'; member: MemberKey; process: PanelProcessKind; iteration: number; detail: string; at: number }
  | { type: 'rejected'; from: MemberKey; reason: PanelRejectReason; detail: string; at: number }
  /**
   * A process ended without a result. `missing` lists members whose messages had
   * not arrived (for `timeout`, the candidates for recovery).
   */
  | {
      type: 'failed';
      process: PanelProcessKind;
      iteration: number;
      reason: 'timeout' | 'superseded' | 'verification';
      missing: MemberKey[];
      detail: string;
      at: number;
    };

export interface PanelTransmit {
  to: MemberKey;
  bytes: Uint8Array;
}

export type PanelStatus = 'fresh' | 'initializing' | 'ready' | 'round' | 'recovering';

/** Plain data; secret (θ and the pad): the store must encrypt it at rest. */
export interface PanelSnapshot {
  version: 1;
  members: MemberKey[];
  initiator: MemberKey;
  epoch: string;
  theta: string;
  pad: string;
  padCommitments: string[];
  nextIteration: number;
}

/** The state every member holds between processes. */
interface Stable {
  epoch: Uint8Array;
  theta: Scalar;
  /** This member's α. */
  pad: Scalar;
  /** A_i = α_i·B for every member, in `members` order. */
  pads: Point[];
  nextIteration: number;
}

interface RingLink {
  v: Point;
  d: Point;
}

interface InitProcess {
  kind: 'init';
  iteration: number;
  epoch: Uint8Array;
  deadline: number;
  ring: MemberKey[];
  secret: Scalar | null;
  blind: Scalar | null;
  /** Γ = γ·B from the initiator's ring-commit. */
  blindCommitment: Point | null;
  /** Ring-commits accepted so far, always a prefix of `ring`. */
  links: Map<MemberKey, RingLink>;
  ringReceived: boolean;
  theta: Scalar | null;
}

interface RoundProcess {
  kind: 'round';
  iteration: number;
  deadline: number;
  fraction: Scalar;
  commitments: Map<MemberKey, Point>;
  commitDigest: Uint8Array | null;
  hidden: Map<MemberKey, Scalar>;
}

interface RecoveryProcess {
  kind: 'recovery';
  role: 'remaining' | 'newcomer';
  /** null only for a newcomer that has not heard from the panel yet. */
  iteration: number | null;
  epoch: Uint8Array | null;
  deadline: number;
  failed: MemberKey;
  replacement: MemberKey;
  /** The panel before the replacement, and the remaining members in ring order (the recovery initiator first). */
  before: MemberKey[];
  ring: MemberKey[];
  // remaining members
  secret: Scalar | null;
  blind: Scalar | null;
  ownRing: Scalar | null;
  /** The ring value received from the predecessor (for the recovery initiator: the closing one). */
  ringIn: Scalar | null;
  xi: Scalar | null;
  shareSent: boolean;
  // newcomer
  handover: { theta: Scalar; xi: Scalar; pads: Point[] } | null;
  shares: Map<MemberKey, { masked: Scalar; u: Point; prev: Point; d: Point; gamma: Point; stateDigest: Uint8Array }>;
}

type Process = InitProcess | RoundProcess | RecoveryProcess;

type Verdict =
  | { kind: 'accepted' }
  | { kind: 'defer' }
  | { kind: 'reject'; reason: PanelRejectReason; detail: string; cheater?: { process: PanelProcessKind; iteration: number } };

const ACCEPTED: Verdict = { kind: 'accepted' };
const DEFER: Verdict = { kind: 'defer' };
const reject = (reason: PanelRejectReason, detail: string): Verdict => ({ kind: 'reject', reason, detail });
/** A rejection that proves the sender cheated: its signed message contradicts its own commitment. */
const cheated = (detail: string, process: PanelProcessKind, iteration: number): Verdict => ({
  kind: 'reject',
  reason: 'bad-commitment',
  detail,
  cheater: { process, iteration },
});

/**
 * One member's panel session.
 *
 * Polling order (as quinn-proto documents on its `Connection`): after every
 * input — `receive`, `tick`, or a command — drain `pollTransmit()` until it
 * returns undefined and hand each datagram to the transport, then drain
 * `pollEvent()` until undefined, then arm one timer at `nextDeadline()` (null:
 * none) and call `tick(now)` when it fires. Outputs are queued in the order
 * they were produced; nothing is lost if the caller polls late.
 *
 * Who calls what: the integrator creates a session on every panel member with
 * the same ordered member list; the initiator calls `startInitialization`; any
 * member may call `startRound` (the others join on the first commit they
 * receive); for a recovery, every remaining member and the replacement call
 * `startRecovery(failed, replacement)` — recovery needs all of them (004 §I).
 */
export class PanelSession {
  readonly self: MemberKey;
  private members: MemberKey[];
  private readonly initiator: MemberKey;
  private readonly timeoutMs: number;
  private readonly skewMs: number;
  private stable: Stable | null = null;
  private process: Process | null = null;
  private deferred: PanelMessage[] = [];
  private readonly transmits: PanelTransmit[] = [];
  private readonly events: PanelEvent[] = [];
  private readonly openKeys: OpeningKeys;
  private readonly targets = new Map<MemberKey, SealTarget>();
  private digestMemo: { stable: Stable; members: MemberKey[]; digest: Uint8Array } | null = null;

  constructor(
    private readonly deps: PanelDeps,
    private readonly seed: Uint8Array,
    members: readonly MemberKey[],
    options: PanelOptions = {},
  ) {
    if (seed.length !== 32) throw new LocalProtocolError('bad-member', 'the identity seed must be 32 bytes');
    this.openKeys = openingKeys(deps.crypto, seed);
    this.self = this.openKeys.key;
    this.members = checkPanel(deps.crypto, members);
    if (!this.members.includes(this.self)) throw new LocalProtocolError('not-in-panel', 'this member is not on the panel');
    this.initiator = options.initiator ?? this.members[0]!;
    if (!this.members.includes(this.initiator)) throw new LocalProtocolError('not-in-panel', 'the initiator is not on the panel');
    this.timeoutMs = options.processTimeoutMs ?? 30_000;
    this.skewMs = options.maxSkewMs ?? 600_000;
  }

  /** Resumes a session saved by `snapshot()` between processes. */
  static restore(deps: PanelDeps, seed: Uint8Array, snapshot: PanelSnapshot, options: Omit<PanelOptions, 'initiator'> = {}): PanelSession {
    const bad = (what: string) => new LocalProtocolError('bad-snapshot', `snapshot: ${what}`);
    if (snapshot.version !== 1) throw bad('unknown version');
    const session = new PanelSession(deps, seed, snapshot.members, { ...options, initiator: snapshot.initiator });
    const epoch = fromHex(snapshot.epoch);
    const theta = decodeScalar(fromHex(snapshot.theta) ?? new Uint8Array());
    const pad = decodeScalar(fromHex(snapshot.pad) ?? new Uint8Array());
    const pads = snapshot.padCommitments.map((h) => decodePoint(fromHex(h) ?? new Uint8Array()));
    if (!epoch || epoch.length !== EPOCH_BYTES) throw bad('epoch');
    if (theta === null || pad === null) throw bad('scalars');
    if (pads.length !== snapshot.members.length || pads.some((p) => p === null)) throw bad('pad commitments');
    if (!Number.isSafeInteger(snapshot.nextIteration) || snapshot.nextIteration < 2) throw bad('iteration');
    session.stable = { epoch, theta, pad, pads: pads as Point[], nextIteration: snapshot.nextIteration };
    if (!commit(pad).equals(session.stable.pads[session.members.indexOf(session.self)]!)) throw bad('pad does not match its commitment');
    if (!sumPoints(session.stable.pads).equals(timesPoint(pads.length - 1, commit(theta)))) throw bad('pads do not add up to (n − 1)·θ');
    return session;
  }

  /** The stable state, only between processes (a process in flight is not saved). */
  snapshot(): PanelSnapshot {
    if (!this.stable || this.process) throw new LocalProtocolError('wrong-state', 'snapshot needs an initialized panel with no process running');
    const s = this.stable;
    return {
      version: 1,
      members: [...this.members],
      initiator: this.initiator,
      epoch: toHex(s.epoch),
      theta: toHex(encodeScalar(s.theta)),
      pad: toHex(encodeScalar(s.pad)),
      padCommitments: s.pads.map((p) => toHex(encodePoint(p))),
      nextIteration: s.nextIteration,
    };
  }

  get status(): PanelStatus {
    if (this.process) return this.process.kind === 'init' ? 'initializing' : this.process.kind === 'round' ? 'round' : 'recovering';
    return this.stable ? 'ready' : 'fresh';
  }

  /** The panel in its fixed order (after a recovery, the replacement holds the failed member's place). */
  get panel(): readonly MemberKey[] {
    return [...this.members];
  }

  /** The iteration number the next process will use (1 before initialization). */
  get nextIteration(): number {
    return this.stable?.nextIteration ?? 1;
  }

  // ---------------------------------------------------------------- outputs

  pollTransmit(): PanelTransmit | undefined {
    return this.transmits.shift();
  }

  pollEvent(): PanelEvent | undefined {
    return this.events.shift();
  }

  /** When `tick` must next be called (the running process's timeout), or null. */
  nextDeadline(): number | null {
    return this.process ? this.process.deadline : null;
  }

  // ---------------------------------------------------------------- commands

  /** 004 §II.B step 410: only the initiator, on a fresh session. */
  startInitialization(now: number): void {
    checkTime(now);
    if (this.self !== this.initiator) throw new LocalProtocolError('not-initiator', 'only the group initiator starts initialization');
    if (this.stable || this.process) throw new LocalProtocolError('wrong-state', 'the panel is already initialized or busy');
    const init = this.newInit(this.deps.rng(EPOCH_BYTES), now);
    init.blind = drawScalar(this.deps.rng);
    init.blindCommitment = commit(init.blind);
    this.process = init;
    this.ringForward(init, init.blind, now);
    this.drain(now);
  }

  /**
   * 004 §III: starts round `nextIteration`; the other members join when its
   * commit reaches them. Returns false (and does nothing) if a round is already
   * running here, e.g. joined on another member's commit.
   */
  startRound(now: number): boolean {
    checkTime(now);
    if (this.process?.kind === 'round') return false;
    if (!this.stable || this.process) throw new LocalProtocolError('wrong-state', 'a round needs an initialized panel with no init or recovery running');
    this.beginRound(now);
    this.drain(now);
    return true;
  }

  /**
   * 004 §IV: replace `failed` by `replacement`. Called on every remaining member
   * (a round in flight is abandoned: `failed` with reason `superseded`) and on the
   * replacement's own fresh session, whose member list already has it in the
   * failed member's place.
   */
  startRecovery(failed: MemberKey, replacement: MemberKey, now: number): void {
    checkTime(now);
    if (failed === replacement) throw new LocalProtocolError('bad-recovery', 'a member cannot replace itself');
    checkKey(this.deps.crypto, failed);
    checkKey(this.deps.crypto, replacement);
    if (replacement === this.self) {
      if (this.stable || this.process) throw new LocalProtocolError('wrong-state', 'the replacement must start from a fresh session');
      if (this.members.includes(failed)) throw new LocalProtocolError('bad-recovery', "the replacement's panel must list it in the failed member's place");
      const before = this.members.map((m) => (m === this.self ? failed : m));
      this.process = this.newRecovery('newcomer', null, null, failed, replacement, before, now);
    } else {
      if (!this.stable) throw new LocalProtocolError('wrong-state', 'recovery needs an initialized panel');
      if (failed === this.self) throw new LocalProtocolError('bad-recovery', 'this member is the one being replaced');
      if (!this.members.includes(failed)) throw new LocalProtocolError('bad-recovery', 'the failed member is not on the panel');
      if (this.members.includes(replacement)) throw new LocalProtocolError('bad-recovery', 'the replacement is already on the panel');
      if (this.process?.kind === 'round') this.abort('superseded', 'a recovery replaced the round', now);
      else if (this.process) throw new LocalProtocolError('wrong-state', `a ${this.process.kind} is running`);
      const stable = this.stable;
      const recovery = this.newRecovery('remaining', stable.nextIteration, stable.epoch, failed, replacement, [...this.members], now);
      this.process = recovery;
      if (recovery.ring[0] === this.self) {
        recovery.blind = drawScalar(this.deps.rng);
        this.recoveryRingForward(recovery, recovery.blind, now);
      }
    }
    this.drain(now);
  }

  // ---------------------------------------------------------------- inputs

  /** One datagram from `from` (the transport authenticated it). Never throws on bad bytes. */
  receive(from: MemberKey, bytes: Uint8Array, now: number): void {
    checkTime(now);
    const message = this.authenticate(from, bytes, now);
    if (!message.ok) {
      this.emit({ type: 'rejected', from, reason: message.reason, detail: message.detail, at: now });
      return;
    }
    this.settle(message.value, this.dispatch(message.value, now), now, true);
    this.drain(now);
  }

  /** Fails the running process if its deadline has passed. */
  tick(now: number): void {
    checkTime(now);
    if (this.process && now >= this.process.deadline) {
      this.abort('timeout', `no answer within ${this.timeoutMs} ms`, now);
      this.drain(now);
    }
  }

  // ---------------------------------------------------------------- pipeline

  private authenticate(from: MemberKey, bytes: Uint8Array, now: number): { ok: true; value: PanelMessage } | { ok: false; reason: PanelRejectReason; detail: string } {
    if (!this.knownSenders().includes(from)) return { ok: false, reason: 'not-member', detail: 'sender is not on the panel' };
    const record = open(this.deps.crypto, this.openKeys, bytes);
    if (!record.ok) return record;
    const decoded = decodeSigned(this.deps.crypto, record.value);
    if (!decoded.ok) return decoded;
    const m = decoded.value;
    if (m.sender !== from) return { ok: false, reason: 'wrong-sender', detail: 'signed by another member than the one it came from' };
    if (m.recipient !== this.self) return { ok: false, reason: 'wrong-recipient', detail: 'addressed to another member' };
    if (Math.abs(m.timestamp - now) > this.skewMs) return { ok: false, reason: 'stale', detail: `timestamp ${m.timestamp} is too far from ${now}` };
    return { ok: true, value: m };
  }

  private knownSenders(): MemberKey[] {
    const p = this.process;
    if (p?.kind === 'recovery' && p.role === 'remaining') return [...this.members.filter((m) => m !== p.failed), p.replacement];
    return this.members;
  }

  /** Emits what a verdict says; a deferred message waits in a bounded buffer. */
  private settle(m: PanelMessage, verdict: Verdict, now: number, fresh: boolean): void {
    if (verdict.kind === 'defer') {
      if (!fresh) return;
      const same = this.deferred.some((d) => d.sender === m.sender && d.body.kind === m.body.kind && d.iteration === m.iteration);
      if (same) verdict = reject('replay', `a ${m.body.kind} from this member is already waiting`);
      else if (this.deferred.filter((d) => d.sender === m.sender).length >= DEFERRED_PER_SENDER) {
        verdict = reject('buffer-full', 'too many early messages from this member');
      }
      else {
        this.deferred.push(m);
        return;
      }
    }
    if (verdict.kind === 'reject') {
      this.emit({ type: 'rejected', from: m.sender, reason: verdict.reason, detail: verdict.detail, at: now });
      if (verdict.cheater) this.emit({ type: 'cheater', member: m.sender, ...verdict.cheater, detail: verdict.detail, at: now });
    }
  }

  /** Re-offers early messages until none makes progress. */
  private drain(now: number): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const m of [...this.deferred]) {
        const verdict = this.dispatch(m, now);
        if (verdict.kind === 'defer') continue;
        this.deferred.splice(this.deferred.indexOf(m), 1);
        this.settle(m, verdict, now, false);
        progress = true;
      }
    }
  }

  /** Routes an authenticated message. Every path validates fully before it changes anything. */
  private dispatch(m: PanelMessage, now: number): Verdict {
    const p = this.process;
    const epoch = p && 'epoch' in p ? p.epoch : this.stable?.epoch ?? null;
    if (epoch && !bytesEqual(epoch, m.epoch)) return reject('wrong-epoch', 'message from another panel epoch');
    const expected = p ? p.iteration : this.nextIteration;
    if (expected !== null && m.iteration < expected) return reject('wrong-iteration', `iteration ${m.iteration}, expected ${expected}`);
    if (expected !== null && m.iteration > expected) return DEFER;
    if (!p) return this.dispatchIdle(m, now);
    if (modeOf(m.body.kind) !== modeOfProcess(p.kind)) return reject('wrong-mode', `mode ${m.mode} during ${p.kind}`);
    if (p.kind === 'init') return this.onInit(p, m, now);
    if (p.kind === 'round') return this.onRound(p, m, now);
    return p.role === 'newcomer' ? this.onNewcomer(p, m, now) : this.onRemaining(p, m, now);
  }

  private dispatchIdle(m: PanelMessage, now: number): Verdict {
    switch (m.mode) {
      case 'I': {
        if (this.stable) return reject('wrong-mode', 'the panel is already initialized');
        if (this.self === this.initiator) return reject('unexpected', 'initialization was not started here');
        // A tentative process: kept only if the message is accepted (the initiator's ring-commit comes first).
        const init = this.newInit(m.epoch, now);
        const verdict = this.onInit(init, m, now);
        if (verdict.kind === 'accepted' && !this.stable) this.process = init;
        return verdict;
      }
      case 'G':
        if (!this.stable) return DEFER;
        if (m.body.kind !== 'commit') return DEFER;
        if (!bytesEqual(m.body.stateDigest, this.currentStateDigest())) return reject('state-mismatch', 'the sender sees another panel state');
        this.beginRound(now);
        return this.onRound(this.process as RoundProcess, m, now);
      case 'R':
        // A recovery runs only once this member's integrator agrees (startRecovery).
        return DEFER;
    }
  }

  // ---------------------------------------------------------------- initialization (004 §II.B, §VI.B)

  private newInit(epoch: Uint8Array, now: number): InitProcess {
    return {
      kind: 'init',
      iteration: 1,
      epoch,
      deadline: now + this.timeoutMs,
      ring: this.ringOrder(),
      secret: null,
      blind: null,
      blindCommitment: null,
      links: new Map(),
      ringReceived: false,
      theta: null,
    };
  }

  /** Steps 410–440: add a fresh secret v to the running value, pass it on, publish V = v·B and D = δ·B. */
  private ringForward(init: InitProcess, incoming: Scalar, now: number): void {
    const secret = drawScalar(this.deps.rng);
    const delta = ringStep(incoming, secret);
    init.secret = secret;
    init.links.set(this.self, { v: commit(secret), d: commit(delta) });
    const gamma = init.blind === null ? IDENTITY : commit(init.blind);
    this.send(this.successor(init.ring, this.self), 'I', 1, init.epoch, { kind: 'ring', delta }, now);
    for (const m of this.others()) this.send(m, 'I', 1, init.epoch, { kind: 'ring-commit', v: commit(secret), d: commit(delta), gamma }, now);
  }

  private onInit(init: InitProcess, m: PanelMessage, now: number): Verdict {
    const body = m.body;
    switch (body.kind) {
      case 'ring-commit': {
        if (init.links.has(m.sender)) return reject('replay', 'second ring-commit');
        const at = init.ring.indexOf(m.sender);
        if (init.links.size !== at) return DEFER; // links are checked in ring order
        const isInitiator = at === 0;
        if (!isInitiator && !body.gamma.equals(IDENTITY)) return cheated('only the initiator publishes Γ', 'init', 1);
        const previous = isInitiator ? body.gamma : init.links.get(init.ring[at - 1]!)!.d;
        if (!previous.add(body.v).equals(body.d)) return cheated('D is not the previous D plus V', 'init', 1);
        init.links.set(m.sender, { v: body.v, d: body.d });
        if (isInitiator) init.blindCommitment = body.gamma;
        return this.finishInit(init, now);
      }
      case 'ring': {
        if (init.ringReceived) return reject('replay', 'second ring value');
        if (m.sender !== this.predecessor(init.ring, this.self)) return reject('unexpected', 'ring value from a member that is not our predecessor');
        const published = init.links.get(m.sender);
        if (!published) return DEFER; // its ring-commit has not been checked yet
        if (!commit(body.delta).equals(published.d)) return cheated('δ does not match the published D', 'init', 1);
        init.ringReceived = true;
        if (this.self === this.initiator) {
          // Step 475: remove γ; θ₁ goes to every member (step 485).
          const theta = closeRing(body.delta, init.blind!);
          init.theta = theta;
          for (const other of this.others()) this.send(other, 'I', 1, init.epoch, { kind: 'theta', theta }, now);
        } else {
          this.ringForward(init, body.delta, now);
        }
        return this.finishInit(init, now);
      }
      case 'theta': {
        if (m.sender !== this.initiator) return reject('unexpected', 'θ₁ from a member that is not the initiator');
        if (init.theta !== null) return reject('replay', 'second θ₁');
        if (init.links.size < init.ring.length || !init.ringReceived) return DEFER;
        const last = init.links.get(init.ring[init.ring.length - 1]!)!.d;
        if (!commit(body.theta).equals(last.subtract(init.blindCommitment!))) {
          return cheated('θ₁·B is not D_n − Γ', 'init', 1);
        }
        init.theta = body.theta;
        return this.finishInit(init, now);
      }
      default:
        return reject('unexpected', `${body.kind} during initialization`);
    }
  }

  /** Step 490 and process 900: once θ₁ and every link are in, each member takes its pad. */
  private finishInit(init: InitProcess, now: number): Verdict {
    if (init.theta === null || init.links.size < init.ring.length || init.secret === null || !init.ringReceived) return ACCEPTED;
    const thetaPoint = commit(init.theta);
    const pads = this.members.map((member) => thetaPoint.subtract(init.links.get(member)!.v));
    this.stable = { epoch: init.epoch, theta: init.theta, pad: padFromBinding(init.theta, init.secret), pads, nextIteration: 2 };
    this.process = null;
    this.emit({ type: 'initialized', iteration: 1, members: [...this.members], at: now });
    return ACCEPTED;
  }

  // ---------------------------------------------------------------- rounds (004 §III, §VI)

  /** Steps 515–525, split in two: first the commitment F = FK·B to everyone, then (once all are in) HFK. */
  private beginRound(now: number): void {
    const stable = this.stable!;
    const fraction = drawScalar(this.deps.rng);
    const round: RoundProcess = {
      kind: 'round',
      iteration: stable.nextIteration,
      deadline: now + this.timeoutMs,
      fraction,
      commitments: new Map([[this.self, commit(fraction)]]),
      commitDigest: null,
      hidden: new Map(),
    };
    this.process = round;
    const stateDigest = this.currentStateDigest();
    for (const m of this.others()) this.send(m, 'G', round.iteration, stable.epoch, { kind: 'commit', f: commit(fraction), stateDigest }, now);
  }

  private onRound(round: RoundProcess, m: PanelMessage, now: number): Verdict {
    const stable = this.stable!;
    const body = m.body;
    switch (body.kind) {
      case 'commit': {
        if (round.commitments.has(m.sender)) return reject('replay', 'second commitment');
        if (!bytesEqual(body.stateDigest, this.currentStateDigest())) return reject('state-mismatch', 'the sender sees another panel state');
        round.commitments.set(m.sender, body.f);
        if (round.commitments.size === this.members.length) this.reveal(round, now);
        return ACCEPTED;
      }
      case 'reveal': {
        if (round.hidden.has(m.sender)) return reject('replay', 'second hidden fractional key');
        if (!round.commitDigest) return DEFER;
        if (!bytesEqual(body.commitDigest, round.commitDigest)) return reject('state-mismatch', 'the sender saw other commitments');
        const expected = stable.pads[this.members.indexOf(m.sender)]!.add(round.commitments.get(m.sender)!);
        if (!commit(body.hfk).equals(expected)) {
          return cheated('HFK·B is not A + F', 'round', round.iteration);
        }
        round.hidden.set(m.sender, body.hfk);
        this.finishRound(round, now);
        return ACCEPTED;
      }
      default:
        return reject('unexpected', `${body.kind} during a round`);
    }
  }

  private reveal(round: RoundProcess, now: number): void {
    const stable = this.stable!;
    round.commitDigest = commitmentsDigest(this.deps.crypto, stable.epoch, round.iteration, this.members.map((m) => round.commitments.get(m)!));
    const hfk = hideFraction(stable.pad, round.fraction);
    round.hidden.set(this.self, hfk);
    for (const m of this.others()) this.send(m, 'G', round.iteration, stable.epoch, { kind: 'reveal', hfk, commitDigest: round.commitDigest }, now);
    this.finishRound(round, now);
  }

  /** Steps 545–550: θ_{j+1}, the new pads (and their commitments), SK_j. */
  private finishRound(round: RoundProcess, now: number): void {
    if (round.hidden.size < this.members.length || this.process !== round) return;
    const stable = this.stable!;
    const theta = nextBinding(stable.theta, this.members.map((m) => round.hidden.get(m)!));
    const thetaPoint = commit(theta);
    const commitments = this.members.map((m) => round.commitments.get(m)!);
    if (!thetaPoint.equals(sumPoints(commitments))) throw new BugError('θ_{j+1}·B differs from the sum of the commitments');
    const key = deriveSharedKey(this.deps.crypto, theta, stable.epoch, round.iteration);
    this.stable = {
      epoch: stable.epoch,
      theta,
      pad: nextPad(theta, round.fraction),
      pads: commitments.map((f) => thetaPoint.subtract(f)),
      nextIteration: round.iteration + 1,
    };
    this.process = null;
    this.emit({ type: 'round-complete', round: round.iteration, key, members: [...this.members], at: now });
  }

  // ---------------------------------------------------------------- recovery (004 §IV)

  private newRecovery(
    role: RecoveryProcess['role'],
    iteration: number | null,
    epoch: Uint8Array | null,
    failed: MemberKey,
    replacement: MemberKey,
    before: MemberKey[],
    now: number,
  ): RecoveryProcess {
    return {
      kind: 'recovery',
      role,
      iteration,
      epoch,
      deadline: now + this.timeoutMs,
      failed,
      replacement,
      before,
      ring: this.ringOrder(before).filter((m) => m !== failed),
      secret: null,
      blind: null,
      ownRing: null,
      ringIn: null,
      xi: null,
      shareSent: false,
      handover: null,
      shares: new Map(),
    };
  }

  /** Step 720: the pad ring of process 400 again, among the remaining members, binding ξ. */
  private recoveryRingForward(r: RecoveryProcess, incoming: Scalar, now: number): void {
    r.secret = drawScalar(this.deps.rng);
    r.ownRing = ringStep(incoming, r.secret);
    const body: PanelBody = { kind: 'recovery-ring', delta: r.ownRing, failed: r.failed, replacement: r.replacement };
    this.send(this.successor(r.ring, this.self), 'R', r.iteration!, r.epoch!, body, now);
  }

  private onRemaining(r: RecoveryProcess, m: PanelMessage, now: number): Verdict {
    const body = m.body;
    const isInitiator = r.ring[0] === this.self;
    switch (body.kind) {
      case 'recovery-ring': {
        if (body.failed !== r.failed || body.replacement !== r.replacement) return reject('unexpected', 'a recovery of another member');
        if (m.sender !== this.predecessor(r.ring, this.self)) return reject('unexpected', 'ring value from a member that is not our predecessor');
        if (r.ringIn !== null) return reject('replay', 'second ring value');
        r.ringIn = body.delta;
        if (!isInitiator) {
          this.recoveryRingForward(r, body.delta, now);
          return ACCEPTED;
        }
        // The recovery initiator closes the ring (step 475 with ξ for θ) and hands over (steps 710/715).
        const xi = closeRing(body.delta, r.blind!);
        r.xi = xi;
        for (const other of r.ring.slice(1)) {
          this.send(other, 'R', r.iteration!, r.epoch!, { kind: 'xi', xi, failed: r.failed, replacement: r.replacement }, now);
        }
        const stable = this.stable!;
        this.send(r.replacement, 'R', r.iteration!, r.epoch!, { kind: 'handover', theta: stable.theta, xi, failed: r.failed, pads: stable.pads }, now);
        this.sendShare(r, now);
        return ACCEPTED;
      }
      case 'xi': {
        if (isInitiator || m.sender !== r.ring[0]) return reject('unexpected', 'ξ from a member that is not the recovery initiator');
        if (body.failed !== r.failed || body.replacement !== r.replacement) return reject('unexpected', 'a recovery of another member');
        if (r.xi !== null) return reject('replay', 'second ξ');
        if (r.ownRing === null) return DEFER;
        r.xi = body.xi;
        this.sendShare(r, now);
        return ACCEPTED;
      }
      case 'done': {
        if (m.sender !== r.replacement) return reject('unexpected', 'only the replacement reports the end of a recovery');
        if (!r.shareSent) return DEFER;
        const stable = this.stable!;
        const after = this.members.map((x) => (x === r.failed ? r.replacement : x));
        if (!bytesEqual(body.stateDigest, stateDigest(this.deps.crypto, stable.epoch, after, stable.theta, stable.pads))) {
          return reject('state-mismatch', 'the replacement recovered another state');
        }
        this.members = after;
        this.stable = { ...stable, nextIteration: r.iteration! + 1 };
        this.process = null;
        this.emit({ type: 'recovered', iteration: r.iteration!, failed: r.failed, replacement: r.replacement, members: [...after], at: now });
        return ACCEPTED;
      }
      default:
        return reject('unexpected', `${body.kind} for a remaining member`);
    }
  }

  /** Step 730: the pad masked with the recovery pad β = ξ − u, plus what the replacement needs to check it. */
  private sendShare(r: RecoveryProcess, now: number): void {
    const stable = this.stable!;
    const beta = remove(r.xi!, r.secret!);
    const body: PanelBody = {
      kind: 'share',
      masked: hideFraction(stable.pad, beta),
      u: commit(r.secret!),
      prev: commit(r.ringIn!),
      d: commit(r.ownRing!),
      gamma: r.ring[0] === this.self ? commit(r.blind!) : IDENTITY,
      stateDigest: this.currentStateDigest(),
    };
    this.send(r.replacement, 'R', r.iteration!, r.epoch!, body, now);
    r.shareSent = true;
  }

  private onNewcomer(r: RecoveryProcess, m: PanelMessage, now: number): Verdict {
    const body = m.body;
    if (r.iteration !== null && !bytesEqual(r.epoch!, m.epoch)) return reject('wrong-epoch', 'message from another panel epoch');
    switch (body.kind) {
      case 'handover':
        if (m.sender !== r.ring[0]) return reject('unexpected', 'handover from a member that is not the recovery initiator');
        if (body.failed !== r.failed) return reject('unexpected', 'a recovery of another member');
        if (r.handover) return reject('replay', 'second handover');
        if (body.pads.length !== r.before.length) return reject('unexpected', 'handover for a panel of another size');
        r.handover = { theta: body.theta, xi: body.xi, pads: body.pads };
        break;
      case 'share': {
        if (!r.ring.includes(m.sender)) return reject('unexpected', 'share from a member that is not in the recovery');
        if (r.shares.has(m.sender)) return reject('replay', 'second share');
        r.shares.set(m.sender, body);
        break;
      }
      default:
        return reject('unexpected', `${body.kind} for the replacement`);
    }
    r.iteration ??= m.iteration;
    r.epoch ??= m.epoch;
    this.finishNewcomer(r, now);
    return ACCEPTED;
  }

  /** Steps 750–755 with the checks of §VI: every published value must agree before the pad is rebuilt. */
  private finishNewcomer(r: RecoveryProcess, now: number): void {
    const h = r.handover;
    if (!h || r.shares.size < r.ring.length) return;
    const iteration = r.iteration!;
    const blame = (member: MemberKey, detail: string) => {
      this.emit({ type: 'cheater', member, process: 'recovery', iteration, detail, at: now });
      this.abort('verification', detail, now);
    };
    const initiator = r.ring[0]!;
    const n = r.before.length;
    const thetaPoint = commit(h.theta);
    if (!sumPoints(h.pads).equals(timesPoint(n - 1, thetaPoint))) return blame(initiator, 'the handed-over pads do not add up to (n − 1)·θ');
    const expectedDigest = stateDigest(this.deps.crypto, r.epoch!, r.before, h.theta, h.pads);
    const shares = r.ring.map((member) => ({ member, ...r.shares.get(member)! }));
    const disagreeing = shares.find((s) => !bytesEqual(s.stateDigest, expectedDigest));
    if (disagreeing) {
      this.emit({ type: 'rejected', from: disagreeing.member, reason: 'state-mismatch', detail: 'share for another panel state', at: now });
      return this.abort('verification', 'the remaining members disagree on the panel state', now);
    }
    // Each member's own values must agree (D = previous D + U; only the recovery initiator has a Γ′) …
    for (const [i, s] of shares.entries()) {
      const start = i === 0 ? s.gamma : s.prev;
      if ((i > 0 && !s.gamma.equals(IDENTITY)) || !start.add(s.u).equals(s.d)) return blame(s.member, 'D is not its previous D plus U');
    }
    // … and with its neighbour's. A break here is one of two members lying, and we cannot tell which.
    for (const [i, s] of shares.entries()) {
      const before = shares[(i + shares.length - 1) % shares.length]!;
      if (!s.prev.equals(before.d)) {
        return this.abort('verification', `the ring values of ${before.member} and ${s.member} disagree`, now);
      }
    }
    const xiPoint = commit(h.xi);
    if (!shares[0]!.prev.subtract(shares[0]!.gamma).equals(xiPoint)) return blame(initiator, 'ξ·B is not D_last − Γ′');
    for (const s of shares) {
      const expected = h.pads[r.before.indexOf(s.member)]!.add(xiPoint.subtract(s.u));
      if (!commit(s.masked).equals(expected)) return blame(s.member, 'masked pad·B is not A + ξ·B − U');
    }
    const pad = recoverPad(h.theta, n, h.xi, shares.map((s) => s.masked));
    if (!commit(pad).equals(h.pads[r.before.indexOf(r.failed)]!)) throw new BugError('recovered pad does not match its commitment');
    this.stable = { epoch: r.epoch!, theta: h.theta, pad, pads: h.pads, nextIteration: iteration + 1 };
    this.process = null;
    const digest = this.currentStateDigest();
    for (const other of r.ring) this.send(other, 'R', iteration, r.epoch!, { kind: 'done', stateDigest: digest }, now);
    this.emit({ type: 'recovered', iteration, failed: r.failed, replacement: this.self, members: [...this.members], at: now });
  }

  // ---------------------------------------------------------------- helpers

  private abort(reason: 'timeout' | 'superseded' | 'verification', detail: string, now: number): void {
    const p = this.process;
    if (!p) return;
    this.process = null;
    const iteration = p.iteration ?? 0;
    if (this.stable && p.iteration !== null) this.stable = { ...this.stable, nextIteration: p.iteration + 1 };
    this.emit({ type: 'failed', process: p.kind, iteration, reason, missing: this.missing(p), detail, at: now });
  }

  /** Whose messages the process still waits for. */
  private missing(p: Process): MemberKey[] {
    const others = this.others();
    switch (p.kind) {
      case 'init': {
        const lacking = new Set(p.ring.filter((m) => m !== this.self && !p.links.has(m)));
        if (!p.ringReceived) lacking.add(this.predecessor(p.ring, this.self));
        if (p.theta === null && this.self !== this.initiator) lacking.add(this.initiator);
        return p.ring.filter((m) => lacking.has(m));
      }
      case 'round':
        // Before every commitment is in, nobody reveals: only the silent committers are missing.
        return p.commitDigest ? others.filter((m) => !p.hidden.has(m)) : others.filter((m) => !p.commitments.has(m));
      case 'recovery':
        if (p.role === 'newcomer') return p.ring.filter((m) => !p.shares.has(m) || (m === p.ring[0] && !p.handover));
        if (p.ringIn === null) return [this.predecessor(p.ring, this.self)];
        if (p.xi === null) return [p.ring[0]!];
        return [p.replacement];
    }
  }

  /** Memoized: it is compared on every commit and share. */
  private currentStateDigest(): Uint8Array {
    const s = this.stable!;
    const memo = this.digestMemo;
    if (memo && memo.stable === s && memo.members === this.members) return memo.digest;
    const digest = stateDigest(this.deps.crypto, s.epoch, this.members, s.theta, s.pads);
    this.digestMemo = { stable: s, members: this.members, digest };
    return digest;
  }

  /** The members in ring order: the list rotated to start at the initiator (004 §II.B numbering). */
  private ringOrder(members: readonly MemberKey[] = this.members): MemberKey[] {
    const at = Math.max(0, members.indexOf(this.initiator));
    return [...members.slice(at), ...members.slice(0, at)];
  }

  private successor(ring: readonly MemberKey[], member: MemberKey): MemberKey {
    return ring[(ring.indexOf(member) + 1) % ring.length]!;
  }

  private predecessor(ring: readonly MemberKey[], member: MemberKey): MemberKey {
    return ring[(ring.indexOf(member) + ring.length - 1) % ring.length]!;
  }

  private others(): MemberKey[] {
    return this.members.filter((m) => m !== this.self);
  }

  private send(to: MemberKey, mode: Mode, iteration: number, epoch: Uint8Array, body: PanelBody, now: number): void {
    const record = encodeSigned(this.deps.crypto, this.seed, { mode, epoch, iteration, timestamp: now, sender: this.self, recipient: to, body });
    let target = this.targets.get(to);
    if (!target) {
      target = sealTarget(this.deps.crypto, to) ?? undefined;
      if (!target) throw new BugError(`member ${to} has no X25519 key`);
      this.targets.set(to, target);
    }
    this.transmits.push({ to, bytes: seal(this.deps.crypto, this.deps.rng, target, record) });
  }

  private emit(event: PanelEvent): void {
    this.events.push(event);
  }
}

const modeOfProcess = (kind: PanelProcessKind): Mode => (kind === 'init' ? 'I' : kind === 'round' ? 'G' : 'R');

function checkTime(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw new LocalProtocolError('bad-time', `now must be a non-negative integer of milliseconds, got ${now}`);
}

function checkKey(crypto: CryptoProvider, key: MemberKey): void {
  const bytes = /^[0-9a-f]{64}$/.test(key) ? fromHex(key) : null;
  if (!bytes || !crypto.x25519PublicFromEd25519(bytes)) throw new LocalProtocolError('bad-member', `not a member key: ${key}`);
}

/** 004 §V: at least 4 distinct valid members; at most MAX_PANEL_SIZE (the wire bound). */
function checkPanel(crypto: CryptoProvider, members: readonly MemberKey[]): MemberKey[] {
  if (members.length < MIN_PANEL_SIZE) {
    throw new LocalProtocolError('panel-too-small', `a panel needs at least ${MIN_PANEL_SIZE} members (004 §V), got ${members.length}`);
  }
  if (members.length > MAX_PANEL_SIZE) throw new LocalProtocolError('panel-too-large', `a panel has at most ${MAX_PANEL_SIZE} members`);
  for (const m of members) checkKey(crypto, m);
  if (new Set(members).size !== members.length) throw new LocalProtocolError('bad-member', 'a member is listed twice');
  return [...members];
}
