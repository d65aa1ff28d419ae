/**
 * @module peer/mesh
 * Keeping this peer connected to its fellow members (docs/architecture.md
 * "Keeping the mesh", "Joining, nearest first"): the address book learnt from
 * identify and from peer exchange (`/conclave/peers`), dialling with back-off,
 * mDNS discovery of LAN peers, and the connection events clients see
 * (`net.connection`, a member `online`/`offline`).
 *
 * Invariants:
 * - Every 1.5 s, for each group this peer is in (not left, not excluded unless an admins' race
 *   may still void it: core/engine/exclusion-contest.ts), every
 *   current member that is not connected is dialled: one attempt per member at a
 *   time, the next one after a back-off counted from the failed attempt's end
 *   (2 s doubling to 8 s; 1 s for a member whose connection closed in the last
 *   10 minutes, with attempts of at most 4 s: a healed partition is noticed
 *   within seconds); if any is missing, up to three connected members are
 *   asked for the addresses they know (at most once per 5 s per group).
 * - Addresses are served only to current members of a group this peer is a
 *   current member of, and only for current members; at most 64 entries of at
 *   most 16 addresses each, every one a valid multiaddr, are taken in. What a
 *   member announced itself is never replaced by what others say of it
 *   (peer/address-book): hearsay is dialled after it.
 * - A newcomer asks the nearest members first (001, expanding ring): peers found
 *   on the LAN by mDNS (only those: libp2p's discovery event names every new
 *   peer; at most MAX_LAN_PEERS) come before the inviter reached over the
 *   internet.
 * - A peer in no roster is dialled only at the addresses its invite gave, or,
 *   found by mDNS, as libp2p knows it: never at addresses it announced itself.
 * - A member's addresses learnt here are copied into the group record (and so
 *   persisted with it) for the next start.
 * - Every PEER_STORE_SWEEP_MS, libp2p's peer store is swept of disconnected
 *   strangers (peer/peer-store-trim), LAN finds, known relays and peers a group
 *   record has addresses for (a pending join's inviter) kept.
 * - Relayed addresses seen here (members', the invite's through the join's
 *   relayed connection) tell peer/reachability where to reserve; a change of
 *   network clears the dial back-offs and redials every member at once.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import { MAX_CONNECTIONS, classifyAddress, foundByMdns } from '../net/node.js';
import { memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { PEERS_LIMITS, PROTOCOL_PEERS, request, serve } from '../net/unicast.js';
import type { MemberKey } from '../core/types.js';
import type { GroupRecord } from '../store/profile.js';
import type { GroupRuntime } from './group.js';
import { isConnected, isCurrentMember, isMemberAnywhere, isStranger, ownAddresses, parseJsonFrame, peerIdOf, validMultiaddr, type PeerContext } from './peer-context.js';
import { Reachability } from './reachability.js';
import { AddressBook, MAX_ADDRESSES_PER_PEER } from './address-book.js';
import { PEER_STORE_SWEEP_MS, trimPeerStore } from './peer-store-trim.js';

const MESH_INTERVAL_MS = 1500;
/** Open connections past which strangers' connections are closed (pruneStrangers): a quarter of the table kept for members. */
export const STRANGERS_PRUNED_ABOVE = Math.floor((MAX_CONNECTIONS * 3) / 4);
/**
 * A member that cannot be dialled is tried again after 2 s, doubling up to this
 * (was 30 s), counted from the end of the failed attempt.
 */
const MEMBER_DIAL_BACKOFF_MAX_MS = 8000;
/** A dial attempt to a member is given this long (one attempt per member at a time). */
const MEMBER_DIAL_TIMEOUT_MS = 10_000;
/**
 * A member whose connection closed less than `RECENTLY_LOST_MS` ago (a partition,
 * a roaming laptop, a restart) is redialled sooner: attempts of at most
 * `RECENT_DIAL_TIMEOUT_MS`, 1 s apart (at most one attempt per member per
 * upkeep tick). It bounds how long a healed partition goes unnoticed (issue 19:
 * every message within 15 s of the heal, test/integration/partition.test.ts):
 * one TCP connect that spans a cut has its SYN resent by the kernel after 1, 2,
 * 4, 8, 16, 32 s, so a heal waited up to half a minute for the next SYN while
 * the member dials of every upkeep joined that same connect (libp2p joins a dial
 * to a peer already being dialled). A fresh, short attempt sends a SYN within
 * about 3.5 s of any instant; the cost is one SYN a second per recently lost
 * member, for at most `RECENTLY_LOST_MS`.
 */
const RECENTLY_LOST_MS = 10 * 60_000;
const RECENT_DIAL_TIMEOUT_MS = 4000;
const RECENT_DIAL_BACKOFF_MAX_MS = 1000;
/** After a connection to a member opens, it is asked for missed traffic this long after (identify, streams settle). */
const CATCHUP_AFTER_CONNECT_MS = 300;

/**
 * Most addresses one dial names: a member's own (16) and then what fellow members said of it,
 * within libp2p's 25 addresses a dial (`maxPeerAddrsToDial`).
 */
const MAX_DIAL_ADDRESSES = 24;

/** LAN peers remembered (mDNS finds; the least recently found forgotten first). */
const MAX_LAN_PEERS = 64;

/** With relayed addresses to fall back on, the direct ones get at most this long first. */
const DIRECT_FIRST_MS = 3000;

/**
 * Dials a member at the addresses known for it: the direct ones first, then,
 * if those fail, the relayed ones on their own. libp2p's dial queue tries a
 * peer's addresses one after another under a single deadline, relayed ones
 * last; a direct address whose SYNs a NAT silently drops holds the whole
 * deadline, so a member reachable only through a relay (both ends behind
 * symmetric NATs) was never reached (the NAT matrix's failed CI run, stop 22).
 * With no addresses known, libp2p's peer store supplies them.
 */
export async function dialDirectThenRelayed(node: PeerContext['node'], pid: PeerId, addrs: string[], timeoutMs: number): Promise<void> {
  const own = (a: string): Multiaddr => multiaddr(a.endsWith(`/p2p/${pid.toString()}`) ? a : `${a}/p2p/${pid.toString()}`);
  const relayed = addrs.filter((a) => a.includes('/p2p-circuit')).map(own);
  const direct = addrs.filter((a) => !a.includes('/p2p-circuit')).map(own);
  if (relayed.length === 0 || direct.length === 0) {
    await node.dial(addrs.length === 0 ? pid : [...direct, ...relayed], { signal: AbortSignal.timeout(timeoutMs) });
    return;
  }
  const started = Date.now();
  try {
    await node.dial(direct, { signal: AbortSignal.timeout(Math.min(DIRECT_FIRST_MS, timeoutMs / 2)) });
  } catch {
    await node.dial(relayed, { signal: AbortSignal.timeout(Math.max(1000, timeoutMs - (Date.now() - started))) });
  }
}

export class Mesh {
  /** Listen addresses peers announced through identify (all peers: a joiner becomes a member later). */
  private readonly addressBook: AddressBook;
  /** Peers found on the LAN by mDNS (the nearest, 001), least recently found first. */
  private readonly lanPeers = new Set<string>();
  private readonly nextDial = new Map<string, { at: number; backoff: number }>();
  /** Members being dialled now (one attempt at a time each). */
  private readonly dialing = new Set<MemberKey>();
  /** When the last connection to a member closed (see RECENTLY_LOST_MS); bounded by the members of this peer's groups. */
  private readonly lostAt = new Map<MemberKey, number>();
  private readonly lastPeerExchange = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** When libp2p's peer store was last swept of disconnected strangers (peer/peer-store-trim). */
  private lastSweep = Date.now();
  /** Public address, relay reservations, hole punching, roaming (peer/reachability). */
  readonly reachability: Reachability;

  constructor(
    private readonly ctx: PeerContext,
    /** A current member's connection opened (ask it for missed traffic). */
    private readonly onMemberConnected: (rt: GroupRuntime, key: MemberKey) => void,
    /** Relays to reserve a slot on when behind a NAT (`--relay`); more are learnt from invites and members. */
    relays: readonly string[] = [],
  ) {
    this.addressBook = new AddressBook((key) => isMemberAnywhere(ctx.groups, key));
    this.reachability = new Reachability(ctx, relays, () => {
      // Moved to another network: every member is worth a dial right now.
      this.nextDial.clear();
      this.lastPeerExchange.clear();
      this.upkeep();
    });
  }

  /** Serves `/conclave/peers`: the addresses this peer knows for the group's other current members. */
  async serve(): Promise<void> {
    await this.reachability.serve();
    await serve(this.ctx.node, PROTOCOL_PEERS, PEERS_LIMITS, (remote, frames) => {
      const req = parseJsonFrame(frames[0]) as { group?: unknown } | null;
      const from = memberKeyOfPeer(remote);
      if (!req || !from || typeof req.group !== 'string') return undefined;
      const rt = this.ctx.groups.get(req.group);
      if (!rt || !isCurrentMember(rt, from)) return undefined;
      const list = rt.engine
        .members()
        .filter((m) => m.state === 'member' && m.key !== from)
        .slice(0, 64)
        .map((m) => ({ peer: peerIdOf(m.key), addrs: this.addressesOf(rt, m.key).slice(0, MAX_ADDRESSES_PER_PEER) }))
        .filter((e) => e.addrs.length > 0);
      return [new TextEncoder().encode(JSON.stringify(list))];
    });
  }

  /** Subscribes to libp2p's connection, identify and discovery events. */
  listen(): void {
    const { node, groups, emit, selfKey } = this.ctx;
    this.reachability.listen();
    node.addEventListener('connection:open', (evt) => {
      const conn = evt.detail;
      const address = conn.remoteAddr.toString();
      emit('net.connection', { peerId: conn.remotePeer.toString(), address, kind: classifyAddress(address), open: true });
      const key = memberKeyOfPeer(conn.remotePeer);
      if (!key) return;
      this.nextDial.delete(key);
      if (node.getConnections(conn.remotePeer).length === 1) {
        for (const rt of groups.values()) {
          if (rt.engine.rosterState(key) === 'member') {
            emit('group.member', { group: rt.group, peerId: conn.remotePeer.toString(), change: 'online' });
          }
        }
      }
      setTimeout(() => {
        for (const rt of groups.values()) if (!this.ctx.stopped() && isCurrentMember(rt, key)) this.onMemberConnected(rt, key);
      }, CATCHUP_AFTER_CONNECT_MS);
    });
    node.addEventListener('connection:close', (evt) => {
      const conn = evt.detail;
      const address = conn.remoteAddr.toString();
      emit('net.connection', { peerId: conn.remotePeer.toString(), address, kind: classifyAddress(address), open: false });
    });
    node.addEventListener('peer:disconnect', (evt) => {
      const key = memberKeyOfPeer(evt.detail);
      if (!key) return;
      if (isMemberAnywhere(groups, key)) this.lostAt.set(key, Date.now());
      for (const rt of groups.values()) {
        if (rt.engine.rosterState(key) === 'member') {
          emit('group.member', { group: rt.group, peerId: evt.detail.toString(), change: 'offline' });
        }
      }
    });
    node.addEventListener('peer:identify', (evt) => {
      const key = memberKeyOfPeer(evt.detail.peerId);
      if (key) this.rememberAddresses(key, evt.detail.listenAddrs.map((a) => a.toString()));
    });
    node.addEventListener('peer:discovery', (evt) => {
      // mDNS: LAN peers are the nearest (001); dial them, and offer them first to pending joins.
      // libp2p fires this event for every new peer in its peer store (any that connects): only
      // mDNS's finds are LAN peers (review 7: every stranger that connected counted, for good).
      const pid = evt.detail.id;
      const key = memberKeyOfPeer(pid);
      if (!key || key === selfKey || !foundByMdns(node, pid)) return;
      this.lanPeers.delete(key);
      this.lanPeers.add(key);
      for (const oldest of this.lanPeers) {
        if (this.lanPeers.size <= MAX_LAN_PEERS) break;
        this.lanPeers.delete(oldest);
      }
      if (node.getConnections(pid).length === 0) {
        void node
          .dial(pid, { signal: AbortSignal.timeout(10_000) })
          .then(() => {
            for (const rt of groups.values()) rt.addContacts([key]);
          })
          .catch(() => {});
      } else {
        for (const rt of groups.values()) rt.addContacts([key]);
      }
    });
  }

  /** Starts the periodic upkeep (see the invariants). */
  start(): void {
    this.timer = setInterval(() => this.upkeep(), MESH_INTERVAL_MS);
    this.reachability.start();
  }

  stop(): void {
    this.reachability.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private upkeep(): void {
    if (this.ctx.stopped()) return;
    this.pruneStrangers();
    if (Date.now() - this.lastSweep >= PEER_STORE_SWEEP_MS) {
      this.lastSweep = Date.now();
      void this.sweepPeerStore().catch(() => {});
    }
    for (const rt of this.ctx.groups.values()) {
      const state = rt.engine.state();
      // An exclusion an admins' race may still void keeps its connections (core/engine/exclusion-contest.ts: after a restart too).
      if (state === 'left' || (state === 'excluded' && rt.engine.exclusionContestedUntil() === null)) continue;
      let missing = false;
      for (const m of rt.engine.members()) {
        if (m.key === this.ctx.selfKey || m.state !== 'member') continue;
        const known = this.addressBook.get(m.key);
        if (known && rt.record.addresses?.[m.key]?.join() !== known.join()) {
          rt.record.addresses ??= {};
          rt.record.addresses[m.key] = known;
        }
        if (isConnected(this.ctx.node, m.key)) continue;
        missing = true;
        void this.dialMember(rt, m.key);
      }
      if (missing && (state === 'member' || state === 'joining')) void this.exchangePeers(rt);
    }
  }

  /**
   * Drops disconnected strangers from libp2p's peer store, keeping LAN finds, known relays and
   * peers a group record gives addresses for (a pending join's inviter: the invite handshake's
   * retries dial its bare peer ID, at the addresses peer/join put in the store); returns how many went.
   */
  sweepPeerStore(): Promise<number> {
    const recorded = (key: MemberKey): boolean => [...this.ctx.groups.values()].some((rt) => (rt.record.addresses?.[key]?.length ?? 0) > 0);
    return trimPeerStore(this.ctx, (peer) => {
      const key = memberKeyOfPeer(peer);
      return (key !== null && (this.lanPeers.has(key) || this.dialing.has(key) || recorded(key))) || this.reachability.knowsRelay(peer.toString());
    });
  }

  /**
   * Keeps room for members: past STRANGERS_PRUNED_ABOVE open connections, strangers' connections
   * are closed, oldest first, down to it. libp2p refuses every inbound connection once
   * MAX_CONNECTIONS are open, and 400 idle connections of throwaway identities kept a newcomer
   * with a valid invite from reaching its inviter for as long as they stayed (review 29). Never
   * closed: members of any of our groups, relays this peer uses, LAN finds, members being dialled.
   */
  pruneStrangers(): number {
    const conns = this.ctx.node.getConnections();
    if (conns.length <= STRANGERS_PRUNED_ABOVE) return 0;
    const strangers = conns
      .filter((c) => {
        const key = memberKeyOfPeer(c.remotePeer);
        if (key !== null && (isMemberAnywhere(this.ctx.groups, key) || this.lanPeers.has(key) || this.dialing.has(key))) return false;
        return !this.reachability.knowsRelay(c.remotePeer.toString());
      })
      .sort((a, b) => a.timeline.open - b.timeline.open);
    const closing = strangers.slice(0, conns.length - STRANGERS_PRUNED_ABOVE);
    for (const c of closing) void c.close().catch(() => c.abort(new Error('pruned: room kept for members')));
    if (closing.length > 0) this.ctx.log(`closed ${closing.length} connection(s) of non-members: ${conns.length} were open`);
    return closing.length;
  }

  /** Connected LAN peers, nearest first, for a join's contact list (001). */
  lanContacts(except: MemberKey): MemberKey[] {
    return [...this.lanPeers].filter((k) => k !== except && isConnected(this.ctx.node, k));
  }

  /** Puts a restored group's remembered member addresses into the peer store. */
  async restoreAddresses(record: GroupRecord): Promise<void> {
    for (const [key, addrs] of Object.entries(record.addresses ?? {})) {
      const pid = peerOfMemberKey(key);
      if (pid && addrs.length > 0) await this.ctx.node.peerStore.merge(pid, { multiaddrs: addrs.filter(validMultiaddr).map((a) => multiaddr(a)) }).catch(() => {});
    }
  }

  private addressesOf(rt: GroupRuntime, key: MemberKey): string[] {
    if (key === this.ctx.selfKey) return ownAddresses(this.ctx.node);
    return (this.addressBook.get(key) ?? rt.record.addresses?.[key] ?? []).slice(0, MAX_DIAL_ADDRESSES);
  }

  private rememberAddresses(key: MemberKey, addrs: string[]): void {
    const usable = addrs.filter((a) => !a.includes('/ip4/0.0.0.0') && !a.includes('/ip6/::/')).slice(0, 16);
    if (usable.length === 0) return;
    this.addressBook.set(key, usable);
    for (const rt of this.ctx.groups.values()) {
      // Only a current member's own announcement is kept with the group (review 32: an excluded
      // member's announced hosts were kept, then dialled to send it its exclusion notice).
      if (rt.engine.rosterState(key) !== 'member') continue;
      rt.record.addresses ??= {};
      rt.record.addresses[key] = usable;
    }
  }

  private async dialMember(rt: GroupRuntime, key: MemberKey): Promise<void> {
    const plan = this.nextDial.get(key);
    if (this.dialing.has(key) || (plan && plan.at > Date.now())) return;
    const pid = peerOfMemberKey(key);
    if (!pid) return;
    const recent = Date.now() - (this.lostAt.get(key) ?? -Infinity) < RECENTLY_LOST_MS;
    const backoff = Math.min((plan?.backoff ?? 1000) * 2, recent ? RECENT_DIAL_BACKOFF_MAX_MS : MEMBER_DIAL_BACKOFF_MAX_MS);
    const addrs = this.addressesOf(rt, key);
    this.dialing.add(key);
    try {
      if (addrs.length > 0) await this.ctx.node.peerStore.merge(pid, { multiaddrs: addrs.map((a) => multiaddr(a)) });
      await dialDirectThenRelayed(this.ctx.node, pid, addrs, recent ? RECENT_DIAL_TIMEOUT_MS : MEMBER_DIAL_TIMEOUT_MS);
    } catch {
      // unreachable for now; peer exchange may find a better address
      this.nextDial.set(key, { at: Date.now() + backoff, backoff });
    } finally {
      this.dialing.delete(key);
    }
  }

  /** Connected to `key`, dialling known addresses or ones learnt from fellow members. */
  readonly reach = async (group: string, key: MemberKey): Promise<boolean> => {
    const pid = peerOfMemberKey(key);
    if (!pid) return false;
    const node = this.ctx.node;
    if (node.getConnections(pid).length > 0) return true;
    const rt = this.ctx.groups.get(group);
    // A stranger is dialled only where an invite or mDNS put it, never where it announced itself
    // (review 7). One that left or was excluded everywhere is not dialled at all: what it learns of
    // its exclusion comes over its own connections (review 32: an excluded member announced
    // internal hosts, before or after its exclusion, and each notice made this peer dial them).
    if (isStranger(this.ctx.groups, key)) return this.reachStranger(rt, pid, key);
    if (!isMemberAnywhere(this.ctx.groups, key)) return false;
    let addrs = rt ? this.addressesOf(rt, key) : (this.addressBook.get(key) ?? []);
    if (addrs.length === 0 && rt) {
      await this.exchangePeers(rt, 1000);
      addrs = this.addressesOf(rt, key);
    }
    try {
      if (addrs.length > 0) await node.peerStore.merge(pid, { multiaddrs: addrs.map((a) => multiaddr(a)) });
      await dialDirectThenRelayed(node, pid, addrs, 5000);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * A peer in no roster of ours (a joiner we answer, the inviter we join through, a LAN peer):
   * dialled only at the addresses its invite gave (the group record) or, found by mDNS, as
   * libp2p knows it; never at the addresses it announced itself (review 7: a stranger that
   * announced any host:port, a LAN service included, then sent one request and left, made this
   * peer dial them all, three times over, to send its answer).
   */
  private async reachStranger(rt: GroupRuntime | undefined, pid: PeerId, key: MemberKey): Promise<boolean> {
    const invited = rt?.record.addresses?.[key] ?? [];
    if (invited.length === 0 && !this.lanPeers.has(key)) return false;
    try {
      await dialDirectThenRelayed(this.ctx.node, pid, invited, 5000);
      return true;
    } catch {
      return false;
    }
  }

  /** Asks up to three connected members for the addresses they know of the group's members. */
  private async exchangePeers(rt: GroupRuntime, minIntervalMs = 5000): Promise<void> {
    const now = Date.now();
    if (now - (this.lastPeerExchange.get(rt.group) ?? 0) < minIntervalMs) return;
    this.lastPeerExchange.set(rt.group, now);
    const selfKey = this.ctx.selfKey;
    const connected = rt.engine.members().filter((m) => m.key !== selfKey && m.state === 'member' && isConnected(this.ctx.node, m.key));
    for (const m of connected.slice(0, 3)) {
      const pid = peerOfMemberKey(m.key);
      if (!pid) continue;
      const frames = await request(this.ctx.node, pid, PROTOCOL_PEERS, new TextEncoder().encode(JSON.stringify({ group: rt.group })), PEERS_LIMITS);
      const list = parseJsonFrame(frames?.[0]);
      if (!Array.isArray(list)) continue;
      for (const entry of list.slice(0, 64)) {
        const e = entry as { peer?: unknown; addrs?: unknown };
        if (typeof e.peer !== 'string' || !Array.isArray(e.addrs)) continue;
        const key = memberKeyOfPeer(e.peer);
        if (!key || key === selfKey || rt.engine.rosterState(key) === null) continue;
        const addrs = e.addrs.filter((a): a is string => typeof a === 'string' && a.length < 600 && validMultiaddr(a));
        // What we know of a member we are not connected to may be stale (learnt before it held a relay
        // reservation): what fellow members say is added after what the member announced itself, never
        // in its place (a lying member would otherwise keep us from reaching it; review 7).
        if (addrs.length > 0 && (this.addressesOf(rt, key).length === 0 || !isConnected(this.ctx.node, key))) this.addressBook.hear(key, addrs);
      }
    }
  }
}
