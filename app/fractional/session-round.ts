/**
 * @module fractional/session-round
 * One generation round (004 §III, process 500, each contribution checked as in
 * §VI): every member draws a fractional key FK, first sends its commitment
 * F = FK·B with its digest of the panel state to every other member, then — once
 * all commitments are in — the hidden fractional key HFK = α + FK with the
 * digest of the commitments (steps 515–525, split in two so that nobody reveals
 * before everybody committed). With every HFK in, each member computes
 * θ_{j+1}, its new pad, the new pad commitments and SK_j (steps 545–550).
 * docs/fractional.md §5 "Rounds".
 *
 * Invariants:
 * - a commitment from a member that sees another panel state, or a reveal from
 *   one that saw other commitments, is refused (`state-mismatch`);
 * - HFK·B must equal A + F for its sender: otherwise it is a `cheater`;
 * - θ_{j+1}·B equals the sum of the commitments (a broken invariant is a BugError).
 */
import { commit, deriveSharedKey, drawScalar, hideFraction, nextBinding, nextPad, sumPoints } from './arithmetic.js';
import { bytesEqual } from './bytes.js';
import { commitmentsDigest } from './digests.js';
import { BugError } from './errors.js';
import type { PanelMessage } from './wire.js';
import { ACCEPTED, cheated, DEFER, reject, type RoundProcess, type SessionCore, type Verdict } from './session-state.js';

/** Steps 515–525, first half: draw FK and send the commitment F = FK·B to everyone. */
export function beginRound(core: SessionCore, now: number): void {
  const stable = core.stable!;
  const fraction = drawScalar(core.deps.rng);
  const round: RoundProcess = {
    kind: 'round',
    iteration: stable.nextIteration,
    deadline: now + core.timeoutMs,
    fraction,
    commitments: new Map([[core.self, commit(fraction)]]),
    commitDigest: null,
    hidden: new Map(),
  };
  core.process = round;
  const stateDigest = core.currentStateDigest();
  for (const m of core.others()) core.send(m, 'G', round.iteration, stable.epoch, { kind: 'commit', f: commit(fraction), stateDigest }, now);
}

export function onRound(core: SessionCore, round: RoundProcess, m: PanelMessage, now: number): Verdict {
  const stable = core.stable!;
  const body = m.body;
  switch (body.kind) {
    case 'commit': {
      if (round.commitments.has(m.sender)) return reject('replay', 'second commitment');
      if (!bytesEqual(body.stateDigest, core.currentStateDigest())) return reject('state-mismatch', 'the sender sees another panel state');
      round.commitments.set(m.sender, body.f);
      if (round.commitments.size === core.members.length) reveal(core, round, now);
      return ACCEPTED;
    }
    case 'reveal': {
      if (round.hidden.has(m.sender)) return reject('replay', 'second hidden fractional key');
      if (!round.commitDigest) return DEFER;
      if (!bytesEqual(body.commitDigest, round.commitDigest)) return reject('state-mismatch', 'the sender saw other commitments');
      const expected = stable.pads[core.members.indexOf(m.sender)]!.add(round.commitments.get(m.sender)!);
      if (!commit(body.hfk).equals(expected)) {
        return cheated('HFK·B is not A + F', 'round', round.iteration);
      }
      round.hidden.set(m.sender, body.hfk);
      finishRound(core, round, now);
      return ACCEPTED;
    }
    default:
      return reject('unexpected', `${body.kind} during a round`);
  }
}

/** Second half of step 525: every commitment is in, so HFK goes to everyone with the digest of the commitments. */
function reveal(core: SessionCore, round: RoundProcess, now: number): void {
  const stable = core.stable!;
  round.commitDigest = commitmentsDigest(core.deps.crypto, stable.epoch, round.iteration, core.members.map((m) => round.commitments.get(m)!));
  const hfk = hideFraction(stable.pad, round.fraction);
  round.hidden.set(core.self, hfk);
  for (const m of core.others()) core.send(m, 'G', round.iteration, stable.epoch, { kind: 'reveal', hfk, commitDigest: round.commitDigest }, now);
  finishRound(core, round, now);
}

/** Steps 545–550: θ_{j+1}, the new pads (and their commitments), SK_j. */
function finishRound(core: SessionCore, round: RoundProcess, now: number): void {
  if (round.hidden.size < core.members.length || core.process !== round) return;
  const stable = core.stable!;
  const theta = nextBinding(stable.theta, core.members.map((m) => round.hidden.get(m)!));
  const thetaPoint = commit(theta);
  const commitments = core.members.map((m) => round.commitments.get(m)!);
  if (!thetaPoint.equals(sumPoints(commitments))) throw new BugError('θ_{j+1}·B differs from the sum of the commitments');
  const key = deriveSharedKey(core.deps.crypto, theta, stable.epoch, round.iteration);
  core.stable = {
    epoch: stable.epoch,
    theta,
    pad: nextPad(theta, round.fraction),
    pads: commitments.map((f) => thetaPoint.subtract(f)),
    nextIteration: round.iteration + 1,
  };
  core.process = null;
  core.emit({ type: 'round-complete', round: round.iteration, key, members: [...core.members], at: now });
}
