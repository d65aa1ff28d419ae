/**
 * @module core/engine/heartbeat
 * Soft state: each holder announces the keys it owns every heartbeat; members learn
 * owners, step revisions, notice newer versions (and fetch them), and decide which of
 * two holders of one key keeps the role (the lower key). A silent holder's key is
 * claimed after a random pause (election without flooding).
 *
 * A sealed control message this member cannot open (onUnopenedControl) gives the same
 * signal from its clear header alone: which TEK version someone is on (§14).
 *
 * Where a heartbeat supersedes another: learnOwnership. Seeds: 003 [0059]–[0060],
 * [0068]–[0069], [0085], claim 9. docs/protocol.md §4, §8.1, §8.4.
 */
import { MAX_PENDING_PER_SENDER, MAX_VERSION_AHEAD, addLog, checkInfo, cmpKey, fetchingTek, heartbeatIntervalMs, heldKey, heldKeys, info, isOwnerAlive, keyChanged, ownedKeys, randomBelow, scheduleFetch, scheduleFetchByTag, short, shortFetchDelay, tableCreators, wins, type EngineCore } from './context.js';
import { newJoin } from './join-state.js';
import { tellExcluded } from './exclusion.js';
import { publishControl } from './control-seal.js';
import { startMergeJoin, tryJoinContact } from './admission.js';
import { stepHeld } from './revision.js';
import { tableWillResolve } from './table-apply.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { TEK_SLOT, slotName } from '../params.js';
import { MsgType, type KeyInfo, type Message, type SealedControlMessage } from '../wire.js';
import { equalBytes } from '../bytes.js';
import { creatorsTag } from '../keys.js';

/** Sealed control messages a joiner keeps until it holds a TEK (the peer layer keeps its own copy too). */
export const MAX_PENDING_SEALED = 512;
/**
 * ...and their bytes, in all and per sender (review 44: 8 throwaway identities × 64 messages of
 * 512 KiB made a joiner hold 256 MiB; the peer layer's copy was bounded to 8 MiB, this one was not).
 */
export const MAX_PENDING_SEALED_BYTES = 8 * 1024 * 1024;
export const MAX_PENDING_SEALED_BYTES_PER_SENDER = 1024 * 1024;
import { sameCreators, sortedKeys } from '../state.js';
import { authorizeHeldKeys, mayOwnTek } from './authorization.js';
import { noteRosterCount } from './roster-sync.js';
import { noteContestedTek } from './rekey-triggers.js';

export function sendHeartbeat(core: EngineCore, now: number): void {
  const owned = ownedKeys(core);
  // The next one comes within the interval this heartbeat's roster count and keys announce (§4).
  core.timers.set('heartbeat', now + heartbeatIntervalMs(core.s.params.heartbeatMs, core.rosterSize, owned));
  if (owned.length === 0) return;
  const history = core.s.tekRecords
    .filter((r) => r.retiredAt !== null)
    .slice(-4)
    .map((r) => ({ slot: TEK_SLOT, version: r.version, revision: r.revision, creators: r.creators }));
  publishControl(core, {
    type: MsgType.Heartbeat,
    sentAt: now,
    keys: owned.map((k) => info(core, k)),
    history,
    blocklistCount: core.s.blocklist.length,
    rosterCount: core.rosterSize,
  });
  core.lastOwnHeartbeatAt = now;
}

/**
 * A sealed control message under a TEK this member does not keep (docs/protocol.md §14):
 * its clear header is the only thing read, and it says what a heartbeat's TEK said before.
 * - listening: someone already heads this group: join it (003 [0059], [0061]);
 * - joining without a TEK: kept (at most MAX_PENDING_PER_SENDER per sender, MAX_PENDING_SEALED in
 *   all, and MAX_PENDING_SEALED_BYTES[_PER_SENDER] in bytes; contacts and roster members first)
 *   and opened once a member;
 * - a member, from a member, naming a TEK version ahead of ours (at most MAX_VERSION_AHEAD)
 *   or a concurrent one: someone is ahead of us: find its table or fetch the TEK by tag
 *   (003 [0079], [0085] (b)/(d)); the message is kept and opened when our TEK changes; a fetch by
 *   tag alone is bounded per sender and holds failover back one round only (S1, scheduleFetchByTag);
 * - excluded: ignored (it reads nothing new);
 * - a member, from a non-member, within a listen-first creator's race window, naming a
 *   TEK that wins ours (its creators are known only when the tag is the sender's own):
 *   merge (H3, §8.3);
 * - anything else: a typed rejection, nothing changed.
 */
export function onUnopenedControl(core: EngineCore, from: MemberKey, env: SealedControlMessage, bytes: Uint8Array, now: number): void {
  const st = core.s.state;
  if (st === 'listening') {
    core.timers.stop('listen');
    core.s.state = 'joining';
    core.join = newJoin(new Uint8Array(0), [from], now);
    tryJoinContact(core, now);
    return;
  }
  if (st === 'joining' && !core.s.tek) {
    keepWhileJoining(core, from, bytes, now);
    return;
  }
  // An excluded member reads nothing new; that is no one's fault (it used to ignore heartbeats too).
  if (st === 'excluded') return;
  const tek = core.s.tek;
  ensure(st === 'member' && tek, 'unopenable-control', `sealed control message under TEK v${env.tekVersion} while ${st}`);
  const ownTag = equalBytes(env.tekTag, creatorsTag(core.crypto, [from]));
  if (core.s.roster[from] === undefined) {
    const racing = core.creationRaceUntil !== null && now <= core.creationRaceUntil;
    ensure(racing && ownTag && wins(core, { version: env.tekVersion, creators: [from] }, tek), 'not-member', 'control message from a peer that is not a member');
    startMergeJoin(core, from, now);
    return;
  }
  ensure(core.s.roster[from]?.state === 'member', 'not-member', 'control message under an unknown TEK from a non-member');
  // An older TEK made by a member blocked here: an admin sends the table that blocked it (§8.2).
  if (env.tekVersion < tek.version) noteContestedTek(core, from, env.tekVersion, env.tekTag, now);
  ensure(env.tekVersion >= tek.version, 'stale', `control message under TEK v${env.tekVersion}, no longer kept here`);
  ensure(env.tekVersion - tek.version <= MAX_VERSION_AHEAD, 'invalid', `TEK v${env.tekVersion} is more than ${MAX_VERSION_AHEAD} versions past ours`);
  core.lastSeen.set(from, now);
  // A current member on a TEK made by a member we blocked: two camps after chained exclusions (§8.2).
  noteContestedTek(core, from, env.tekVersion, env.tekTag, now);
  // Kept until our TEK changes (a table one version ahead opens once we read the one before it),
  // at most MAX_PENDING_PER_SENDER per sender, as D1 keeps data under unknown keys.
  if (roomForSealed(core, from, bytes.length) && core.pendingSealed.length < MAX_PENDING_SEALED) core.pendingSealed.push({ from, bytes, at: now });
  const table = [...core.tables.values()].find((t) => t.header.newVersion === env.tekVersion && equalBytes(creatorsTag(core.crypto, tableCreators(t.header)), env.tekTag));
  if (table) {
    const creators = tableCreators(table.header);
    if (wins(core, { version: env.tekVersion, creators }, tek) && !tableWillResolve(core, TEK_SLOT, env.tekVersion, creators)) {
      scheduleFetch(core, TEK_SLOT, env.tekVersion, creators, from, now, env.tekVersion > tek.version ? core.s.params.fetchAfterMs : shortFetchDelay(core));
    }
  } else scheduleFetchByTag(core, env.tekVersion, env.tekTag, from, now, env.tekVersion > tek.version ? core.s.params.fetchAfterMs : shortFetchDelay(core));
}

/**
 * S1: a joiner without a TEK keeps at most MAX_PENDING_PER_SENDER sealed messages per sender
 * (MAX_PENDING_SEALED in all), so one stranger's flood cannot push a member's announcement out;
 * when the buffer is full, a message from a contact or a roster member it knows of replaces the
 * oldest one from anyone else (a few strangers' keys cannot crowd the members out either).
 */
function keepWhileJoining(core: EngineCore, from: MemberKey, bytes: Uint8Array, now: number): void {
  if (!roomForSealed(core, from, bytes.length, true)) return;
  const full = () => core.pendingSealed.length >= MAX_PENDING_SEALED || sealedBytes(core) + bytes.length > MAX_PENDING_SEALED_BYTES;
  if (full()) {
    const known = (k: MemberKey) => core.s.roster[k] !== undefined || (core.join?.contacts.includes(k) ?? false);
    if (!known(from)) return;
    while (full()) {
      const stranger = core.pendingSealed.findIndex((p) => !known(p.from));
      if (stranger < 0) return;
      core.pendingSealed.splice(stranger, 1);
    }
  }
  core.pendingSealed.push({ from, bytes, at: now });
}

function sealedBytes(core: EngineCore, from?: MemberKey): number {
  let n = 0;
  for (const p of core.pendingSealed) if (from === undefined || p.from === from) n += p.bytes.length;
  return n;
}

/**
 * Whether `from` may have one more sealed message of `size` bytes kept: within its share in count
 * and bytes, and (unless `evicting`: the joiner makes room below) within the bytes of all.
 */
function roomForSealed(core: EngineCore, from: MemberKey, size: number, evicting = false): boolean {
  let count = 0;
  for (const p of core.pendingSealed) if (p.from === from) count++;
  if (count >= MAX_PENDING_PER_SENDER || sealedBytes(core, from) + size > MAX_PENDING_SEALED_BYTES_PER_SENDER) return false;
  return evicting || sealedBytes(core) + size <= MAX_PENDING_SEALED_BYTES;
}


export function onHeartbeat(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.Heartbeat }>, now: number): void {
  const last = core.lastHeartbeatSentAt.get(from);
  ensure(last === undefined || m.sentAt > last, 'replay', 'heartbeat not newer than the last one from this sender');
  if (core.s.blocklist.includes(from)) tellExcluded(core, from, now);
  ensure(!core.s.blocklist.includes(from), 'blocked', 'heartbeat from an excluded member');
  for (const k of m.keys) checkInfo(core, k);
  for (const k of m.history) checkInfo(core, k);
  if (core.s.state === 'listening') {
    // Someone already heads this group: join it instead of creating (003 [0059], [0061]).
    core.lastHeartbeatSentAt.set(from, m.sentAt);
    if (m.keys.some((k) => k.slot === TEK_SLOT)) {
      core.timers.stop('listen');
      core.s.state = 'joining';
      core.join = newJoin(new Uint8Array(0), [from], now);
      tryJoinContact(core, now);
    }
    return;
  }
  if (core.s.state !== 'member' && core.s.state !== 'joining') return;
  if (core.s.state === 'member' && core.s.roster[from] === undefined) {
    // A holder from another instance of this group (a creation race, 003 [0060]): if
    // its TEK wins, join it through a unicast admission; otherwise it will join us.
    // H3: only a listen-first creator, in the first moments of its instance, merges so;
    // afterwards a heartbeat from a non-member is only that (docs/protocol.md §8.3).
    const racing = core.creationRaceUntil !== null && now <= core.creationRaceUntil;
    ensure(racing, 'not-member', 'heartbeat from a peer that is not a member');
    const theirs = m.keys.find((k) => k.slot === TEK_SLOT);
    ensure(theirs && core.s.tek && wins(core, { version: theirs.version, creators: sortedKeys(theirs.creators) }, core.s.tek), 'not-member', 'heartbeat from a peer that is not a member');
    core.lastHeartbeatSentAt.set(from, m.sentAt);
    startMergeJoin(core, from, now);
    return;
  }
  authorizeHeldKeys(core, from, m.keys);
  core.lastHeartbeatSentAt.set(from, m.sentAt);
  core.heartbeatRoster.set(from, m.rosterCount);
  core.lastSeen.set(from, now);
  for (const k of m.keys) learnOwnership(core, from, k, now);
  if (core.s.state !== 'member') return;
  noteRosterCount(core, from, m.rosterCount, now);
  if (m.blocklistCount > core.s.blocklist.length && core.s.tek) {
    // The sender knows of an exclusion we missed: fetch the current TEK and its table (003 [0039], [0079]).
    // Give tables in flight half a heartbeat to arrive first (concurrent exclusions).
    const tk = m.keys.find((k) => k.slot === TEK_SLOT) ?? m.history[m.history.length - 1];
    if (tk && tk.version > core.s.tek.version) scheduleFetch(core, TEK_SLOT, tk.version, tk.creators, from, now, shortFetchDelay(core));
    // The sender names no newer TEK (under `admins` a non-admin's table leaves the TEK with
    // no holder to announce it): ask it for whatever TEK newer than ours it has (F2 checks it).
    else scheduleFetch(core, TEK_SLOT, core.s.tek.version + 1, [], from, now, shortFetchDelay(core));
  }
}

/** A holder announced a key it owns: update the directory, step revisions, detect superseding (003 [0085]). */
export function learnOwnership(core: EngineCore, from: MemberKey, k: KeyInfo, now: number): void {
  const dir = core.s.slotDir[k.slot];
  // Fast path: the steady state, where a holder repeats what we already know (003 [0059]).
  if (dir && dir.owner === from && dir.version === k.version && dir.revision === k.revision && sameCreators(dir.creators, k.creators)) {
    core.heardAt.set(k.slot, now);
    if (k.slot !== TEK_SLOT && core.selfId[Math.floor((k.slot - 1) / core.s.params.V)] !== (k.slot - 1) % core.s.params.V) return;
    const held = heldKey(core, k.slot);
    // The held key must be the announced one (creators too): a member whose own TEK lost a tie
    // handed its owner role to the winner's holder, and must still fetch the winner (§8.1).
    if (!held || (held.version === k.version && held.revision === k.revision && held.owner === from && sameCreators(held.creators, k.creators))) return;
  }
  const creators = sortedKeys(k.creators);
  const newer = !dir || wins(core, { version: k.version, creators }, dir) || (k.version === dir.version && sameCreators(creators, dir.creators) && k.revision >= dir.revision);
  const sameKeyOtherOwner = dir && k.version === dir.version && sameCreators(creators, dir.creators) && k.revision === dir.revision && dir.owner !== from;
  if (newer) {
    if (sameKeyOtherOwner && dir.owner !== null && cmpKey(dir.owner, from) < 0 && isOwnerAlive(core, k.slot, now)) {
      // Two holders announce the same key: the lower key keeps the role (003 [0069]).
    } else {
      core.s.slotDir[k.slot] = { version: k.version, revision: k.revision, creators, owner: from };
      core.heardAt.set(k.slot, now);
      core.claims.delete(k.slot);
    }
  } else if (dir && dir.owner === from) {
    core.heardAt.set(k.slot, now);
  }
  const held = heldKey(core, k.slot);
  if (!held || core.s.state !== 'member') return;
  if (k.version === held.version && sameCreators(creators, held.creators)) {
    if (k.revision > held.revision) stepHeld(core, held, k.revision, now, 'revision announced by its holder');
    if (held.owner === core.self && from !== core.self) {
      // (a) a newer revision, or the same key announced by a lower-keyed holder: stop heartbeating it.
      if (k.revision > held.revision || cmpKey(from, core.self) < 0) {
        held.owner = from;
        addLog(core, now, 'failover', `${slotName(k.slot, core.s.params.V)}: ${short(from)} keeps the holder role`);
      }
    } else if (held.owner !== from && core.s.slotDir[k.slot]?.owner === from) {
      held.owner = from;
    }
  } else if (wins(core, { version: k.version, creators }, held)) {
    // (b) a newer version, or (d) a concurrent one that wins the tie: find its table or fetch it.
    if (!tableWillResolve(core, k.slot, k.version, creators)) scheduleFetch(core, k.slot, k.version, creators, from, now, k.version > held.version ? core.s.params.fetchAfterMs : shortFetchDelay(core));
    if (held.owner === core.self) held.owner = from;
  }
}

export function failoverTick(core: EngineCore, now: number): void {
  // One heartbeat for every key taken over in this tick: a second one at the same `now` would be dropped as a replay.
  let tookOver = false;
  for (const k of heldKeys(core)) {
    // H2: under the admins policy a non-admin never takes the TEK over.
    if (k.owner === core.self || (k.slot === TEK_SLOT && !mayOwnTek(core, core.self))) {
      core.claims.delete(k.slot);
      continue;
    }
    const dir = core.s.slotDir[String(k.slot)];
    const sameKey = dir && dir.version === k.version && sameCreators(dir.creators, k.creators);
    // A sealed message under a TEK we lack (onUnopenedControl) says we are behind without updating the
    // directory; nothing vouches for such a header, so its fetch holds a claim back one round only (S1).
    if ((dir && !sameKey) || (k.slot === TEK_SLOT && fetchingTek(core, now))) {
      // We are behind on this key: the fetch brings it; never claim a stale key.
      core.claims.delete(k.slot);
      continue;
    }
    if (!core.heardAt.has(k.slot)) core.heardAt.set(k.slot, now);
    if (isOwnerAlive(core, k.slot, now)) {
      core.claims.delete(k.slot);
      continue;
    }
    const claimAt = core.claims.get(k.slot);
    if (claimAt === undefined) {
      // Election without flooding: claim after a random pause; a lower-keyed claimant's heartbeat wins (003 [0068]).
      core.claims.set(k.slot, now + 1 + randomBelow(core, core.s.params.heartbeatMs));
    } else if (now >= claimAt) {
      core.claims.delete(k.slot);
      const previous = k.owner;
      k.owner = core.self;
      core.s.slotDir[String(k.slot)] = { version: k.version, revision: k.revision, creators: k.creators, owner: core.self };
      addLog(core, now, 'failover', `took over ${slotName(k.slot, core.s.params.V)} from silent holder ${previous ? short(previous) : 'none'}`);
      keyChanged(core, k.slot, 'failover', now);
      tookOver = true;
    }
  }
  if (tookOver) sendHeartbeat(core, now);
}
