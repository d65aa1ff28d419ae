/**
 * @module core/wire-types
 * What every engine message is made of: the type codes, the fields of each message
 * and the size limits its decoder enforces (docs/protocol.md §3). The codec that
 * reads and writes them is core/wire, which re-exports all of this, so callers
 * import from there.
 *
 * Invariants: a limit here is checked by the decoder before any protocol logic sees
 * a message; changing a field's layout means a new WIRE_VERSION.
 */
import type { GroupParams, MemberKey } from './types.js';

/**
 * 2: MemberAdmitted carries its admitter's signature over the batch; Leave is signed by the leaver (issue 14).
 * 3: control messages travel sealed under the TEK (SealedControl, issue 15 §4).
 * 4: Admit carries the ground of each block the admitter holds under `admins` (BlockGround, §8.2)
 *    and the coverage of the admitter's TEK (AdmitTekCoverage).
 */
export const WIRE_VERSION = 4;

export const LIMITS = {
  controlBytes: 512 * 1024,
  unicastBytes: 4 * 1024 * 1024,
  dataBytes: 128 * 1024,
  payloadBytes: 64 * 1024,
  creators: 64,
  keyInfos: 1 + 256 * 256,
  history: 16,
  roster: 20_000,
  blocklist: 20_000,
  targets: 256,
  entries: 8192,
  pairwise: 4096,
  name: 256,
  credential: 8192,
  admins: 1000,
  panelBytes: 256 * 1024,
  announced: 1000,
  /** Admission proofs in one RosterReply (each costs the asker one signature check), and roster keys a RosterRequest lists. */
  rosterProofs: 32,
  /** Supporters an Admit's BlockGround names (engine/admin-races.ts keeps at most 8). */
  blockSupporters: 8,
} as const;

export const MsgType = {
  Heartbeat: 1,
  Revision: 2,
  MemberAdmitted: 3,
  JoinRequest: 4,
  Admit: 5,
  JoinRefused: 6,
  KeyRequest: 7,
  KeyGrant: 8,
  Data: 9,
  Table: 10,
  FetchRequest: 11,
  FetchReply: 12,
  Leave: 13,
  Panel: 14,
  SealedControl: 15,
  RosterRequest: 16,
  RosterReply: 17,
} as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];

/** A key's public description: slot, version, revision and the version's creators (003 FIG. 4). */
export interface KeyInfo {
  slot: number;
  version: number;
  revision: number;
  creators: MemberKey[];
}

/** A key sealed for one reader (pairwise X25519 or a KEK). */
export interface SealedKey {
  info: KeyInfo;
  /** For KEKs: the base the version was made from (003 [0083]). */
  basedOn: { version: number; revision: number; creators: MemberKey[] } | null;
  owner: MemberKey;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

export interface Certificate {
  admitter: MemberKey;
  member: MemberKey;
  admittedAt: number;
  signature: Uint8Array;
}

export interface RosterEntry {
  key: MemberKey;
  name: string;
  admittedAt: number;
}

/**
 * What shows that an admitter admitted a member (M1, docs/protocol.md §5): the admitter's
 * signed announcement batch (every member of the batch is needed to check it; names are
 * not signed), or the certificate it gave the newcomer. A RosterReply carries these again.
 */
export type AdmissionProof =
  | { kind: 'announcement'; admitter: MemberKey; members: RosterEntry[]; signature: Uint8Array }
  | { kind: 'certificate'; certificate: Certificate; name: string };

export interface OwnerInfo extends KeyInfo {
  owner: MemberKey;
}

/**
 * Under `admins`: a block as the admitter holds it (engine/admin-races.ts), so that a joiner
 * drops it when the admitter would: the member, the TEK version that blocked it, the admins
 * whose tables named it (`many`: more than were kept, the block stands for good), and the
 * current admin whose table took its ground away when it waits to be dropped.
 */
/**
 * The admitter's TEK (version, creators) and the blocklist it was made against (its coverage;
 * null when the admitter keeps none): what a joiner granted that very TEK takes as its coverage.
 * Not the admitter's blocklist: in a race it blocks members its TEK does not cover (review 22).
 */
export interface AdmitTekCoverage {
  version: number;
  creators: MemberKey[];
  members: MemberKey[] | null;
}

export interface BlockGround {
  key: MemberKey;
  name: string;
  admittedAt: number;
  blockedAtVersion: number;
  blockedBy: MemberKey[];
  many: boolean;
  dropBy: MemberKey | null;
}

export interface TableHeader {
  kind: 'exclude' | 'refresh';
  excluder: MemberKey;
  targets: MemberKey[];
  base: { version: number; creators: MemberKey[] };
  newVersion: number;
  createdAt: number;
  /** The full blocklist after this change ([0075]: admission control changes with the key). */
  blocklist: MemberKey[];
  /** SHA-256 commitment to TEK' bound to this table; entries that decrypt to anything else are rejected. */
  tekCommitment: Uint8Array;
  /** Origin of TEK': a single creator or a fractional-key panel round (issue 4). */
  panel: { round: number; members: MemberKey[] } | null;
  /**
   * The targets' KEKs this table replaces (003 [0073]), at the version and revision the
   * excluder knew: every holder derives the next version from that KEK and TEK'.
   */
  replaced: ReplacedKek[];
  /** Designated completers, in greedy set-cover order (003 [0073], [0076]). */
  plan: PlanStep[];
  /**
   * The targets' own signed Leaves, when a non-admin excludes them under the `admins`
   * policy (T1 in docs/protocol.md §12): members that missed a Leave can check it here.
   */
  leaves?: LeaveProof[];
}

/** A member's signature over its own Leave (group, member, sentAt). */
export interface LeaveProof {
  member: MemberKey;
  sentAt: number;
  signature: Uint8Array;
}

export interface ReplacedKek {
  slot: number;
  version: number;
  revision: number;
}

/** One designated completer: the first 8 bytes of its key and the symbols whose KEKs it adds. */
export interface PlanStep {
  prefix: Uint8Array;
  symbols: number[];
}

/** TEK' under one KEK (003 Table 2, "new TEK in old KEK"); the wrap key is unique per table and KEK, so no nonce travels. */
export interface TableEntry {
  slot: number;
  kekVersion: number;
  kekRevision: number;
  sealed: Uint8Array;
}

/** TEK' sealed pairwise for a member whose every KEK is unusable (docs/protocol.md §7.1). */
export interface PairwiseEntry {
  member: MemberKey;
  sealed: Uint8Array;
}

/** Bytes of a sealed 32-byte key: ciphertext and Poly1305 tag. */
export const SEALED_KEY_BYTES = 48;

export type Message =
  | { type: typeof MsgType.Heartbeat; sentAt: number; keys: KeyInfo[]; history: KeyInfo[]; blocklistCount: number; rosterCount: number }
  | { type: typeof MsgType.Revision; keys: KeyInfo[] }
  | {
      type: typeof MsgType.MemberAdmitted;
      /** Newcomers admitted by the sender since its last announcement (batched). */
      members: RosterEntry[];
      /** The TEK revision the sender stepped to for them (003 [0064]). */
      revisions: KeyInfo[];
      /** The admitter's signature over the batch (group, each member and its admission time): one check per batch (M1). */
      signature: Uint8Array;
    }
  | { type: typeof MsgType.JoinRequest; name: string; credential: Uint8Array; sentAt: number }
  | {
      type: typeof MsgType.Admit;
      groupName: string;
      params: GroupParams;
      roster: RosterEntry[];
      blocklist: MemberKey[];
      /** Wire 4: the ground of the blocks above that may still be dropped (absent: none). */
      blocks?: BlockGround[];
      /** Wire 4: the coverage of the admitter's TEK (absent or null: none given). */
      tekCoverage?: AdmitTekCoverage | null;
      owners: OwnerInfo[];
      grants: SealedKey[];
      certificate: Certificate;
    }
  | { type: typeof MsgType.JoinRefused; reason: string }
  | { type: typeof MsgType.KeyRequest; slots: number[]; certificate: Certificate }
  | { type: typeof MsgType.KeyGrant; grants: SealedKey[] }
  | {
      type: typeof MsgType.Data;
      senderId: Uint8Array;
      tekVersion: number;
      tekTag: Uint8Array;
      revision: number;
      sentAt: number;
      nonce: Uint8Array;
      ciphertext: Uint8Array;
    }
  | { type: typeof MsgType.Table; header: TableHeader; headerSignature: Uint8Array; entries: TableEntry[]; pairwise: PairwiseEntry[] }
  | { type: typeof MsgType.FetchRequest; slot: number; version: number; tag: Uint8Array }
  | { type: typeof MsgType.FetchReply; table: Uint8Array | null; key: SealedKey | null }
  | { type: typeof MsgType.Leave; sentAt: number; signature: Uint8Array }
  | { type: typeof MsgType.Panel; body: Uint8Array }
  /** The first 8 bytes of every roster key the asker has (any state): the responder sends proofs of the members missing there. */
  | { type: typeof MsgType.RosterRequest; known: Uint8Array[] }
  /** Proofs of admission, oldest first (an admitter's own proof before those it signed). */
  | { type: typeof MsgType.RosterReply; proofs: AdmissionProof[] }
  | {
      type: typeof MsgType.SealedControl;
      /** The TEK the inner message is sealed under: version, creators tag, revision (003 FIG. 8 style). */
      tekVersion: number;
      tekTag: Uint8Array;
      revision: number;
      nonce: Uint8Array;
      /** AEAD(control key, inner type ‖ inner body), the clear header as associated data. */
      ciphertext: Uint8Array;
    };

/** The messages that travel inside a SealedControl on the control topic. */
export type ControlMessage = Extract<
  Message,
  { type: typeof MsgType.Heartbeat | typeof MsgType.Revision | typeof MsgType.MemberAdmitted | typeof MsgType.Table | typeof MsgType.Leave }
>;
export type SealedControlMessage = Extract<Message, { type: typeof MsgType.SealedControl }>;
