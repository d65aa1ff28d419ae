/**
 * @module core/engine/roster-sync
 * Roster catch-up (003 [0064]–[0067]; docs/protocol.md §5 "Roster catch-up", rows M2, M3
 * of §12). A member learns of a newcomer from its admitter's MemberAdmitted, published
 * twice; one that missed both (not yet in the mesh, a partition, a restart) asks a peer
 * for the admissions it lacks when
 * - a member's heartbeat counts more roster entries than its own (`noteRosterCount`), or
 * - a peer it has no roster entry for sends a control message that opens under its current
 *   TEK (`noteStrangerWithTek`): that peer holds the key, so it was admitted; it is asked.
 * The request lists the first 8 bytes of every roster key the asker has; the answer carries,
 * for members missing there, the proof this member kept of each admission: the admitter's
 * signed announcement batch, or the certificate it gave the newcomer.
 *
 * Invariants:
 * - No roster entry without its admitter's signature: a proof is checked as M1 checks the
 *   original (the admitter a current member, or one that left after the admission, and not
 *   blocked; the signature valid; the newcomer neither blocked nor known with a later
 *   departure), staged, and the reply applied in one step or not at all (STYLE §8). A
 *   responder can only re-send what an admitter signed; freshness is not required (the
 *   point is to learn late), which is safe because a departed member is blocked by the
 *   table that rekeys after it (§7), and a member known to have left is never re-added.
 * - Bounded: one request in flight per peer, at most MAX_IN_FLIGHT in all and one new one
 *   per heartbeat; a peer that brought nothing new is asked again only after a doubling
 *   pause (up to MAX_BACKOFF); a reply is taken only from a peer asked, once; it holds at
 *   most LIMITS.rosterProofs proofs (one signature check each) naming at most
 *   LIMITS.announced members (wire.ts). A responder answers each member at most once per
 *   ANSWER_INTERVAL_HEARTBEATS.
 * - Request state is transient: it lives beside the EngineCore (a WeakMap keyed by it, read by
 *   this room only), forgotten at a restart. The proofs live there too, and are saved with the
 *   engine's snapshot (`savedProofs`, `restoreProofs`: each distinct proof once, with the members
 *   it proves). Forgotten at a restart, as they were, a member offline during an admission never
 *   learnt the newcomer once its admitter and the newcomer had both restarted (review 39: it
 *   refused the newcomer's messages as `not-member` for good).
 */
import { addLog, emit, rosterInKeyOrder, setRoster, short, unicast, type EngineCore } from './context.js';
import { announceBody, certBody } from './sealing.js';
import { type MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { equalBytes, fromHex, toHex } from '../bytes.js';
import { creatorsTag } from '../keys.js';
import { LIMITS, MsgType, type AdmissionProof, type Message, type RosterEntry, type SealedControlMessage } from '../wire.js';

/** Requests in flight at once (each waits REPLY_WAIT_HEARTBEATS at most). */
const MAX_IN_FLIGHT = 4;
const REPLY_WAIT_HEARTBEATS = 4;
/** A peer is asked again at most every ASK_INTERVAL_HEARTBEATS, times its backoff (doubled by each reply that brought nothing new). */
const ASK_INTERVAL_HEARTBEATS = 4;
const MAX_BACKOFF = 32;
/** A responder answers one member at most this often (an honest asker asks it every ASK_INTERVAL_HEARTBEATS at most). */
const ANSWER_INTERVAL_HEARTBEATS = 2;
/** How long heartbeats must count more roster entries than ours (our roster not growing) before we ask: past the second announcement. */
const BEHIND_HEARTBEATS = 4;
/** Peers whose request timing is remembered (beyond: the table starts afresh). */
const MAX_TRACKED_PEERS = 1024;

interface SyncState {
  /** The proof this member kept of each admission it took (at most LIMITS.roster). */
  proofs: Map<MemberKey, AdmissionProof>;
  /** Peers asked and not yet answered → until when their reply is awaited. */
  inFlight: Map<MemberKey, number>;
  next: Map<MemberKey, { at: number; backoff: number }>;
  lastAskAt: number;
  answeredAt: Map<MemberKey, number>;
  /** Since when a heartbeat has counted more roster entries than ours, at our roster size then (null: not behind). */
  behind: { since: number; size: number } | null;
}

const states = new WeakMap<EngineCore, SyncState>();

function sync(core: EngineCore): SyncState {
  let st = states.get(core);
  if (!st) states.set(core, (st = { proofs: new Map(), inFlight: new Map(), next: new Map(), lastAskAt: -Infinity, answeredAt: new Map(), behind: null }));
  return st;
}

/** The proofs of current members' admissions, as saved in the snapshot: each distinct proof once, and the index of each member's. */
export interface SavedProofs {
  proofs: AdmissionProof[];
  of: Record<MemberKey, number>;
}

export function savedProofs(core: EngineCore): SavedProofs | undefined {
  const st = states.get(core);
  if (!st || st.proofs.size === 0) return undefined;
  const saved: SavedProofs = { proofs: [], of: {} };
  // By signature, not by object: one batch is saved once however many members it proves, and
  // however it was recorded (review 41: a batch of N saved N times made the snapshot grow as N²).
  const index = new Map<string, number>();
  for (const [member, proof] of st.proofs) {
    if (core.s.roster[member]?.state !== 'member') continue; // never served (onRosterRequest)
    const id = toHex(proof.kind === 'announcement' ? proof.signature : proof.certificate.signature);
    let i = index.get(id);
    if (i === undefined) index.set(id, (i = saved.proofs.push(proof) - 1));
    saved.of[member] = i;
  }
  return saved;
}

/** The proofs a snapshot saved (a restart): one object per distinct proof again, so that a reply names a batch once. */
export function restoreProofs(core: EngineCore, saved: SavedProofs | undefined): void {
  if (!saved) return;
  for (const [member, i] of Object.entries(saved.of)) {
    const proof = saved.proofs[i];
    if (proof) recordProof(core, member, proof);
  }
}

/** Keeps the proof of `member`'s admission (the first one seen) to show it to members that missed it. */
export function recordProof(core: EngineCore, member: MemberKey, proof: AdmissionProof): void {
  const proofs = sync(core).proofs;
  if (!proofs.has(member) && proofs.size < LIMITS.roster) proofs.set(member, proof);
}

/**
 * A member's heartbeat counts `count` roster entries: more than ours for BEHIND_HEARTBEATS
 * while our roster did not grow, and we missed an admission (an admitter counts its newcomer
 * before its announcement, up to a quarter heartbeat later, reaches us: no request for that).
 */
export function noteRosterCount(core: EngineCore, from: MemberKey, count: number, now: number): void {
  const size = core.rosterSize;
  if (count <= size) return;
  const st = sync(core);
  if (!st.behind || st.behind.size !== size) st.behind = { since: now, size };
  else if (now - st.behind.since >= BEHIND_HEARTBEATS * core.s.params.heartbeatMs) requestRoster(core, from, now);
}

/**
 * A control message from `from`, which has no roster entry here, opened (gate.ts): true when it
 * was sealed under our current TEK, so its sender holds the key (it is asked how it got in).
 */
export function noteStrangerWithTek(core: EngineCore, from: MemberKey, env: SealedControlMessage, now: number): boolean {
  const tek = core.s.tek;
  if (core.s.state !== 'member' || core.s.roster[from] !== undefined || !tek || env.tekVersion !== tek.version) return false;
  if (!equalBytes(env.tekTag, creatorsTag(core.crypto, tek.creators))) return false;
  requestRoster(core, from, now);
  return true;
}

/** Asks `to` for the admissions missing here, within the bounds of the module header. */
export function requestRoster(core: EngineCore, to: MemberKey, now: number): void {
  if (core.s.state !== 'member' || to === core.self || core.s.blocklist.includes(to)) return;
  const st = sync(core);
  const hb = core.s.params.heartbeatMs;
  for (const [k, until] of st.inFlight) if (until <= now) st.inFlight.delete(k);
  if (st.inFlight.has(to) || st.inFlight.size >= MAX_IN_FLIGHT || now < st.lastAskAt + hb) return;
  const next = st.next.get(to);
  if (next && now < next.at) return;
  const backoff = next?.backoff ?? 1;
  st.inFlight.set(to, now + REPLY_WAIT_HEARTBEATS * hb);
  st.lastAskAt = now;
  if (!next && st.next.size >= MAX_TRACKED_PEERS) st.next.clear();
  st.next.set(to, { at: now + ASK_INTERVAL_HEARTBEATS * hb * backoff, backoff });
  const known = rosterInKeyOrder(core).map((k) => fromHex(k.slice(0, 16)));
  unicast(core, to, { type: MsgType.RosterRequest, known });
}

/** M2: a member asks which admissions it lacks; the proofs kept here of the members missing there, oldest first. */
export function onRosterRequest(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.RosterRequest }>, now: number): void {
  ensure(core.s.state === 'member', 'stale', 'roster request while not a member');
  const st = sync(core);
  const last = st.answeredAt.get(from);
  ensure(last === undefined || now - last >= ANSWER_INTERVAL_HEARTBEATS * core.s.params.heartbeatMs, 'not-authorized', 'roster request too soon after the last one');
  if (last === undefined && st.answeredAt.size >= MAX_TRACKED_PEERS) st.answeredAt.clear();
  st.answeredAt.set(from, now);
  const known = new Set(m.known.map((p) => toHex(p)));
  const missing: { at: number; proof: AdmissionProof }[] = [];
  for (const [key, r] of Object.entries(core.s.roster)) {
    if (r.state !== 'member' || key === from || core.s.blocklist.includes(key) || known.has(key.slice(0, 16))) continue;
    const proof = st.proofs.get(key);
    if (proof) missing.push({ at: r.admittedAt, proof });
  }
  missing.sort((a, b) => a.at - b.at);
  const proofs: AdmissionProof[] = [];
  let named = 0;
  for (const { proof } of missing) {
    if (proofs.includes(proof)) continue; // one batch proves all its members
    const size = proof.kind === 'announcement' ? proof.members.length : 1;
    if (proofs.length >= LIMITS.rosterProofs || named + size > LIMITS.announced) break;
    proofs.push(proof);
    named += size;
  }
  // Answered even when empty: the asker stops waiting and asks this member less often.
  unicast(core, from, { type: MsgType.RosterReply, proofs });
}

interface Staged {
  entry: RosterEntry;
  by: MemberKey;
  proof: AdmissionProof;
}

/** M3: proofs from a peer this member asked, each checked as M1 checks an announcement; applied together or not at all. */
export function onRosterReply(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.RosterReply }>, now: number): void {
  const st = sync(core);
  ensure(core.s.state === 'member' && st.inFlight.has(from), 'not-authorized', 'roster reply that was not asked for');
  st.inFlight.delete(from);
  const staged = new Map<MemberKey, Staged>();
  // An admitter's own proof may come after those it signed: passes until one adds nothing
  // (each proof's signature is checked once at most: it is either staged or rejects the reply).
  let pending = m.proofs;
  for (let progress = true; progress && pending.length > 0; ) {
    const later = pending.filter((p) => stageProof(core, p, staged, now) === 'later');
    progress = later.length < pending.length;
    pending = later;
  }
  const next = st.next.get(from);
  if (next) next.backoff = staged.size > 0 ? 1 : Math.min(MAX_BACKOFF, next.backoff * 2);
  for (const [key, s] of staged) {
    setRoster(core, key, { name: s.entry.name, admittedAt: s.entry.admittedAt, learnedAt: now, state: 'member' });
    recordProof(core, key, s.proof);
    emit(core, { type: 'member-admitted', member: key, by: s.by, name: s.entry.name, at: now });
    addLog(core, now, 'join', `${short(s.by)} admitted ${s.entry.name || short(key)} (missed; shown by ${short(from)})`);
  }
}

/**
 * One proof against the roster as it stands plus what this reply staged: 'done' (staged, or
 * nothing in it is news), 'later' (its admitter is not known here as one that may admit, yet).
 * A proof whose signature does not verify rejects the whole reply.
 */
function stageProof(core: EngineCore, p: AdmissionProof, staged: Map<MemberKey, Staged>, now: number): 'done' | 'later' {
  const admitter = p.kind === 'announcement' ? p.admitter : p.certificate.admitter;
  const members = p.kind === 'announcement' ? p.members : [{ key: p.certificate.member, name: p.name, admittedAt: p.certificate.admittedAt }];
  const news = members.filter((e) => {
    if (e.key === core.self || staged.has(e.key) || core.s.blocklist.includes(e.key)) return false;
    const known = core.s.roster[e.key];
    // A member known here to have left (or been excluded) is not re-added by an older admission (M1).
    return (!known || (known.state !== 'member' && e.admittedAt > known.admittedAt)) && e.admittedAt <= now + core.s.params.graceMs;
  });
  if (news.length === 0 || core.s.blocklist.includes(admitter)) return 'done';
  const a = core.s.roster[admitter];
  const leftAfter = a?.state === 'left' && a.leaveProof !== undefined && news.every((e) => e.admittedAt <= a.leaveProof!.sentAt);
  if (!(admitter === core.self || a?.state === 'member' || staged.has(admitter) || leftAfter)) return 'later';
  const body = p.kind === 'announcement' ? announceBody(core, p.members) : certBody(core, admitter, p.certificate.member, p.certificate.admittedAt);
  const signature = p.kind === 'announcement' ? p.signature : p.certificate.signature;
  if (!core.crypto.ed25519Verify(fromHex(admitter), body, signature)) {
    throw new RemoteProtocolError('bad-signature', `roster reply: admission of ${short(news[0]!.key)} without a valid signature of its admitter ${short(admitter)}`);
  }
  for (const e of news) staged.set(e.key, { entry: e, by: admitter, proof: p });
  return 'done';
}
