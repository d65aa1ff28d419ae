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
import { steppedTo } from './sealed-control.js';

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
  /** Per everKeys entry (a line of keys), the highest revision recorded and its key: collectKeys steps from it. */
  keyLatest: Map<string, { revision: number; key: Uint8Array }>;
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
    keyLatest: new Map(),
    keyMarks: new WeakMap(),
    versionsSeen: new Set(),
    rng: new SeededRandom(`${seed}:peer:${name}`),
    rejected: [],
    deadline: undefined,
  };
}

/**
 * Records every key this peer holds now: a removed peer keeps them all (oracle input).
 * Per (slot, version, creators), one entry per *line* of keys, at the lowest revision seen:
 * later revisions step from it. Two keys of the same coordinates that no step joins are two
 * lines, both kept (after `create` then `bootstrap`, the creator held the v1 its create made
 * and then the group's; keeping only the first hid the group's v1 from the oracle, review 15).
 */
export function collectKeys(p: SimPeer, crypto: CryptoProvider): void {
  if (!p.engine || p.state === 'excluded' || p.state === 'left') return;
  for (const k of p.engine.exportKeyMaterial()) {
    // The same key object at the same coordinates and a revision no lower than last time:
    // everKeys holds that version at that revision or lower already (nothing to do).
    const mark = p.keyMarks.get(k.key);
    if (mark && mark.slot === k.slot && mark.version === k.version && mark.revision <= k.revision && sameCreators(mark.creators, k.creators)) continue;
    const base = `${k.slot}:${k.version}:${k.creators.join(',')}`;
    for (let n = 0; ; n++) {
      const id = n === 0 ? base : `${base}#${n}`;
      const lowest = p.everKeys.get(id);
      if (!lowest) {
        p.everKeys.set(id, { ...k, key: Uint8Array.from(k.key) });
        p.keyLatest.set(id, { revision: k.revision, key: Uint8Array.from(k.key) });
        break;
      }
      const latest = p.keyLatest.get(id) ?? lowest;
      if (!oneLine(crypto, lowest, latest, k)) continue;
      if (k.revision < lowest.revision) p.everKeys.set(id, { ...k, key: Uint8Array.from(k.key) });
      if (k.revision > latest.revision) p.keyLatest.set(id, { revision: k.revision, key: Uint8Array.from(k.key) });
      break;
    }
    p.keyMarks.set(k.key, { slot: k.slot, version: k.version, creators: k.creators, revision: k.revision });
  }
}

/** Whether `k` is on the line whose lowest and latest recorded keys are given (stepping from the nearest one below it, or to the lowest). */
function oneLine(crypto: CryptoProvider, lowest: KnownKey, latest: { revision: number; key: Uint8Array }, k: KnownKey): boolean {
  if (k.revision >= latest.revision) return steppedTo(crypto, latest, k);
  if (k.revision >= lowest.revision) return steppedTo(crypto, lowest, k);
  return steppedTo(crypto, k, lowest);
}
