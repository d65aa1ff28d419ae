/**
 * @module bench/schemes/pairwise
 * The naive scheme: the member that rekeys draws a new group key and sends it to
 * every other member over their pairwise channel (a key per pair, agreed once by
 * X25519 between identity keys and HKDF). Same primitives as Conclave
 * (XChaCha20-Poly1305, X25519, HKDF-SHA256 from the CryptoProvider). The AEAD
 * under the pairwise key authenticates the sender, so messages are not signed.
 *
 * - join: the initiator agrees a pairwise key with the joiner, then sends the new
 *   group key to the N−1 other existing members and to the joiner.
 * - leave: the new group key to the N−2 members that remain (not the leaver, not itself).
 * - refresh: the new group key to the N−1 others.
 *
 * Wire (one unicast per recipient): [kind u8][epoch u32][nonce 24][sealed key 48].
 */
import type { CryptoProvider, Rng } from '../../app/core/crypto-provider.js';

const KEY = 32;
const NONCE = 24;
export const PAIRWISE_MESSAGE = 1 + 4 + NONCE + KEY + 16;
const INFO = new TextEncoder().encode('bench pairwise channel');

function header(kind: number, epoch: number): Uint8Array {
  const h = new Uint8Array(5);
  h[0] = kind;
  new DataView(h.buffer).setUint32(1, epoch);
  return h;
}

/** The pairwise channel key between two X25519 identities (the same on both sides). */
export function channelKey(crypto: CryptoProvider, secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const shared = crypto.x25519(secret, peerPublic);
  if (shared === null) throw new Error('pairwise: bad peer key');
  return crypto.hkdf(shared, new Uint8Array(0), INFO, KEY);
}

export function sealGroupKey(crypto: CryptoProvider, rng: Rng, channel: Uint8Array, kind: number, epoch: number, groupKey: Uint8Array): Uint8Array {
  const h = header(kind, epoch);
  const nonce = rng(NONCE);
  const out = new Uint8Array(PAIRWISE_MESSAGE);
  out.set(h, 0);
  out.set(nonce, h.length);
  out.set(crypto.seal(channel, nonce, groupKey, h), h.length + NONCE);
  return out;
}

/** A recipient opens the group key; null if the message is not from its channel partner. */
export function openGroupKey(crypto: CryptoProvider, channel: Uint8Array, message: Uint8Array): Uint8Array | null {
  if (message.length !== PAIRWISE_MESSAGE) return null;
  const h = message.subarray(0, 5);
  return crypto.open(channel, message.subarray(5, 5 + NONCE), message.subarray(5 + NONCE), h);
}

/** The initiator's view: its channel keys to every other member (index = member). */
export class PairwiseMember {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  /** Channel keys by member index; this member's own slot is empty. */
  channels: (Uint8Array | undefined)[];
  groupKey: Uint8Array;
  private epoch = 0;

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly rng: Rng,
    readonly self: number,
    channels: (Uint8Array | undefined)[],
  ) {
    this.secret = rng(32);
    this.publicKey = crypto.x25519PublicKey(this.secret);
    this.channels = channels;
    this.groupKey = rng(KEY);
  }

  /** Keys a member stores: one channel key per other member, plus the group key. */
  keysPerMember(): number {
    return this.channels.length;
  }

  private sendToAll(kind: number, skip: ReadonlySet<number>): Uint8Array[] {
    this.groupKey = this.rng(KEY);
    this.epoch++;
    const out: Uint8Array[] = [];
    this.channels.forEach((ch, i) => {
      if (ch === undefined || i === this.self || skip.has(i)) return;
      out.push(sealGroupKey(this.crypto, this.rng, ch, kind, this.epoch, this.groupKey));
    });
    return out;
  }

  /** Admits a joiner (its X25519 public key): agree a channel, then send the new key to all. */
  join(joinerPublic: Uint8Array): Uint8Array[] {
    this.channels = [...this.channels, channelKey(this.crypto, this.secret, joinerPublic)];
    return this.sendToAll(1, new Set());
  }

  leave(member: number): Uint8Array[] {
    this.channels = this.channels.map((c, i) => (i === member ? undefined : c));
    return this.sendToAll(2, new Set([member]));
  }

  refresh(): Uint8Array[] {
    return this.sendToAll(3, new Set());
  }
}
