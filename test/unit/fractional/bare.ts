/**
 * The panel protocol's arithmetic alone, for any n (also n = 3, which the
 * session refuses): one distributed initialization (004 §II.B) and one round
 * (004 §III) computed with the module's own formulas, plus the scalars a
 * coalition of members sees. Used to demonstrate the fractional attack of
 * 004 §V and why it needs n ≤ 3.
 */
import type { Scalar } from '../../../app/fractional/arithmetic.js';
import {
  closeRing,
  hideFraction,
  nextBinding,
  nextPad,
  padFromBinding,
  ringStep,
} from '../../../app/fractional/arithmetic.js';

export interface BareRun {
  n: number;
  /** The initiator's blind γ and every member's ring secret v_i (member 0 is the initiator). */
  gamma: Scalar;
  ringSecrets: Scalar[];
  /** δ_i as sent by member i to member i + 1 (mod n). */
  ring: Scalar[];
  theta1: Scalar;
  pads1: Scalar[];
  fractions: Scalar[];
  hidden: Scalar[];
  theta2: Scalar;
  pads2: Scalar[];
}

export function bareRun(gamma: Scalar, ringSecrets: Scalar[], fractions: Scalar[]): BareRun {
  const n = ringSecrets.length;
  const ring: Scalar[] = [];
  let running = gamma;
  for (const v of ringSecrets) {
    running = ringStep(running, v);
    ring.push(running);
  }
  const theta1 = closeRing(running, gamma);
  const pads1 = ringSecrets.map((v) => padFromBinding(theta1, v));
  const hidden = pads1.map((a, i) => hideFraction(a, fractions[i]!));
  const theta2 = nextBinding(theta1, hidden);
  const pads2 = fractions.map((fk) => nextPad(theta2, fk));
  return { n, gamma, ringSecrets, ring, theta1, pads1, fractions, hidden, theta2, pads2 };
}

/**
 * Every scalar the members of `coalition` hold or receive: their own secrets,
 * the ring value each got from its predecessor, θ₁, all HFKs (every member gets
 * every HFK), and what they compute from those.
 */
export function coalitionView(run: BareRun, coalition: readonly number[]): Scalar[] {
  const view: Scalar[] = [run.theta1, run.theta2, ...run.hidden];
  for (const c of coalition) {
    if (c === 0) view.push(run.gamma);
    view.push(run.ringSecrets[c]!, run.ring[(c + run.n - 1) % run.n]!, run.fractions[c]!, run.pads1[c]!, run.pads2[c]!);
  }
  return view;
}
