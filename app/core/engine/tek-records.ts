/**
 * @module core/engine/tek-records
 * The TEKs this member can still read with: the current one at its latest revision,
 * earlier revisions and versions until the grace window after they were superseded,
 * and data packets waiting for a key that has not arrived yet.
 *
 * Invariants: a superseded key is erased `graceMs` after it stopped being current
 * (003 [0071]); a revision is only ever stepped forward through the one-way function
 * (003 [0056]); the pending-data buffer is bounded (MAX_PENDING_DATA); a buffered
 * packet never counts as seen (only an identical copy of it is refused, data.ts), one
 * read from it counts as seen from its delivery, and the copies with its sender and
 * nonce leave the buffer then (they can never be delivered).
 * docs/protocol.md §5 (join revisions) and §6 (data).
 */
import { MAX_REVISION_JUMP, emit, type EngineCore } from './context.js';
import { equalBytes, toHex } from '../bytes.js';
import { advanceRevision, creatorsTag, dataKey } from '../keys.js';
import { dataAad, type MsgType, type Message } from '../wire.js';
import { sameCreators, sortedKeys, type HeldKey, type TekRecord } from '../state.js';
import type { DataPacket, MemberKey } from '../types.js';

/** The kept record of a TEK version named by (version, creators tag), as packet and control headers name it. */
export function findTekRecord(core: EngineCore, version: number, tag: Uint8Array): TekRecord | undefined {
  return core.s.tekRecords.find((r) => r.version === version && equalBytes(tagOf(core, r.creators), tag));
}

/** Creators tags, computed once per creators list (records keep theirs). */
const tags = new WeakMap<readonly string[], Uint8Array>();
function tagOf(core: EngineCore, creators: readonly string[]): Uint8Array {
  let t = tags.get(creators);
  if (!t) tags.set(creators, (t = creatorsTag(core.crypto, creators)));
  return t;
}

/**
 * A kept TEK at `revision`: stepped forward from the record (at most MAX_REVISION_JUMP steps,
 * else 'failed'), or from an earlier revision still kept for the grace window (else 'too-old').
 */
export function tekAtRevision(core: EngineCore, rec: TekRecord, revision: number): Uint8Array | 'failed' | 'too-old' {
  if (revision >= rec.revision) {
    if (revision - rec.revision > MAX_REVISION_JUMP) return 'failed';
    const key = advanceRevision(core.crypto, rec.key, rec.revision, revision);
    // The usual case: a control message sealed one join ahead, whose step the member takes next.
    if (revision > rec.revision) core.lastStep = { from: rec.key, fromRevision: rec.revision, toRevision: revision, key };
    return key;
  }
  const older = rec.older.filter((o) => o.revision <= revision).sort((a, b) => b.revision - a.revision)[0];
  if (!older) return 'too-old';
  return advanceRevision(core.crypto, older.key, older.revision, revision);
}

/**
 * `key` at revision `from` stepped to `to`: the step tekAtRevision just took from the same
 * key object (opening a message sealed at the next revision) is taken over, not hashed again.
 * Taken once: the memo is cleared, so the result has a single owner (erasure stays per key).
 */
export function advanceHeld(core: EngineCore, key: Uint8Array, from: number, to: number): Uint8Array {
  const m = core.lastStep;
  core.lastStep = null;
  if (m && m.from === key && m.fromRevision === from && m.toRevision === to) return m.key;
  return advanceRevision(core.crypto, key, from, to);
}

/** Opens a data packet with the TEK record it names; changes nothing. */
export function openData(core: EngineCore, m: Extract<Message, { type: typeof MsgType.Data }>, maxJump = MAX_REVISION_JUMP): { pt: 'unknown' | 'failed' | 'too-old' } | { pt: Uint8Array; rec: TekRecord; key: Uint8Array } {
  const rec = findTekRecord(core, m.tekVersion, m.tekTag);
  if (!rec) return { pt: 'unknown' };
  // D1: a non-member's packet steps the TEK at most `maxJump` revisions before it must open (data.ts).
  if (m.revision - rec.revision > maxJump) return { pt: 'failed' };
  const key = tekAtRevision(core, rec, m.revision);
  if (!(key instanceof Uint8Array)) return { pt: key };
  const pt = core.crypto.open(dataKeyOf(core, key), m.nonce, m.ciphertext, dataAad(core.groupBytes, m));
  return pt ? { pt, rec, key } : { pt: 'failed' };
}

/**
 * Opens a data packet; one at a later revision of the current TEK moves this member's revision
 * there (a join happened, 003 [0070]), a copy a catch-up server brought too: a member back from
 * a join it missed must send at the revision the others hold (review 45: one that did not move
 * sent at the old one, erased there, and its message was lost). An insider can move everyone's
 * revision live anyway; what made its served step harmful was the nonce it shadowed (seenBefore).
 */
export function decryptData(core: EngineCore, m: Extract<Message, { type: typeof MsgType.Data }>, now: number, maxJump = MAX_REVISION_JUMP): Uint8Array | 'unknown' | 'failed' | 'too-old' {
  const opened = openData(core, m, maxJump);
  if (!('rec' in opened)) return opened.pt;
  const { pt, rec, key } = opened;
  // A packet at a later revision of our current TEK tells us a join happened (003 [0070]).
  const tek = core.s.tek;
  if (tek && tek.version === m.tekVersion && sameCreators(tek.creators, rec.creators) && m.revision > tek.revision) {
    tek.key = key;
    tek.revision = m.revision;
    // The superseded revision stays readable for a grace window from now (review 44: -1 here made
    // it expire at 1970 + graceMs, erased at the next beat on a real clock).
    recordTek(core, tek, now);
  }
  return pt;
}

/** Control keys derived from superseded TEKs go with them (003 [0071]). */
export function dropControlKeys(core: EngineCore): void {
  for (const k of core.controlKeys.values()) k.fill(0);
  core.controlKeys.clear();
}

export function dataKeyOf(core: EngineCore, tek: Uint8Array): Uint8Array {
  if (core.dataKeyCache && equalBytes(core.dataKeyCache.key, tek)) return core.dataKeyCache.derived;
  const derived = dataKey(core.crypto, tek);
  core.dataKeyCache = { key: tek, derived };
  return derived;
}

export function retryPendingData(core: EngineCore, now: number): void {
  if (core.pendingData.length === 0 || core.s.state !== 'member') return;
  const still: typeof core.pendingData = [];
  for (const p of core.pendingData) {
    // Another copy with its sender and nonce was delivered meanwhile: a replay (or a forgery).
    if (seenBefore(core, p.from, p.msg)) continue;
    const r = decryptData(core, p.msg, now);
    if (r === 'unknown') still.push(p);
    else if (r instanceof Uint8Array) {
      // A replay for the grace window from its delivery, not from when it was buffered.
      markDelivered(core, p.from, p.msg, p.via, now);
      emit(core, { type: 'data', from: p.from, payload: r, sentAt: p.msg.sentAt, tekVersion: p.msg.tekVersion, at: now, packet: p.msg });
    } else dropPending(core, p, now);
  }
  core.pendingData = still;
}

type PendingData = EngineCore['pendingData'][number];

/**
 * A buffered packet leaves unopened: `undecryptable`. Its nonce was never counted as
 * seen (only delivery does that), so a copy sent again (reconciliation, issue 19) is
 * read, not refused as a replay; it was never delivered, so nothing is delivered twice.
 */
export function dropPending(core: EngineCore, p: PendingData, now: number): void {
  emit(core, { type: 'undecryptable', from: p.from, sentAt: p.msg.sentAt, tekVersion: p.msg.tekVersion, at: now });
}

/**
 * Buffered copies of a packet just delivered (same sender and nonce) can never be delivered: they
 * leave, and free their sender's share. After a copy a catch-up server brought (`relayed`), only
 * copies identical to it: another with its nonce may be the genuine one (review 44).
 */
export function forgetCopies(core: EngineCore, from: MemberKey, m: DataPacket, relayed: boolean): void {
  const copy = (p: PendingData) => p.from === from && (relayed ? samePacket(p.msg, m) : equalBytes(p.msg.nonce, m.nonce));
  if (!core.pendingData.some(copy)) return;
  core.pendingData = core.pendingData.filter((p) => !copy(p));
}

/**
 * Whether a copy of this packet was delivered within the replay window: live, any copy with its
 * sender and nonce; brought by a catch-up server, only one with these very bytes (an insider holds
 * the TEK, and could otherwise seal its own payload under a genuine packet's nonce, in its
 * author's name, and make the genuine packet a replay: review 44).
 */
export function seenBefore(core: EngineCore, from: MemberKey, m: DataPacket): boolean {
  const nonceId = dataNonceId(from, m.nonce);
  if (core.seenNonces.has(nonceId)) return true;
  return core.relayedNonces.has(nonceId) && core.seenNonces.has(relayedCopyId(core, nonceId, m));
}

/** Counts a packet as delivered for the replay window (`seenBefore`); `via`: the catch-up server that brought it. */
export function markDelivered(core: EngineCore, from: MemberKey, m: DataPacket, via: MemberKey | null, now: number): void {
  const nonceId = dataNonceId(from, m.nonce);
  if (via === null) {
    core.seenNonces.set(nonceId, now);
    return;
  }
  core.seenNonces.set(relayedCopyId(core, nonceId, m), now);
  core.relayedNonces.set(nonceId, now);
}

/**
 * A delivered data packet's key in `seenNonces` (the replay window): its sender and nonce, so no
 * other copy is delivered whatever its bytes. A copy a catch-up server brought is seen by its
 * bytes as well (`relayedCopyId`).
 */
function dataNonceId(from: MemberKey, nonce: Uint8Array): string {
  return `${from}:${toHex(nonce)}`;
}

function relayedCopyId(core: EngineCore, nonceId: string, m: DataPacket): string {
  return `${nonceId}#${toHex(core.crypto.sha256(m.ciphertext))}`;
}

/** Two data packets identical byte for byte (every header field the AAD covers, and the ciphertext). */
export function samePacket(a: DataPacket, b: DataPacket): boolean {
  return (
    equalBytes(a.nonce, b.nonce) &&
    a.tekVersion === b.tekVersion &&
    a.revision === b.revision &&
    a.sentAt === b.sentAt &&
    equalBytes(a.tekTag, b.tekTag) &&
    equalBytes(a.senderId, b.senderId) &&
    equalBytes(a.ciphertext, b.ciphertext)
  );
}

/** Keeps the TEK's current revision readable; earlier revisions and versions expire after the grace window. */
export function recordTek(core: EngineCore, tek: HeldKey, now: number): void {
  let rec = core.s.tekRecords.find((r) => r.version === tek.version && sameCreators(r.creators, tek.creators));
  if (!rec) {
    rec = { version: tek.version, creators: [...tek.creators], revision: tek.revision, key: tek.key, older: [], retiredAt: null };
    core.s.tekRecords.push(rec);
    return;
  }
  if (tek.revision > rec.revision) {
    // Superseded revisions stay derivable from the oldest one kept, until a grace
    // window after the latest step (003 [0071]); one entry suffices for all of them.
    const until = (now < 0 ? 0 : now) + core.s.params.graceMs;
    const oldest = rec.older[0];
    if (oldest) oldest.until = Math.max(oldest.until, until);
    else rec.older.push({ revision: rec.revision, key: rec.key, until });
    rec.revision = tek.revision;
    rec.key = tek.key;
  }
}

export function retireTek(core: EngineCore, now: number): void {
  const t = core.s.tek;
  if (!t) return;
  const rec = core.s.tekRecords.find((r) => r.version === t.version && sameCreators(r.creators, t.creators));
  if (rec && rec.retiredAt === null) rec.retiredAt = now;
}

export function expiryAt(core: EngineCore): number | null {
  let d: number | null = null;
  const g = core.s.params.graceMs;
  for (const r of core.s.tekRecords) {
    if (r.retiredAt !== null && (d === null || r.retiredAt + g < d)) d = r.retiredAt + g;
    for (const o of r.older) if (d === null || o.until < d) d = o.until;
  }
  for (const p of core.pendingData) if (d === null || p.at + g < d) d = p.at + g;
  return d;
}

/** Erases superseded keys after the grace window (003 [0071]) and drops stale buffers. */
export function expireTick(core: EngineCore, now: number): void {
  const g = core.s.params.graceMs;
  const kept = core.s.tekRecords.length;
  core.s.tekRecords = core.s.tekRecords.filter((r) => r.retiredAt === null || r.retiredAt + g > now);
  if (core.s.tekRecords.length !== kept) dropControlKeys(core);
  for (const r of core.s.tekRecords) {
    const before = r.older.length;
    r.older = r.older.filter((o) => o.until > now);
    if (r.older.length !== before) dropControlKeys(core);
  }
  const keep: typeof core.pendingData = [];
  for (const p of core.pendingData) {
    if (p.at + g > now) keep.push(p);
    else dropPending(core, p, now);
  }
  core.pendingData = keep;
  for (const [id, at] of core.seenNonces) if (at + g < now) core.seenNonces.delete(id);
  for (const [id, at] of core.relayedNonces) if (at + g < now) core.relayedNonces.delete(id);
  for (const [id, at] of core.tooOldNoted) if (at + g < now) core.tooOldNoted.delete(id);
  for (const [id, t] of core.tables) {
    if (t.firstSeen + g >= now || t.completeAt !== null) continue;
    // A table never applied (unreadable, a lost sibling, junk) goes after the grace window.
    if (!t.applied) {
      core.tables.delete(id);
      continue;
    }
    // The table that made the current TEK stays (without its undo copies of older keys):
    // a member that missed it fetches the TEK with it, and F2 installs no TEK without one.
    const tek = core.s.tek;
    if (tek && t.header.newVersion === tek.version && sameCreators(tek.creators, t.header.panel ? sortedKeys(t.header.panel.members) : [t.header.excluder])) t.undo = null;
    else core.tables.delete(id);
  }
  if (core.retiredKeks.length > 0) core.retiredKeks = core.retiredKeks.filter((r) => r.at + g > now);
}

/** A losing sibling's TEK′ still excludes its own targets: keep it readable for the grace window, never send under it. */
export function keepReadable(core: EngineCore, k: HeldKey, now: number): void {
  if (core.s.tekRecords.some((r) => r.version === k.version && sameCreators(r.creators, k.creators))) return;
  core.s.tekRecords.push({ version: k.version, creators: [...k.creators], revision: k.revision, key: k.key, older: [], retiredAt: now });
  retryPendingData(core, now);
}
