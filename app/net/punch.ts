/**
 * @module net/punch
 * Conclave's TCP hole punch (issue 16 §4; docs/network.md "Paths"): two peers
 * behind NATs that talk through a relay open a direct TCP connection by a
 * simultaneous open from predicted public endpoints.
 *
 * Why not libp2p's DCUtR alone: js-libp2p's TCP transport dials from an
 * ephemeral port, so the public address a NAT gives an outgoing connection is
 * never the one a peer announces (identify ignores TCP observed addresses for
 * that reason), and DCUtR has nothing to punch to. Here each side instead binds
 * a fresh local port P it chooses, predicts its public endpoint as
 * (public IP seen by others, P) — right for a port-preserving,
 * endpoint-independent mapping such as Linux MASQUERADE's default — and both
 * dial each other at once from P. The first SYN is dropped by the far NAT, it
 * opens the near one; the retransmitted SYN then meets the other side's
 * mapping, and TCP's simultaneous open completes.
 *
 * Protocol `/conclave/punch/1.0.0` (one request, one response, over the relayed
 * connection): `{ip, port}` → `{ip, port}`. The requester dials as the
 * multistream/Noise initiator, the responder with `initiator: false`, so the
 * one TCP connection gets one initiator.
 *
 * Invariants: only IPv4 literals that classify as public are ever dialled; a
 * punch attempt is bounded by PUNCH_TIMEOUT_MS (its dial only: the
 * connection it makes outlives it); a failure leaves the relayed
 * connection untouched. A request is answered only for a peer `mayServe`
 * admits (the peer layer: a current member of one of our groups), at most one at
 * a time per asker and MAX_SERVED_PUNCHES in all (review 44: any stranger over
 * a relay learnt this peer's public IPv4 address, which the relay hides, and
 * made it dial any public host and port, 32 at once per throwaway identity;
 * review 45: one member holding all four slots refused everyone else's punch). On success the relayed connections to that peer are
 * closed and gossipsub is moved onto the direct one (`rebindGossip`).
 */
import { createServer } from 'node:net';
import type { Connection, PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { classifyAddress, type ConclaveLibp2p } from './node.js';
import { request, serve, type StreamLimits } from './unicast.js';

export const PROTOCOL_PUNCH = '/conclave/punch/1.0.0';
const PUNCH_LIMITS: StreamLimits = { maxFrameBytes: 256, maxFrames: 1, timeoutMs: 10_000 };
/** Covers the SYN retransmissions at 1 s and 3 s. */
const PUNCH_TIMEOUT_MS = 5000;
/** Punches asked of this peer that may be dialling at once (its own are one per peer: peer/reachability). */
export const MAX_SERVED_PUNCHES = 4;

interface Endpoint {
  ip: string;
  port: number;
}

function parseEndpoint(frame: Uint8Array | undefined): Endpoint | null {
  if (!frame) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(frame)) as { ip?: unknown; port?: unknown };
    if (typeof v.ip !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(v.ip)) return null;
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535) return null;
    if (classifyAddress(`/ip4/${v.ip}/tcp/${v.port}`) !== 'direct') return null;
    return { ip: v.ip, port: v.port };
  } catch {
    return null;
  }
}

function encode(e: Endpoint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(e));
}

/** A TCP port free on this host right now (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const addr = server.address();
      server.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class HolePuncher {
  constructor(
    private readonly node: ConclaveLibp2p,
    /** This peer's public IPv4 address as others see it, if known. */
    private readonly publicIp: () => string | null,
    private readonly log: (line: string) => void,
    /** Whether a punch asked by `peer` is answered at all (it learns our public address, and we dial where it says). */
    private readonly mayServe: (peer: PeerId) => boolean,
  ) {}

  /** The peers whose answered punch is dialling now (one each, MAX_SERVED_PUNCHES in all). */
  private readonly served = new Set<string>();

  /** Answers punch requests: replies with our predicted endpoint, then dials theirs. */
  async serve(): Promise<void> {
    await serve(this.node, PROTOCOL_PUNCH, PUNCH_LIMITS, async (remote, frames) => {
      const theirs = parseEndpoint(frames[0]);
      const ip = this.publicIp();
      const asker = remote.toString();
      if (!theirs || !ip || !this.mayServe(remote) || this.served.has(asker) || this.served.size >= MAX_SERVED_PUNCHES || this.hasDirect(remote)) return undefined;
      this.served.add(asker);
      let port: number;
      try {
        port = await freePort();
      } catch (err) {
        this.served.delete(asker);
        throw err;
      }
      setTimeout(() => void this.dial(remote, theirs, port, false).finally(() => this.served.delete(asker)), 0);
      return [encode({ ip, port })];
    });
  }

  /** Asks `peer` (reached through a relay) to punch with us. True when a direct connection resulted. */
  async punch(peer: PeerId): Promise<boolean> {
    const ip = this.publicIp();
    if (!ip || this.hasDirect(peer)) return false;
    const port = await freePort();
    const frames = await request(this.node, peer, PROTOCOL_PUNCH, encode({ ip, port }), PUNCH_LIMITS);
    const theirs = parseEndpoint(frames?.[0]);
    if (!theirs) return false;
    return this.dial(peer, theirs, port, true);
  }

  hasDirect(peer: PeerId): boolean {
    return this.node.getConnections(peer).some((c) => c.status === 'open' && classifyAddress(c.remoteAddr.toString()) !== 'relayed');
  }

  private async dial(peer: PeerId, to: Endpoint, localPort: number, initiator: boolean): Promise<boolean> {
    const ma = multiaddr(`/ip4/${to.ip}/tcp/${to.port}/p2p/${peer.toString()}`);
    // The transport keeps the dial's signal for the socket's life: a timeout signal would
    // abort the direct connection PUNCH_TIMEOUT_MS after the punch (it did: a direct path
    // lasted 5 s, then fell back to the relay). Abort only while the dial is pending.
    const dialing = new AbortController();
    const timer = setTimeout(() => dialing.abort(new Error('hole punch timed out')), PUNCH_TIMEOUT_MS);
    try {
      const conn = await this.node.services.nat.transportManager.dial(ma, { signal: dialing.signal, localPort, initiator });
      clearTimeout(timer);
      this.log(`hole punch to ${peer.toString().slice(-8)} succeeded (${to.ip}:${to.port})`);
      await this.retireRelayed(peer, conn);
      return true;
    } catch (err) {
      clearTimeout(timer);
      this.log(`hole punch to ${peer.toString().slice(-8)} failed: ${err instanceof Error ? err.message.slice(0, 120) : 'error'}`);
      return false;
    }
  }

  /** Closes the relayed connections to `peer` and moves gossipsub onto `direct`. */
  private async retireRelayed(peer: PeerId, direct: Connection): Promise<void> {
    const relayed = this.node.getConnections(peer).filter((c) => c !== direct && classifyAddress(c.remoteAddr.toString()) === 'relayed');
    await Promise.all(relayed.map((c) => c.close({ signal: AbortSignal.timeout(2000) }).catch(() => c.abort(new Error('superseded by a direct connection')))));
    rebindGossip(this.node, peer, direct);
  }
}

/**
 * Gossipsub learns of a peer once, when the first connection to it is
 * identified, and keeps its streams on that connection until the peer
 * disconnects entirely (@chainsafe/libp2p-gossipsub 14). When that connection
 * is replaced by another to the same peer (a hole punch, a dead connection after
 * a move), its streams die with it: forget the peer and add it again on the
 * live connection, as the registrar would after a disconnect.
 */
export function rebindGossip(node: ConclaveLibp2p, peer: PeerId, live: Connection): void {
  // Private in the typings; these are the registrar topology callbacks.
  const gossip = node.services.pubsub as unknown as {
    onPeerDisconnected(peer: PeerId): void;
    onPeerConnected(peer: PeerId, connection: Connection): void;
  };
  if (live.status !== 'open') return;
  gossip.onPeerDisconnected(peer);
  gossip.onPeerConnected(peer, live);
}
