/**
 * @module core/engine/fetch
 * Unicast catch-up of keys (003 [0079], [0040]): a member that sees a newer key it
 * cannot read asks a member who has it; the answer is sealed pairwise and, for a TEK,
 * carries the table it came from: its signed header and only the requester's entries
 * (tables.ts tableMessageFor). Fetches retry with other possible holders.
 *
 * Invariants: a fetched TEK' for a known table must match the table's commitment;
 * only members are answered, and only for slots the requester's ID selects.
 * docs/protocol.md §7.4.
 */
import { MAX_REVISION_JUMP, addLog, heldKey, keyChanged, pidOf, possibleHolders, refuseNonMember, sendFetchRequest, short, tableCreators, tableThatMade, unicast, wins, type EngineCore } from './context.js';
import { pairwise, seal, sealAad } from './sealing.js';
import { commitTek, relayable, tableMessageFor } from './tables.js';
import { progressTable } from './exclusion.js';
import { scheduleReseal } from './table-apply.js';
import { recordTek, retireTek, retryPendingData } from './tek-records.js';
import { flushHeldOutgoing } from './data.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { equalBytes } from '../bytes.js';
import { TEK_SLOT, slotName, slotsOf } from '../params.js';
import { KEY_BYTES, advanceRevision, creatorsTag } from '../keys.js';
import { MsgType, type Message, type SealedKey } from '../wire.js';
import { sameCreators, sortedKeys, type HeldKey } from '../state.js';
import { claimedOwner, omittedBaseExclusion, selects } from './authorization.js';

/** A fetch stops after this many requests (§7.4). */
const MAX_FETCH_TRIES = 9;

export function fetchTick(core: EngineCore, now: number): void {
  for (const [id, f] of core.fetches) {
    if (now < f.at) continue;
    const target = core.fetchTargets.get(id)!;
    const held = heldKey(core, target.slot);
    // An empty creator list asks for any version from target.version on.
    const anyCreators = equalBytes(target.tag, creatorsTag(core.crypto, []));
    const satisfied =
      held && (held.version > target.version || (held.version === target.version && (anyCreators || equalBytes(creatorsTag(core.crypto, held.creators), target.tag))));
    // §8.1: what we hold already wins the tie against the wanted version (it lost a race
    // since the fetch was scheduled): no reply could replace it, so stop asking.
    const outranked = held && !satisfied && target.creators !== undefined && target.creators.length > 0 && held.version === target.version && !wins(core, { version: target.version, creators: target.creators }, held);
    // §7.4: at most MAX_FETCH_TRIES requests. Counted apart from `tried`: with fewer possible
    // holders than that, the sender that named the key is asked again, and `tried` stops growing.
    if (satisfied || outranked || f.tries >= MAX_FETCH_TRIES) {
      core.fetches.delete(id);
      core.fetchTargets.delete(id);
      continue;
    }
    const to = f.tried.has(target.from) ? (possibleHolders(core, target.slot).find((m) => !f.tried.has(m)) ?? target.from) : target.from;
    f.tried.add(to);
    f.tries++;
    f.at = now + core.s.params.fetchAfterMs;
    sendFetchRequest(core, to, target.slot, target.version, target.tag);
  }
}

export function onFetchRequest(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.FetchRequest }>, now: number): void {
  ensure(core.s.state === 'member', 'stale', 'fetch while not a member');
  refuseNonMember(core, from, 'fetch');
  const p = core.s.params;
  ensure(m.slot <= p.V * p.W, 'invalid', `slot ${m.slot} outside the table`);
  ensure(m.slot === TEK_SLOT || slotsOf(pidOf(core, from), p.V).includes(m.slot), 'not-authorized', `${slotName(m.slot, p.V)} is not selected by the requester's ID`);
  core.lastSeen.set(from, now);
  const held = heldKey(core, m.slot);
  const pk = pairwise(core, from);
  let table: Uint8Array | null = null;
  let answer = held;
  if (m.slot === TEK_SLOT && held) {
    // The table that made the TEK held (its creators), applied here or not: a member that
    // adopted the TEK by fetch, its table unapplied (its base was not ours), answers with it
    // too; before, only the table's appliers could, and an asker that lacked the table
    // refused every other member's reply (review 7: ~12 s behind after four exclusions).
    const t = [...core.tables.values()].find((x) => x.header.newVersion === held.version && x.tekPrime !== null && sameCreators(tableCreators(x.header), held.creators));
    if (t && relayable(core, t)) {
      table = tableMessageFor(core, t, from);
      // F2: the TEK goes out at revision 0 with its table, so the asker can check it against
      // the table's commitment (it steps the revision itself, from heartbeats and data).
      if (t.tekPrime) answer = { ...held, revision: 0, key: t.tekPrime };
    }
  }
  const sealed = answer && pk && answer.version >= m.version ? seal(core, from, pk, answer, 'fetch') : null;
  unicast(core, from, { type: MsgType.FetchReply, table, key: sealed });
}

/** Checks a fetch reply and opens its key (null: it carries none). The gate then takes its table, then calls installFetched. */
export function openFetchReply(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.FetchReply }>): Uint8Array | null {
  ensure(core.s.state === 'member', 'stale', 'fetch reply while not a member');
  // F2: a reply answers a request this member sent to this member; each request is answered once.
  const asked = core.fetchAsked.get(from) ?? 0;
  ensure(asked > 0, 'not-authorized', 'fetch reply that answers no request to this sender');
  if (asked > 1) core.fetchAsked.set(from, asked - 1);
  else core.fetchAsked.delete(from);
  if (!m.key) return null;
  const slot = m.key.info.slot;
  ensure(slot === TEK_SLOT || slotsOf(core.selfId, core.s.params.V).includes(slot), 'invalid', 'fetched a key this member does not hold');
  const key = core.crypto.open(pairwise(core, from) ?? new Uint8Array(32), m.key.nonce, m.key.sealed, sealAad(core, 'fetch', core.self, m.key.info));
  ensure(key && key.length === KEY_BYTES, 'decrypt-failed', 'fetched key does not open');
  return key;
}

/** Installs a fetched key that wins over the one held, or completes a table's TEK' with it (003 [0079]). */
export function installFetched(core: EngineCore, from: MemberKey, sealed: SealedKey, key: Uint8Array, now: number): void {
  if (core.s.state !== 'member') return;
  const m = { key: sealed };
  const info = m.key.info;
  const creators = sortedKeys(info.creators);
  const cur = heldKey(core, info.slot);
  if (info.slot === TEK_SLOT) {
    // F2: a TEK comes with the signed, authorized table that commits to it (the reply's
    // own table went through the gate just before), or is a revision step of ours.
    const t = tableThatMade(core, info.version, creators);
    // T1 at every install: a TEK whose table a member blocked here made is never taken, fetched or not (review 5).
    ensure(!t || !core.s.blocklist.includes(t.header.excluder), 'blocked', `fetched TEK v${info.version} was made by an excluded member`);
    ensure(!t || omittedBaseExclusion(core, t.header) === null, 'invalid', `fetched TEK v${info.version}: its table omits an exclusion its base covers`);
    const committed = t !== undefined && info.revision === 0 && equalBytes(commitTek(core, t.header, key), t.header.tekCommitment);
    if (t && !t.tekPrime && committed) {
      t.tekPrime = key;
      t.fetched = true;
      progressTable(core, t, now);
      // A table on a base this member does not hold is not applied: the TEK it commits to is
      // adopted below if it wins, as when TEK' was read from the table (review 7).
      if (t.applied) return;
    }
    const sameKey = cur && cur.version === info.version && sameCreators(cur.creators, creators);
    const stepOfOurs = sameKey && info.revision > cur.revision && info.revision - cur.revision <= MAX_REVISION_JUMP && equalBytes(advanceRevision(core.crypto, cur.key, cur.revision, info.revision), key);
    // A table whose TEK' this member read (a sibling of ours that lost here, or one whose base
    // it lacks) commits to the key at every revision: step the committed TEK' and compare.
    const readCommitted = t !== undefined && t.tekPrime !== null && info.revision <= MAX_REVISION_JUMP && equalBytes(advanceRevision(core.crypto, t.tekPrime, 0, info.revision), key);
    ensure(committed || stepOfOurs || readCommitted, 'not-authorized', `fetched TEK v${info.version} matches no table this member read`);
  } else {
    // F2: a KEK version this member learned from its holder's heartbeat or from a table that replaces the slot.
    // H4: only a member whose ID selects the slot holds that KEK, so only it can hand it over.
    ensure(selects(core, from, info.slot), 'not-authorized', `${slotName(info.slot, core.s.params.V)} from a member whose ID does not select it`);
    const dir = core.s.slotDir[String(info.slot)];
    const announced = dir !== undefined && dir.version === info.version && sameCreators(dir.creators, creators) && dir.owner !== null && selects(core, dir.owner, info.slot);
    const replaced = [...core.tables.values()].some((t) => t.header.replaced.some((r) => r.slot === info.slot && r.version + 1 === info.version) && sameCreators([t.header.excluder], creators));
    ensure(announced || replaced, 'not-authorized', `fetched ${slotName(info.slot, core.s.params.V)} v${info.version} was never announced`);
  }
  const better = !cur || wins(core, { version: info.version, creators }, cur) || (info.version === cur.version && sameCreators(cur.creators, creators) && info.revision > cur.revision);
  if (!better) return;
  const held: HeldKey = {
    slot: info.slot,
    version: info.version,
    creators,
    revision: info.revision,
    key,
    basedOn: m.key.basedOn,
    origin: creators.length > 1 ? { kind: 'merge', creators } : { kind: 'single', creator: creators[0]! },
    owner: claimedOwner(core, info.slot, m.key.owner),
  };
  if (info.slot === TEK_SLOT) {
    // The coverage of the table that made this very TEK, not of a sibling of the same version (review 5).
    const t = tableThatMade(core, info.version, creators);
    const ours = cur && cur.version === info.version && sameCreators(cur.creators, creators) ? cur.coverage : undefined;
    held.coverage = t ? [...t.header.blocklist] : ours ? [...ours] : [...core.s.blocklist];
    retireTek(core, now);
    core.s.tek = held;
    recordTek(core, held, now);
  } else {
    core.s.keks = core.s.keks.filter((k) => k.slot !== info.slot);
    core.s.keks.push(held);
  }
  core.s.slotDir[String(info.slot)] = { version: info.version, revision: info.revision, creators, owner: held.owner };
  core.heardAt.set(info.slot, now);
  addLog(core, now, 'merge', `${slotName(info.slot, core.s.params.V)}: adopted v${info.version} by ${creators.map(short).join('+')} from ${short(from)}`);
  keyChanged(core, info.slot, `fetched from ${short(from)}`, now);
  if (info.slot === TEK_SLOT) {
    retryPendingData(core, now);
    flushHeldOutgoing(core, now);
    // As at a table's install: a fetched TEK that misses some of our exclusions is resealed (review 6).
    scheduleReseal(core, now);
  }
}
