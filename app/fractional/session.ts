/**
 * @module fractional/session
 * `PanelSession`: one panel member's side of the fractional-key protocol of seed
 * 004, as a sans-I/O state machine (STYLE §1). It runs distributed
 * initialization (004 §II.B, process 400, checked as in §VI.B, process 900;
 * session-init.ts), generation rounds (§III, process 500, each contribution
 * checked against a commitment, §VI; session-round.ts), and recovery of a
 * failed member's pad (§IV, process 700; session-recovery.ts). This module is
 * the session's face and its one input gate: commands are checked here, every
 * datagram is authenticated here and routed to the running phase, and early
 * messages wait here; the state lives in session-state.ts.
 * docs/fractional.md §8 "The API the integrator uses"; docs/protocol.md §10.
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
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import type { Point } from './arithmetic.js';
import { commit, decodePoint, decodeScalar, encodePoint, encodeScalar, sumPoints, timesPoint } from './arithmetic.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import type { PanelRejectReason } from './errors.js';
import { LocalProtocolError } from './errors.js';
import type { Mode, OpeningKeys, PanelMessage } from './wire.js';
import { decodeSigned, EPOCH_BYTES, MAX_PANEL_SIZE, modeOf, open, openingKeys } from './wire.js';
import { DEFER, reject, SessionCore, type PanelDeps, type PanelEvent, type PanelProcessKind, type PanelTransmit, type RoundProcess, type Verdict } from './session-state.js';
import { newInit, onInit, startInit } from './session-init.js';
import { answerLateReveal, beginRound, onRound, relayCommitments } from './session-round.js';
import { onNewcomer, onRemaining, startAsNewcomer, startAsRemaining } from './session-recovery.js';

export type { PanelDeps, PanelEvent, PanelProcessKind, PanelTransmit } from './session-state.js';

/** Early messages kept per sender: more than one process's worth from one member is refused. */
const DEFERRED_PER_SENDER = 6;

/** The smallest panel that resists the fractional attack (004 §V, corollary). */
export const MIN_PANEL_SIZE = 4;

export interface PanelOptions {
  /** The group initiator of 004 §II; default: the first member of the list. The ring runs from it in list order. */
  initiator?: MemberKey;
  /** How long one process may run here before it fails with `timeout`. Default 30 000 ms. */
  processTimeoutMs?: number;
  /** The largest accepted |T_i − now| of an incoming message. Default 600 000 ms. */
  maxSkewMs?: number;
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
  private readonly core: SessionCore;
  private readonly skewMs: number;
  private deferred: PanelMessage[] = [];
  private readonly openKeys: OpeningKeys;

  constructor(
    private readonly deps: PanelDeps,
    seed: Uint8Array,
    members: readonly MemberKey[],
    options: PanelOptions = {},
  ) {
    if (seed.length !== 32) throw new LocalProtocolError('bad-member', 'the identity seed must be 32 bytes');
    this.openKeys = openingKeys(deps.crypto, seed);
    this.self = this.openKeys.key;
    const panel = checkPanel(deps.crypto, members);
    if (!panel.includes(this.self)) throw new LocalProtocolError('not-in-panel', 'this member is not on the panel');
    const initiator = options.initiator ?? panel[0]!;
    if (!panel.includes(initiator)) throw new LocalProtocolError('not-in-panel', 'the initiator is not on the panel');
    this.core = new SessionCore(deps, seed, this.self, panel, initiator, options.processTimeoutMs ?? 30_000);
    this.skewMs = options.maxSkewMs ?? 600_000;
  }

  /** Resumes a session saved by `snapshot()` between processes. */
  static restore(deps: PanelDeps, seed: Uint8Array, snapshot: PanelSnapshot, options: Omit<PanelOptions, 'initiator'> = {}): PanelSession {
    const bad = (what: string) => new LocalProtocolError('bad-snapshot', `snapshot: ${what}`);
    if (snapshot.version !== 1) throw bad('unknown version');
    const session = new PanelSession(deps, seed, snapshot.members, { ...options, initiator: snapshot.initiator });
    const core = session.core;
    const epoch = fromHex(snapshot.epoch);
    const theta = decodeScalar(fromHex(snapshot.theta) ?? new Uint8Array());
    const pad = decodeScalar(fromHex(snapshot.pad) ?? new Uint8Array());
    const pads = snapshot.padCommitments.map((h) => decodePoint(fromHex(h) ?? new Uint8Array()));
    if (!epoch || epoch.length !== EPOCH_BYTES) throw bad('epoch');
    if (theta === null || pad === null) throw bad('scalars');
    if (pads.length !== snapshot.members.length || pads.some((p) => p === null)) throw bad('pad commitments');
    if (!Number.isSafeInteger(snapshot.nextIteration) || snapshot.nextIteration < 2) throw bad('iteration');
    core.stable = { epoch, theta, pad, pads: pads as Point[], nextIteration: snapshot.nextIteration };
    if (!commit(pad).equals(core.stable.pads[core.members.indexOf(session.self)]!)) throw bad('pad does not match its commitment');
    if (!sumPoints(core.stable.pads).equals(timesPoint(pads.length - 1, commit(theta)))) throw bad('pads do not add up to (n − 1)·θ');
    return session;
  }

  /** The stable state, only between processes (a process in flight is not saved). */
  snapshot(): PanelSnapshot {
    const { stable: s, process } = this.core;
    if (!s || process) throw new LocalProtocolError('wrong-state', 'snapshot needs an initialized panel with no process running');
    return {
      version: 1,
      members: [...this.core.members],
      initiator: this.core.initiator,
      epoch: toHex(s.epoch),
      theta: toHex(encodeScalar(s.theta)),
      pad: toHex(encodeScalar(s.pad)),
      padCommitments: s.pads.map((p) => toHex(encodePoint(p))),
      nextIteration: s.nextIteration,
    };
  }

  get status(): PanelStatus {
    const p = this.core.process;
    if (p) return p.kind === 'init' ? 'initializing' : p.kind === 'round' ? 'round' : 'recovering';
    return this.core.stable ? 'ready' : 'fresh';
  }

  /** The panel in its fixed order (after a recovery, the replacement holds the failed member's place). */
  get panel(): readonly MemberKey[] {
    return [...this.core.members];
  }

  /** The iteration number the next process will use (1 before initialization). */
  get nextIteration(): number {
    return this.core.stable?.nextIteration ?? 1;
  }

  // ---------------------------------------------------------------- outputs

  pollTransmit(): PanelTransmit | undefined {
    return this.core.transmits.shift();
  }

  pollEvent(): PanelEvent | undefined {
    return this.core.events.shift();
  }

  /** When `tick` must next be called (the running process's timeout), or null. */
  nextDeadline(): number | null {
    const p = this.core.process;
    if (!p) return null;
    return p.kind === 'round' && p.relayAt !== null && p.commitDigest ? Math.min(p.relayAt, p.deadline) : p.deadline;
  }

  // ---------------------------------------------------------------- commands

  /** 004 §II.B step 410: only the initiator, on a fresh session. */
  startInitialization(now: number): void {
    checkTime(now);
    const core = this.core;
    if (this.self !== core.initiator) throw new LocalProtocolError('not-initiator', 'only the group initiator starts initialization');
    if (core.stable || core.process) throw new LocalProtocolError('wrong-state', 'the panel is already initialized or busy');
    startInit(core, now);
    this.drain(now);
  }

  /**
   * 004 §III: starts round `nextIteration`; the other members join when its
   * commit reaches them. Returns false (and does nothing) if a round is already
   * running here, e.g. joined on another member's commit.
   */
  startRound(now: number): boolean {
    checkTime(now);
    const core = this.core;
    if (core.process?.kind === 'round') return false;
    if (!core.stable || core.process) throw new LocalProtocolError('wrong-state', 'a round needs an initialized panel with no init or recovery running');
    beginRound(core, now);
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
    const core = this.core;
    if (failed === replacement) throw new LocalProtocolError('bad-recovery', 'a member cannot replace itself');
    checkKey(this.deps.crypto, failed);
    checkKey(this.deps.crypto, replacement);
    if (replacement === this.self) {
      if (core.stable || core.process) throw new LocalProtocolError('wrong-state', 'the replacement must start from a fresh session');
      if (core.members.includes(failed)) throw new LocalProtocolError('bad-recovery', "the replacement's panel must list it in the failed member's place");
      startAsNewcomer(core, failed, replacement, now);
    } else {
      if (!core.stable) throw new LocalProtocolError('wrong-state', 'recovery needs an initialized panel');
      if (failed === this.self) throw new LocalProtocolError('bad-recovery', 'this member is the one being replaced');
      if (!core.members.includes(failed)) throw new LocalProtocolError('bad-recovery', 'the failed member is not on the panel');
      if (core.members.includes(replacement)) throw new LocalProtocolError('bad-recovery', 'the replacement is already on the panel');
      if (core.process?.kind === 'round') core.abort('superseded', 'a recovery replaced the round', now);
      else if (core.process) throw new LocalProtocolError('wrong-state', `a ${core.process.kind} is running`);
      startAsRemaining(core, failed, replacement, now);
    }
    this.drain(now);
  }

  // ---------------------------------------------------------------- inputs

  /** One datagram from `from` (the transport authenticated it). Never throws on bad bytes. */
  receive(from: MemberKey, bytes: Uint8Array, now: number): void {
    checkTime(now);
    const message = this.authenticate(from, bytes, now);
    if (!message.ok) {
      this.core.emit({ type: 'rejected', from, reason: message.reason, detail: message.detail, at: now });
      return;
    }
    this.settle(message.value, this.dispatch(message.value, now), now, true);
    this.drain(now);
  }

  /** Fails the running process if its deadline has passed. */
  tick(now: number): void {
    checkTime(now);
    const p = this.core.process;
    if (p?.kind === 'round') relayCommitments(this.core, p, now);
    if (this.core.process && now >= this.core.process.deadline) {
      this.core.abort('timeout', `no answer within ${this.core.timeoutMs} ms`, now);
      this.drain(now);
    }
  }

  // ---------------------------------------------------------------- the gate

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
    const p = this.core.process;
    if (p?.kind === 'recovery' && p.role === 'remaining') return [...this.core.members.filter((m) => m !== p.failed), p.replacement];
    return this.core.members;
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
      this.core.emit({ type: 'rejected', from: m.sender, reason: verdict.reason, detail: verdict.detail, at: now });
      if (verdict.cheater) this.core.emit({ type: 'cheater', member: m.sender, ...verdict.cheater, detail: verdict.detail, at: now });
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
    const core = this.core;
    const p = core.process;
    const epoch = p && 'epoch' in p ? p.epoch : core.stable?.epoch ?? null;
    if (epoch && !bytesEqual(epoch, m.epoch)) return reject('wrong-epoch', 'message from another panel epoch');
    const expected = p ? p.iteration : this.nextIteration;
    if (expected !== null && m.iteration < expected) {
      if (answerLateReveal(core, m, now)) return reject('wrong-iteration', `a reveal of round ${m.iteration}, completed here: its reveals are relayed to the sender`);
      return reject('wrong-iteration', `iteration ${m.iteration}, expected ${expected}`);
    }
    if (expected !== null && m.iteration > expected) return DEFER;
    if (!p) return this.dispatchIdle(m, now);
    if (modeOf(m.body.kind) !== modeOfProcess(p.kind)) return reject('wrong-mode', `mode ${m.mode} during ${p.kind}`);
    if (p.kind === 'init') return onInit(core, p, m, now);
    if (p.kind === 'round') return onRound(core, p, m, now);
    return p.role === 'newcomer' ? onNewcomer(core, p, m, now) : onRemaining(core, p, m, now);
  }

  /** A message while no process runs: it may start one (a non-initiator's init, a round), or wait. */
  private dispatchIdle(m: PanelMessage, now: number): Verdict {
    const core = this.core;
    switch (m.mode) {
      case 'I': {
        if (core.stable) return reject('wrong-mode', 'the panel is already initialized');
        if (this.self === core.initiator) return reject('unexpected', 'initialization was not started here');
        // A tentative process: kept only if the message is accepted (the initiator's ring-commit comes first).
        const init = newInit(core, m.epoch, now);
        const verdict = onInit(core, init, m, now);
        if (verdict.kind === 'accepted' && !core.stable) core.process = init;
        return verdict;
      }
      case 'G':
        if (!core.stable) return DEFER;
        if (m.body.kind !== 'commit') return DEFER;
        if (!bytesEqual(m.body.stateDigest, core.currentStateDigest())) return reject('state-mismatch', 'the sender sees another panel state');
        beginRound(core, now);
        return onRound(core, core.process as RoundProcess, m, now);
      case 'R':
        // A recovery runs only once this member's integrator agrees (startRecovery).
        return DEFER;
    }
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
