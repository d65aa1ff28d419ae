/**
 * @module core/engine/data
 * Application data under the TEK: sealing a payload with the header of 003 FIG. 8
 * (sender ID, TEK version and creators tag, revision), and opening received packets.
 *
 * Invariants: a packet is delivered once (replay window = grace window): its sender and
 * nonce count as seen from when it is delivered, for every copy whatever its bytes, when it
 * came live (gossipsub checked its author's signature); one a catch-up server brought (`relayedBy`,
 * the author being the server's word) counts by its bytes too (review 44: an insider holds the
 * TEK and re-sealed a genuine packet's nonce around its own payload); one
 * buffered for a key not held yet refuses only a copy identical to it byte for byte (a
 * catch-up server names the author, so a forgery under a made-up key carrying a genuine
 * packet's nonce must not shadow the genuine one, review 7), and nothing is seen of a
 * packet dropped unopened or too old to open (a copy that reconciliation sends later
 * must be read, issue 19; tek-records.ts `dropPending`); a too-old one raises at most one
 * `undecryptable` per author and key version in the grace window, the rest are refused
 * (`stale`, review 7); its header
 * participant ID must be its sender's; data from an excluded member is refused;
 * a member sends only under a TEK whose table covers its whole blocklist (otherwise the
 * payload is held until the reseal lands). A `data` event names the packet it opened
 * (`packet`: the host keeps for catch-up only that one, app/peer/traffic.ts).
 * Seeds: 003 [0070]–[0071]. docs/protocol.md §6.
 */
import { dataKeyOf, decryptData, dropPending, forgetCopies, markDelivered, samePacket, seenBefore } from './tek-records.js';
import { NON_MEMBER_REVISION_JUMP } from './control-seal.js';
import { MAX_PENDING_DATA, MAX_PENDING_PER_SENDER, MAX_REVISION_JUMP, currentTekId, emit, pidOf, publish, scheduleFetchByTag, tekCoversBlocklist, type EngineCore } from './context.js';
import { type MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { equalBytes, toHex } from '../bytes.js';
import { creatorsTag } from '../keys.js';
import { MsgType, dataAad, type Message } from '../wire.js';

export function publishData(core: EngineCore, payload: Uint8Array, now: number): void {
  const tek = core.s.tek!;
  const senderId = Uint8Array.from(core.selfId);
  const header = {
    type: MsgType.Data,
    senderId,
    tekVersion: tek.version,
    tekTag: creatorsTag(core.crypto, tek.creators),
    revision: tek.revision,
    sentAt: now,
    nonce: core.rng(24),
    ciphertext: new Uint8Array(0),
  } as Extract<Message, { type: typeof MsgType.Data }>;
  const aad = dataAad(core.groupBytes, header);
  header.ciphertext = core.crypto.seal(dataKeyOf(core, tek.key), header.nonce, payload, aad);
  publish(core, 'data', header);
}

export function onData(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.Data }>, now: number): void {
  ensure(!core.s.blocklist.includes(from), 'blocked', 'data from an excluded member');
  ensure(!seenBefore(core, from, m), 'replay', 'data packet already received');
  const via = core.inputRelay;
  ensure(equalBytes(m.senderId, Uint8Array.from(pidOf(core, from))), 'invalid', 'header participant ID does not match the sender');
  if (core.s.state !== 'member') {
    if (core.s.state === 'excluded') emit(core, { type: 'undecryptable', from, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now });
    return;
  }
  // D1: a sender the roster does not count as a member (a newcomer whose admission is news here,
  // or anyone else) may cost a few revision steps, not 10,000: one batch of packets naming the TEK
  // 10,000 revisions ahead, each signed by a throwaway key, froze a member for 47 s (review 29).
  const result = decryptData(core, m, now, core.s.roster[from]?.state === 'member' ? MAX_REVISION_JUMP : NON_MEMBER_REVISION_JUMP);
  if (result === 'unknown') {
    // D1: a version we do not have yet is kept (until the table or a fetch brings the key)
    // only from a member, at most MAX_PENDING_PER_SENDER per sender: a flood from anyone
    // else cannot push a genuine packet out, nor open fetches. What a catch-up server brings
    // counts against the server's share: the author it names is its word, and junk in an
    // honest author's name must not refuse that author's live packets (review 42).
    // Only an identical copy of a buffered packet is a replay: a different one with its
    // nonce (a forgery the author never sent) waits beside it, and the one that opens wins.
    ensure(core.s.roster[from]?.state === 'member', 'not-member', 'data under an unknown key from a non-member');
    let inShare = 0;
    for (const p of core.pendingData) {
      if (p.from === from) ensure(!samePacket(p.msg, m), 'replay', 'data packet already buffered');
      if (via === null ? p.via === null && p.from === from : p.via === via) inShare++;
    }
    ensure(inShare < MAX_PENDING_PER_SENDER, 'not-authorized', via === null ? 'too many packets under unknown keys from this sender' : 'too many packets under unknown keys served by this member');
    core.pendingData.push({ from, msg: m, at: now, via });
    if (core.pendingData.length > MAX_PENDING_DATA) dropPending(core, core.pendingData.shift()!, now);
    // A key named by what a catch-up server brought is fetched on the server's account, and from it
    // first (it served a packet under that key): junk in an author's name must not use up that
    // author's one tag-only fetch (review 44).
    if (core.s.tek && m.tekVersion >= core.s.tek.version) {
      scheduleFetchByTag(core, m.tekVersion, m.tekTag, via ?? from, now);
    }
    return;
  }
  ensure(result !== 'failed', 'decrypt-failed', 'data packet does not decrypt under its announced key');
  if (result === 'too-old') {
    tooOld(core, from, m, now);
    return;
  }
  // A sender the roster does not list (a newcomer whose admission is news here) has its message
  // refused as `not-member` by the host; its packet is not remembered as seen, so the copy that
  // reconciliation brings once its admission is known here is taken, not dropped as a replay
  // (review 39: a restarted newcomer's first message never reached the member that missed it).
  if (core.s.roster[from] !== undefined) markDelivered(core, from, m, via, now);
  forgetCopies(core, from, m, via !== null);
  core.lastSeen.set(from, now);
  emit(core, { type: 'data', from, payload: result, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now, packet: m });
}

/**
 * A packet under a kept TEK at a revision older than any kept (D1, review 7): judged from its
 * header alone, nothing opened, so anyone that hands us packets under a member's name (a
 * catch-up server, a replayer) can make them. Its nonce is not seen (a forgery naming a genuine
 * packet's nonce must not shadow it). Its author, if in the roster, gets one `undecryptable` per
 * TEK version and creators within the grace window (`tooOldNoted`, swept with the nonces at
 * the grace window); every other one is a quiet rejection
 * (`stale`: not kept as traffic, no penalty). Before, each one raised an event, without bound.
 */
function tooOld(core: EngineCore, from: MemberKey, m: Extract<Message, { type: typeof MsgType.Data }>, now: number): void {
  const noted = `too-old:${from}:${m.tekVersion}:${toHex(m.tekTag)}`;
  if (core.s.roster[from] === undefined || core.tooOldNoted.has(noted)) {
    throw new RemoteProtocolError('stale', `data under TEK v${m.tekVersion} revision ${m.revision}, older than any kept here`);
  }
  core.tooOldNoted.set(noted, now);
  emit(core, { type: 'undecryptable', from, sentAt: m.sentAt, tekVersion: m.tekVersion, at: now });
}

export function flushHeldOutgoing(core: EngineCore, now: number): void {
  if (!tekCoversBlocklist(core)) return;
  // Control messages that came sealed under this TEK before we held it (a table excluding
  // someone, §14) are read first: openPendingSealed flushes once it has offered them.
  const tek = core.s.tek;
  if (core.openingSealed > 0 || (tek && core.pendingSealed.length > 0 && core.pendingSealedTek !== currentTekId(core))) return;
  const held = core.heldOutgoing;
  core.heldOutgoing = [];
  for (const h of held) publishData(core, h.payload, now);
}
