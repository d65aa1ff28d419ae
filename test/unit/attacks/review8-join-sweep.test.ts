// Review 8: the peer-store sweep (peer/peer-store-trim) against a pending join. The joiner
// merges the invite's addresses of the inviter into libp2p's peer store (peer/join) and, when
// the first dial fails (the inviter offline, its laptop asleep), retries the invite handshake
// every few seconds: invite-exchange's checkContact sends `request(node, inviterPid, ...)`,
// which dials the bare peer ID when no connection is open, i.e. at the addresses in the peer
// store. While the join is pending the inviter is in no roster (a joining engine's roster is
// empty): a stranger, and the sweep deleted its entry 30 s into the join, so a join whose
// inviter came online later never reached it.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { request, serve } from '../../../app/net/unicast.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode } from './review8-fixtures.js';

const PROTOCOL = '/review8/echo/1.0.0';
const LIMITS = { maxFrameBytes: 1024, maxFrames: 1, timeoutMs: 5000 };

test('a pending join keeps its inviter reachable: the sweep does not delete the addresses the invite gave', { timeout: 60_000 }, async () => {
  const joiner = await newNode();
  const inviter = await newNode();
  await serve(inviter, PROTOCOL, LIMITS, () => [new Uint8Array([1])]);
  const inviterKey = memberKeyOfPeer(inviter.peerId)!;
  const dialable = inviter.getMultiaddrs().map((a) => a.toString());

  // What joinWithInvite leaves behind: the invite's addresses in the peer store and in the
  // group record, a joining engine with an empty roster.
  await joiner.peerStore.merge(inviter.peerId, { multiaddrs: dialable.map((a) => multiaddr(a)) });
  const rt = {
    group: 'g',
    record: { addresses: { [inviterKey]: dialable } },
    addContacts: () => {},
    engine: { members: () => [], rosterState: () => null, state: () => 'joining' },
  } as unknown as GroupRuntime;
  const mesh = new Mesh(contextOf(joiner, new Map([['g', rt]])), () => {});

  // The first dial failed ("inviter not reachable yet"): no connection. The sweep runs.
  assert.equal(joiner.getConnections(inviter.peerId).length, 0);
  await mesh.sweepPeerStore();

  // The handshake's retry (checkContact's request) reaches the inviter.
  const reply = await request(joiner, inviter.peerId, PROTOCOL, new Uint8Array([0]), LIMITS);
  assert.notEqual(reply, null, 'the inviter was reached at the addresses the invite gave');
});
