/**
 * @module fractional/session-recovery
 * Recovery of a failed member's pad (004 §IV, process 700), on both sides:
 *
 * - the remaining members run the pad ring of process 400 again among
 *   themselves, binding a recovery value ξ (step 720); the recovery initiator
 *   (the first remaining member in ring order, step 710) closes it, sends ξ to
 *   the others and hands θ, ξ and the pad commitments over to the replacement
 *   (steps 710/715); each remaining member then sends the replacement its pad
 *   masked with its recovery pad β = ξ − u, with what is needed to check it
 *   (step 730), and takes the replacement into its panel once the replacement
 *   reports the same state (`done`);
 * - the replacement (the "newcomer") checks every published value against the
 *   others (§VI) and rebuilds the failed member's pad (steps 750–755).
 *
 * docs/fractional.md §5 "Recovery"; recovery needs every remaining member (004 §I).
 *
 * Invariants:
 * - a value that contradicts its sender's own commitments makes it a `cheater`
 *   and fails the recovery (`verification`); two neighbours whose ring values
 *   disagree fail it without blame (either may be lying);
 * - the replacement's recovered pad matches the failed member's commitment (a
 *   broken invariant is a BugError);
 * - a remaining member changes its panel only on a `done` whose state digest is
 *   the one it computes for the panel after the replacement.
 */
import type { MemberKey } from '../core/types.js';
import { closeRing, commit, drawScalar, hideFraction, IDENTITY, recoverPad, remove, ringStep, sumPoints, timesPoint, type Scalar } from './arithmetic.js';
import { bytesEqual } from './bytes.js';
import { stateDigest } from './digests.js';
import { BugError } from './errors.js';
import type { PanelBody, PanelMessage } from './wire.js';
import { ACCEPTED, DEFER, reject, type RecoveryProcess, type SessionCore, type Verdict } from './session-state.js';

function newRecovery(
  core: SessionCore,
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
    deadline: now + core.timeoutMs,
    failed,
    replacement,
    before,
    ring: core.ringOrder(before).filter((m) => m !== failed),
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

/** The replacement's fresh session: its panel lists it in the failed member's place. */
export function startAsNewcomer(core: SessionCore, failed: MemberKey, replacement: MemberKey, now: number): void {
  const before = core.members.map((m) => (m === core.self ? failed : m));
  core.process = newRecovery(core, 'newcomer', null, null, failed, replacement, before, now);
}

/** A remaining member starts; the recovery initiator also draws its blinding and starts the ring. */
export function startAsRemaining(core: SessionCore, failed: MemberKey, replacement: MemberKey, now: number): void {
  const stable = core.stable!;
  const recovery = newRecovery(core, 'remaining', stable.nextIteration, stable.epoch, failed, replacement, [...core.members], now);
  core.process = recovery;
  if (recovery.ring[0] === core.self) {
    recovery.blind = drawScalar(core.deps.rng);
    recoveryRingForward(core, recovery, recovery.blind, now);
  }
}

/** Step 720: the pad ring of process 400 again, among the remaining members, binding ξ. */
function recoveryRingForward(core: SessionCore, r: RecoveryProcess, incoming: Scalar, now: number): void {
  r.secret = drawScalar(core.deps.rng);
  r.ownRing = ringStep(incoming, r.secret);
  const body: PanelBody = { kind: 'recovery-ring', delta: r.ownRing, failed: r.failed, replacement: r.replacement };
  core.send(core.successor(r.ring, core.self), 'R', r.iteration!, r.epoch!, body, now);
}

export function onRemaining(core: SessionCore, r: RecoveryProcess, m: PanelMessage, now: number): Verdict {
  const body = m.body;
  const isInitiator = r.ring[0] === core.self;
  switch (body.kind) {
    case 'recovery-ring': {
      if (body.failed !== r.failed || body.replacement !== r.replacement) return reject('unexpected', 'a recovery of another member');
      if (m.sender !== core.predecessor(r.ring, core.self)) return reject('unexpected', 'ring value from a member that is not our predecessor');
      if (r.ringIn !== null) return reject('replay', 'second ring value');
      r.ringIn = body.delta;
      if (!isInitiator) {
        recoveryRingForward(core, r, body.delta, now);
        return ACCEPTED;
      }
      // The recovery initiator closes the ring (step 475 with ξ for θ) and hands over (steps 710/715).
      const xi = closeRing(body.delta, r.blind!);
      r.xi = xi;
      for (const other of r.ring.slice(1)) {
        core.send(other, 'R', r.iteration!, r.epoch!, { kind: 'xi', xi, failed: r.failed, replacement: r.replacement }, now);
      }
      const stable = core.stable!;
      core.send(r.replacement, 'R', r.iteration!, r.epoch!, { kind: 'handover', theta: stable.theta, xi, failed: r.failed, pads: stable.pads }, now);
      sendShare(core, r, now);
      return ACCEPTED;
    }
    case 'xi': {
      if (isInitiator || m.sender !== r.ring[0]) return reject('unexpected', 'ξ from a member that is not the recovery initiator');
      if (body.failed !== r.failed || body.replacement !== r.replacement) return reject('unexpected', 'a recovery of another member');
      if (r.xi !== null) return reject('replay', 'second ξ');
      if (r.ownRing === null) return DEFER;
      r.xi = body.xi;
      sendShare(core, r, now);
      return ACCEPTED;
    }
    case 'done': {
      if (m.sender !== r.replacement) return reject('unexpected', 'only the replacement reports the end of a recovery');
      if (!r.shareSent) return DEFER;
      const stable = core.stable!;
      const after = core.members.map((x) => (x === r.failed ? r.replacement : x));
      if (!bytesEqual(body.stateDigest, stateDigest(core.deps.crypto, stable.epoch, after, stable.theta, stable.pads))) {
        return reject('state-mismatch', 'the replacement recovered another state');
      }
      core.members = after;
      core.stable = { ...stable, nextIteration: r.iteration! + 1 };
      core.process = null;
      core.emit({ type: 'recovered', iteration: r.iteration!, failed: r.failed, replacement: r.replacement, members: [...after], at: now });
      return ACCEPTED;
    }
    default:
      return reject('unexpected', `${body.kind} for a remaining member`);
  }
}

/** Step 730: the pad masked with the recovery pad β = ξ − u, plus what the replacement needs to check it. */
function sendShare(core: SessionCore, r: RecoveryProcess, now: number): void {
  const stable = core.stable!;
  const beta = remove(r.xi!, r.secret!);
  const body: PanelBody = {
    kind: 'share',
    masked: hideFraction(stable.pad, beta),
    u: commit(r.secret!),
    prev: commit(r.ringIn!),
    d: commit(r.ownRing!),
    gamma: r.ring[0] === core.self ? commit(r.blind!) : IDENTITY,
    stateDigest: core.currentStateDigest(),
  };
  core.send(r.replacement, 'R', r.iteration!, r.epoch!, body, now);
  r.shareSent = true;
}

export function onNewcomer(core: SessionCore, r: RecoveryProcess, m: PanelMessage, now: number): Verdict {
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
  finishNewcomer(core, r, now);
  return ACCEPTED;
}

/** Steps 750–755 with the checks of §VI: every published value must agree before the pad is rebuilt. */
function finishNewcomer(core: SessionCore, r: RecoveryProcess, now: number): void {
  const h = r.handover;
  if (!h || r.shares.size < r.ring.length) return;
  const iteration = r.iteration!;
  const blame = (member: MemberKey, detail: string) => {
    core.emit({ type: 'cheater', member, process: 'recovery', iteration, detail, at: now });
    core.abort('verification', detail, now);
  };
  const initiator = r.ring[0]!;
  const n = r.before.length;
  const thetaPoint = commit(h.theta);
  if (!sumPoints(h.pads).equals(timesPoint(n - 1, thetaPoint))) return blame(initiator, 'the handed-over pads do not add up to (n − 1)·θ');
  const expectedDigest = stateDigest(core.deps.crypto, r.epoch!, r.before, h.theta, h.pads);
  const shares = r.ring.map((member) => ({ member, ...r.shares.get(member)! }));
  const disagreeing = shares.find((s) => !bytesEqual(s.stateDigest, expectedDigest));
  if (disagreeing) {
    core.emit({ type: 'rejected', from: disagreeing.member, reason: 'state-mismatch', detail: 'share for another panel state', at: now });
    return core.abort('verification', 'the remaining members disagree on the panel state', now);
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
      return core.abort('verification', `the ring values of ${before.member} and ${s.member} disagree`, now);
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
  core.stable = { epoch: r.epoch!, theta: h.theta, pad, pads: h.pads, nextIteration: iteration + 1 };
  core.process = null;
  const digest = core.currentStateDigest();
  for (const other of r.ring) core.send(other, 'R', iteration, r.epoch!, { kind: 'done', stateDigest: digest }, now);
  core.emit({ type: 'recovered', iteration, failed: r.failed, replacement: core.self, members: [...core.members], at: now });
}
