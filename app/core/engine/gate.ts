/**
 * @module core/engine/gate
 * The one input point. Every byte a peer sends enters the engine here: it is
 * decoded (app/core/wire.ts, bounded), then handed to the room that owns its
 * message type. A `RemoteProtocolError` thrown anywhere on the way becomes one
 * typed `rejected` event (STYLE §7); the rooms validate before they mutate, so a
 * rejected input leaves the state as it was (STYLE §8, test/unit/engine.test.ts).
 *
 * A SealedControl (the only type on the control topic) is opened first
 * (engine/control-seal.ts) and its inner message routed like any other; one this member
 * cannot open goes to heartbeat.onUnopenedControl, which reads only its clear header;
 * from an excluded member it is answered with its exclusion (003 [0075]) and rejected.
 *
 * Message type → room: Heartbeat → heartbeat; Revision → revision; JoinRequest,
 * Admit, JoinRefused, KeyRequest, KeyGrant, MemberAdmitted → admission; Data →
 * data; Table → exclusion; FetchRequest, FetchReply → fetch; Leave →
 * rekey-triggers; Panel → panel; RosterRequest, RosterReply → roster-sync.
 * docs/protocol.md §12 has the authorization table.
 * A control message that opens under our current TEK from a peer with no roster entry here
 * starts a roster catch-up (roster-sync.ts); if it is then rejected, the rejection says
 * `opened`: the peer layer does not count it as a stranger's offence (it holds the key).
 * A Table by unicast on its own (not inside a FetchReply) is taken only from a current
 * member, or as this member's own exclusion notice (T1, authorizeUnicastTable; review 6).
 * A fetch reply's table goes to the exclusion room marked `nested`: its entries are
 * anyone's, bounded as relayed entries (docs/protocol.md §8.5).
 */
import type { MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { authorizeSender, authorizeUnicastTable } from './authorization.js';
import { MsgType, decodeMessage, type Message, type SealedControlMessage } from '../wire.js';
import { NON_MEMBER_REVISION_JUMP, openControl } from './control-seal.js';
import { currentTekId, reject, type EngineCore } from './context.js';
import { onHeartbeat, onUnopenedControl } from './heartbeat.js';
import { onRevision } from './revision.js';
import { onAdmit, onJoinRefused, onJoinRequest, onKeyGrant, onKeyRequest, onMemberAdmitted } from './admission.js';
import { flushHeldOutgoing, onData } from './data.js';
import { onTable, tellExcluded } from './exclusion.js';
import { keepFromPendingDrop } from './admin-races.js';
import { installFetched, onFetchRequest, openFetchReply } from './fetch.js';
import { onLeave } from './rekey-triggers.js';
import { drivePanel, onPanel } from './panel.js';
import { noteStrangerWithTek, onRosterReply, onRosterRequest } from './roster-sync.js';

export type Channel = 'control' | 'data' | 'unicast';

/** Decodes one input and routes it; a peer's fault becomes a `rejected` event. Then lets the panel act. */
export function receive(core: EngineCore, from: MemberKey, channel: Channel, bytes: Uint8Array, now: number, nested = false): void {
  if (core.s.state === 'left') return;
  let holdsTek = false;
  try {
    let msg: Message | null = decodeMessage(core.groupBytes, channel, bytes);
    if (from === core.self) return; // our own publication echoed back
    if (msg.type === MsgType.SealedControl) {
      const env = msg;
      msg = unseal(core, from, env, bytes, now);
      holdsTek = msg !== null && core.s.roster[from] === undefined && noteStrangerWithTek(core, from, env, now);
    }
    if (msg) {
      if (nested) ensure(msg.type === MsgType.Table, 'invalid', 'a fetch reply may carry only a table');
      if (msg.type === MsgType.Data) keepFromPendingDrop(core, from, msg, now);
      authorizeSender(core, from, msg);
      if (channel === 'unicast' && !nested && msg.type === MsgType.Table) authorizeUnicastTable(core, from, msg.header.blocklist);
      dispatch(core, from, msg, now, nested);
    }
  } catch (err) {
    if (!(err instanceof RemoteProtocolError)) throw err;
    reject(core, from, err.reason, err.message, now);
    // The peer layer reads this (transport.ts): the sender holds our current TEK, so it is a
    // member we have not heard of yet, not a stranger to strike.
    const ev = core.events[core.events.length - 1];
    if (holdsTek && ev?.type === 'rejected') ev.opened = true;
  }
  drivePanel(core, now);
  openPendingSealed(core, now);
}

/** The inner message of a SealedControl, or null when only its clear header could be used. */
function unseal(core: EngineCore, from: MemberKey, env: SealedControlMessage, bytes: Uint8Array, now: number): Message | null {
  if (core.s.blocklist.includes(from)) {
    tellExcluded(core, from, now, env);
    throw new RemoteProtocolError('blocked', 'control message from an excluded member');
  }
  // S1: a sender that is not a current member (a leaver) may cost a few revision steps, not 10,000.
  const opened = openControl(core, env, bytes, core.s.roster[from]?.state === 'member' ? undefined : NON_MEMBER_REVISION_JUMP);
  if (opened.kind === 'opened') return opened.message;
  if (opened.kind === 'failed') throw new RemoteProtocolError('unopenable-control', `sealed control message ${opened.detail}`);
  if (opened.kind === 'too-old') throw new RemoteProtocolError('stale', `sealed control message under TEK v${env.tekVersion} revision ${env.revision}, no longer kept here`);
  onUnopenedControl(core, from, env, bytes, now);
  return null;
}

/**
 * Sealed control messages kept under a TEK this member lacked (a joiner's, or a member's from
 * someone ahead) are offered again, in arrival order, each time its TEK changes (older than
 * the grace window: dropped). Data held until a TEK excluded everyone blocked goes out only
 * after them: one of them may exclude someone that TEK does not (review 5).
 */
export function openPendingSealed(core: EngineCore, now: number): void {
  const tek = core.s.tek;
  if (core.pendingSealed.length === 0 || !tek) return;
  const at = currentTekId(core);
  if (core.pendingSealedTek === at) return;
  core.pendingSealedTek = at;
  const pending = core.pendingSealed;
  core.pendingSealed = [];
  core.openingSealed++;
  try {
    for (const p of pending) if (p.at + core.s.params.graceMs >= now) receive(core, p.from, 'control', p.bytes, now);
  } finally {
    core.openingSealed--;
  }
  // Data held for this TEK goes out only now that the exclusions waiting for it were read.
  flushHeldOutgoing(core, now);
}

function dispatch(core: EngineCore, from: MemberKey, m: Message, now: number, nested: boolean): void {
  switch (m.type) {
    case MsgType.Heartbeat:
      return onHeartbeat(core, from, m, now);
    case MsgType.Revision:
      return onRevision(core, from, m.keys, now);
    case MsgType.MemberAdmitted:
      return onMemberAdmitted(core, from, m, now);
    case MsgType.JoinRequest:
      return onJoinRequest(core, from, m, now);
    case MsgType.Admit:
      return onAdmit(core, from, m, now);
    case MsgType.JoinRefused:
      return onJoinRefused(core, from, m.reason, now);
    case MsgType.KeyRequest:
      return onKeyRequest(core, from, m, now);
    case MsgType.KeyGrant:
      return onKeyGrant(core, from, m.grants, now);
    case MsgType.Data:
      return onData(core, from, m, now);
    case MsgType.Table:
      return onTable(core, from, m, now, nested);
    case MsgType.FetchRequest:
      return onFetchRequest(core, from, m, now);
    case MsgType.FetchReply: {
      // The reply's key is checked first; its table (a nested message) goes through this gate.
      const key = openFetchReply(core, from, m);
      // F2: the nested message is one Table, never another FetchReply (no recursion).
      if (m.table) receive(core, from, 'unicast', m.table, now, true);
      if (m.key && key) installFetched(core, from, m.key, key, now);
      return;
    }
    case MsgType.Leave:
      return onLeave(core, from, m.sentAt, m.signature, now);
    case MsgType.Panel:
      return onPanel(core, from, m.body, now);
    case MsgType.RosterRequest:
      return onRosterRequest(core, from, m, now);
    case MsgType.RosterReply:
      return onRosterReply(core, from, m, now);
  }
}
