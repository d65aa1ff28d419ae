/**
 * @module fractional/session-init
 * Distributed initialization of a panel (004 §II.B, process 400), checked as in
 * §VI.B (process 900): the initiator draws a blinding γ and starts a ring; each
 * member in ring order adds a fresh secret v to the running value δ, passes δ to
 * its successor and publishes V = v·B and D = δ·B (with Γ = γ·B from the
 * initiator) to everyone; the initiator closes the ring, removes γ and sends θ₁
 * to every member (steps 475, 485); each member takes its pad (step 490).
 * docs/fractional.md §5 "Initialization".
 *
 * Invariants:
 * - ring-commits are checked in ring order (D = previous D + V; only the
 *   initiator publishes a Γ), a ring value against its sender's published D, θ₁
 *   against D_n − Γ: a value that contradicts its sender's own commitment is a
 *   `cheater` (the signed message is the proof);
 * - a message that comes too early (its predecessor's commitment not yet
 *   checked) is deferred, not refused;
 * - initialization is iteration 1; the first round is 2.
 */
import { closeRing, commit, drawScalar, IDENTITY, padFromBinding, ringStep, type Scalar } from './arithmetic.js';
import type { PanelMessage } from './wire.js';
import { EPOCH_BYTES } from './wire.js';
import { ACCEPTED, cheated, DEFER, reject, type InitProcess, type SessionCore, type Verdict } from './session-state.js';

export function newInit(core: SessionCore, epoch: Uint8Array, now: number): InitProcess {
  return {
    kind: 'init',
    iteration: 1,
    epoch,
    deadline: now + core.timeoutMs,
    ring: core.ringOrder(),
    secret: null,
    blind: null,
    blindCommitment: null,
    links: new Map(),
    ringReceived: false,
    theta: null,
  };
}

/** Step 410, on the initiator: a new epoch, the blinding γ, and the first ring step. */
export function startInit(core: SessionCore, now: number): void {
  const init = newInit(core, core.deps.rng(EPOCH_BYTES), now);
  init.blind = drawScalar(core.deps.rng);
  init.blindCommitment = commit(init.blind);
  core.process = init;
  ringForward(core, init, init.blind, now);
}

/** Steps 410–440: add a fresh secret v to the running value, pass it on, publish V = v·B and D = δ·B. */
function ringForward(core: SessionCore, init: InitProcess, incoming: Scalar, now: number): void {
  const secret = drawScalar(core.deps.rng);
  const delta = ringStep(incoming, secret);
  init.secret = secret;
  init.links.set(core.self, { v: commit(secret), d: commit(delta) });
  const gamma = init.blind === null ? IDENTITY : commit(init.blind);
  core.send(core.successor(init.ring, core.self), 'I', 1, init.epoch, { kind: 'ring', delta }, now);
  for (const m of core.others()) core.send(m, 'I', 1, init.epoch, { kind: 'ring-commit', v: commit(secret), d: commit(delta), gamma }, now);
}

export function onInit(core: SessionCore, init: InitProcess, m: PanelMessage, now: number): Verdict {
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
      return finishInit(core, init, now);
    }
    case 'ring': {
      if (init.ringReceived) return reject('replay', 'second ring value');
      if (m.sender !== core.predecessor(init.ring, core.self)) return reject('unexpected', 'ring value from a member that is not our predecessor');
      const published = init.links.get(m.sender);
      if (!published) return DEFER; // its ring-commit has not been checked yet
      if (!commit(body.delta).equals(published.d)) return cheated('δ does not match the published D', 'init', 1);
      init.ringReceived = true;
      if (core.self === core.initiator) {
        // Step 475: remove γ; θ₁ goes to every member (step 485).
        const theta = closeRing(body.delta, init.blind!);
        init.theta = theta;
        for (const other of core.others()) core.send(other, 'I', 1, init.epoch, { kind: 'theta', theta }, now);
      } else {
        ringForward(core, init, body.delta, now);
      }
      return finishInit(core, init, now);
    }
    case 'theta': {
      if (m.sender !== core.initiator) return reject('unexpected', 'θ₁ from a member that is not the initiator');
      if (init.theta !== null) return reject('replay', 'second θ₁');
      if (init.links.size < init.ring.length || !init.ringReceived) return DEFER;
      const last = init.links.get(init.ring[init.ring.length - 1]!)!.d;
      if (!commit(body.theta).equals(last.subtract(init.blindCommitment!))) {
        return cheated('θ₁·B is not D_n − Γ', 'init', 1);
      }
      init.theta = body.theta;
      return finishInit(core, init, now);
    }
    default:
      return reject('unexpected', `${body.kind} during initialization`);
  }
}

/** Step 490 and process 900: once θ₁ and every link are in, each member takes its pad. */
function finishInit(core: SessionCore, init: InitProcess, now: number): Verdict {
  if (init.theta === null || init.links.size < init.ring.length || init.secret === null || !init.ringReceived) return ACCEPTED;
  const thetaPoint = commit(init.theta);
  const pads = core.members.map((member) => thetaPoint.subtract(init.links.get(member)!.v));
  core.stable = { epoch: init.epoch, theta: init.theta, pad: padFromBinding(init.theta, init.secret), pads, nextIteration: 2 };
  core.process = null;
  core.emit({ type: 'initialized', iteration: 1, members: [...core.members], at: now });
  return ACCEPTED;
}
