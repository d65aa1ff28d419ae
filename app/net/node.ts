/**
 * @module net/node
 * Builds the libp2p 2.x node every Conclave process runs: TCP and WebSocket
 * transports plus the circuit relay v2 transport, Noise, Yamux, identify, ping,
 * DCUtR, gossipsub with StrictSign, the `nat` handle on two components for
 * Conclave's own TCP hole punch and relay reservations (net/punch,
 * peer/reachability), optional mDNS (LAN discovery) and an optional
 * circuit relay v2 server (the `conclave relay` command) with the default
 * 128 KiB / 2 min relayed-connection limit removed.
 *
 * Invariants:
 * - The node's private key is the member's identity seed (net/ids), so peer IDs
 *   and MemberKeys are the same identity.
 * - Gossipsub signs every message and refuses unsigned ones (StrictSign): the
 *   `from` of a message is authenticated before the engine sees it.
 * - mDNS does not auto-dial in libp2p 2.x; the caller decides what to dial on
 *   `peer:discovery` (see peer/network.ts).
 */
import './shim.js';
import { BlockList } from 'node:net';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, type GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type PingService } from '@libp2p/ping';
import { mdns } from '@libp2p/mdns';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import type { Connection, PubSub } from '@libp2p/interface';
import { isLinkLocal } from '@libp2p/utils/multiaddr/is-link-local';
import { isLoopback } from '@libp2p/utils/multiaddr/is-loopback';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { libp2pKeyFromSeed } from './ids.js';

/**
 * The two libp2p components NAT traversal needs beyond the public API (net/punch,
 * peer/reachability): the transport manager, to dial a hole-punch address from a
 * chosen local port (the connection manager drops per-dial transport options),
 * and to listen through a relay found at run time (a reservation).
 */
export interface NatAccess {
  transportManager: {
    dial(ma: Multiaddr, options: { signal: AbortSignal; localPort?: number; initiator?: boolean }): Promise<Connection>;
    listen(addrs: Multiaddr[]): Promise<void>;
  };
}

export type ConclaveLibp2p = Libp2p<{
  identify: Identify;
  ping: PingService;
  pubsub: PubSub<GossipsubEvents>;
  nat: NatAccess;
}>;

export interface NodeOptions {
  /** The member's 32-byte identity seed (also the libp2p key). */
  seed: Uint8Array;
  /** Multiaddrs to listen on; `…/p2p/RELAY/p2p-circuit` listens through a relay. */
  listen: string[];
  /** Discover LAN peers by mDNS (binds 0.0.0.0:5353). */
  mdns: boolean;
  /** mDNS query interval (ms). */
  mdnsIntervalMs?: number;
  /** Run a circuit relay v2 server (the `conclave relay` command). */
  relayServer?: boolean;
  /** Largest gossipsub message accepted (bytes). */
  maxMessageBytes?: number;
}

export const MAX_PUBSUB_MESSAGE_BYTES = 1024 * 1024;

export async function createConclaveNode(options: NodeOptions): Promise<ConclaveLibp2p> {
  const privateKey = await libp2pKeyFromSeed(options.seed);
  const peerDiscovery = options.mdns ? [mdns({ interval: options.mdnsIntervalMs ?? 2000 })] : [];
  const services = {
    identify: identify(),
    ping: ping(),
    dcutr: dcutr(),
    nat: (components: NatAccess): NatAccess => ({ transportManager: components.transportManager }),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictSign',
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      // Small groups: keep every subscribed peer in the mesh quickly.
      D: 6,
      Dlo: 2,
      Dhi: 12,
      heartbeatInterval: 700,
      floodPublish: true,
      // Drop copies of a message already accepted before checking their signature again.
      // gossipsub verifies every copy it receives before looking at its seen-cache, and in a
      // group every message arrives from several mesh peers (about 5 copies each in a
      // ten-member group); this is the same identity its message ID uses under StrictSign
      // (author ‖ seqno), and it is remembered only for messages whose signature verified.
      fastMsgIdFn: fastMessageId,
      maxInboundDataLength: (options.maxMessageBytes ?? MAX_PUBSUB_MESSAGE_BYTES) + 64 * 1024,
    }),
    ...(options.relayServer
      ? {
          relay: circuitRelayServer({
            reservations: { maxReservations: 512, applyDefaultLimit: false },
          }),
        }
      : {}),
  };
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.listen },
    transports: [tcp(), webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    // Every member dials every other: a burst of joins makes each member take a connection from
    // each newcomer at once, all from one address when they share a host or a NAT. libp2p's
    // defaults (5 new inbound connections a second per address, 10 in their handshake) refused
    // them, and a fifty-member group never formed on loopback (docs/performance.md).
    connectionManager: { maxConnections: 400, inboundConnectionThreshold: 64, maxIncomingPendingConnections: 64 },
    services,
  });
  return node as unknown as ConclaveLibp2p;
}

/** Author ‖ sequence number of a received message, before validation (see fastMsgIdFn above). */
export function fastMessageId(msg: { from?: Uint8Array; seqno?: Uint8Array }): string {
  if (!msg.from || !msg.seqno) return 'unsigned'; // refused by StrictSign, so never remembered
  return `${Buffer.from(msg.from).toString('base64')}.${Buffer.from(msg.seqno).toString('base64')}`;
}

export type ConnectionKind = 'lan' | 'direct' | 'relayed';

/**
 * RFC 1918 private IPv4 networks and IPv6 unique local addresses (fc00::/7): the
 * LAN ranges that are neither loopback nor link-local (@libp2p/utils checks those).
 */
const PRIVATE_NETWORKS = new BlockList();
PRIVATE_NETWORKS.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_NETWORKS.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_NETWORKS.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE_NETWORKS.addSubnet('fc00::', 7, 'ipv6');

/** Where a multiaddr points: through a relay, to a private/loopback/link-local address or localhost (LAN), or elsewhere. */
export function classifyAddress(address: string): ConnectionKind {
  let ma: Multiaddr;
  try {
    ma = multiaddr(address);
  } catch {
    return 'direct';
  }
  const components = ma.getComponents();
  if (components.some((c) => c.name === 'p2p-circuit')) return 'relayed';
  if (isLoopback(ma) || isLinkLocal(ma)) return 'lan';
  const first = components[0];
  if (!first?.value) return 'direct';
  if (first.name === 'ip4' || first.name === 'ip6') return PRIVATE_NETWORKS.check(first.value, first.name === 'ip4' ? 'ipv4' : 'ipv6') ? 'lan' : 'direct';
  if ((first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') && first.value === 'localhost') return 'lan';
  return 'direct';
}

export function classifyConnection(connection: Connection): ConnectionKind {
  return classifyAddress(connection.remoteAddr.toString());
}
