/**
 * @module fractional/session-state
 * The state one `PanelSession` (session.ts) holds, and the few operations every
 * phase of seed 004 shares: the stable state between processes, the one running
 * process (initialization, round or recovery), the output queues, signing and
 * sealing a message to one member, the ring order of 004 §II.B, and ending a
 * process without a result. The phases themselves are in session-init.ts
 * (004 §II.B, §VI.B), session-round.ts (§III, §VI) and session-recovery.ts (§IV).
 *
 * Invariants:
 * - `stable` and `process` are written only by a phase that has validated its
 *   whole input (a rejected message changes nothing), or by `abort`;
 * - at most one process runs; `abort` consumes its iteration number;
 * - the identity seed, θ and the pads never leave this object except sealed to
 *   one recipient (`send`), as the protocol says;
 * - outputs are queued in the order they were produced.
 */
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import type { Point, Scalar } from './arithmetic.js';
import { stateDigest } from './digests.js';
import { scalarFromWide } from './arithmetic.js';
import { ascii, concatBytes, u32 } from './bytes.js';
import { BugError } from './errors.js';
import type { PanelRejectReason } from './errors.js';
import type { Mode, PanelBody, SealTarget } from './wire.js';
import { encodeSigned, seal, sealTarget } from './wire.js';

export interface PanelDeps {
  crypto: CryptoProvider;
  rng: Rng;
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
   * not arrived (for `timeout`, the candidates for recovery); for `verification`
   * after a proven equivocation, the member proven (session-round.ts).
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

const FRACTION_INFO = ascii('conclave/fractional/fraction/v1');

/** The state every member holds between processes. */
export interface Stable {
  epoch: Uint8Array;
  theta: Scalar;
  /** This member's α. */
  pad: Scalar;
  /** A_i = α_i·B for every member, in `members` order. */
  pads: Point[];
  nextIteration: number;
}

export interface RingLink {
  v: Point;
  d: Point;
}

export interface InitProcess {
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

export interface RoundProcess {
  kind: 'round';
  iteration: number;
  deadline: number;
  fraction: Scalar;
  commitments: Map<MemberKey, Point>;
  /** The signed `commit` record of each member (ours too), kept to forward as evidence or to relay. */
  commitRecords: Map<MemberKey, Uint8Array>;
  commitDigest: Uint8Array | null;
  hidden: Map<MemberKey, Scalar>;
  /** Members this member forwarded its commit records to (once each per round). */
  forwardedTo: Set<MemberKey>;
  /** The signed `reveal` record of each member (ours too), kept to relay once the round is over. */
  revealRecords: Map<MemberKey, Uint8Array>;
  /** Members whose reveal was refused here for its commitment digest: their last this round. */
  refusedReveals: Set<MemberKey>;
  /** When this member relays its commit records to members whose reveal has not come (null: done). */
  relayAt: number | null;
  /** Evidence records checked per sender this round (at most one per panel member). */
  evidenceFrom: Map<MemberKey, number>;
}

export interface RecoveryProcess {
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

export type Process = InitProcess | RoundProcess | RecoveryProcess;

/** What a phase says about one authenticated message. */
export type Verdict =
  | { kind: 'accepted' }
  | { kind: 'defer' }
  | { kind: 'reject'; reason: PanelRejectReason; detail: string; cheater?: { process: PanelProcessKind; iteration: number } };

export const ACCEPTED: Verdict = { kind: 'accepted' };
export const DEFER: Verdict = { kind: 'defer' };
export const reject = (reason: PanelRejectReason, detail: string): Verdict => ({ kind: 'reject', reason, detail });
/** A rejection that proves the sender cheated: its signed message contradicts its own commitment. */
export const cheated = (detail: string, process: PanelProcessKind, iteration: number): Verdict => ({
  kind: 'reject',
  reason: 'bad-commitment',
  detail,
  cheater: { process, iteration },
});

/** The state and shared operations of one member's panel session (see the module header). */
export class SessionCore {
  stable: Stable | null = null;
  process: Process | null = null;
  /** The reveals of the last round completed here, relayed once to each member still in it (session-round.ts). */
  lastReveals: { epoch: Uint8Array; iteration: number; members: MemberKey[]; records: Map<MemberKey, Uint8Array>; answered: Set<MemberKey> } | null = null;
  readonly transmits: PanelTransmit[] = [];
  readonly events: PanelEvent[] = [];
  private readonly targets = new Map<MemberKey, SealTarget>();
  private digestMemo: { stable: Stable; members: MemberKey[]; digest: Uint8Array } | null = null;

  constructor(
    readonly deps: PanelDeps,
    private readonly seed: Uint8Array,
    readonly self: MemberKey,
    /** The panel in its fixed order; a recovery puts the replacement in the failed member's place. */
    public members: MemberKey[],
    readonly initiator: MemberKey,
    readonly timeoutMs: number,
  ) {}

  /** Ends the running process without a result; its iteration number is consumed. `blamed` replaces the members it still waits for. */
  abort(reason: 'timeout' | 'superseded' | 'verification', detail: string, now: number, blamed?: MemberKey[]): void {
    const p = this.process;
    if (!p) return;
    this.process = null;
    const iteration = p.iteration ?? 0;
    if (this.stable && p.iteration !== null) this.stable = { ...this.stable, nextIteration: p.iteration + 1 };
    this.emit({ type: 'failed', process: p.kind, iteration, reason, missing: blamed ?? this.missing(p), detail, at: now });
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

  /**
   * FK_i of round `iteration`: derived from this member's seed and the round's public inputs
   * (epoch, iteration, state digest), not drawn. A session that runs one round twice (restored
   * from a snapshot taken before it, while the round went on elsewhere) then signs the same
   * commitment both times, so its evidence cannot prove an honest member twice-committed
   * (review 33, session-round.ts "Equivocation"). Distinct rounds never share those inputs (θ
   * changes with every round), and a round run twice reveals the same HFK twice: nothing new.
   */
  roundFraction(iteration: number): Scalar {
    const s = this.stable!;
    const salt = concatBytes(s.epoch, u32(iteration), this.currentStateDigest());
    return scalarFromWide(this.deps.crypto.hkdf(this.seed, salt, FRACTION_INFO, 64));
  }

  /** Memoized: it is compared on every commit and share. */
  currentStateDigest(): Uint8Array {
    const s = this.stable!;
    const memo = this.digestMemo;
    if (memo && memo.stable === s && memo.members === this.members) return memo.digest;
    const digest = stateDigest(this.deps.crypto, s.epoch, this.members, s.theta, s.pads);
    this.digestMemo = { stable: s, members: this.members, digest };
    return digest;
  }

  /** The members in ring order: the list rotated to start at the initiator (004 §II.B numbering). */
  ringOrder(members: readonly MemberKey[] = this.members): MemberKey[] {
    const at = Math.max(0, members.indexOf(this.initiator));
    return [...members.slice(at), ...members.slice(0, at)];
  }

  successor(ring: readonly MemberKey[], member: MemberKey): MemberKey {
    return ring[(ring.indexOf(member) + 1) % ring.length]!;
  }

  predecessor(ring: readonly MemberKey[], member: MemberKey): MemberKey {
    return ring[(ring.indexOf(member) + ring.length - 1) % ring.length]!;
  }

  others(): MemberKey[] {
    return this.members.filter((m) => m !== this.self);
  }

  /** Signs `body` as this member and seals it to `to` (004 §I's {{T_i, M, j, Msg}K_i⁻¹}K_R). */
  /** Returns the signed record (before sealing). */
  send(to: MemberKey, mode: Mode, iteration: number, epoch: Uint8Array, body: PanelBody, now: number): Uint8Array {
    const record = encodeSigned(this.deps.crypto, this.seed, { mode, epoch, iteration, timestamp: now, sender: this.self, recipient: to, body });
    let target = this.targets.get(to);
    if (!target) {
      target = sealTarget(this.deps.crypto, to) ?? undefined;
      if (!target) throw new BugError(`member ${to} has no X25519 key`);
      this.targets.set(to, target);
    }
    this.transmits.push({ to, bytes: seal(this.deps.crypto, this.deps.rng, target, record) });
    return record;
  }

  emit(event: PanelEvent): void {
    this.events.push(event);
  }
}
