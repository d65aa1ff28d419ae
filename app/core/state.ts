/**
 * @module core/state
 * The member's state as plain data, and its snapshot codec (versioned JSON with
 * hex bytes; the store encrypts it at rest). Nothing here performs protocol
 * logic; the engine owns every mutation.
 *
 * Invariants:
 * - `keks` holds at most W entries, one per symbol, each for the slot the own ID
 *   selects (003 [0054]); with the TEK that is at most W + 1 keys.
 * - Every held key records version, revision, creators (sorted), owner and what it
 *   was based on (003 FIG. 4, [0083]).
 * - `tekRecords` keeps superseded TEKs only until `retiredAt + graceMs` (003 [0071]).
 */
import { fromHex, fromUtf8, toHex, utf8 } from './bytes.js';
import type { GroupParams, KeyOrigin, MemberKey } from './types.js';
import type { AdmissionProof } from './wire-types.js';
import { BugError } from './errors.js';

export interface BasedOn {
  version: number;
  revision: number;
  creators: MemberKey[];
}

export interface HeldKey {
  slot: number;
  version: number;
  creators: MemberKey[];
  revision: number;
  key: Uint8Array;
  basedOn: BasedOn | null;
  origin: KeyOrigin;
  owner: MemberKey | null;
  /** Blocklist size this TEK version was created against (sealed coverage; issue 3). */
  coverage?: MemberKey[];
}

/** A TEK version kept for reading packets: its key at `revision`, and earlier revisions until they expire. */
export interface TekRecord {
  version: number;
  creators: MemberKey[];
  revision: number;
  key: Uint8Array;
  older: { revision: number; key: Uint8Array; until: number }[];
  /** When this version stopped being current (null while current). */
  retiredAt: number | null;
}

export interface SlotInfo {
  version: number;
  revision: number;
  creators: MemberKey[];
  owner: MemberKey | null;
}

/**
 * One roster entry. Never changed in place: every change writes a new entry through
 * `setRoster` (engine/context.ts), so an entry object may be shared between engines
 * (the simulator's bootstrap gives every engine the same object per member).
 */
export interface RosterMember {
  readonly name: string;
  readonly admittedAt: number;
  /**
   * When this member took the entry in, by its own clock: an admission it made, or learnt after
   * its own join (an announcement, a KeyRequest, roster catch-up). Absent for the members its own
   * Admit listed and in older state. `admittedAt` is the admitter's claim; this bounds it for
   * message times (peer/message-times.ts; review 40).
   */
  readonly learnedAt?: number;
  readonly state: 'member' | 'excluded' | 'left';
  /** The TEK version whose table blocked this member (for concurrent-table rules). */
  readonly blockedAtVersion?: number;
  /** Under `admins`: the excluders whose tables' exclusion of this member was taken here (engine/admin-races.ts). */
  readonly blockedBy?: readonly MemberKey[];
  /** Under `admins`: the excluder of the table that blocked this member here. */
  readonly excludedBy?: MemberKey;
  /** Under `admins`, at a non-admin: when this block, left without ground, is dropped, and the admin whose table took the ground (persisted: a restart keeps the wait). */
  readonly dropAt?: { readonly at: number; readonly by: MemberKey };
  /** The TEK version current when this member's Leave was taken in: its last table may build on it (T1). */
  readonly leftAtVersion?: number;
  /** The member's own signature over its Leave: a non-admin's exclusion of it carries it (T1). */
  readonly leaveProof?: { readonly sentAt: number; readonly signature: Uint8Array };
}

export interface PersistentState {
  format: 1;
  group: string;
  groupName: string;
  params: GroupParams;
  state: 'listening' | 'joining' | 'member' | 'excluded' | 'left';
  roster: Record<MemberKey, RosterMember>;
  blocklist: MemberKey[];
  tek: HeldKey | null;
  keks: HeldKey[];
  tekRecords: TekRecord[];
  slotDir: Record<string, SlotInfo>;
  admittedAt: number | null;
  lastRevisionRefreshAt: number;
  /** While joining: the credential and the contacts asked (a restart resumes the same join, never listens). */
  joining?: { credential: Uint8Array; contacts: MemberKey[] };
  lastVersionRefreshAt: number;
  /**
   * Excluded, while an admins' race may still void the exclusion (engine/exclusion-contest.ts):
   * the contest, so that a restart inside it does not end it (review 25). Sealed at rest with the
   * rest of this state; gone once the contest ends.
   */
  contest?: SavedContest;
  /**
   * The proofs of members' admissions this member can show one that missed them (engine/roster-sync.ts):
   * each distinct proof once, and which one proves each member. Absent in older snapshots.
   */
  admissionProofs?: { proofs: AdmissionProof[]; of: Record<MemberKey, number> };
}

/** An exclusion contest as saved (engine/exclusion-contest.ts): the shadow's state, the excluding table, the windows. */
export interface SavedContest {
  shadow: PersistentState;
  excluder: MemberKey;
  version: number;
  /** Until when a voiding table may first arrive. */
  until: number;
  /** Since when the shadow has held the exclusion void, and by whose table (absent: not void). */
  voidSince?: number;
  voidBy?: MemberKey;
}

// JSON with Uint8Array → {"$hex": "..."}
function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return { $hex: toHex(v) };
  return v;
}
function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$hex' in v && typeof (v as { $hex: unknown }).$hex === 'string') {
    return fromHex((v as { $hex: string }).$hex);
  }
  return v;
}

export function encodeState(s: PersistentState): Uint8Array {
  return utf8(JSON.stringify(s, replacer));
}

export function decodeState(bytes: Uint8Array): PersistentState {
  const text = fromUtf8(bytes);
  if (text === null) throw new BugError('engine state is not UTF-8');
  const s = JSON.parse(text, reviver) as PersistentState;
  if (s.format !== 1) throw new BugError(`unknown engine state format ${String(s.format)}`);
  return s;
}

export function sortedKeys(keys: Iterable<MemberKey>): MemberKey[] {
  // Usually already sorted and distinct (creators lists as sent): then a copy is the same answer.
  if (Array.isArray(keys)) {
    const a = keys as readonly MemberKey[];
    let ascending = true;
    for (let i = 1; i < a.length && ascending; i++) ascending = a[i - 1]! < a[i]!;
    if (ascending) return a.slice();
  }
  return [...new Set(keys)].sort();
}

export function sameCreators(a: readonly MemberKey[], b: readonly MemberKey[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
