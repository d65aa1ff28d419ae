/**
 * @module net/ids
 * One identity, two spellings: a member's 32-byte Ed25519 seed is also its libp2p
 * peer key, so a MemberKey (lowercase hex of the public key, core/types) and a
 * libp2p peer ID string convert into each other without any lookup.
 *
 * Invariants: only Ed25519 peer IDs map to members; any other peer ID, or a string
 * that is not a peer ID, comes back as null (never a throw).
 */
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';

export type MemberKeyHex = string;

const HEX_KEY = /^[0-9a-f]{64}$/;

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export async function libp2pKeyFromSeed(seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.length !== 32) throw new RangeError('identity seed must be 32 bytes');
  return generateKeyPairFromSeed('Ed25519', seed);
}

/** MemberKey of a peer ID (object or string); null for non-Ed25519 or malformed IDs. */
export function memberKeyOfPeer(peer: PeerId | string): MemberKeyHex | null {
  try {
    const id = typeof peer === 'string' ? peerIdFromString(peer) : peer;
    if (id.type !== 'Ed25519' || id.publicKey == null) return null;
    return bytesToHex(id.publicKey.raw);
  } catch {
    return null;
  }
}

/**
 * Peer IDs of member keys already converted (a PeerId is immutable; its string form,
 * the connection manager's key, is computed once per object). The mesh asks whether
 * each fellow member is connected every 1.5 s and catch-up on every session: each
 * question built a PeerId and base58-encoded it again. Bounded: emptied past
 * PEER_ID_CACHE entries (members of this peer's groups, and strangers).
 */
const peerIds = new Map<MemberKeyHex, PeerId>();
const PEER_ID_CACHE = 4096;

/** Peer ID of a MemberKey; null when the key is not 64 hex characters of a valid Ed25519 key. */
export function peerOfMemberKey(member: MemberKeyHex): PeerId | null {
  const known = peerIds.get(member);
  if (known) return known;
  if (!HEX_KEY.test(member)) return null;
  try {
    const pid = peerIdFromPublicKey(publicKeyFromRaw(hexToBytes(member)));
    if (peerIds.size >= PEER_ID_CACHE) peerIds.clear();
    peerIds.set(member, pid);
    return pid;
  } catch {
    return null;
  }
}

export function peerIdStringOfMemberKey(member: MemberKeyHex): string | null {
  return peerOfMemberKey(member)?.toString() ?? null;
}
