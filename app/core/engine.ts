/**
 * @module core/engine
 * PLACEHOLDER SURFACE — the implementation is being written; the public methods
 * below are the contract other layers code against and will not change shape.
 *
 * Polling order (like quinn-proto's Connection): after any input (`receive`,
 * `tick`, a command), drain `pollTransmit()` until undefined, then
 * `pollEvent()` until undefined, then arm one timer at `nextDeadline()` and call
 * `tick(now)` when it fires.
 */
import type { CryptoProvider, Rng } from './crypto-provider.js';
import type {
  EngineEvent,
  GroupId,
  GroupParams,
  KeyTableView,
  MemberKey,
  Transmit,
} from './types.js';

export interface EngineDeps {
  crypto: CryptoProvider;
  rng: Rng;
  /** Admission control hook (001; 003 [0063], [0067]): may this newcomer join? */
  admission?: AdmissionPolicy;
}

/** The newcomer's request as the admission hook sees it. `credential` is opaque to the engine (an invite). */
export interface AdmissionRequest {
  member: MemberKey;
  name: string;
  credential: Uint8Array;
}
export type AdmissionDecision = { ok: true } | { ok: false; reason: string };
export interface AdmissionPolicy {
  check(request: AdmissionRequest, now: number): AdmissionDecision;
}

/** The member's secret identity: a 32-byte Ed25519 seed (the same key libp2p uses as its peer key). */
export interface Identity {
  seed: Uint8Array;
  name: string;
}

export interface MemberView {
  key: MemberKey;
  name: string;
  participantId: number[];
  admin: boolean;
  state: 'member' | 'excluded' | 'left';
  /** Last time anything was heard from this member (null: never). */
  lastSeen: number | null;
}

export type EngineState = 'listening' | 'joining' | 'member' | 'excluded' | 'left';

export interface CreateOptions {
  /** Omit to derive a fresh group ID from the RNG (a new group). The simulator passes a fixed one. */
  group?: GroupId;
  name: string;
  params: GroupParams;
  now: number;
  /** true: listen for heartbeats for params.listenMs before creating (003 [0059]). */
  listenFirst?: boolean;
}

export interface JoinOptions {
  group: GroupId;
  name: string;
  params: GroupParams;
  credential: Uint8Array;
  /** Members to ask for admission, nearest first (001). */
  contacts: MemberKey[];
  now: number;
}

export declare class GroupEngine {
  static create(deps: EngineDeps, identity: Identity, options: CreateOptions): GroupEngine;
  static join(deps: EngineDeps, identity: Identity, options: JoinOptions): GroupEngine;
  /** Resume from `snapshot()` output (secret: the store encrypts it at rest). */
  static restore(deps: EngineDeps, identity: Identity, snapshot: Uint8Array, now: number): GroupEngine;

  readonly group: GroupId;
  readonly self: MemberKey;
  readonly params: GroupParams;
  readonly groupName: string;
  state(): EngineState;

  /** Bytes from a peer the transport authenticated as `from`. Never throws for bad input. */
  receive(from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array, now: number): void;
  tick(now: number): void;

  /** Application data, encrypted under the current TEK. Throws LocalProtocolError if not a member. */
  send(payload: Uint8Array, now: number): void;
  /** Throws LocalProtocolError when the policy does not allow this member to exclude. */
  exclude(members: MemberKey[], now: number): void;
  leave(now: number): void;
  /** Add contacts for a pending join (e.g. found later by mDNS). */
  addContacts(contacts: MemberKey[], now: number): void;

  pollTransmit(): Transmit | undefined;
  pollEvent(): EngineEvent | undefined;
  nextDeadline(): number | undefined;

  snapshot(): Uint8Array;
  keyTable(now: number): KeyTableView;
  members(): MemberView[];
  canExclude(): boolean;
}
