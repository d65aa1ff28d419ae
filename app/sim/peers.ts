/**
 * @module sim/peers
 * The simulator's record of one peer (docs/simulator.md): its identity, derived
 * from the peer name and the seed; its engine (or the snapshot it crashed with);
 * and what the oracle and the report need about it (when it joined, was admitted
 * and removed; every key it ever held; what it rejected).
 *
 * Invariants:
 * - A peer's identity and random stream depend only on (seed, name): the same
 *   scenario and seed give the same keys, IDs and choices.
 * - `everKeys` only grows, and stops growing once the peer is removed: a removed
 *   peer keeps every key it held (the oracle's adversaries start from it).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { GroupEngine } from '../core/engine.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import { toHex } from '../core/bytes.js';
import { sameCreators } from '../core/state.js';
import { SeededRandom } from './random.js';
import type { KnownKey } from './oracle.js';

/** Every simulated group has this ID (hex, 16 bytes). */
export const SIM_GROUP = '00'.repeat(15) + '01';

export interface SimPeer {
  name: string;
  seed: Uint8Array;
  key: MemberKey;
  engine: GroupEngine | null;
  snapshot: Uint8Array | null;
  crashed: boolean;
  state: 'none' | 'member' | 'excluded' | 'left' | 'crashed';
  joinedAt: number | null;
  admittedAt: number | null;
  removedAt: number | null;
  everKeys: Map<string, KnownKey>;
  /** Per key bytes object handed out, the coordinates collectKeys last recorded it at (collectKeys). */
  keyMarks: WeakMap<Uint8Array, { slot: number; version: number; creators: readonly MemberKey[]; revision: number }>;
  versionsSeen: Set<string>;
  rng: SeededRandom;
  rejected: { at: number; from: string; reason: string; detail: string }[];
  deadline: number | undefined;
}

/** The identity seed of a simulated peer (its Ed25519 secret seed). */
export function identitySeed(seed: number, name: string): Uint8Array {
  return sha256(new TextEncoder().encode(`conclave-sim-identity:${seed}:${name}`));
}

/** A peer record; `label` (default: the name) is what its identity derives from. */
export function newPeer(crypto: CryptoProvider, seed: number, name: string, label = name): SimPeer {
  const idSeed = identitySeed(seed, label);
  return {
    name,
    seed: idSeed,
    key: toHex(crypto.ed25519PublicKey(idSeed)),
    engine: null,
    snapshot: null,
    crashed: false,
    state: 'none',
    joinedAt: null,
    admittedAt: null,
    removedAt: null,
    everKeys: new Map(),
    keyMarks: new WeakMap(),
    versionsSeen: new Set(),
    rng: new SeededRandom(`${seed}:peer:${name}`),
    rejected: [],
    deadline: undefined,
  };
}

/** Records every key this peer holds now: a removed peer keeps them all (oracle input). */
export function collectKeys(p: SimPeer): void {
  if (!p.engine || p.state === 'excluded' || p.state === 'left') return;
  for (const k of p.engine.exportKeyMaterial()) {
    // The same key object at the same coordinates and a revision no lower than last time:
    // everKeys holds that version at that revision or lower already (nothing to do).
    const mark = p.keyMarks.get(k.key);
    if (mark && mark.slot === k.slot && mark.version === k.version && mark.revision <= k.revision && sameCreators(mark.creators, k.creators)) continue;
    // Keep the lowest revision of each key version: later ones are derivable from it.
    const id = `${k.slot}:${k.version}:${k.creators.join(',')}`;
    const cur = p.everKeys.get(id);
    if (!cur || cur.revision > k.revision) p.everKeys.set(id, { ...k, key: Uint8Array.from(k.key) });
    p.keyMarks.set(k.key, { slot: k.slot, version: k.version, creators: k.creators, revision: k.revision });
  }
}
