/**
 * @module fractional/session-round
 * One generation round (004 §III, process 500, each contribution checked as in
 * §VI): every member derives a fractional key FK (secret, from its seed:
 * docs/fractional.md §7 deviation 8), first sends its commitment F = FK·B
 * with its digest of the panel state to every other member, then — once all
 * commitments are in — the hidden fractional key HFK = α + FK with the
 * digest of the commitments (steps 515–525, split in two so that nobody reveals
 * before everybody committed). With every HFK in, each member computes
 * θ_{j+1}, its new pad, the new pad commitments and SK_j (steps 545–550).
 * docs/fractional.md §5 "Rounds".
 *
 * Equivocation (docs/fractional.md §5 "Equivocation"): a member that sent one
 * member another commitment than the rest makes their digests disagree. A reveal
 * whose digest disagrees with ours is refused, and we forward the sender every
 * other member's signed commitment we hold (`evidence`, once per member and
 * round); two commitments signed by one member for one round prove it cheated:
 * the round ends at once naming it alone (`failed`, reason `verification`), and
 * every other member gets both signed commitments. Sound because a member
 * signs one commitment per iteration: FK is derived from its seed and the
 * round's public inputs (`SessionCore.roundFraction`), so even a session restored
 * from a snapshot taken before a round it already committed in signs the same F.
 *
 * Invariants:
 * - a commitment from a member that sees another panel state, or a reveal from
 *   one that saw other commitments, is refused (`state-mismatch`); the refusal of
 *   such a reveal forwards our evidence to its sender, and changes nothing else;
 * - evidence is a record signed by the member it accuses, of this epoch,
 *   iteration and panel state digest, checked against the commitment that member
 *   signed to us; at most one record per panel member is checked from each sender
 *   per round;
 * - a member's reveal refused for its digest is its last this round: another is
 *   refused as `replay` (so the round ends naming it, not answered again);
 * - half-way to the deadline, a member holding every commitment relays its
 *   records to each member whose reveal has not come (once each); a valid record
 *   of a commitment we lack is adopted as that commitment; a member still lacking
 *   reveals then sends its own again to those whose reveals it holds, and one
 *   that completed the round answers once with its reveal records, each checked
 *   as if its signer had sent it;
 * - HFK·B must equal A + F for its sender: otherwise it is a `cheater`;
 * - θ_{j+1}·B equals the sum of the commitments (a broken invariant is a BugError).
 */
import { commit, deriveSharedKey, hideFraction, nextBinding, nextPad, sumPoints } from './arithmetic.js';
import { bytesEqual } from './bytes.js';
import { commitmentsDigest } from './digests.js';
import { BugError } from './errors.js';
import type { MemberKey } from '../core/types.js';
import { decodeSigned, type PanelMessage } from './wire.js';
import { ACCEPTED, cheated, DEFER, reject, type RoundProcess, type SessionCore, type Verdict } from './session-state.js';

/** Steps 515–525, first half: derive FK and send the commitment F = FK·B to everyone. */
export function beginRound(core: SessionCore, now: number): void {
  const stable = core.stable!;
  const fraction = core.roundFraction(stable.nextIteration);
  const round: RoundProcess = {
    kind: 'round',
    iteration: stable.nextIteration,
    deadline: now + core.timeoutMs,
    fraction,
    commitments: new Map([[core.self, commit(fraction)]]),
    commitRecords: new Map(),
    commitDigest: null,
    hidden: new Map(),
    forwardedTo: new Set(),
    refusedReveals: new Set(),
    revealRecords: new Map(),
    relayAt: now + Math.floor(core.timeoutMs / 2),
    evidenceFrom: new Map(),
  };
  core.process = round;
  const stateDigest = core.currentStateDigest();
  for (const m of core.others()) {
    const record = core.send(m, 'G', round.iteration, stable.epoch, { kind: 'commit', f: commit(fraction), stateDigest }, now);
    if (!round.commitRecords.has(core.self)) round.commitRecords.set(core.self, record);
  }
}

/**
 * Half-way to the deadline, a member that holds every commitment relays its commit records to
 * each member whose reveal has not come (review 33: a member that withheld its commitment from
 * one victim kept it from revealing, and every other member timed out naming the victim). The
 * victim adopts the records it lacks (`onEvidence`) and reveals; only a withheld reveal then
 * stops a round, and it names its withholder.
 */
export function relayCommitments(core: SessionCore, round: RoundProcess, now: number): void {
  if (round.relayAt === null || now < round.relayAt || !round.commitDigest) return;
  round.relayAt = null;
  const waiting = core.others().filter((m) => !round.hidden.has(m));
  if (waiting.length === 0) return;
  for (const m of waiting) forwardEvidence(core, round, m, now);
  // A reveal withheld from us alone: the members whose reveals we hold may have completed the
  // round; our reveal again tells them we are still in it, and they relay theirs (`answerLateReveal`).
  const hfk = round.hidden.get(core.self)!;
  for (const m of core.others()) if (round.hidden.has(m)) core.send(m, 'G', round.iteration, core.stable!.epoch, { kind: 'reveal', hfk, commitDigest: round.commitDigest }, now);
}

/**
 * A reveal of the round completed here last, from a member still in it: it lacks some reveal
 * (withheld from it alone, review 33), so it gets the signed reveal records of that round, once.
 * Returns false when `m` is not such a reveal.
 */
export function answerLateReveal(core: SessionCore, m: PanelMessage, now: number): boolean {
  const last = core.lastReveals;
  // Only to a member of that round: a replacement recruited since never saw its reveals.
  if (!last || m.body.kind !== 'reveal' || m.iteration !== last.iteration || !bytesEqual(m.epoch, last.epoch) || !last.members.includes(m.sender)) return false;
  if (last.answered.has(m.sender)) return true;
  last.answered.add(m.sender);
  for (const [member, record] of last.records) if (member !== m.sender) core.send(m.sender, 'G', last.iteration, last.epoch, { kind: 'evidence', record }, now);
  return true;
}

export function onRound(core: SessionCore, round: RoundProcess, m: PanelMessage, now: number): Verdict {
  const stable = core.stable!;
  const body = m.body;
  switch (body.kind) {
    case 'commit': {
      if (round.commitments.has(m.sender)) return reject('replay', 'second commitment');
      if (!bytesEqual(body.stateDigest, core.currentStateDigest())) return reject('state-mismatch', 'the sender sees another panel state');
      round.commitments.set(m.sender, body.f);
      if (m.signed) round.commitRecords.set(m.sender, m.signed.slice());
      if (round.commitments.size === core.members.length) reveal(core, round, now);
      return ACCEPTED;
    }
    case 'reveal': {
      if (round.hidden.has(m.sender)) return reject('replay', 'second hidden fractional key');
      if (!round.commitDigest) return DEFER;
      // One reveal per member and round: after one refused for its digest (and answered with our
      // evidence), another would let a member draw that answer every round at no cost (review 33).
      if (round.refusedReveals.has(m.sender)) return reject('replay', 'a reveal of this member was refused already this round');
      if (!bytesEqual(body.commitDigest, round.commitDigest)) {
        round.refusedReveals.add(m.sender);
        forwardEvidence(core, round, m.sender, now);
        return reject('state-mismatch', 'the sender saw other commitments');
      }
      const expected = stable.pads[core.members.indexOf(m.sender)]!.add(round.commitments.get(m.sender)!);
      if (!commit(body.hfk).equals(expected)) {
        return cheated('HFK·B is not A + F', 'round', round.iteration);
      }
      round.hidden.set(m.sender, body.hfk);
      if (m.signed) round.revealRecords.set(m.sender, m.signed.slice());
      finishRound(core, round, now);
      return ACCEPTED;
    }
    case 'evidence':
      return onEvidence(core, round, m.sender, body.record, now);
    default:
      return reject('unexpected', `${body.kind} during a round`);
  }
}

/** A reveal record relayed by `from` (`answerLateReveal`): checked as if its signer had sent it to us. */
function onRelayedReveal(core: SessionCore, round: RoundProcess, from: MemberKey, checked: number, c: PanelMessage, now: number): Verdict {
  if (!bytesEqual(c.epoch, core.stable!.epoch) || c.iteration !== round.iteration || c.sender === core.self || !core.members.includes(c.sender)) {
    return reject('unexpected', 'a relayed reveal that is not of this round');
  }
  round.evidenceFrom.set(from, checked + 1);
  if (!round.commitDigest) return reject('unexpected', 'a relayed reveal before every commitment is in here');
  // Only a reveal of these very commitments: an older panel's record (an initiator may reuse an
  // epoch) would otherwise count as its signer's refused reveal here and make its genuine one a
  // `replay` (review 33, fourth pass). A digest that differs proves nothing about its signer now.
  if (c.body.kind !== 'reveal' || !bytesEqual(c.body.commitDigest, round.commitDigest)) return reject('unexpected', 'a relayed reveal of other commitments');
  if (round.hidden.has(c.sender)) return ACCEPTED;
  const verdict = onRound(core, round, c, now);
  if (verdict.kind === 'reject' && verdict.cheater) {
    // The signer's own signed reveal contradicts its commitment: it is the cheater, not the relayer.
    core.emit({ type: 'cheater', member: c.sender, ...verdict.cheater, detail: `${verdict.detail} (relayed by ${from.slice(0, 8)})`, at: now });
    return reject(verdict.reason, verdict.detail);
  }
  return verdict;
}

/** Sends `to` the signed commitment of every member but us and it (once per member and round). */
function forwardEvidence(core: SessionCore, round: RoundProcess, to: MemberKey, now: number): void {
  if (round.forwardedTo.has(to)) return;
  round.forwardedTo.add(to);
  for (const member of core.members) {
    const record = round.commitRecords.get(member);
    if (record && member !== to && member !== core.self) core.send(to, 'G', round.iteration, core.stable!.epoch, { kind: 'evidence', record }, now);
  }
  // Ours last: the forwarded records are what proves an equivocation; ours is what a member relayed to lacks.
  const ours = round.commitRecords.get(core.self);
  if (ours && round.relayAt === null) core.send(to, 'G', round.iteration, core.stable!.epoch, { kind: 'evidence', record: ours }, now);
}

/** A forwarded commitment: proof that its signer cheated if it differs from the one it signed to us. */
function onEvidence(core: SessionCore, round: RoundProcess, from: MemberKey, record: Uint8Array, now: number): Verdict {
  const checked = round.evidenceFrom.get(from) ?? 0;
  if (checked >= core.members.length + 2) return reject('buffer-full', 'more evidence than a round can need');
  const decoded = decodeSigned(core.deps.crypto, record);
  if (!decoded.ok) return reject(decoded.reason, `evidence: ${decoded.detail}`);
  const c = decoded.value;
  if (c.body.kind === 'reveal') return onRelayedReveal(core, round, from, checked, c, now);
  // The state digest too: an initiator chooses its panel's epoch alone and iterations restart at 2,
  // so epoch and iteration could name an earlier panel's round, whose honest commitment would then
  // "prove" its signer twice-committed (review 33). The digest covers θ and the pads, which every
  // member randomizes; a genuine equivocation carries it, or its victim would have refused it.
  if (c.body.kind !== 'commit' || !bytesEqual(c.epoch, core.stable!.epoch) || c.iteration !== round.iteration || !bytesEqual(c.body.stateDigest, core.currentStateDigest())) {
    return reject('unexpected', 'evidence that is not a commitment of this round');
  }
  if (c.sender === core.self || !core.members.includes(c.sender)) return reject('unexpected', 'evidence about a member it cannot accuse');
  round.evidenceFrom.set(from, checked + 1);
  const held = round.commitments.get(c.sender);
  if (!held) {
    // A commitment that never reached us (withheld, or refused for a wrong digest): its signed
    // record, for this very round and state, is as good as the commitment itself.
    round.commitments.set(c.sender, c.body.f);
    round.commitRecords.set(c.sender, record);
    if (round.commitments.size === core.members.length) reveal(core, round, now);
    return ACCEPTED;
  }
  if (held.equals(c.body.f)) return ACCEPTED; // the same commitment: nothing proven
  const detail = `signed two commitments for round ${round.iteration} (one forwarded by ${from.slice(0, 8)})`;
  core.emit({ type: 'cheater', member: c.sender, process: 'round', iteration: round.iteration, detail, at: now });
  // Both records to every other member: whichever commitment it holds, one of the two differs (the
  // round ends here, so a member that needed ours would otherwise never get it).
  const ours = round.commitRecords.get(c.sender);
  for (const member of core.others()) {
    if (member === c.sender) continue;
    for (const proof of ours ? [record, ours] : [record]) core.send(member, 'G', round.iteration, core.stable!.epoch, { kind: 'evidence', record: proof }, now);
  }
  core.abort('verification', detail, now, [c.sender]);
  return ACCEPTED;
}

/** Second half of step 525: every commitment is in, so HFK goes to everyone with the digest of the commitments. */
function reveal(core: SessionCore, round: RoundProcess, now: number): void {
  const stable = core.stable!;
  round.commitDigest = commitmentsDigest(core.deps.crypto, stable.epoch, round.iteration, core.members.map((m) => round.commitments.get(m)!));
  const hfk = hideFraction(stable.pad, round.fraction);
  round.hidden.set(core.self, hfk);
  for (const m of core.others()) {
    const record = core.send(m, 'G', round.iteration, stable.epoch, { kind: 'reveal', hfk, commitDigest: round.commitDigest }, now);
    if (!round.revealRecords.has(core.self)) round.revealRecords.set(core.self, record);
  }
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
  core.lastReveals = { epoch: stable.epoch, iteration: round.iteration, members: [...core.members], records: round.revealRecords, answered: new Set() };
  core.emit({ type: 'round-complete', round: round.iteration, key, members: [...core.members], at: now });
}
