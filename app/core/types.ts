/**
 * @module core/types
 * The engine's public vocabulary: identities, group parameters, the inputs the
 * engine takes and the outputs it is polled for. Everything here is plain data
 * (no classes, no I/O) so that the simulator, the network adapter, the store and
 * the API can all speak it.
 *
 * Invariants:
 * - A member is named by its identity key: the 32-byte Ed25519 public key, written
 *   as lowercase hex (`MemberKey`). The transport authenticates it (gossipsub
 *   StrictSign, Noise streams) and hands it to `receive(from, …)`.
 * - A participant ID (003 [0048], [0051], claim 10) is W symbols of log2(V) bits
 *   each, derived from SHA-256 of the identity key; it selects the member's W
 *   KEK slots.
 * - Times are milliseconds on the caller's clock; the engine never reads one.
 */
import type { Message, MsgType } from './wire.js';

/** Lowercase hex of a member's 32-byte Ed25519 public key. */
export type MemberKey = string;

/** Group ID: lowercase hex of 16 bytes derived at creation (not the human name). */
export type GroupId = string;

/** Who may change keys, fixed at creation (issue 3 §5). */
export type ExclusionPolicy =
  | { exclude: 'any-member' }
  | { exclude: 'admins'; admins: MemberKey[] };

/** Fixed per group at creation; travels with invites and admissions. */
export interface GroupParams {
  /** Symbols per participant ID (003 [0049]). */
  W: number;
  /** Values per symbol; a power of two (003 [0051]). */
  V: number;
  /** Key-holder heartbeat interval (003 [0059]). */
  heartbeatMs: number;
  /** How long superseded keys are kept to read late packets (003 [0071]). */
  graceMs: number;
  /** How long a newcomer listens for heartbeats before creating keys (003 [0059]). */
  listenMs: number;
  /** Periodic revision bump of the TEK; 0 = off (003 [0057], 002 key lifetimes). */
  refreshRevisionMs: number;
  /** Periodic new TEK version; 0 = off (003 [0057]). */
  refreshVersionMs: number;
  /** Missed heartbeat intervals before a key holder is replaced (003 [0068]). */
  failoverIntervals: number;
  /** Wait before a member that cannot read TEK' fetches it by unicast (003 [0079]). */
  fetchAfterMs: number;
  /** Fractional-key panel size; 0 = off (004). */
  panelSize: number;
  policy: ExclusionPolicy;
}

/** A key slot: the TEK, or the KEK for (symbol, value) (003 [0051]). */
export type SlotRef = { kind: 'tek' } | { kind: 'kek'; symbol: number; value: number };

/** How a TEK version came to be (issue 4 §7). */
export type KeyOrigin =
  | { kind: 'single'; creator: MemberKey }
  | { kind: 'panel'; round: number; members: MemberKey[] }
  | { kind: 'merge'; creators: MemberKey[] };

/** One row of the key table as shown in the debug panel (003 FIG. 4). No key bytes. */
export interface KeyEntryView {
  slot: SlotRef;
  version: number;
  revision: number;
  creators: MemberKey[];
  owner: MemberKey | null;
  /** Whether this member holds the key bytes. */
  held: boolean;
  /** Milliseconds since the owner's last heartbeat for this entry (null: never heard). */
  heartbeatAgeMs: number | null;
  /** Short fingerprint of the key bytes, only when held (hex, 8 chars). */
  fingerprint: string | null;
  origin?: KeyOrigin;
  basedOn: { version: number; revision: number; creators: MemberKey[] } | null;
}

export interface KeyTableView {
  group: GroupId;
  W: number;
  V: number;
  self: MemberKey;
  selfId: number[];
  tek: KeyEntryView | null;
  /** Every slot this member knows anything about (from heartbeats or because it holds it). */
  slots: KeyEntryView[];
  blocklist: MemberKey[];
  log: KeyLogEntry[];
}

export interface KeyLogEntry {
  at: number;
  kind: 'create' | 'join' | 'exclude' | 'leave' | 'merge' | 'failover' | 'refresh' | 'panel-round' | 'panel-recovery' | 'fallback-single' | 'rejected';
  text: string;
}

/** Something the engine wants sent. `control`/`data` are the group's two topics. */
export type Transmit =
  | { kind: 'publish'; topic: 'control' | 'data'; bytes: Uint8Array }
  | { kind: 'unicast'; to: MemberKey; bytes: Uint8Array };

/** Why an input was refused: a remote protocol error turned into data (STYLE §7). */
export type RejectReason =
  | 'decode' // truncated, oversized, malformed
  | 'wire-version'
  | 'wrong-group'
  | 'bad-signature'
  | 'replay'
  | 'not-member'
  | 'blocked'
  | 'not-authorized'
  | 'unknown-key'
  | 'decrypt-failed'
  | 'unopenable-control' // a sealed control message that does not open under the TEK its header names
  | 'id-collision'
  | 'admission-refused'
  | 'stale'
  | 'invalid';

/**
 * A data packet as decoded (003 FIG. 8 header and ciphertext): what a `data` event
 * opened, so its host can tell which of the copies it received was delivered (the
 * peer keeps a packet for catch-up only once it opened, app/peer/traffic.ts).
 */
export type DataPacket = Omit<Extract<Message, { type: typeof MsgType.Data }>, 'type'>;

export type EngineEvent =
  | { type: 'group-created'; group: GroupId; at: number }
  | { type: 'joined'; group: GroupId; at: number }
  | { type: 'join-progress'; stage: 'listening' | 'requesting' | 'waiting-admission' | 'keys-received'; at: number }
  | { type: 'join-refused'; reason: string; at: number }
  | { type: 'member-admitted'; member: MemberKey; by: MemberKey; name: string; at: number }
  /**
   * A table blocked `members` here. Those it found as leavers (`left` in the roster: the rekey
   * after a leave blocks the leaver too) were not removed: `leftHere` names the ones whose leave
   * this table made known (a Leave it carried); the others' leave was told before (`member-left`).
   */
  | { type: 'member-excluded'; members: MemberKey[]; leftHere: MemberKey[]; by: MemberKey; at: number }
  /** Blocks dropped under `admins`: every admin that excluded them was excluded at the same moment (§8.2). */
  | { type: 'member-reinstated'; members: MemberKey[]; by: MemberKey; at: number }
  | { type: 'member-left'; member: MemberKey; at: number }
  | { type: 'self-excluded'; by: MemberKey; at: number }
  | { type: 'key-changed'; slot: SlotRef; version: number; revision: number; reason: string; at: number }
  | { type: 'data'; from: MemberKey; payload: Uint8Array; sentAt: number; tekVersion: number; at: number; packet: DataPacket }
  | { type: 'undecryptable'; from: MemberKey; sentAt: number; tekVersion: number; at: number }
  | {
      type: 'rejected';
      from: MemberKey;
      reason: RejectReason;
      detail: string;
      at: number;
      /** A control message from a peer with no roster entry that opened under the current TEK: it holds the key (a member not heard of yet; roster catch-up asks it). */
      opened?: true;
    }
  | { type: 'panel-fallback'; reason: string; at: number }
  | { type: 'log'; entry: KeyLogEntry };

/**
 * What the engine tells a fractional-key panel about the group (004; issue 4 §7):
 * the current members (not blocked) with their admission times, in no particular order.
 */
export interface PanelView {
  self: MemberKey;
  members: { key: MemberKey; admittedAt: number }[];
  blocked: MemberKey[];
  panelSize: number;
}

export type PanelHookEvent =
  | { kind: 'panel-round'; text: string }
  | { kind: 'panel-recovery'; text: string }
  | { kind: 'fallback-single'; text: string }
  | { kind: 'rejected'; from: MemberKey; text: string };

/**
 * A source of jointly generated TEKs (issue 4 §7), injected into the engine like the
 * crypto provider. It is driven sans-I/O by the engine: its messages travel as the
 * engine's `Panel` unicasts, its timers are part of the engine's deadline.
 */
export interface PanelHook {
  /** Membership changed (or first call): (re)form the panel by the documented rule. */
  update(view: PanelView, now: number): void;
  /** A panel message from another member (already authenticated by the transport). */
  receive(from: MemberKey, bytes: Uint8Array, now: number): void;
  tick(now: number): void;
  pollTransmit(): { to: MemberKey; bytes: Uint8Array } | undefined;
  pollEvent(): PanelHookEvent | undefined;
  nextDeadline(): number | null;
  /**
   * A fresh panel key for a new TEK version, or null (the engine then uses a single
   * creator, visibly). Must return null if any of `excluded` knew the key (was on the
   * panel of its round).
   */
  takeKey(purpose: 'refresh' | 'exclude', excluded: MemberKey[], now: number): { key: Uint8Array; round: number; members: MemberKey[] } | null;
  /** A table made a TEK from panel round `round`: never hand that key out again. */
  consumed(round: number, members: MemberKey[], now: number): void;
}
