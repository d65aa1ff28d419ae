/**
 * @module peer/reachability
 * Being reachable from the internet (issue 16 §3, §4, §7; seed 002 "a member
 * that changes network"; docs/network.md "Paths", "Roaming"): this peer's
 * public address, its relay reservations, the upgrade of relayed connections
 * to direct ones (net/punch) and healing after a change of network.
 *
 * Invariants:
 * - Relays come from a configured bootstrap list (`--relay`), from the relayed
 *   connections this peer dialled (the invite's: the join dials it), and from
 *   what current members of one of our groups announce (identify and
 *   identify-push): their relayed addresses, and their own relay service when
 *   identify lists the relay hop protocol and a public listen address. A
 *   stranger's announcement teaches no relay (any peer may connect and push
 *   identify at will, unsigned: review 7); the relays of the last
 *   MAX_RELAY_CANDIDATES strangers heard are kept aside and learnt if they are
 *   admitted. Which relays it asks, at most two taught by one member, with a
 *   back-off for each that fails and room made by forgetting one that keeps
 *   failing: peer/relay-choice.
 * - Member relay (issue 16 §5, `relayGate`): while this peer is publicly
 *   reachable it relays for its groups' current members only: a reservation
 *   only for a current member of one of its groups; a relayed connection only
 *   to such a member, from another, or from a peer in no roster (a joiner
 *   reaching its inviter) within a shared rate budget; never for a peer the
 *   guard has blocked. Each relayed connection is bounded (MEMBER_RELAY_LIMITS).
 * - This peer's public IPv4 address is the one public peers observe (identify's
 *   observed address), taken only from a current member of one of our groups
 *   or a relay this peer knows, the most recent such observation winning; a
 *   stranger's is kept aside (the last MAX_RELAY_CANDIDATES observers) until it
 *   is one (review 7: any peer could push one at will). It counts as
 *   publicly reachable only when that address is one of its own interfaces;
 *   otherwise (behind a NAT, or not known yet) it keeps a reservation on up to
 *   two known relays, renewed whenever its relayed address disappears.
 * - Of two peers connected only through a relay, the one with the smaller peer
 *   ID asks for a hole punch: first after PUNCH_FIRST_MS, then after each
 *   failure waits PUNCH_RETRY_MS, doubling up to PUNCH_MAX_BACKOFF_MS. The relay stays the path until a punch succeeds.
 * - Interfaces are polled every TICK_MS: when this host's addresses change (a
 *   move to another LAN or NAT, a new lease), every connection but loopback ones
 *   is aborted (they were bound to the old address), the public address is forgotten, the
 *   reservation redone and the mesh redials at once. No group state changes: the
 *   group does not rekey for a move (002).
 * - Every connection is checked every LIVENESS_INTERVAL_MS; one silent for
 *   LIVENESS_STRIKES pings in a row is aborted (a dead path: the mesh redials).
 *   The pings reuse one stream per connection (`pingOnKeptStream`), and a
 *   connection the far side pinged within the interval is not pinged from this
 *   side (net/ping-answer's `answeredAt`): one end pings each connection.
 *   A peer's only connection that brought a gossipsub message in the last
 *   interval is not pinged: it is alive (in a group every member heartbeats
 *   every 5 s, so an idle member's pings were most of its stream openings); it
 *   is checked again when that message is an interval old, so a path that dies
 *   is pinged an interval after its last message, as if it had been pinged.
 * - When a second connection to a peer opens, it and the older ones are pinged
 *   together; an older one that has not answered PROBE_GRACE_MS after the fresh
 *   one did is aborted and gossipsub moved to the live one (the far side of a
 *   move). A fresh connection that does not answer within PROBE_TIMEOUT_MS says
 *   the far side is busy: nothing is aborted (a busy host is slow on every path).
 */
import { networkInterfaces } from 'node:os';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { byteStream, type ByteStream } from 'it-byte-stream';
import { classifyAddress, RELAY_HOP_PROTOCOL, type RelayGate } from '../net/node.js';
import { PING_PROTOCOL } from '../net/ping-answer.js';
import { memberKeyOfPeer } from '../net/ids.js';
import { HolePuncher, rebindGossip } from '../net/punch.js';
import { isMemberAnywhere, isStranger, validMultiaddr, type PeerContext } from './peer-context.js';
import type { PeerGuard } from './peer-guard.js';
import { RelayChoice } from './relay-choice.js';
import { equalBytes } from '../core/bytes.js';

const TICK_MS = 1000;
const LOOPBACK = /^\/ip4\/127\.|^\/ip6\/::1\//;
const MAX_RELAY_CANDIDATES = 64;
/** The rate bucket all strangers relayed through this member share (the guard's per-address bucket). */
const STRANGERS_RELAYED = 'member-relay/strangers';
const RESERVATION_RETRY_MS = 3000;
const PUNCH_FIRST_MS = 1000;
const PUNCH_RETRY_MS = 2000;
const PUNCH_MAX_BACKOFF_MS = 60_000;
/** How long the fresh connection's ping may take; without an answer nothing is judged. */
const PROBE_TIMEOUT_MS = 15_000;
/** How long after the fresh connection answered an older one may still answer. */
const PROBE_GRACE_MS = 2000;
/**
 * Liveness: each connection is pinged every LIVENESS_INTERVAL_MS, a ping given
 * LIVENESS_TIMEOUT_MS; LIVENESS_STRIKES silent pings in a row abort it. A dead
 * path (a pulled cable, a partition) is dropped within about 40 s — inside the
 * 60 s cut of test/integration/partition.test.ts, so the mesh redials it as a
 * recently lost member and the heal is seen within seconds. A live connection of
 * a host that is busy for a few seconds is kept (libp2p's own monitor, which cut
 * after one 5 s ping, is off: net/node).
 */
const LIVENESS_INTERVAL_MS = 10_000;
const LIVENESS_TIMEOUT_MS = 10_000;
const LIVENESS_STRIKES = 3;

/** The relay part of a relayed address (`…/p2p/RELAY/p2p-circuit/…` → `…/p2p/RELAY`), or null. */
export function relayOf(address: string): string | null {
  const at = address.indexOf('/p2p-circuit');
  if (at <= 0) return null;
  const relay = address.slice(0, at);
  return /\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(relay) && validMultiaddr(relay) ? relay : null;
}

/**
 * A member relay's address from what identify told of a peer (`…/tcp/P/p2p/ID`):
 * it serves the relay hop protocol and listens on a public TCP address. Null otherwise.
 */
export function memberRelayAddress(peer: { peerId: PeerId; protocols: readonly string[]; listenAddrs: readonly { toString(): string }[] }): string | null {
  if (!peer.protocols.includes(RELAY_HOP_PROTOCOL)) return null;
  for (const a of peer.listenAddrs) {
    const address = a.toString().replace(/\/p2p\/[^/]+$/, '');
    if (/^\/ip[46]\/[^/]+\/tcp\/\d+$/.test(address) && classifyAddress(address) === 'direct') return `${address}/p2p/${peer.peerId.toString()}`;
  }
  return null;
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i): i is NonNullable<typeof i> => !!i && !i.internal)
    .map((i) => i.address)
    .sort();
}

export class Reachability {
  private readonly relays = new RelayChoice();
  /** Our public IPv4 address as each public peer observed it, by peer ID, least recent first. */
  private readonly observations = new Map<string, string>();
  /** Relays strangers announced, by peer ID, least recently heard first; learnt once they are members. */
  private readonly relayCandidates = new Map<string, string[]>();
  private publicIp: string | null = null;
  private interfaces = interfaceAddresses().join(',');
  private reserving = false;
  private nextReservation = 0;
  private readonly punchPlan = new Map<string, { at: number; backoff: number; running: boolean }>();
  /** Liveness pings of each connection (see `checkLiveness`). */
  private readonly liveness = new WeakMap<Connection, { silent: number; running: boolean; next: number }>();
  /** The ping stream each connection's liveness pings reuse (`pingOnKeptStream`). */
  private readonly keptPings: KeptPings = new WeakMap();
  /** When a gossipsub message last came in from each connected peer (its first copy, from that peer): a live path needs no ping. */
  private readonly gossipHeard = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  readonly puncher: HolePuncher;

  constructor(
    private readonly ctx: PeerContext,
    bootstrapRelays: readonly string[],
    /** The network changed: redial members now. */
    private readonly onMoved: () => void,
  ) {
    for (const r of bootstrapRelays) this.learnRelay(r.replace(/\/p2p-circuit$/, ''), true);
    // Only a current member of one of our groups is told our public address and gets a dial (review 44).
    this.puncher = new HolePuncher(ctx.node, () => this.publicIp, ctx.log, (peer) => {
      const key = memberKeyOfPeer(peer);
      return key !== null && isMemberAnywhere(ctx.groups, key);
    });
  }

  async serve(): Promise<void> {
    await this.puncher.serve();
  }

  listen(): void {
    const node = this.ctx.node;
    node.services.pubsub.addEventListener('gossipsub:message', (evt) => {
      this.gossipHeard.set(evt.detail.propagationSource.toString(), Date.now());
    });
    node.addEventListener('peer:identify', (evt) => {
      this.heardRelays(evt.detail.peerId, [memberRelayAddress(evt.detail), ...evt.detail.listenAddrs.map((a) => relayOf(a.toString()))]);
      const observed = evt.detail.observedAddr?.toString();
      const remote = evt.detail.connection.remoteAddr.toString();
      if (!observed || classifyAddress(remote) !== 'direct') return; // only a public peer sees our public side
      const m = /^\/ip4\/(\d+\.\d+\.\d+\.\d+)\//.exec(observed);
      if (!m || classifyAddress(observed) !== 'direct') return;
      const id = evt.detail.peerId.toString();
      this.observations.delete(id);
      this.observations.set(id, m[1]!);
      for (const oldest of this.observations.keys()) {
        if (this.observations.size <= MAX_RELAY_CANDIDATES) break;
        this.observations.delete(oldest);
      }
      this.adoptObserved();
    });
    node.addEventListener('connection:open', (evt) => {
      const conn = evt.detail;
      // A relay this peer dialled through (the invite's); an inbound relayed connection came
      // through a relay it holds a reservation on (libp2p refuses others), known already.
      if (conn.direction === 'outbound') this.learnFromAddress(conn.remoteAddr.toString());
      const older = node.getConnections(conn.remotePeer).filter((c) => c !== conn);
      if (older.length > 0) void this.probeOlder(conn, older);
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** `peerId` is a relay this peer knows (bootstrap, the invite's, or a member's). */
  knowsRelay(peerId: string): boolean {
    return this.relays.all().some((r) => r.endsWith(`/p2p/${peerId}`));
  }

  /** Behind a NAT (or not known yet): our public address is none of our interfaces'. */
  behindNat(): boolean {
    return this.publicIp === null || !this.interfaces.split(',').includes(this.publicIp);
  }

  learnFromAddress(address: string): void {
    const relay = relayOf(address);
    if (relay) this.learnRelay(relay);
  }

  /** Relays a peer announced (see the invariants): learnt from a member, kept aside from a stranger. */
  private heardRelays(peer: PeerId, heard: readonly (string | null)[]): void {
    const relays = [...new Set(heard.filter((r): r is string => r !== null))].slice(0, 4);
    const id = peer.toString();
    const key = memberKeyOfPeer(peer);
    if (key && isMemberAnywhere(this.ctx.groups, key)) {
      for (const r of relays) this.learnRelay(r, false, id);
      return;
    }
    this.relayCandidates.delete(id);
    if (relays.length === 0) return;
    this.relayCandidates.set(id, relays);
    for (const oldest of this.relayCandidates.keys()) {
      if (this.relayCandidates.size <= MAX_RELAY_CANDIDATES) break;
      this.relayCandidates.delete(oldest);
    }
  }

  /**
   * The most recent observation of our public address by a current member or a relay this
   * peer knows becomes its public address (see the invariants); a stranger's waits until it
   * is one (a relay learnt just after its identify, a joiner admitted).
   */
  private adoptObserved(): void {
    for (const [id, ip] of [...this.observations].reverse()) {
      const key = memberKeyOfPeer(id);
      const trusted = (key !== null && isMemberAnywhere(this.ctx.groups, key)) || this.relays.all().some((r) => r.endsWith(`/p2p/${id}`));
      if (!trusted) continue;
      if (ip !== this.publicIp) {
        this.publicIp = ip;
        this.ctx.log(`public address ${ip} (${this.behindNat() ? 'behind a NAT' : 'reachable: relaying for members'})`);
      }
      return;
    }
  }

  private learnRelay(relay: string, pinned = false, source?: string): void {
    if (!validMultiaddr(relay) || relay.endsWith(`/p2p/${this.ctx.selfPeerId}`)) return;
    if (this.relays.learn(relay, pinned, source)) this.nextReservation = 0;
  }

  private tick(): void {
    if (this.ctx.stopped()) return;
    const now = interfaceAddresses().join(',');
    if (now !== this.interfaces) {
      this.interfaces = now;
      this.moved();
    }
    this.promoteMemberRelays();
    this.adoptObserved();
    void this.reserve();
    this.schedulePunches();
    this.checkLiveness();
  }

  /**
   * Every LIVENESS_INTERVAL_MS each connection that carried no gossip and no ping from
   * the far side in that time is pinged (one ping at a time per connection); one that
   * stays silent LIVENESS_STRIKES times in a row is aborted (see the invariants). An
   * answer, gossip or the far side's ping clears its strikes.
   */
  private checkLiveness(): void {
    const now = Date.now();
    const connections = this.ctx.node.getConnections();
    const connectedPeers = new Set(connections.map((c) => c.remotePeer.toString()));
    for (const id of this.gossipHeard.keys()) if (!connectedPeers.has(id)) this.gossipHeard.delete(id);
    for (const conn of connections) {
      const state = this.liveness.get(conn) ?? { silent: 0, running: false, next: now + LIVENESS_INTERVAL_MS };
      this.liveness.set(conn, state);
      if (state.running || state.next > now) continue;
      const heard = this.carriedGossip(conn, now) ?? this.pingedByFarSide(conn, now);
      if (heard !== null) {
        // Due again when that gossip is an interval old, not an interval from now (review 8:
        // a path that died after its last gossip went unpinged for up to two intervals).
        state.silent = 0;
        state.next = heard + LIVENESS_INTERVAL_MS;
        continue;
      }
      state.running = true;
      void pingOnKeptStream(conn, this.keptPings, AbortSignal.timeout(LIVENESS_TIMEOUT_MS)).then((result) => {
        state.running = false;
        state.next = Date.now() + LIVENESS_INTERVAL_MS;
        if (result === 'answered') state.silent = 0;
        else if (result === 'silent' && conn.status === 'open' && ++state.silent >= LIVENESS_STRIKES) {
          this.ctx.log(`connection to ${conn.remotePeer.toString().slice(-8)} silent for ${state.silent} pings: dropped`);
          conn.abort(new Error('connection did not answer pings'));
        }
      });
    }
  }

  /**
   * When the peer's only open connection brought a gossipsub message within the last
   * LIVENESS_INTERVAL_MS (that path is alive and its ping would say nothing new), else null.
   * With two connections to the peer, which one carried it is not known: each is pinged.
   */
  private carriedGossip(conn: Connection, now: number): number | null {
    const id = conn.remotePeer.toString();
    const heard = this.gossipHeard.get(id);
    if (heard === undefined || now - heard >= LIVENESS_INTERVAL_MS) return null;
    return this.ctx.node.getConnections(conn.remotePeer).filter((c) => c.status === 'open').length === 1 ? heard : null;
  }

  /**
   * When the far side pinged us on this very connection within the last LIVENESS_INTERVAL_MS
   * (net/ping-answer echoes it), else null. It is checking the path, and drops it if our echoes
   * stop reaching it; if the path dies its pings stop, and this side pings once the last one is
   * an interval old. Each connection is so pinged from one end, whichever checked first.
   */
  private pingedByFarSide(conn: Connection, now: number): number | null {
    const at = this.ctx.node.services.ping?.answeredAt(conn);
    return at !== undefined && now - at < LIVENESS_INTERVAL_MS ? at : null;
  }

  /** Relays heard from strangers that are now current members of one of our groups are learnt. */
  private promoteMemberRelays(): void {
    for (const [id, relays] of this.relayCandidates) {
      const key = memberKeyOfPeer(id);
      if (!key || !isMemberAnywhere(this.ctx.groups, key)) continue;
      this.relayCandidates.delete(id);
      for (const r of relays) this.learnRelay(r, false, id);
    }
  }

  /** The member relay's gate (see the invariants). */
  relayGate(guard: Pick<PeerGuard, 'isBlocked' | 'allowStream'>): RelayGate {
    const member = (peer: PeerId): boolean => {
      const key = memberKeyOfPeer(peer);
      return !!key && isMemberAnywhere(this.ctx.groups, key);
    };
    const open = (peer: PeerId): boolean => !this.ctx.stopped() && !this.behindNat() && !guard.isBlocked(peer.toString(), Date.now());
    return {
      reserve: (peer) => open(peer) && member(peer),
      connect: (source, destination) => {
        if (!open(source) || !member(destination)) return false;
        if (member(source)) return true;
        const key = memberKeyOfPeer(source);
        return !!key && isStranger(this.ctx.groups, key) && guard.allowStream(source.toString(), STRANGERS_RELAYED, Date.now());
      },
    };
  }

  /** The host's addresses changed: drop what was bound to the old ones, start over (see the invariants). */
  private moved(): void {
    this.ctx.log('network changed: reconnecting');
    this.publicIp = null;
    this.observations.clear();
    this.nextReservation = 0;
    this.relays.clearBackoff();
    this.punchPlan.clear();
    // Loopback connections are bound to no interface that can change (another program's virtual
    // interface coming and going made every peer of a machine drop all of them).
    for (const c of this.ctx.node.getConnections()) if (!LOOPBACK.test(c.remoteAddr.toString())) c.abort(new Error('network changed'));
    this.onMoved();
  }

  private async reserve(): Promise<void> {
    if (this.reserving || Date.now() < this.nextReservation || this.relays.size === 0 || !this.behindNat()) return;
    const own = this.ctx.node.getMultiaddrs().map((a) => a.toString());
    const held = this.relays.all().filter((r) => own.some((a) => a.startsWith(`${r}/p2p-circuit`)));
    if (held.length >= Math.min(2, this.relays.size)) return;
    const wanted = this.relays.pick(Date.now(), held, 2 - held.length);
    if (wanted.length === 0) return;
    this.reserving = true;
    this.nextReservation = Date.now() + RESERVATION_RETRY_MS;
    try {
      // One listen per relay, so a refusal is charged to the relay that refused.
      const results = await Promise.allSettled(wanted.map((r) => this.ctx.node.services.nat.transportManager.listen([multiaddr(`${r}/p2p-circuit`)])));
      for (const [i, result] of results.entries()) {
        const relay = wanted[i]!;
        if (result.status === 'fulfilled') this.relays.succeeded(relay);
        else {
          this.relays.failed(relay, Date.now());
          const err: unknown = result.reason;
          this.ctx.log(`relay reservation failed: ${err instanceof Error ? err.message.slice(0, 120) : 'error'}`);
        }
      }
      this.ctx.log(`relay reservation requested on ${wanted.length} relay(s)`);
    } finally {
      this.reserving = false;
    }
  }

  /** Peers reached only through a relay: the smaller peer ID asks for a punch (see the invariants). */
  private schedulePunches(): void {
    if (!this.publicIp) return;
    const node = this.ctx.node;
    const now = Date.now();
    const seen = new Set<string>();
    for (const conn of node.getConnections()) {
      const id = conn.remotePeer.toString();
      if (seen.has(id)) continue;
      seen.add(id);
      if (!memberKeyOfPeer(conn.remotePeer) || this.ctx.selfPeerId > id) continue;
      const conns = node.getConnections(conn.remotePeer);
      if (!conns.every((c) => classifyAddress(c.remoteAddr.toString()) === 'relayed')) continue;
      const plan = this.punchPlan.get(id) ?? { at: now + PUNCH_FIRST_MS, backoff: PUNCH_RETRY_MS, running: false };
      this.punchPlan.set(id, plan);
      if (plan.running || plan.at > now) continue;
      plan.running = true;
      void this.puncher.punch(conn.remotePeer).then((ok) => {
        plan.running = false;
        plan.backoff = Math.min(plan.backoff * 2, PUNCH_MAX_BACKOFF_MS);
        plan.at = Date.now() + plan.backoff;
        if (ok) this.punchPlan.delete(id);
      });
    }
    for (const id of this.punchPlan.keys()) if (!seen.has(id)) this.punchPlan.delete(id);
  }

  /**
   * Pings the fresh connection and the older ones to the same peer together (see the
   * invariants): an older one still silent PROBE_GRACE_MS after the fresh one answered is
   * aborted and gossipsub moved to a live one. If the fresh one does not answer either, the
   * far side is busy (or gone) and nothing is aborted: a fixed 2 s deadline used to cut live
   * connections of busy hosts, and every cut made both sides redial and probe again.
   */
  private async probeOlder(fresh: Connection, older: Connection[]): Promise<void> {
    const cut = new AbortController();
    const probes = older.map((c) => probe(c, cut.signal));
    const freshAnswered = (await probe(fresh, AbortSignal.timeout(PROBE_TIMEOUT_MS))) === 'answered';
    if (!freshAnswered) {
      cut.abort();
      await Promise.all(probes);
      return;
    }
    const grace = setTimeout(() => cut.abort(), PROBE_GRACE_MS);
    const results = await Promise.all(probes);
    clearTimeout(grace);
    const dead = older.filter((_, i) => results[i] === 'silent');
    if (dead.length === 0) return;
    for (const c of dead) c.abort(new Error('connection did not answer a ping'));
    const peer: PeerId = fresh.remotePeer;
    const live = this.ctx.node.getConnections(peer).find((c) => c.status === 'open');
    if (live) rebindGossip(this.ctx.node, peer, live);
    this.ctx.log(`dropped ${dead.length} dead connection(s) to ${peer.toString().slice(-8)}`);
  }
}

/** Per connection, its open liveness ping stream. */
export type KeptPings = WeakMap<Connection, { stream: Stream; bytes: ByteStream<Stream> }>;

/**
 * A liveness ping (32 bytes echoed) on the connection's kept ping stream, opened on first
 * use and again whenever the kept one has failed or the far side closed it (it does after
 * PING_STREAM_IDLE_MS without a ping, net/ping-answer): a stream per ping cost an idle peer of a
 * fifty-member group about as much as everything else it did (its negotiation, frames and
 * handler per ping; docs/performance.md "Round ten"). Results as `probe`'s. A kept stream
 * that fails is dropped and the ping tried once more on a fresh stream, so a stream the far
 * side closed between pings is no strike against the path.
 */
export async function pingOnKeptStream(conn: Connection, kept: KeptPings, signal: AbortSignal): Promise<'answered' | 'silent' | 'unknown'> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (conn.status !== 'open') return 'silent';
    let k = kept.get(conn);
    // A stream the far side closed still reads `open` until its read end is found closed.
    const reused = k !== undefined && k.stream.status === 'open' && k.stream.readStatus === 'ready';
    if (!reused) {
      try {
        const stream = await conn.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true });
        k = { stream, bytes: byteStream(stream) };
        kept.set(conn, k);
      } catch (err) {
        return openFailure(err, signal);
      }
    }
    const data = crypto.getRandomValues(new Uint8Array(32));
    try {
      await k!.bytes.write(data, { signal });
      const echo = await k!.bytes.read({ bytes: 32, signal });
      if (equalBytes(echo.subarray(), data)) return 'answered';
    } catch {
      // The stream failed: dropped below.
    }
    kept.delete(conn);
    k!.stream.abort(new Error('liveness ping failed'));
    if (!reused || signal.aborted) return 'silent';
  }
  return 'silent';
}

function openFailure(err: unknown, signal: AbortSignal): 'answered' | 'silent' | 'unknown' {
  const name = err instanceof Error ? err.name : '';
  if (name === 'UnsupportedProtocolError') return 'answered';
  return name === 'TooManyOutboundProtocolStreamsError' && !signal.aborted ? 'unknown' : 'silent';
}

/**
 * One libp2p ping (32 bytes echoed) on this very connection, until `signal` ends it:
 * `answered` (an echo, or a refusal of the protocol: the far side spoke), `silent` (no
 * echo, or the connection failed), or `unknown` when the ping could not be sent for a
 * reason that says nothing of the path (too many pings at once).
 */
export async function probe(conn: Connection, signal: AbortSignal): Promise<'answered' | 'silent' | 'unknown'> {
  if (conn.status !== 'open') return 'silent';
  let stream: Stream;
  try {
    stream = await conn.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true });
  } catch (err) {
    return openFailure(err, signal);
  }
  const stop = (): void => stream.abort(new Error('ping timed out'));
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  try {
    void stream.sink([crypto.getRandomValues(new Uint8Array(32))]).catch(() => {});
    let got = 0;
    for await (const chunk of stream.source) {
      got += chunk.byteLength;
      if (got >= 32) break;
    }
    await stream.close().catch(() => {});
    return got >= 32 ? 'answered' : 'silent';
  } catch {
    return 'silent';
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
