/**
 * @module core/engine/gate
 * The one input point. Every byte a peer sends enters the engine here: it is
 * decoded (app/core/wire.ts, bounded), then handed to the room that owns its
 * message type. A `RemoteProtocolError` thrown anywhere on the way becomes one
 * typed `rejected` event (STYLE §7); the rooms validate before they mutate, so a
 * rejected input leaves the state as it was (STYLE §8, test/unit/engine.test.ts).
 *
 * Message type → room: Heartbeat → heartbeat; Revision → revision; JoinRequest,
 * Admit, JoinRefused, KeyRequest, KeyGrant, MemberAdmitted → admission; Data →
 * data; Table → exclusion; FetchRequest, FetchReply → fetch; Leave →
 * rekey-triggers; Panel → panel. docs/protocol.md §12 has the authorization table.
 */
import type { MemberKey } from '../types.js';
import { RemoteProtocolError, ensure } from '../errors.js';
import { authorizeSender } from './authorization.js';
import { MsgType, decodeMessage, type Message } from '../wire.js';
import { reject, type EngineCore } from './context.js';
import { onHeartbeat } from './heartbeat.js';
import { onRevision } from './revision.js';
import { onAdmit, onJoinRefused, onJoinRequest, onKeyGrant, onKeyRequest, onMemberAdmitted } from './admission.js';
import { onData } from './data.js';
import { onTable } from './exclusion.js';
import { installFetched, onFetchRequest, openFetchReply } from './fetch.js';
import { onLeave } from './rekey-triggers.js';
import { drivePanel, onPanel } from './panel.js';

export type Channel = 'control' | 'data' | 'unicast';

/** Decodes one input and routes it; a peer's fault becomes a `rejected` event. Then lets the panel act. */
export function receive(core: EngineCore, from: MemberKey, channel: Channel, bytes: Uint8Array, now: number, nested = false): void {
  if (core.s.state === 'left') return;
  try {
    const msg = decodeMessage(core.groupBytes, channel, bytes);
    if (from === core.self) return; // our own publication echoed back
    if (nested) ensure(msg.type === MsgType.Table, 'invalid', 'a fetch reply may carry only a table');
    authorizeSender(core, from, msg);
    dispatch(core, from, msg, now);
  } catch (err) {
    if (err instanceof RemoteProtocolError) reject(core, from, err.reason, err.message, now);
    else throw err;
  }
  drivePanel(core, now);
}

function dispatch(core: EngineCore, from: MemberKey, m: Message, now: number): void {
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
      return onTable(core, from, m, now);
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
  }
}
