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
 * - A member relay refuses every reservation and relayed connection until a
 *   gate is installed (`setRelayGate`), and then whatever the gate refuses.
 * - Gossipsub runs on limited (member-relayed) connections too: a relayed path
 *   is the group's path until a hole punch replaces it.
 * - Identify runs on every new connection and identify-push on every change of
 *   this node's addresses, so connected peers always hold its current ones
 *   (its relayed address included, once it holds a reservation). A connection
 *   may push at most PUSH_BURST messages at once and one per PUSH_INTERVAL_MS
 *   after; the rest are aborted unread (any peer may push, stranger or not).
 * - Gossipsub scores no peer down for sharing an IP address with others (a NAT,
 *   a relay, one host): only invalid messages lower a score (net/topics).
 */
import './shim.js';
import { BlockList } from 'node:net';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, type GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import { identify, identifyPush, type Identify, type IdentifyPush } from '@libp2p/identify';
import { installHalfWindowUpdates } from './yamux-window.js';
import { installMemoizedEd25519Verify } from './ed25519-verify.js';
import { pingAnswer, type PingAnswer } from './ping-answer.js';
import { mdns } from '@libp2p/mdns';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import type { Connection, PeerId, PubSub } from '@libp2p/interface';
import { isLinkLocal } from '@libp2p/utils/multiaddr/is-link-local';
import { isLoopback } from '@libp2p/utils/multiaddr/is-loopback';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { libp2pKeyFromSeed } from './ids.js';
import { evictStalledHandshakes, evictStalledRelayedHandshakes, type PendingHandshakes } from './pending-handshakes.js';

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
  identifyPush: IdentifyPush;
  ping: PingAnswer;
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
  /** Run a circuit relay v2 server open to anyone, unlimited (the `conclave relay` command). */
  relayServer?: boolean;
  /** Run a member relay: a circuit relay v2 server behind a `RelayGate`, bounded (issue 16 §5). */
  memberRelay?: boolean;
  /** Largest gossipsub message accepted (bytes). */
  maxMessageBytes?: number;
}

export const MAX_PUBSUB_MESSAGE_BYTES = 1024 * 1024;

/** Open connections at most; a new inbound one is refused past it (peer/mesh.ts keeps room for members). */
export const MAX_CONNECTIONS = 400;

/**
 * Inbound connections (TCP, WebSocket, relayed) in their handshake at most: past it, a new one
 * aborts the oldest of the busiest source (net/pending-handshakes.ts). libp2p's own limit (which
 * refuses every new one) is set above it, leaving room for evicted ones still closing.
 */
export const PENDING_HANDSHAKES = 64;
const LIBP2P_PENDING_HANDSHAKES = 2 * PENDING_HANDSHAKES;

/** Subscriptions to topics that are not ours one peer may have kept in gossipsub's table. */
export const FOREIGN_TOPICS_PER_PEER = 256;

/**
 * Bounds gossipsub's table of who subscribes to what. gossipsub keeps an entry for every topic
 * any peer says it subscribes to, and keeps it for good (a peer's leaving only empties its
 * sets): one stranger's RPCs of subscriptions to made-up topics left 400,000 entries and 104 MiB
 * behind after it disconnected (review 29). Here a topic that is not `ours` loses its entry
 * once nobody is left in it (at an unsubscribe, and after a disconnect), and each connection's
 * peer keeps at most FOREIGN_TOPICS_PER_PEER such subscriptions (an honest peer is in a few
 * groups; the rest are dropped as they come). Subscriptions to our topics, and a peer's first
 * FOREIGN_TOPICS_PER_PEER others, are kept as gossipsub recorded them: a joiner learns its
 * inviter's subscription to a group it is about to join from the inviter's hello. Returns how
 * to stop.
 */
export function boundForeignSubscriptions(node: ConclaveLibp2p, ours: (topic: string) => boolean): () => void {
  const pubsub = node.services.pubsub;
  const table = (pubsub as unknown as { topics?: unknown }).topics;
  if (!(table instanceof Map)) return () => {};
  const topics = table as Map<string, Set<string>>;
  const kept = new Map<string, number>();
  const dropIfEmpty = (topic: string): void => {
    if (topics.get(topic)?.size === 0 && !ours(topic)) topics.delete(topic);
  };
  const onChange = (evt: CustomEvent<{ peerId: { toString(): string }; subscriptions: { topic: string; subscribe: boolean }[] }>): void => {
    const peer = evt.detail.peerId.toString();
    let n = kept.get(peer) ?? 0;
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      if (ours(topic)) continue;
      if (subscribe && n < FOREIGN_TOPICS_PER_PEER) {
        n++;
        continue;
      }
      topics.get(topic)?.delete(peer);
      dropIfEmpty(topic);
    }
    kept.set(peer, n);
  };
  const onDisconnect = (evt: CustomEvent<{ toString(): string }>): void => {
    kept.delete(evt.detail.toString());
    // After gossipsub has taken the peer out of its sets.
    setTimeout(() => {
      for (const topic of [...topics.keys()]) dropIfEmpty(topic);
    }, 1000).unref?.();
  };
  pubsub.addEventListener('subscription-change', onChange);
  node.addEventListener('peer:disconnect', onDisconnect);
  return () => {
    pubsub.removeEventListener('subscription-change', onChange);
    node.removeEventListener('peer:disconnect', onDisconnect);
  };
}

/** Largest messages one peer's outbound gossipsub stream may hold before its sends are dropped. */
export const OUTBOUND_BUFFER_MESSAGES = 8;

/** What one received gossipsub RPC may hold (gossipsub drops an RPC over any of these whole). */
export const GOSSIP_RPC_LIMITS = {
  // A hello lists every topic its peer subscribes to, two per group: one of a peer in more
  // groups than this allows would be dropped whole, and nobody would learn its subscriptions.
  // The subscription table is bounded per peer anyway (boundForeignSubscriptions).
  maxSubscriptions: 8192,
  maxMessages: 1024,
  maxIhaveMessageIDs: 5000,
  maxIwantMessageIDs: 5000,
  maxIdontwantMessageIDs: 5000,
  maxControlMessages: 1024,
  maxPeerInfos: 16,
} as const;

/**
 * Bounds of a member relay. Relay v2's defaults (128 KiB and 2 min per relayed
 * connection) are for a hole punch's handshake; a chat's relayed path carries
 * the join, catch-up and messages until a punch succeeds, or for ever behind a
 * symmetric NAT. 32 MiB (about 30 of the largest messages, thousands of chat
 * lines) and 30 min per relayed connection; when either runs out the
 * connection closes and the mesh redials (a fresh relayed connection). At most
 * 64 reservations, each for an hour and renewed by its holder.
 */
export const MEMBER_RELAY_LIMITS = { dataBytes: 32n * 1024n * 1024n, durationMs: 30 * 60_000, maxReservations: 64, reservationTtlMs: 60 * 60_000 } as const;

/** The libp2p protocol a relay serves (identify lists it): how members spot a member relay. */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';

/** Who a member relay serves (peer/reachability builds it from the peer's rosters). */
export interface RelayGate {
  /** `peer` may hold a reservation here. */
  reserve(peer: PeerId): boolean;
  /** `source` may be relayed to `destination` (which holds a reservation here). */
  connect(source: PeerId, destination: PeerId): boolean;
}

const relayGates = new WeakMap<object, { gate: RelayGate | null }>();

/** Installs the gate of a node built with `memberRelay` (the last one set wins). */
export function setRelayGate(node: ConclaveLibp2p, gate: RelayGate): void {
  const holder = relayGates.get(node);
  if (holder) holder.gate = gate;
}

/** Peers each node's mDNS found, by peer ID, least recently found first (at most MAX_MDNS_FINDS). */
const mdnsFinds = new WeakMap<object, Set<string>>();
const MAX_MDNS_FINDS = 256;

/**
 * Whether `peer` was found by this node's mDNS (on the LAN). libp2p's `peer:discovery` event
 * also fires for every peer added to the peer store, so for any peer that connects or is
 * dialled: it does not say a peer is on the LAN (review 7).
 */
export function foundByMdns(node: ConclaveLibp2p, peer: PeerId): boolean {
  return mdnsFinds.get(node)?.has(peer.toString()) ?? false;
}

/** Notes that mDNS found `peer` (the tests' stand-in for a LAN, too). */
export function noteMdnsFind(node: ConclaveLibp2p, peer: PeerId): void {
  const finds = mdnsFinds.get(node);
  if (finds) remember(finds, peer.toString());
}

function remember(finds: Set<string>, id: string): void {
  finds.delete(id);
  finds.add(id);
  for (const oldest of finds) {
    if (finds.size <= MAX_MDNS_FINDS) break;
    finds.delete(oldest);
  }
}

type MdnsFactory = ReturnType<typeof mdns>;

function mdnsNoting(make: MdnsFactory, finds: Set<string>): MdnsFactory {
  return (components) => {
    const discovery = make(components);
    discovery.addEventListener('peer', (evt) => remember(finds, evt.detail.id.toString()));
    return discovery;
  };
}

/** Identify-push messages one connection may send at once, and the interval that earns one more. */
const PUSH_BURST = 4;
const PUSH_INTERVAL_MS = 2000;

type IdentifyPushFactory = ReturnType<typeof identifyPush>;

/**
 * libp2p's identify-push, rate-limited per connection (see the invariants). A push is parsed
 * (up to 8 KiB of addresses), written to the peer store and handed to every `peer:identify`
 * listener; any connected peer could send them back to back (review 7: 400 addresses a push
 * cost the receiver about 9 ms each). libp2p's own pushes are debounced to one a second and
 * sent only when addresses change, so the budget never holds back a genuine one for long.
 */
function rateLimitedIdentifyPush(): IdentifyPushFactory {
  const make = identifyPush();
  return (components) => {
    const service = make(components);
    const inner = service as unknown as { handleProtocol(data: { connection: Connection; stream: { abort(err: Error): void } }): Promise<void> };
    const handle = inner.handleProtocol.bind(service);
    const budgets = new WeakMap<Connection, { tokens: number; at: number }>();
    inner.handleProtocol = async (data) => {
      const now = Date.now();
      const budget = budgets.get(data.connection) ?? { tokens: PUSH_BURST, at: now };
      budget.tokens = Math.min(PUSH_BURST, budget.tokens + (now - budget.at) / PUSH_INTERVAL_MS);
      budget.at = now;
      budgets.set(data.connection, budget);
      if (budget.tokens < 1) {
        data.stream.abort(new Error('identify-push: too many from this connection'));
        return;
      }
      budget.tokens -= 1;
      await handle(data);
    };
    return service;
  };
}

export async function createConclaveNode(options: NodeOptions): Promise<ConclaveLibp2p> {
  // Flow-control frames at half a window, not after every frame read (net/yamux-window).
  installHalfWindowUpdates();
  // Gossipsub's StrictSign check of every message on a memoized key object (net/ed25519-verify).
  installMemoizedEd25519Verify();
  const privateKey = await libp2pKeyFromSeed(options.seed);
  const lanFinds = new Set<string>();
  const peerDiscovery = options.mdns ? [mdnsNoting(mdns({ interval: options.mdnsIntervalMs ?? 2000 }), lanFinds)] : [];
  const services = {
    identify: identify(),
    // A peer's addresses change after it connects (a relay reservation, a new network): the push
    // tells its connected peers, who serve them to fellow members over /conclave/peers. Without it
    // two members behind symmetric NATs learnt each other's pre-reservation addresses only and
    // never met (a failed CI run of the NAT matrix).
    identifyPush: rateLimitedIdentifyPush(),
    // Pings are answered by net/ping-answer (libp2p's ping protocol, its own answerer: it keeps a
    // ping stream open between pings and remembers which connections the far side pings).
    ping: pingAnswer(),
    dcutr: dcutr(),
    nat: (components: NatAccess): NatAccess => ({ transportManager: components.transportManager }),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictSign',
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      // Every message is flood-published: its author sends it to every subscribed peer it is
      // connected to, and the mesh keeps every member connected to every other, so the first copy
      // nearly always comes from the author and each mesh forward is a spare copy (it covers a
      // member the author has no connection to). Forwards were over half of an idle peer's gossipsub
      // sends at thirty members (D 6: about 5.6 mesh peers a topic, each message forwarded to each);
      // D 3 halved them (docs/performance.md "Idle CPU"), D 1 halves them again: about two mesh
      // peers a topic (one grafted, one grafting), so every member still has a peer that forwards
      // it everything, for a member its author is not connected to. Fifty peers on two cores,
      // 20 s after the joins: idle 1.90–2.43 % per peer against 2.33–2.55 %, chat p50 1.6–3.8 s
      // against 3.2–4.5 s (five runs against three); the chaos and partition tests pass alike
      // (docs/performance.md "Round nine"). Dhi stays 12 so
      // that a joiner's graft to its inviter is taken (transport.ts waits for it), Dout and Dscore
      // follow D (Dout ≤ D/2).
      D: 1,
      Dlo: 1,
      Dhi: 12,
      Dout: 0,
      Dscore: 1,
      // Gossip (IHAVE) to max(Dlazy, gossipFactor × the peers outside the mesh) per topic each
      // heartbeat: a repair path for a peer that missed a message, which flood publishing on a
      // fully connected group rarely needs; defaults 6 and 0.25 made it a fifth of an idle
      // thirty-member peer's sends. With Dlazy 3 and gossipFactor 0.1 a fifty-member peer still
      // sent IHAVE to about five peers a topic every heartbeat (some thirteen a second, more than
      // the messages it received); now one. Fifty peers: idle 1.83–1.84 % per peer against
      // 2.32–2.43 %, chat p50 0.9–1.1 s against 2.9–3.8 s (docs/performance.md "Round nine").
      // Behind flood publishing and the mesh forward, catch-up (peer/catch-up) is the repair path
      // that matters for history.
      Dlazy: 1,
      gossipFactor: 0.02,
      heartbeatInterval: 700,
      floodPublish: true,
      // IDONTWANT (gossipsub 1.2) only for large messages: a member gets the author's copy at
      // about the moment its mesh peers forward theirs, so for a small message (a heartbeat, a
      // chat line) the IDONTWANT to every mesh peer costs a send and rarely saves one; for a file
      // chunk or a board share the saved copies are worth it.
      idontwantMinDataSize: 16 * 1024,
      // Drop copies of a message already accepted before checking their signature again.
      // gossipsub verifies every copy it receives before looking at its seen-cache, and in a
      // group every message arrives from several mesh peers (about 5 copies each in a
      // ten-member group); this is the same identity its message ID uses under StrictSign
      // (author ‖ seqno), and it is remembered only for messages whose signature verified.
      fastMsgIdFn: fastMessageId,
      runOnLimitedConnection: true,
      // No IP colocation penalty (gossipsub's P6, default −5 × (peers on one IP − 10)²): members
      // share addresses legitimately — an office behind one NAT, every peer relayed through one
      // relay (a relayed address carries the relay's IP), peers on one host — and from the
      // fifteenth on they scored below the graylist (−80): gossipsub ignored every RPC from them
      // and published nothing to them, so a group of 15+ on one address got no message at all.
      // Who may speak on a group topic is decided by membership (peer/membership-gate), not by
      // address; strangers' offences are counted per peer (peer/peer-guard).
      scoreParams: { IPColocationFactorWeight: 0 },
      maxInboundDataLength: (options.maxMessageBytes ?? MAX_PUBSUB_MESSAGE_BYTES) + 64 * 1024,
      // Bounds on what one peer can make this node hold or do (review 29). Unbounded, a subscriber
      // that stopped granting yamux window kept every message published after it in memory (96 MiB
      // of 100 MB published, for one stalled peer); over the bound gossipsub drops that peer's
      // sends, and the peer catches up later like any member that was away.
      maxOutboundBufferSize: OUTBOUND_BUFFER_MESSAGES * ((options.maxMessageBytes ?? MAX_PUBSUB_MESSAGE_BYTES) + 64 * 1024),
      // One RPC decoded at most this much, else dropped whole: unbounded, one RPC of 3,000 messages
      // each signed by a throwaway key was all processed before any score or block could act.
      // Honest RPCs hold one published message, or an IWANT answer (gossip repair: catch-up is
      // the path that matters for history), and a hello lists two topics per group.
      decodeRpcLimits: GOSSIP_RPC_LIMITS,
    }),
    ...(options.relayServer
      ? {
          relay: circuitRelayServer({
            reservations: { maxReservations: 512, applyDefaultLimit: false },
          }),
        }
      : options.memberRelay
        ? {
            relay: circuitRelayServer({
              reservations: {
                maxReservations: MEMBER_RELAY_LIMITS.maxReservations,
                reservationTtl: MEMBER_RELAY_LIMITS.reservationTtlMs,
                applyDefaultLimit: true,
                defaultDataLimit: MEMBER_RELAY_LIMITS.dataBytes,
                defaultDurationLimit: MEMBER_RELAY_LIMITS.durationMs,
              },
            }),
          }
        : {}),
  };
  // Consulted by the relay server only (a member relay's reservations and connections).
  const relayHolder: { gate: RelayGate | null } = { gate: null };
  const connectionGater = options.memberRelay
    ? {
        denyInboundRelayReservation: (peer: PeerId) => !(relayHolder.gate?.reserve(peer) ?? false),
        denyOutboundRelayedConnection: (source: PeerId, destination: PeerId) => !(relayHolder.gate?.connect(source, destination) ?? false),
      }
    : {};
  const pending: PendingHandshakes = new Map();
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.listen },
    // Raw sockets that never finish the handshake evict each other, not newcomers (review 30).
    transports: [
      evictStalledHandshakes(tcp(), PENDING_HANDSHAKES, pending),
      evictStalledHandshakes(webSockets(), PENDING_HANDSHAKES, pending),
      evictStalledRelayedHandshakes(circuitRelayTransport(), PENDING_HANDSHAKES, pending),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    // Every member dials every other: a burst of joins makes each member take a connection from
    // each newcomer at once, all from one address when they share a host or a NAT. libp2p's
    // defaults (5 new inbound connections a second per address, 10 in their handshake) refused
    // them, and a fifty-member group never formed on loopback (docs/performance.md).
    connectionManager: { maxConnections: MAX_CONNECTIONS, inboundConnectionThreshold: 64, maxIncomingPendingConnections: LIBP2P_PENDING_HANDSHAKES },
    connectionGater,
    // libp2p's connection monitor aborts a connection whose one ping (every 10 s) has not answered
    // within 5 s: on a busy host a live one. Each abort made both sides redial, handshake and catch
    // up, which kept them busy: fifty peers on two cores aborted over a thousand connections while
    // forming. peer/reachability judges connections instead (three silent pings in a row).
    connectionMonitor: { enabled: false },
    services,
  });
  relayGates.set(node, relayHolder);
  mdnsFinds.set(node, lanFinds);
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
