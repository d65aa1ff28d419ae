/**
 * @module core/engine/admission
 * Creating a group and joining one (003 [0059]–[0066]; 001): the newcomer asks its
 * contacts nearest first, an admitter checks the admission policy, certifies the
 * newcomer, steps its keys one revision and grants them sealed pairwise; missing keys
 * are requested from their holders (or created if nobody holds them); admissions are
 * announced to the group in batches.
 *
 * Invariants: a newcomer only ever receives keys one revision after what the group
 * used before (backward secrecy, 003 [0064]); an excluded identity is never re-added;
 * a key request must carry a certificate unless the requester is known as a member.
 * docs/protocol.md §4–§5.
 */
import { recordTek, retireTek, retryPendingData } from './tek-records.js';
import { publishControl } from './control-seal.js';
import { addLog, checkInfo, cloneParams, emit, heldKey, info, isOwnerAlive, keyChanged, pidOf, possibleHolders, reject, setRoster, short, syncDirFromHeld, tableThatMade, unicast, validateRemoteParams, type EngineCore } from './context.js';
import { newJoin } from './join-state.js';
import { announceBody, certBody, certify, openSealed, pairwise, seal, verifyCertificate } from './sealing.js';
import { onRevision, stepHeld } from './revision.js';
import { type KeyOrigin, type MemberKey, type RejectReason } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { fromHex } from '../bytes.js';
import { TEK_SLOT, idToString, slotName, slotsOf } from '../params.js';
import { KEY_BYTES } from '../keys.js';
import { MsgType, type KeyInfo, type Message, type OwnerInfo, type RosterEntry, type SealedKey } from '../wire.js';
import { sameCreators, sortedKeys, type HeldKey } from '../state.js';
import { checkRevisionJump, claimedOwner, mayOwnTek, selects } from './authorization.js';
import { replayPendingPanel } from './panel.js';
import { recordProof } from './roster-sync.js';
import { blockGrounds, takeBlockGrounds } from './admin-races.js';

export function createKeys(core: EngineCore, now: number): void {
  const creators = [core.self];
  const origin: KeyOrigin = { kind: 'single', creator: core.self };
  core.s.tek = { slot: TEK_SLOT, version: 1, creators, revision: 0, key: core.rng(KEY_BYTES), basedOn: null, origin, owner: core.self, coverage: [] };
  core.s.keks = slotsOf(core.selfId, core.s.params.V).map((slot) => ({
    slot,
    version: 1,
    creators,
    revision: 0,
    key: core.rng(KEY_BYTES),
    basedOn: null,
    origin,
    owner: core.self,
  }));
  recordTek(core, core.s.tek, now);
  setRoster(core, core.self, { name: core.displayName, admittedAt: now, state: 'member' });
  core.s.admittedAt = now;
  core.s.state = 'member';
  core.s.lastRevisionRefreshAt = now;
  core.s.lastVersionRefreshAt = now;
  syncDirFromHeld(core);
  core.timers.set('heartbeat', now);
  emit(core, { type: 'group-created', group: core.group, at: now });
  emit(core, { type: 'joined', group: core.group, at: now });
  addLog(core, now, 'create', `created the group: TEK v1 and ${core.s.keks.length} KEKs`);
  keyChanged(core, TEK_SLOT, 'created', now);
}

/** Leaves our losing instance of the group and asks the winning one for admission (003 [0060]). */
export function startMergeJoin(core: EngineCore, contact: MemberKey, now: number): void {
  addLog(core, now, 'merge', `another instance of this group (holder ${short(contact)}) wins: joining it`);
  retireTek(core, now);
  core.s.tek = null;
  core.s.state = 'joining';
  core.timers.set('heartbeat', null);
  core.join = newJoin(new Uint8Array(0), [contact], now);
  tryJoinContact(core, now);
}

export function tryJoinContact(core: EngineCore, now: number): void {
  const j = core.join;
  if (!j || j.certificate) return;
  const contacts = j.contacts.filter((c) => c !== core.self);
  if (contacts.length === 0) {
    j.attemptAt = now + core.s.params.heartbeatMs;
    return;
  }
  const to = contacts[j.next % contacts.length]!;
  j.next++;
  j.attemptAt = now + 2 * core.s.params.heartbeatMs;
  j.asked.add(to);
  unicast(core, to, { type: MsgType.JoinRequest, name: core.displayName, credential: j.credential, sentAt: now });
  emit(core, { type: 'join-progress', stage: 'waiting-admission', at: now });
}

export function joinTick(core: EngineCore, now: number): void {
  const j = core.join;
  if (!j) return;
  if (!j.certificate && now >= j.attemptAt) tryJoinContact(core, now);
  if (j.certificate) requestWantedKeys(core, now);
  if (j.certificate && j.wanted.size === 0) core.join = null;
}

/**
 * idToString of a participant ID, remembered per ID array: pidOf hands out one shared,
 * never-changed array per member, and a join compares the newcomer's ID with every member's.
 */
const pidStrings = new WeakMap<readonly number[], string>();
function pidString(id: readonly number[]): string {
  let s = pidStrings.get(id);
  if (s === undefined) pidStrings.set(id, (s = idToString(id)));
  return s;
}

export function onJoinRequest(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.JoinRequest }>, now: number): void {
  if (core.s.state !== 'member') {
    unicast(core, from, { type: MsgType.JoinRefused, reason: 'not a member yet' });
    return;
  }
  const refuse = (reason: string, code: RejectReason) => {
    unicast(core, from, { type: MsgType.JoinRefused, reason });
    throw new RemoteProtocolError(code, reason);
  };
  if (core.s.blocklist.includes(from)) refuse('this identity was excluded from the group', 'blocked');
  const pid = pidOf(core, from);
  const pidStr = pidString(pid);
  for (const key in core.s.roster) {
    if (key !== from && core.s.roster[key]!.state === 'member' && pidString(pidOf(core, key)) === pidStr) {
      refuse(`participant ID ${pidStr} is already used by another member`, 'id-collision');
    }
  }
  const decision = core.admission.check({ group: core.group, member: from, name: m.name, credential: m.credential }, now);
  if (!decision.ok) refuse(`admission refused: ${decision.reason}`, 'admission-refused');

  const known = core.s.roster[from];
  const admittedAt = known?.state === 'member' ? known.admittedAt : now;
  const certificate = certify(core, from, admittedAt);
  recordProof(core, from, { kind: 'certificate', certificate, name: m.name.slice(0, 64) });
  const wanted = [TEK_SLOT, ...slotsOf(pid, core.s.params.V)];
  const { grants, revisions } = grantKeys(core, from, wanted, now, false);
  if (!known || known.state !== 'member') {
    // One announcement carries the new members and the TEK revision step made for them;
    // admissions within a short window share it (a burst of joins costs one message).
    setRoster(core, from, { name: m.name.slice(0, 64), admittedAt, learnedAt: now, state: 'member' });
    core.announceQueue.push({ key: from, name: m.name.slice(0, 64), admittedAt });
    if (core.timers.get('announce') === null) core.timers.set('announce', now + Math.max(1, Math.min(250, Math.floor(core.s.params.heartbeatMs / 4))));
    emit(core, { type: 'member-admitted', member: from, by: core.self, name: m.name, at: now });
    addLog(core, now, 'join', `admitted ${m.name || short(from)} (${pidStr})`);
  } else if (revisions.length) publishControl(core, { type: MsgType.Revision, keys: revisions });
  const owners: OwnerInfo[] = [];
  for (const [slotStr, d] of Object.entries(core.s.slotDir)) {
    if (d.owner) owners.push({ slot: Number(slotStr), version: d.version, revision: d.revision, creators: d.creators, owner: d.owner });
  }
  // In roster order, as Object.entries lists it (no pair array per member: a join reads them all).
  const roster: RosterEntry[] = [];
  for (const key of Object.keys(core.s.roster)) {
    const r = core.s.roster[key]!;
    if (r.state === 'member') roster.push({ key, name: r.name, admittedAt: r.admittedAt });
  }
  unicast(core, from, {
    type: MsgType.Admit,
    groupName: core.s.groupName,
    params: core.s.params,
    roster,
    blocklist: core.s.blocklist,
    blocks: blockGrounds(core),
    tekCoverage: core.s.tek ? { version: core.s.tek.version, creators: core.s.tek.creators, members: core.s.tek.coverage ?? null } : null,
    owners,
    grants,
    certificate,
  });
}

/**
 * Hands `member` the keys it needs that this member owns (or that a silent owner
 * left behind), each stepped one revision first so the newcomer cannot read any
 * earlier traffic (003 [0064], backward secrecy).
 */
export function grantKeys(core: EngineCore, member: MemberKey, slots: number[], now: number, fallback: boolean): { grants: SealedKey[]; revisions: KeyInfo[] } {
  const grants: SealedKey[] = [];
  const pk = pairwise(core, member);
  if (!pk) return { grants, revisions: [] };
  const bumpedTek: KeyInfo[] = [];
  for (const slot of slots) {
    const held = heldKey(core, slot);
    if (!held) continue;
    const mayAnswer = held.owner === core.self || (fallback && !isOwnerAlive(core, slot, now));
    if (!mayAnswer) continue;
    // H2: a fallback answer takes the key's holder role, except the TEK for a non-admin under `admins`.
    if (fallback && held.owner !== core.self && (slot !== TEK_SLOT || mayOwnTek(core, core.self))) held.owner = core.self;
    stepHeld(core, held, held.revision + 1, now, `revision step for newcomer ${short(member)}`);
    if (slot === TEK_SLOT) bumpedTek.push(info(core, held));
    grants.push(seal(core, member, pk, held, 'grant'));
  }
  return { grants, revisions: bumpedTek };
}

export function onAdmit(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.Admit }>, now: number): void {
  ensure(core.s.state === 'joining' && core.join !== null, 'stale', 'admission while not joining');
  // A5: only a member this joiner asked may admit it (an outsider's Admit would pull it into a fake group).
  ensure(core.join.asked.has(from), 'not-authorized', 'admission from a peer this joiner did not ask');
  ensure(m.certificate.admitter === from, 'invalid', 'certificate not from its sender');
  ensure(m.certificate.member === core.self, 'invalid', 'certificate names another member');
  ensure(core.crypto.ed25519Verify(fromHex(from), certBody(core, from, core.self, m.certificate.admittedAt), m.certificate.signature), 'bad-signature', 'admission certificate signature does not verify');
  validateRemoteParams(m.params);
  for (const g of m.grants) checkGranter(core, from, g);
  const opened = m.grants.map((g) => ({ g, key: openSealed(core, from, g, 'grant') }));
  for (const { g } of opened) checkGrantFor(core, g);
  // Validated: apply in one step (STYLE §8).
  core.s.params = cloneParams(m.params);
  // A5: under `admins`, only an admin can have excluded an admin: a non-admin admitter's
  // word that an admin is blocked is not taken (the real table, if any, arrives by itself).
  const blocklist = mayOwnTek(core, from) ? m.blocklist : m.blocklist.filter((b) => !mayOwnTek(core, b));
  core.s.groupName = m.groupName;
  for (const r of m.roster) {
    if (!blocklist.includes(r.key)) setRoster(core, r.key, { name: r.name, admittedAt: r.admittedAt, state: 'member' });
  }
  setRoster(core, core.self, { name: core.displayName, admittedAt: m.certificate.admittedAt, state: 'member' });
  for (const b of blocklist) {
    if (!core.s.blocklist.includes(b)) core.s.blocklist.push(b);
    const r = core.s.roster[b];
    if (r) setRoster(core, b, { ...r, state: 'excluded' });
  }
  takeBlockGrounds(core, m.blocks ?? [], m.blocklist, blocklist, now);
  for (const o of m.owners) {
    core.s.slotDir[String(o.slot)] = { version: o.version, revision: o.revision, creators: sortedKeys(o.creators), owner: claimedOwner(core, o.slot, o.owner) };
    core.heardAt.set(o.slot, now);
  }
  core.s.admittedAt = m.certificate.admittedAt;
  core.join.certificate = m.certificate;
  core.join.coverage = m.tekCoverage ?? null;
  recordProof(core, core.self, { kind: 'certificate', certificate: m.certificate, name: core.displayName });
  core.lastSeen.set(from, now);
  for (const { g, key } of opened) installGrant(core, g, key, now, grantedCoverage(core, g));
  emit(core, { type: 'join-progress', stage: 'keys-received', at: now });
  addLog(core, now, 'join', `admitted by ${short(from)}`);
  // Ask the holders for every key still missing, and create slots nobody holds (003 [0062], [0066]).
  const need = [TEK_SLOT, ...slotsOf(core.selfId, core.s.params.V)];
  for (const slot of need) {
    if (heldKey(core, slot)) continue;
    const dir = core.s.slotDir[String(slot)];
    if (!dir || !dir.owner || core.s.blocklist.includes(dir.owner)) {
      if (slot === TEK_SLOT) core.join.wanted.set(slot, { asked: null, retryAt: now, tries: 0 });
      else createSlot(core, slot, now);
    } else {
      core.join.wanted.set(slot, { asked: null, retryAt: now, tries: 0 });
    }
  }
  requestWantedKeys(core, now);
  maybeJoined(core, now);
}

/** A grant of a KEK comes from a member whose ID selects that slot (H4): only such a member holds it. */
function checkGranter(core: EngineCore, from: MemberKey, g: SealedKey): void {
  ensure(selects(core, from, g.info.slot), 'not-authorized', `grant of ${slotName(g.info.slot, core.s.params.V)} from a member whose ID does not select it`);
}

export function checkGrantFor(core: EngineCore, g: SealedKey): void {
  const ok = g.info.slot === TEK_SLOT || slotsOf(core.selfId, core.s.params.V).includes(g.info.slot);
  ensure(ok, 'invalid', `granted ${slotName(g.info.slot, core.s.params.V)}, which this member does not hold`);
}

/**
 * The coverage of a granted TEK (§8.2 *Coverage*): the TEK held already (a higher revision of
 * it); else, when it is the TEK the Admit described, the admitter's coverage of it; else this
 * member's blocklist (installGrant prefers the blocklist of the table that made it, when read
 * here). Never the coverage of another TEK: a joiner granted the TEK of a table it had not read
 * kept its first TEK's, and held what it sent for good. Never the admitter's blocklist: in a
 * race it blocks members its TEK does not cover, and the joiner sent under a TEK an excluded
 * member read (review 22).
 */
function grantedCoverage(core: EngineCore, g: SealedKey): MemberKey[] {
  const creators = sortedKeys(g.info.creators);
  const is = (t: { version: number; creators: readonly MemberKey[] } | null | undefined) => !!t && t.version === g.info.version && sameCreators(sortedKeys([...t.creators]), creators);
  const tek = core.s.tek;
  if (is(tek) && tek!.coverage) return tek!.coverage;
  const admitted = core.join?.coverage;
  if (is(admitted) && admitted!.members) return admitted!.members;
  return core.s.blocklist;
}

export function installGrant(core: EngineCore, g: SealedKey, key: Uint8Array, now: number, coverage: MemberKey[]): void {
  const creators = sortedKeys(g.info.creators);
  const held: HeldKey = {
    slot: g.info.slot,
    version: g.info.version,
    creators,
    revision: g.info.revision,
    key,
    basedOn: g.basedOn,
    origin: creators.length > 1 ? { kind: 'merge', creators } : { kind: 'single', creator: creators[0]! },
    owner: claimedOwner(core, g.info.slot, g.owner),
  };
  const existing = heldKey(core, g.info.slot);
  if (existing && (existing.version > held.version || (existing.version === held.version && existing.revision >= held.revision && sameCreators(existing.creators, creators)))) return;
  if (g.info.slot === TEK_SLOT) {
    // The blocklist of the table that made this TEK when it was read here; else the one given.
    const made = tableThatMade(core, held.version, creators);
    held.coverage = made ? [...made.header.blocklist] : [...coverage];
    if (core.s.tek) retireTek(core, now);
    core.s.tek = held;
    recordTek(core, held, now);
  } else {
    core.s.keks = core.s.keks.filter((k) => k.slot !== g.info.slot);
    core.s.keks.push(held);
  }
  const dir = core.s.slotDir[String(g.info.slot)];
  if (!dir || dir.version < held.version || (dir.version === held.version && dir.revision < held.revision)) {
    core.s.slotDir[String(g.info.slot)] = { version: held.version, revision: held.revision, creators, owner: held.owner };
  }
  core.join?.wanted.delete(g.info.slot);
  keyChanged(core, g.info.slot, 'received', now);
}

export function createSlot(core: EngineCore, slot: number, now: number): void {
  const held: HeldKey = {
    slot,
    version: 1,
    creators: [core.self],
    revision: 0,
    key: core.rng(KEY_BYTES),
    basedOn: null,
    origin: { kind: 'single', creator: core.self },
    owner: core.self,
  };
  core.s.keks = core.s.keks.filter((k) => k.slot !== slot);
  core.s.keks.push(held);
  core.s.slotDir[String(slot)] = { version: 1, revision: 0, creators: [core.self], owner: core.self };
  addLog(core, now, 'create', `created ${slotName(slot, core.s.params.V)} (nobody held it) and holds it`);
  keyChanged(core, slot, 'created', now);
  if (core.timers.get('heartbeat') === null) core.timers.set('heartbeat', now);
}

export function requestWantedKeys(core: EngineCore, now: number): void {
  const j = core.join;
  if (!j || !j.certificate) return;
  const byOwner = new Map<MemberKey, number[]>();
  for (const [slot, w] of j.wanted) {
    if (w.retryAt > now) continue;
    const dir = core.s.slotDir[String(slot)];
    let to = dir?.owner && dir.owner !== core.self && !core.s.blocklist.includes(dir.owner) ? dir.owner : null;
    // After repeated silence, ask any member that may hold the key (fallback, 003 [0063]).
    if (w.tries >= core.s.params.failoverIntervals || !to) {
      const holders = possibleHolders(core, slot);
      if (holders.length === 0) {
        if (slot !== TEK_SLOT) {
          j.wanted.delete(slot);
          createSlot(core, slot, now);
        } else w.retryAt = now + 2 * core.s.params.heartbeatMs;
        continue;
      }
      to = holders[w.tries % holders.length]!;
    }
    w.asked = to;
    w.tries++;
    w.retryAt = now + 2 * core.s.params.heartbeatMs;
    const list = byOwner.get(to) ?? [];
    list.push(slot);
    byOwner.set(to, list);
  }
  for (const [to, slots] of byOwner) unicast(core, to, { type: MsgType.KeyRequest, slots, certificate: j.certificate });
}

export function onKeyRequest(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.KeyRequest }>, now: number): void {
  ensure(core.s.state === 'member', 'stale', 'key request while not a member');
  ensure(!core.s.blocklist.includes(from), 'blocked', 'key request from an excluded member');
  // A7: every key request carries its admission certificate, checked even for a member
  // this member already knows (a roster entry alone is an unauthenticated claim).
  verifyCertificate(core, m.certificate, from);
  recordProof(core, from, { kind: 'certificate', certificate: m.certificate, name: core.s.roster[from]?.name ?? '' });
  const theirSlots = new Set([TEK_SLOT, ...slotsOf(pidOf(core, from), core.s.params.V)]);
  for (const s of m.slots) ensure(theirSlots.has(s), 'not-authorized', `${slotName(s, core.s.params.V)} is not selected by the requester's ID`);
  // M1 holds here too: a certified newcomer whose announcement has not arrived enters the
  // roster only with a fresh admission time (keys are granted either way).
  if (!core.s.roster[from] && Math.abs(now - m.certificate.admittedAt) <= core.s.params.graceMs) {
    setRoster(core, from, { name: '', admittedAt: m.certificate.admittedAt, learnedAt: now, state: 'member' });
    // Every roster entry is told (the announcement that follows finds it known and stays
    // silent): a host saves roster changes at once and shows them (peer/group.ts).
    emit(core, { type: 'member-admitted', member: from, by: m.certificate.admitter, name: '', at: now });
  }
  core.lastSeen.set(from, now);
  const { grants, revisions } = grantKeys(core, from, m.slots, now, true);
  if (revisions.length) publishControl(core, { type: MsgType.Revision, keys: revisions });
  if (grants.length) unicast(core, from, { type: MsgType.KeyGrant, grants });
}

export function onKeyGrant(core: EngineCore, from: MemberKey, grants: SealedKey[], now: number): void {
  const j = core.join;
  ensure((core.s.state === 'joining' || core.s.state === 'member') && j?.certificate, 'stale', 'key grant while not requesting keys');
  // A8: a grant answers a KeyRequest: only the member asked for that slot may grant it.
  for (const g of grants) ensure(j.wanted.get(g.info.slot)?.asked === from, 'not-authorized', `grant of ${slotName(g.info.slot, core.s.params.V)} that was not asked of this sender`);
  for (const g of grants) checkGranter(core, from, g);
  const opened = grants.map((g) => ({ g, key: openSealed(core, from, g, 'grant') }));
  for (const { g } of opened) checkGrantFor(core, g);
  for (const { g, key } of opened) {
    const cur = heldKey(core, g.info.slot);
    if (cur && cur.version === g.info.version && sameCreators(cur.creators, sortedKeys(g.info.creators)) && cur.revision >= g.info.revision) {
      throw new RemoteProtocolError('replay', 'grant of a key already held');
    }
    installGrant(core, g, key, now, grantedCoverage(core, g));
  }
  maybeJoined(core, now);
}

export function onJoinRefused(core: EngineCore, from: MemberKey, reason: string, now: number): void {
  // A6: a refusal is only news to a joiner, and only from a contact it asked. A member never
  // drops its TEK or rejoins because someone says "not a member" (an unauthenticated claim).
  ensure(core.s.state === 'joining' && core.join && !core.join.certificate, 'stale', `refusal ("${reason.slice(0, 40)}") while not waiting for admission`);
  ensure(core.join.asked.has(from), 'not-authorized', 'refusal from a peer this joiner did not ask');
  emit(core, { type: 'join-refused', reason: `${short(from)}: ${reason}`, at: now });
  // Try the next contact after a pause; the user sees each refusal.
  core.join.attemptAt = now + 2 * core.s.params.heartbeatMs;
}

export function maybeJoined(core: EngineCore, now: number): void {
  if (core.s.state !== 'joining' || !core.s.tek) return;
  core.s.state = 'member';
  delete core.s.joining;
  core.timers.set('heartbeat', now);
  core.s.lastRevisionRefreshAt = now;
  core.s.lastVersionRefreshAt = now;
  emit(core, { type: 'joined', group: core.group, at: now });
  retryPendingData(core, now);
  const admitted = core.pendingAdmitted;
  core.pendingAdmitted = [];
  for (const a of admitted) {
    try {
      onMemberAdmitted(core, a.from, a.m, now);
    } catch (err) {
      if (err instanceof RemoteProtocolError) reject(core, a.from, err.reason, err.message, now);
      else throw err;
    }
  }
  replayPendingPanel(core, now);
}

/** Publishes the batched admissions with the TEK's current public state. */
export function flushAnnouncements(core: EngineCore, now: number): void {
  if (core.timers.due('reannounce', now)) {
    // The same newcomers once more, a few heartbeats later, for members that were not yet
    // listening the first time (other newcomers admitted at the same moment): no
    // revisions this time, and members that know them already skip them (M1).
    core.timers.stop('reannounce');
    const again = core.reannounceQueue.splice(0, 1000);
    if (again.length > 0) publishControl(core, { type: MsgType.MemberAdmitted, members: again, revisions: [], signature: core.crypto.ed25519Sign(core.seed, announceBody(core, again)) });
  }
  if (!core.timers.due('announce', now)) return;
  core.timers.stop('announce');
  const members = core.announceQueue.splice(0, 1000);
  if (members.length === 0) return;
  const tek = core.s.tek;
  const revisions = tek && tek.owner === core.self ? [info(core, tek)] : [];
  publishControl(core, { type: MsgType.MemberAdmitted, members, revisions, signature: core.crypto.ed25519Sign(core.seed, announceBody(core, members)) });
  core.reannounceQueue.push(...members);
  if (core.timers.get('reannounce') === null) core.timers.set('reannounce', now + 3 * core.s.params.heartbeatMs);
  if (core.announceQueue.length) core.timers.set('announce', now);
}

export function onMemberAdmitted(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.MemberAdmitted }>, now: number): void {
  if (core.s.state === 'joining') {
    // Another newcomer's admission may overtake our own Admit: keep it for after joining.
    if (core.pendingAdmitted.length < 512) core.pendingAdmitted.push({ from, m });
    return;
  }
  if (core.s.state !== 'member') return;
  ensure(core.s.roster[from]?.state === 'member', 'not-member', 'admission announced by a non-member');
  for (const k of m.revisions) checkInfo(core, k);
  for (const k of m.revisions) checkRevisionJump(core, k);
  // M1: the batch carries its admitter's signature over every newcomer and admission time,
  // checked once, and only if it names someone new to this member (a second announcement
  // of known members costs nothing); each new admission is fresh within the grace window.
  const fresh = m.members.filter((e) => core.s.roster[e.key]?.state !== 'member' && !core.s.blocklist.includes(e.key));
  if (fresh.length > 0) ensure(core.crypto.ed25519Verify(fromHex(from), announceBody(core, m.members), m.signature), 'bad-signature', `announcement of ${short(fresh[0]!.key)} without a valid admitter signature`);
  for (const e of fresh) {
    const known = core.s.roster[e.key];
    ensure(Math.abs(now - e.admittedAt) <= core.s.params.graceMs, 'replay', `admission of ${short(e.key)} at ${e.admittedAt} is not fresh`);
    ensure(!known || e.admittedAt > known.admittedAt, 'replay', `admission of ${short(e.key)} older than its departure`);
  }
  core.lastSeen.set(from, now);
  if (m.revisions.length) onRevision(core, from, m.revisions, now);
  // One proof object for the whole batch: it proves each of its members (roster-sync.ts saves it once).
  const proof = { kind: 'announcement' as const, admitter: from, members: m.members, signature: m.signature };
  for (const e of m.members) {
    // An excluded identity is never re-added by an announcement ([0075]).
    if (core.s.blocklist.includes(e.key)) continue;
    const known = core.s.roster[e.key];
    if (known?.state === 'member') {
      if (!known.name) setRoster(core, e.key, { ...known, name: e.name });
      continue;
    }
    setRoster(core, e.key, { name: e.name, admittedAt: e.admittedAt, learnedAt: now, state: 'member' });
    recordProof(core, e.key, proof);
    emit(core, { type: 'member-admitted', member: e.key, by: from, name: e.name, at: now });
    addLog(core, now, 'join', `${short(from)} admitted ${e.name || short(e.key)}`);
  }
}
