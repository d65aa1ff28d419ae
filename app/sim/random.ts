/**
 * @module sim/random
 * Deterministic randomness for simulations: a seeded xoshiro128** stream per
 * purpose (network, each peer), so that a scenario and a seed reproduce a run
 * byte for byte. Not for real keys: real peers use the OS CSPRNG.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '../core/crypto-provider.js';

export class SeededRandom {
  private s: Uint32Array;
  constructor(seed: string) {
    const h = sha256(new TextEncoder().encode(`conclave-sim:${seed}`));
    this.s = new Uint32Array(h.buffer.slice(0, 16));
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }
  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 2 ** 32;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
  asRng(): Rng {
    return (n) => this.bytes(n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
