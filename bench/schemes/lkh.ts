/**
 * @module bench/schemes/lkh
 * Reference Logical Key Hierarchy (Wong, Gouda, Lam, "Secure group
 * communications using key graphs", 1998/2000): a binary key tree held by a key
 * server, with group-oriented rekeying (one signed multicast message per
 * operation). Same primitives as Conclave: XChaCha20-Poly1305 to wrap keys,
 * Ed25519 to sign the rekey message, from the project's CryptoProvider.
 *
 * Tree: heap layout, node 1 is the root (the group key), node x has children 2x
 * and 2x+1; leaves sit at depth d with indices [2^d, 2^(d+1)). A member holds the
 * keys on its leaf-to-root path (its individual key plus d tree keys).
 *
 * - join: the joiner takes the first free leaf; every key on its path is
 *   replaced; existing members get each new key wrapped under the old version of
 *   the same node (d wraps, multicast), the joiner gets its path keys wrapped
 *   under its individual key (d wraps, unicast).
 * - leave: every key on the leaver's path is replaced, bottom-up; each new key is
 *   wrapped under the current key of each child that still has members (the new
 *   key for the child on the path): 2d−1 wraps, multicast.
 * - refresh: a new group key wrapped under the two children of the root.
 *
 * Wire: [kind u8][epoch u32][count u16] then per wrap [target u32][under u32]
 * [nonce 24][sealed key 48], then a 64-byte Ed25519 signature over all before it.
 */
import type { CryptoProvider, Rng } from '../../app/core/crypto-provider.js';

const KEY = 32;
const NONCE = 24;
const SEALED = KEY + 16;
const WRAP = 4 + 4 + NONCE + SEALED;
const HEADER = 1 + 4 + 2;
const SIG = 64;

export interface Wrap {
  target: number;
  under: number;
  key: Uint8Array;
}

function aad(target: number, under: number): Uint8Array {
  const a = new Uint8Array(8);
  const v = new DataView(a.buffer);
  v.setUint32(0, target);
  v.setUint32(4, under);
  return a;
}

/** Seals the wraps into one signed message. */
export function encodeRekey(crypto: CryptoProvider, rng: Rng, signer: Uint8Array, kind: number, epoch: number, wraps: Wrap[], keys: Map<number, Uint8Array>): Uint8Array {
  const body = new Uint8Array(HEADER + wraps.length * WRAP + SIG);
  const view = new DataView(body.buffer);
  view.setUint8(0, kind);
  view.setUint32(1, epoch);
  view.setUint16(5, wraps.length);
  let at = HEADER;
  for (const w of wraps) {
    const under = keys.get(w.under);
    if (under === undefined) throw new Error(`lkh: no key for node ${w.under}`);
    view.setUint32(at, w.target);
    view.setUint32(at + 4, w.under);
    const nonce = rng(NONCE);
    body.set(nonce, at + 8);
    body.set(crypto.seal(under, nonce, w.key, aad(w.target, w.under)), at + 8 + NONCE);
    at += WRAP;
  }
  body.set(crypto.ed25519Sign(signer, body.subarray(0, at)), at);
  return body;
}

/**
 * A member's processing of a rekey message: verify the signature, then unwrap, in
 * order, every key wrapped under a key it holds (a key unwrapped earlier in the
 * message counts). Returns the member's new key set, or null if the message is
 * not authentic or a wrap meant for it does not open. Does not mutate `held`.
 */
export function receiveRekey(crypto: CryptoProvider, serverPublic: Uint8Array, held: ReadonlyMap<number, Uint8Array>, message: Uint8Array): Map<number, Uint8Array> | null {
  if (message.length < HEADER + SIG) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const count = view.getUint16(5);
  const end = HEADER + count * WRAP;
  if (message.length !== end + SIG) return null;
  if (!crypto.ed25519Verify(serverPublic, message.subarray(0, end), message.subarray(end))) return null;
  const keys = new Map(held);
  for (let at = HEADER; at < end; at += WRAP) {
    const target = view.getUint32(at);
    const under = view.getUint32(at + 4);
    const k = keys.get(under);
    if (k === undefined) continue;
    const key = crypto.open(k, message.subarray(at + 8, at + 8 + NONCE), message.subarray(at + 8 + NONCE, at + WRAP), aad(target, under));
    if (key === null) return null;
    keys.set(target, key);
  }
  return keys;
}

/** The key server's state: every node key, and which leaves are occupied. */
export class LkhServer {
  readonly depth: number;
  readonly signer: Uint8Array;
  readonly publicKey: Uint8Array;
  private readonly keys = new Map<number, Uint8Array>();
  /** Members below each node (heap-indexed). */
  private count: Uint32Array;
  private epoch = 0;

  /**
   * A tree of `members` members with room for `capacity`. `vacant` leaves one slot
   * empty (members fill the slots around it), so a join lands next to a sibling.
   */
  constructor(
    private readonly crypto: CryptoProvider,
    private readonly rng: Rng,
    members: number,
    capacity = members + 1,
    vacant = -1,
  ) {
    this.depth = Math.max(1, Math.ceil(Math.log2(capacity)));
    this.signer = rng(32);
    this.publicKey = crypto.ed25519PublicKey(this.signer);
    if (members + (vacant >= 0 ? 1 : 0) > 2 ** this.depth) throw new Error('lkh: capacity below members');
    this.count = new Uint32Array(2 ** (this.depth + 1));
    for (let i = 0, placed = 0; placed < members; i++) {
      if (i === vacant) continue;
      this.adjust(this.leaf(i), 1);
      placed++;
    }
    for (let x = 1; x < 2 ** (this.depth + 1); x++) if (this.count[x] !== 0) this.keys.set(x, rng(KEY));
  }

  /** Node index of member slot i. */
  leaf(i: number): number {
    return 2 ** this.depth + i;
  }

  /** Path from a leaf up to and including the root. */
  path(leaf: number): number[] {
    const p: number[] = [];
    for (let x = leaf; x >= 1; x = Math.floor(x / 2)) p.push(x);
    return p;
  }

  /** The keys member slot i holds (its path). */
  memberKeys(i: number): Map<number, Uint8Array> {
    const held = new Map<number, Uint8Array>();
    for (const x of this.path(this.leaf(i))) {
      const k = this.keys.get(x);
      if (k !== undefined) held.set(x, k);
    }
    return held;
  }

  groupKey(): Uint8Array {
    return this.keys.get(1) as Uint8Array;
  }

  private hasMembers(x: number): boolean {
    return (this.count[x] ?? 0) > 0;
  }

  private adjust(leaf: number, delta: number): void {
    for (let x = leaf; x >= 1; x = Math.floor(x / 2)) this.count[x] = (this.count[x] ?? 0) + delta;
  }

  /** Admits a member at the first free leaf. Returns the multicast to existing members and the unicast to the joiner. */
  join(): { slot: number; multicast: Uint8Array; unicast: Uint8Array; joinerKey: Uint8Array } {
    let leaf = this.leaf(0);
    while (leaf < 2 ** (this.depth + 1) && this.hasMembers(leaf)) leaf++;
    if (leaf >= 2 ** (this.depth + 1)) throw new Error('lkh: tree full');
    const joinerKey = this.rng(KEY); // the individual key, agreed at registration
    const old = new Map(this.keys);
    const toExisting: Wrap[] = [];
    const toJoiner: Wrap[] = [];
    for (const x of this.path(leaf).slice(1)) {
      const fresh = this.rng(KEY);
      if (old.has(x) && this.hasMembers(x)) toExisting.push({ target: x, under: x, key: fresh });
      toJoiner.push({ target: x, under: leaf, key: fresh });
      this.keys.set(x, fresh);
    }
    this.keys.set(leaf, joinerKey);
    this.adjust(leaf, 1);
    this.epoch++;
    const multicast = encodeRekey(this.crypto, this.rng, this.signer, 1, this.epoch, toExisting, old);
    const unicast = encodeRekey(this.crypto, this.rng, this.signer, 2, this.epoch, toJoiner, this.keys);
    return { slot: leaf - this.leaf(0), multicast, unicast, joinerKey };
  }

  /** Removes member slot i; returns the multicast rekey message. */
  leave(i: number): Uint8Array {
    const leaf = this.leaf(i);
    if (!this.hasMembers(leaf)) throw new Error('lkh: not a member');
    this.adjust(leaf, -1);
    this.keys.delete(leaf);
    const wraps: Wrap[] = [];
    for (const x of this.path(leaf).slice(1)) {
      const fresh = this.rng(KEY);
      this.keys.set(x, fresh);
      for (const child of [2 * x, 2 * x + 1]) {
        if (!this.keys.has(child) || !this.hasMembers(child)) continue;
        wraps.push({ target: x, under: child, key: fresh });
      }
    }
    this.epoch++;
    return encodeRekey(this.crypto, this.rng, this.signer, 3, this.epoch, wraps, this.keys);
  }

  /** Periodic refresh: a new group key under the root's two children. */
  refresh(): Uint8Array {
    const fresh = this.rng(KEY);
    const wraps: Wrap[] = [2, 3].filter((c) => this.hasMembers(c)).map((c) => ({ target: 1, under: c, key: fresh }));
    this.keys.set(1, fresh);
    this.epoch++;
    return encodeRekey(this.crypto, this.rng, this.signer, 4, this.epoch, wraps, this.keys);
  }

  /** A copy, so a measurement can repeat an operation from the same state. */
  clone(): LkhServer {
    const c = Object.create(LkhServer.prototype) as LkhServer;
    Object.assign(c, this, { keys: new Map(this.keys), count: this.count.slice() });
    return c;
  }
}
