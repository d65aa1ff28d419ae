/**
 * @module core/engine/contest-start
 * The record a self-exclusion leaves for engine/exclusion-contest.ts (docs/protocol.md §8.2 "An
 * exclusion that falls with its excluder"): exclusion.ts applyBlocklist sets it on the core,
 * GroupEngine takes it at once. Invariant: in memory only; its encoded state (secrets included)
 * is zeroed as soon as the contest's shadow is built from it. Seeds: 003 [0072]–[0075].
 */
import type { MemberKey } from '../types.js';

/**
 * A self-exclusion that an admins' race may void (exclusion-contest.ts): this member's state
 * just before the excluding table (encoded, secrets included; in memory only), the table's
 * excluder and version, and when it was taken.
 */
export interface ContestStart {
  pre: Uint8Array;
  excluder: MemberKey;
  version: number;
  at: number;
}
