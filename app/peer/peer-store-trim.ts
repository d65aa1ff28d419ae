/**
 * @module peer/peer-store-trim
 * Keeps libp2p's peer store from growing with every stranger that ever
 * connected (docs/network.md "What a stranger costs").
 *
 * libp2p 2.x keeps an entry (addresses, protocols, keys) for every peer that
 * identified itself or was discovered, and never drops one. A peer ID costs an
 * attacker nothing, so one host connecting under fresh IDs, or one LAN host
 * announcing fresh IDs over mDNS, grew a member's memory without bound.
 *
 * Invariants:
 * - A sweep deletes the entry of every peer that is disconnected, is in no roster
 *   of this peer's groups (member, departed or excluded: isStranger), is not a
 *   relay this peer knows, and is not kept by the caller (LAN finds, contacts
 *   being dialled).
 * - Nothing else is touched: members' addresses stay for redials (they are also
 *   in the group record), and a stranger that is connected stays until it goes.
 * - A sweep reads the store once and deletes one entry at a time; a failure to
 *   delete one entry leaves it for the next sweep.
 * - The same sweep ends gossipsub's retention of the same peers' scores: gossipsub
 *   keeps a departed peer's stats for `retainScore` (an hour) unless its score is
 *   positive, so a stranger that did nothing (score 0) stayed an hour under every
 *   fresh ID (review 8: up to 64 connections a second from one host). Their expiry
 *   is set to now and gossipsub purges them at its next score refresh (its own
 *   path, IP tracking included). A stranger gains nothing by it: a fresh peer ID
 *   starts at 0 anyway; members' retained scores are untouched.
 */
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { memberKeyOfPeer } from '../net/ids.js';
import { isStranger, type PeerContext } from './peer-context.js';

/** How often the mesh sweeps the peer store. */
export const PEER_STORE_SWEEP_MS = 30_000;

/** The part of gossipsub's score table read here (not in its public types). */
interface RetainedScores {
  peerStats: Map<string, { connected: boolean; expire: number }>;
}

/** Deletes the entries of disconnected strangers and ends gossipsub's retention of their scores (see the invariants); returns how many entries went. */
export async function trimPeerStore(ctx: PeerContext, keep: (peer: PeerId) => boolean): Promise<number> {
  const node = ctx.node;
  const forgettable = (id: PeerId): boolean => {
    if (id.equals(node.peerId) || node.getConnections(id).length > 0 || keep(id)) return false;
    const key = memberKeyOfPeer(id);
    return key === null || isStranger(ctx.groups, key);
  };
  expireStrangerScores(ctx, forgettable);
  const peers = await node.peerStore.all();
  let deleted = 0;
  for (const { id } of peers) {
    if (!forgettable(id)) continue;
    try {
      await node.peerStore.delete(id);
      deleted++;
    } catch {
      // left for the next sweep
    }
  }
  return deleted;
}

/** Sets the retention of the departed strangers' gossipsub scores to end now (a version without the table: nothing). */
function expireStrangerScores(ctx: PeerContext, forgettable: (peer: PeerId) => boolean): void {
  const stats = (ctx.node.services.pubsub as unknown as { score?: Partial<RetainedScores> }).score?.peerStats;
  if (!(stats instanceof Map)) return;
  for (const [id, s] of stats) {
    if (s.connected || typeof s.expire !== 'number') continue;
    let peer: PeerId;
    try {
      peer = peerIdFromString(id);
    } catch {
      continue;
    }
    if (forgettable(peer)) s.expire = 0;
  }
}
