/**
 * @module peer/membership-gate
 * What of a sender's input the network layer lets reach the engine, by the
 * sender's place in the group's roster (issue 15 §1; docs/network.md; the rows of
 * docs/protocol.md §12). Pure: the transport passes the engine's state, the
 * sender's roster state and the bytes; nothing here decodes more than the
 * message's three-byte prefix.
 *
 * The rule: while this member is not a member (listening, joining, excluded, left)
 * the engine sees everything, since a joiner learns its roster from strangers. As
 * a member, a current member's input goes to the engine; a non-member's goes only
 * where the table lets a non-member in. Control messages are sealed (wire 3,
 * docs/protocol.md §14): this layer sees no inner type, only who sent it, so
 * - H1: a SealedControl from an excluded member (it is answered with its
 *   exclusion) — it must then be accepted;
 * - T1: a SealedControl from a member that left (its last table);
 * - M2 (roster catch-up): a SealedControl from a peer the roster never had — it must
 *   then open under the current TEK (its sender holds the key: a member whose admission
 *   we missed; the engine asks it for the proof, docs/protocol.md §5). H3 (a listen-first
 *   creator merging into another instance) is not a reason to let it in: the app creates
 *   every group at once under a fresh ID and never listens first;
 * - D1: Data (holding the TEK is the proof) — it must then open under a key;
 * - J1, A7 (unicast): a JoinRequest, a KeyRequest (its certificate is checked);
 * - M3 (unicast): a RosterReply (the engine takes it only from a peer it asked).
 * Everything else is dropped here as `not-member`, unparseable bytes as `decode`.
 */
import { MsgType, WIRE_VERSION } from '../core/wire.js';

/** The engine's own state in the group. */
export type OwnState = 'listening' | 'joining' | 'member' | 'excluded' | 'left';
/** The sender in the group's roster; null for an identity the roster never had. */
export type RosterState = 'member' | 'left' | 'excluded' | null;

export type Admission =
  /** To the engine; `check`: what the engine must make of it, short of which the table forbids it. */
  | { pass: true; check: 'none' | 'accepted' | 'opened' }
  | { pass: false; reason: 'decode' | 'not-member'; detail: string };

/** The first byte of every Conclave message (app/core/wire.ts). */
const MAGIC = 0x43;

const NAMES = new Map<number, string>(Object.entries(MsgType).map(([name, code]) => [code, name]));

/** The message type of `bytes`, or null when they are not a Conclave message of this wire version. */
export function peekType(bytes: Uint8Array): number | null {
  if (bytes.length < 3 || bytes[0] !== MAGIC || bytes[1] !== WIRE_VERSION) return null;
  return NAMES.has(bytes[2]!) ? bytes[2]! : null;
}

export function typeName(type: number | null): string {
  return (type !== null && NAMES.get(type)) || 'message';
}

const PASS: Admission = { pass: true, check: 'none' };

/** Gossip on the group's control or data topic. */
export function admitGossip(own: OwnState, sender: RosterState, channel: 'control' | 'data', bytes: Uint8Array): Admission {
  if (own !== 'member' || sender === 'member') return PASS;
  const type = peekType(bytes);
  if (type === null) return { pass: false, reason: 'decode', detail: 'network: not a Conclave message from a non-member' };
  if (channel === 'data' && type === MsgType.Data) return { pass: true, check: 'opened' };
  if (channel === 'control' && type === MsgType.SealedControl && sender === 'excluded') return { pass: true, check: 'accepted' };
  if (channel === 'control' && type === MsgType.SealedControl && sender === 'left') return { pass: true, check: 'none' };
  if (channel === 'control' && type === MsgType.SealedControl && sender === null) return { pass: true, check: 'opened' };
  return { pass: false, reason: 'not-member', detail: `network: ${typeName(type)} on ${channel} from a non-member` };
}

/** An engine message on the `/conclave/group` stream (the 16-byte group prefix removed). */
export function admitUnicast(own: OwnState, sender: RosterState, bytes: Uint8Array): Admission {
  if (own !== 'member' || sender === 'member') return PASS;
  const type = peekType(bytes);
  if (type === null) return { pass: false, reason: 'decode', detail: 'network: not a Conclave message from a non-member' };
  if (type === MsgType.JoinRequest || type === MsgType.KeyRequest || type === MsgType.RosterReply) return PASS;
  return { pass: false, reason: 'not-member', detail: `network: unicast ${typeName(type)} from a non-member` };
}

/** What the transport makes of gossip the gate let in, once the engine has seen it. */
export interface Outcome {
  /** `forbidden`: Reject when its author sent it itself, Ignore when relayed. */
  result: 'accept' | 'ignore' | 'forbidden' | 'reject';
  /** Set when the gate's condition (`check`) failed: a non-member's refusal, the sender's offence if a stranger. */
  refused: string | null;
}

/**
 * The engine's verdict on gossip, against the gate's `check` (`opened`: the engine's
 * last input opened under a key it holds; group.ts `lastInputOpened`):
 * - reject (garbage, forgery): rejected, an offence;
 * - ignore: Ignored when the gate set no condition; a non-member's control message that
 *   opened under our current TEK is Ignored too and is no offence (M2: its sender holds
 *   the key, a member whose admission we missed — the engine asks it how it got in); one
 *   that opened under nothing is refused; anything else is forbidden;
 * - accept: a non-member's data must have opened (D1), else it is refused.
 */
export function judgeVerdict(channel: 'control' | 'data', check: 'none' | 'accepted' | 'opened', verdict: 'accept' | 'ignore' | 'reject', opened: boolean): Outcome {
  if (verdict === 'reject') return { result: 'reject', refused: null };
  if (verdict === 'ignore') {
    if (check === 'none' || (channel === 'control' && check === 'opened' && opened)) return { result: 'ignore', refused: null };
    if (channel === 'control' && check === 'opened') return { result: 'forbidden', refused: 'network: control message from a non-member that opens under no key we hold' };
    return { result: 'forbidden', refused: null };
  }
  if (channel === 'data' && check === 'opened' && !opened) return { result: 'forbidden', refused: 'network: data from a non-member that opens under no key we hold' };
  return { result: 'accept', refused: null };
}
