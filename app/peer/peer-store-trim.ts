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
 */
import type { PeerId } from '@libp2p/interface';
import { memberKeyOfPeer } from '../net/ids.js';
import { isStranger, type PeerContext } from './peer-context.js';

/** How often the mesh sweeps the peer store. */
export const PEER_STORE_SWEEP_MS = 30_000;

/** Deletes the entries of disconnected strangers (see the invariants); returns how many went. */
export async function trimPeerStore(ctx: PeerContext, keep: (peer: PeerId) => boolean): Promise<number> {
  const node = ctx.node;
  const peers = await node.peerStore.all();
  let deleted = 0;
  for (const { id } of peers) {
    if (id.equals(node.peerId) || node.getConnections(id).length > 0 || keep(id)) continue;
    const key = memberKeyOfPeer(id);
    if (key !== null && !isStranger(ctx.groups, key)) continue;
    try {
      await node.peerStore.delete(id);
      deleted++;
    } catch {
      // left for the next sweep
    }
  }
  return deleted;
}
