/**
 * @module net/pending-handshakes
 * Keeps inbound connections that never finish their handshake from shutting the door on
 * everyone else (review 30; review 29 left it open as "pending handshakes"). libp2p counts
 * inbound connections still in their upgrade (multistream, Noise, Yamux) and refuses every new
 * one while that count is at its limit, before its per-address rate limit and before any hook
 * we have (`ConnectionManager.acceptIncomingConnection`). A few dozen raw TCP sockets that send
 * nothing, renewed as libp2p's 10 s upgrade timeout drops them, kept every new peer out, a
 * newcomer with a valid invite included.
 *
 * `evictStalledHandshakes` wraps a transport so that its listeners hand each inbound connection
 * to the upgrader through a count of their own, kept below libp2p's: past `limit` connections in
 * their handshake, the oldest of the source (an IPv4 address, an IPv6 /64) that holds the most is
 * aborted. So an attacker's sockets evict each other, however fast it renews them, and a peer
 * from another address gets its handshake done (a few round trips: milliseconds on a LAN, well
 * under a second on most paths). An attacker with many addresses spreads its sockets, and the
 * oldest of the busiest source goes: it must outpace honest handshakes, not trickle.
 *
 * Invariants:
 * - Only inbound upgrades are counted (TCP and WebSocket listeners', and relayed connections'
 *   through `evictStalledRelayedHandshakes`); dials are untouched.
 * - A connection leaves the count when its upgrade ends, however it ends; an evicted one is
 *   aborted once (its upgrade then fails and libp2p frees its own slot). The newest connection
 *   is never the one evicted (it is the newest of its source, and ties go to the oldest's source).
 * - `limit` is below libp2p's `maxIncomingPendingConnections`, so the eviction comes first.
 */
import type { CreateListenerOptions, Listener, MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface';

export class HandshakeEvictedError extends Error {
  override readonly name = 'HandshakeEvictedError';
  constructor() {
    super('evicted: the oldest of too many inbound connections still in their handshake');
  }
}

/** Inbound connections in their handshake, oldest first (a Map keeps insertion order), each with its source's key; one per node, shared by its transports. */
export type PendingHandshakes = Map<MultiaddrConnection, string>;

/**
 * Whom a connection counts against: its IPv4 address, or its IPv6 address's /64 (one host may hold
 * a whole /64); a relayed connection, its relay's.
 */
export function sourceKey(maConn: Pick<MultiaddrConnection, 'remoteAddr'>): string {
  let address: string;
  try {
    address = maConn.remoteAddr.nodeAddress().address;
  } catch {
    return maConn.remoteAddr.toString(); // not an IP address (a relayed one): counted alone
  }
  if (!address.includes(':')) return address;
  const [left = '', right = ''] = address.toLowerCase().split('::');
  const head = left.split(':').filter(Boolean);
  const tail = address.includes('::') ? right.split(':').filter(Boolean) : [];
  const groups = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail].map((g) => g.replace(/^0+(?=.)/, ''));
  // An IPv4-mapped address (::ffff:a.b.c.d, which multiaddr writes as ::ffff:xxxx:xxxx) is that IPv4 host.
  if (groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff') {
    const v4 = groups.slice(6).map((g) => parseInt(g, 16));
    return [v4[0]! >> 8, v4[0]! & 255, v4[1]! >> 8, v4[1]! & 255].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The connection to evict: the oldest of the source with the most in their handshake (ties: the source that reached that count first). */
function victimOf(pending: PendingHandshakes): MultiaddrConnection {
  const counts = new Map<string, number>();
  let most = '';
  let mostCount = 0;
  for (const key of pending.values()) {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > mostCount) [most, mostCount] = [key, n];
  }
  for (const [maConn, key] of pending) if (key === most) return maConn;
  return pending.keys().next().value!;
}

/** `upgrader` with its inbound upgrades counted in `pending`: past `limit`, the oldest of the busiest source is aborted. */
function countingUpgrader(upgrader: Upgrader, limit: number, pending: PendingHandshakes): Upgrader {
  return {
    upgradeInbound: async (maConn, opts) => {
      pending.set(maConn, sourceKey(maConn));
      while (pending.size > limit) {
        const evicted = victimOf(pending);
        pending.delete(evicted);
        evicted.abort(new HandshakeEvictedError());
      }
      if (!pending.has(maConn)) throw new HandshakeEvictedError();
      try {
        await upgrader.upgradeInbound(maConn, opts);
      } finally {
        pending.delete(maConn);
      }
    },
    upgradeOutbound: (maConn, opts) => upgrader.upgradeOutbound(maConn, opts),
    createInboundAbortSignal: (signal) => upgrader.createInboundAbortSignal(signal),
    getConnectionEncrypters: () => upgrader.getConnectionEncrypters(),
    getStreamMuxers: () => upgrader.getStreamMuxers(),
  };
}

/**
 * Wraps transport factory `make` (tcp(), webSockets()): past `limit` inbound handshakes in
 * progress (in `pending`, shared by the transports so wrapped), a new one evicts the oldest of
 * the source holding the most, so one source's sockets evict each other, not everyone else's.
 */
export function evictStalledHandshakes<C>(make: (components: C) => Transport, limit: number, pending: PendingHandshakes): (components: C) => Transport {
  return (components: C) => {
    const transport = make(components);
    const createListener = transport.createListener.bind(transport);
    transport.createListener = (options: CreateListenerOptions): Listener => createListener({ ...options, upgrader: countingUpgrader(options.upgrader, limit, pending) });
    return transport;
  };
}

/**
 * The same for the circuit relay transport, which upgrades relayed inbound connections with the
 * node's upgrader (`components.upgrader`), not a listener's: a peer connected to this node may
 * ask it to accept up to hundreds of relayed connections over that one connection, and each sat
 * in libp2p's pending count (the attacker review of the first version: 128 silent relayed
 * connections kept every new peer out again). They count against the relay's address.
 */
export function evictStalledRelayedHandshakes<C extends { upgrader: Upgrader }>(make: (components: C) => Transport, limit: number, pending: PendingHandshakes): (components: C) => Transport {
  return (components: C) => {
    const counted = countingUpgrader(components.upgrader, limit, pending);
    return make(new Proxy(components, { get: (target, key, receiver) => (key === 'upgrader' ? counted : Reflect.get(target, key, receiver)) }));
  };
}
