/**
 * @module peer/peer
 * One running peer: identity + libp2p node + one engine per group + profile store
 * + the transport-independent API handler. The CLI, the browser mode and
 * Electron's main process all start a peer through `startPeer` and speak to it
 * only through `api.call` / `api.subscribe`.
 *
 * Data flows one way (STYLE "the house"): gossipsub/stream bytes → topic
 * validator or stream handler → GroupRuntime.receive → engine → events → API.
 *
 * Invariants:
 * - The engine's `from` is the gossipsub StrictSign author or the
 *   Noise-authenticated stream peer, converted to a MemberKey (net/ids).
 * - Topic validators answer Reject for what the engine rejects as malformed or
 *   forged (peer scoring punishes the sender), Ignore for stale/unauthorised
 *   input, Accept otherwise.
 * - A newcomer asks the nearest members first (001, expanding ring): peers found
 *   on the LAN by mDNS come before the inviter reached over the internet.
 * - Catch-up (issue 5 §7) serves kept encrypted traffic only to current members;
 *   the requester reads only what its own keys decrypt.
 */
import '../net/shim.js';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { TopicValidatorResult, type Message, type PeerId } from '@libp2p/interface';
import { createConclaveNode, classifyAddress, type ConclaveLibp2p } from '../net/node.js';
import { bytesToHex, hexToBytes, memberKeyOfPeer, peerOfMemberKey } from '../net/ids.js';
import { groupTopicScoreParams, topicsOf } from '../net/topics.js';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import {
  CATCHUP_REQUEST_LIMITS,
  CATCHUP_RESPONSE_LIMITS,
  GROUP_LIMITS,
  PEERS_LIMITS,
  PROTOCOL_CATCHUP,
  PROTOCOL_GROUP,
  PROTOCOL_PEERS,
  request,
  sendFrames,
  serve,
} from '../net/unicast.js';
import { Profile, type ProfileIdentity } from '../store/profile.js';
import { fromBase64 } from '../store/seal.js';
import { ErrorCodes, type GroupSummary, type Member, type Params } from '../api/contract.js';
import { ApiError, createApiHandler, type ApiHandler, type EventSink, type PeerMethods } from '../api/handler.js';
import { LocalProtocolError } from '../core/errors.js';
import type { ExclusionPolicy, MemberKey } from '../core/types.js';
import { GroupEngine, GroupRuntime, newGroupRecord, type GroupHost } from './group.js';
import { keysTableResult } from './key-panel.js';
import { defaultParams } from './params.js';
import { createInvite, InviteError, parseInvite, type Invite } from './invite.js';

export const PEER_VERSION = '0.1.0';

export interface StartPeerOptions {
  /** Profile directory (created if missing). */
  profile: string;
  /** Display name; kept in the profile. */
  name?: string;
  /** libp2p listen multiaddrs. Default: TCP on all interfaces, random port. */
  listen?: string[];
  /** LAN discovery by mDNS. Default true. */
  mdns?: boolean;
  /** Electron: the profile storage key (unwrapped with safeStorage). Headless: omit. */
  storageKey?: Uint8Array;
  /** Encrypted data messages kept per group for catch-up. Default 2000. */
  keepTraffic?: number;
  /** Diagnostic lines (never secrets, never payloads). */
  log?: (line: string) => void;
  /** Peer IDs admitted to this peer's groups without an invite (001's access list). */
  allow?: string[];
  /** 'none': invites carry no addresses (LAN-only sharing; mDNS finds the inviter). Default 'all'. */
  inviteAddresses?: 'all' | 'none';
}

export interface RunningPeer {
  /** The control API (validate + dispatch + events), independent of any transport. */
  api: ApiHandler;
  peerId: string;
  memberKey: MemberKey;
  /** This peer's dialable multiaddrs (with /p2p/<peerId>). */
  addresses(): string[];
  /** The libp2p node, for diagnostics and tests only: clients use `api`. */
  node: ConclaveLibp2p;
  stop(): Promise<void>;
}

const DEFAULT_INVITE_USES = 10;
const DEFAULT_INVITE_TTL_SEC = 7 * 86_400;
const MESH_INTERVAL_MS = 1500;
const CATCHUP_THROTTLE_MS = 5000;
const CATCHUP_MARGIN_MS = 5 * 60_000;
const CATCHUP_MAX_ITEMS = 2000;
const MAX_QUEUED_SENDS = 256;

function notFound(group: string): ApiError {
  return new ApiError(ErrorCodes.notFound, `not in group ${group}`);
}

export async function startPeer(options: StartPeerOptions): Promise<RunningPeer> {
  const log = options.log ?? (() => {});
  const profile = Profile.open(options.profile, options.storageKey ? { storageKey: options.storageKey } : {});
  let identity: ProfileIdentity;
  let node: ConclaveLibp2p;
  try {
    identity = profile.identity(options.name ?? 'anonymous');
    if (options.name && options.name !== identity.name) {
      identity = { ...identity, name: options.name };
      profile.saveIdentity(identity);
    }
    node = await createConclaveNode({ seed: identity.seed, listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'], mdns: options.mdns ?? true });
  } catch (err) {
    profile.close();
    throw err;
  }
  try {
    return await compose(node, profile, identity, options, log);
  } catch (err) {
    await Promise.resolve(node.stop()).catch(() => {});
    profile.close();
    throw err;
  }
}

async function compose(node: ConclaveLibp2p, profile: Profile, identityIn: ProfileIdentity, options: StartPeerOptions, log: (line: string) => void): Promise<RunningPeer> {
  let identity = identityIn;
  const selfKey = bytesToHex(node.peerId.publicKey!.raw);
  const selfPeerId = node.peerId.toString();
  const keepTraffic = options.keepTraffic ?? 2000;
  const groups = new Map<string, GroupRuntime>();
  const topicIndex = new Map<string, { rt: GroupRuntime; channel: 'control' | 'data' }>();
  const lanPeers = new Set<string>();
  const sendQueues = new Map<string, Promise<unknown>>();
  const lastCatchUp = new Map<string, number>();
  const nextDial = new Map<string, { at: number; backoff: number }>();
  const lastPeerExchange = new Map<string, number>();
  /** Listen addresses peers announced through identify (all peers: a joiner becomes a member later). */
  const addressBook = new Map<MemberKey, string[]>();
  const pendingJoins = new Set<string>();
  // Created once the methods exist (below); events raised earlier (restore, early
  // connections) have no subscriber yet and are dropped.
  let api: (ApiHandler & EventSink) | null = null;
  const emit: EventSink['emit'] = (event, payload) => api?.emit(event, payload);
  const allowlist = new Set<MemberKey>();
  for (const id of options.allow ?? []) {
    const key = memberKeyOfPeer(id);
    if (!key) throw new Error(`allowlisted ${id.slice(0, 64)} is not an Ed25519 peer ID`);
    allowlist.add(key);
  }
  let stopped = false;

  const peerIdOf = (key: MemberKey): string => peerOfMemberKey(key)?.toString() ?? key;
  const isConnected = (key: MemberKey): boolean => {
    const pid = peerOfMemberKey(key);
    return pid ? node.getConnections(pid).length > 0 : false;
  };

  // Serialise sends per destination so engine output keeps its order on the wire; bound the
  // backlog to an unreachable destination (the engine retries what matters).
  const queueDepth = new Map<string, number>();
  function enqueue(key: string, job: () => Promise<unknown>): void {
    const depth = queueDepth.get(key) ?? 0;
    if (depth >= MAX_QUEUED_SENDS) {
      log(`send queue full, dropping (${key.split(':')[0]})`);
      return;
    }
    queueDepth.set(key, depth + 1);
    const prev = sendQueues.get(key) ?? Promise.resolve();
    const next = prev.then(job, job).catch(() => {});
    sendQueues.set(key, next);
    void next.then(() => {
      const left = (queueDepth.get(key) ?? 1) - 1;
      if (left <= 0) queueDepth.delete(key);
      else queueDepth.set(key, left);
      if (sendQueues.get(key) === next) sendQueues.delete(key);
    });
  }

  const host: GroupHost = {
    selfKey,
    profile,
    events: { emit: (event, payload) => api?.emit(event, payload) },
    now: () => Date.now(),
    displayName: () => identity.name,
    publish(group, channel, bytes) {
      const topic = topicsOf(group)[channel];
      enqueue(`topic:${topic}`, () => node.services.pubsub.publish(topic, bytes).catch((err: Error) => log(`publish on ${channel} failed: ${err.name}`)));
    },
    unicast(group, to, bytes) {
      const pid = peerOfMemberKey(to);
      if (!pid) return;
      const frame = new Uint8Array(16 + bytes.length);
      frame.set(hexToBytes(group), 0);
      frame.set(bytes, 16);
      enqueue(`peer:${to}`, async () => {
        // A member we never met (e.g. the owner of a KEK a newcomer needs): find it first.
        for (let attempt = 0; attempt < 3 && !stopped; attempt++) {
          if ((await reach(group, to)) && (await sendFrames(node, pid, PROTOCOL_GROUP, [frame], GROUP_LIMITS))) return;
          await sleep(500 * (attempt + 1));
        }
        log(`unicast to ${pid.toString().slice(-8)} failed`);
      });
    },
    peerIdOf,
    allowlisted: (key) => allowlist.has(key),
    onMember(rt) {
      // Ask now, and once more a little later for what was published while we were still joining.
      const ask = (): void => {
        if (stopped) return;
        for (const m of rt.engine.members()) if (m.key !== selfKey && isConnected(m.key)) void catchUp(rt, m.key, true);
      };
      ask();
      setTimeout(ask, 4000);
    },
    log,
  };

  // ── inbound: gossipsub ────────────────────────────────────────────────────
  const pubsub = node.services.pubsub;
  const scoreTopics = (pubsub as unknown as GossipSub).score.params.topics;
  function validator(_propagator: PeerId, message: Message): TopicValidatorResult {
    const entry = topicIndex.get(message.topic);
    if (!entry) return TopicValidatorResult.Ignore;
    if (message.type !== 'signed') return TopicValidatorResult.Reject;
    const from = memberKeyOfPeer(message.from);
    if (!from) return TopicValidatorResult.Reject;
    try {
      const verdict = entry.rt.receive(from, entry.channel, message.data);
      return verdict === 'accept' ? TopicValidatorResult.Accept : verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
    } catch (err) {
      log(`engine threw on ${entry.channel} input: ${err instanceof Error ? err.name : 'error'}`);
      return TopicValidatorResult.Ignore;
    }
  }

  function attach(rt: GroupRuntime): void {
    groups.set(rt.group, rt);
    const topics = topicsOf(rt.group);
    for (const channel of ['control', 'data'] as const) {
      topicIndex.set(topics[channel], { rt, channel });
      pubsub.topicValidators.set(topics[channel], validator);
      scoreTopics[topics[channel]] = groupTopicScoreParams();
      pubsub.subscribe(topics[channel]);
    }
  }

  function detachTopics(rt: GroupRuntime): void {
    const topics = topicsOf(rt.group);
    for (const channel of ['control', 'data'] as const) {
      pubsub.unsubscribe(topics[channel]);
      pubsub.topicValidators.delete(topics[channel]);
      topicIndex.delete(topics[channel]);
      delete scoreTopics[topics[channel]];
    }
  }

  // ── inbound: unicast streams ──────────────────────────────────────────────
  await serve(node, PROTOCOL_GROUP, GROUP_LIMITS, (remote, frames) => {
    const frame = frames[0];
    const from = memberKeyOfPeer(remote);
    if (!frame || frame.length <= 16 || !from) return undefined;
    const rt = groups.get(bytesToHex(frame.subarray(0, 16)));
    if (!rt) return undefined;
    try {
      rt.receive(from, 'unicast', frame.slice(16));
    } catch (err) {
      log(`engine threw on unicast input: ${err instanceof Error ? err.name : 'error'}`);
    }
    return undefined;
  });

  const isCurrentMember = (rt: GroupRuntime, key: MemberKey): boolean =>
    rt.engine.state() === 'member' && rt.engine.members().some((m) => m.key === key && m.state === 'member');

  await serve(node, PROTOCOL_CATCHUP, CATCHUP_REQUEST_LIMITS, (remote, frames) => {
    const req = parseJsonFrame(frames[0]) as { group?: unknown; since?: unknown } | null;
    const from = memberKeyOfPeer(remote);
    if (!req || !from || typeof req.group !== 'string' || typeof req.since !== 'number') return undefined;
    const rt = groups.get(req.group);
    if (!rt || !isCurrentMember(rt, from)) return undefined; // only current members are served (issue 5 §7)
    return rt.trafficSince(req.since, CATCHUP_MAX_ITEMS).map((item) => {
      const out = new Uint8Array(32 + item.bytes.length);
      out.set(hexToBytes(item.from), 0);
      out.set(item.bytes, 32);
      return out;
    });
  });

  await serve(node, PROTOCOL_PEERS, PEERS_LIMITS, (remote, frames) => {
    const req = parseJsonFrame(frames[0]) as { group?: unknown } | null;
    const from = memberKeyOfPeer(remote);
    if (!req || !from || typeof req.group !== 'string') return undefined;
    const rt = groups.get(req.group);
    if (!rt || !isCurrentMember(rt, from)) return undefined;
    const list = rt.engine
      .members()
      .filter((m) => m.state === 'member' && m.key !== from)
      .slice(0, 64)
      .map((m) => ({ peer: peerIdOf(m.key), addrs: addressesOf(rt, m.key) }))
      .filter((e) => e.addrs.length > 0);
    return [new TextEncoder().encode(JSON.stringify(list))];
  });

  function addressesOf(rt: GroupRuntime, key: MemberKey): string[] {
    if (key === selfKey) return ownAddresses();
    return (addressBook.get(key) ?? rt.record.addresses?.[key] ?? []).slice(0, 16);
  }

  function rememberAddresses(key: MemberKey, addrs: string[]): void {
    const usable = addrs.filter((a) => !a.includes('/ip4/0.0.0.0') && !a.includes('/ip6/::/')).slice(0, 16);
    if (usable.length === 0) return;
    addressBook.set(key, usable);
    for (const rt of groups.values()) {
      if (!rt.engine.members().some((m) => m.key === key)) continue;
      rt.record.addresses ??= {};
      rt.record.addresses[key] = usable;
    }
  }

  // ── catch-up client ───────────────────────────────────────────────────────
  async function catchUp(rt: GroupRuntime, from: MemberKey, force = false): Promise<void> {
    const key = `${rt.group}:${from}`;
    const now = Date.now();
    if (!force && now - (lastCatchUp.get(key) ?? 0) < CATCHUP_THROTTLE_MS) return;
    lastCatchUp.set(key, now);
    const pid = peerOfMemberKey(from);
    if (!pid || rt.engine.state() !== 'member') return;
    const since = rt.record.lastDataAt > 0 ? rt.record.lastDataAt - CATCHUP_MARGIN_MS : 0;
    const frames = await request(node, pid, PROTOCOL_CATCHUP, new TextEncoder().encode(JSON.stringify({ group: rt.group, since })), CATCHUP_RESPONSE_LIMITS);
    if (!frames || stopped) return;
    for (const frame of frames) {
      if (frame.length <= 32) continue;
      const sender = bytesToHex(frame.subarray(0, 32));
      if (sender === selfKey && rt.traffic.length === 0) continue;
      try {
        rt.receive(sender, 'data', frame.slice(32), true);
      } catch (err) {
        log(`engine threw on catch-up input: ${err instanceof Error ? err.name : 'error'}`);
      }
    }
  }

  // ── connections, discovery, mesh upkeep ───────────────────────────────────
  node.addEventListener('connection:open', (evt) => {
    const conn = evt.detail;
    const address = conn.remoteAddr.toString();
    emit('net.connection', { peerId: conn.remotePeer.toString(), address, kind: classifyAddress(address), open: true });
    const key = memberKeyOfPeer(conn.remotePeer);
    if (!key) return;
    nextDial.delete(key);
    if (node.getConnections(conn.remotePeer).length === 1) {
      for (const rt of groups.values()) {
        if (rt.engine.members().some((m) => m.key === key && m.state === 'member')) {
          emit('group.member', { group: rt.group, peerId: conn.remotePeer.toString(), change: 'online' });
        }
      }
    }
    setTimeout(() => {
      for (const rt of groups.values()) if (!stopped && isCurrentMember(rt, key)) void catchUp(rt, key);
    }, 300);
  });
  node.addEventListener('connection:close', (evt) => {
    const conn = evt.detail;
    const address = conn.remoteAddr.toString();
    emit('net.connection', { peerId: conn.remotePeer.toString(), address, kind: classifyAddress(address), open: false });
  });
  node.addEventListener('peer:disconnect', (evt) => {
    const key = memberKeyOfPeer(evt.detail);
    if (!key) return;
    for (const rt of groups.values()) {
      if (rt.engine.members().some((m) => m.key === key && m.state === 'member')) {
        emit('group.member', { group: rt.group, peerId: evt.detail.toString(), change: 'offline' });
      }
    }
  });
  node.addEventListener('peer:identify', (evt) => {
    const key = memberKeyOfPeer(evt.detail.peerId);
    if (key) rememberAddresses(key, evt.detail.listenAddrs.map((a) => a.toString()));
  });
  node.addEventListener('peer:discovery', (evt) => {
    // mDNS: LAN peers are the nearest (001); dial them, and offer them first to pending joins.
    const pid = evt.detail.id;
    const key = memberKeyOfPeer(pid);
    if (!key || key === selfKey) return;
    lanPeers.add(key);
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

  async function dialMember(rt: GroupRuntime, key: MemberKey): Promise<void> {
    const now = Date.now();
    const plan = nextDial.get(key);
    if (plan && plan.at > now) return;
    const backoff = Math.min((plan?.backoff ?? 1000) * 2, 30_000);
    nextDial.set(key, { at: now + backoff, backoff });
    const pid = peerOfMemberKey(key);
    if (!pid) return;
    const addrs = addressesOf(rt, key);
    try {
      if (addrs.length > 0) await node.peerStore.merge(pid, { multiaddrs: addrs.map((a) => multiaddr(a)) });
      await node.dial(pid, { signal: AbortSignal.timeout(10_000) });
    } catch {
      // unreachable for now; peer exchange may find a better address
    }
  }

  /** Connected to `key`, dialling known addresses or ones learnt from fellow members. */
  async function reach(group: string, key: MemberKey): Promise<boolean> {
    const pid = peerOfMemberKey(key);
    if (!pid) return false;
    if (node.getConnections(pid).length > 0) return true;
    const rt = groups.get(group);
    let addrs = rt ? addressesOf(rt, key) : (addressBook.get(key) ?? []);
    if (addrs.length === 0 && rt) {
      await exchangePeers(rt, 1000);
      addrs = addressesOf(rt, key);
    }
    try {
      if (addrs.length > 0) await node.peerStore.merge(pid, { multiaddrs: addrs.map((a) => multiaddr(a)) });
      await node.dial(pid, { signal: AbortSignal.timeout(5000) });
      return true;
    } catch {
      return false;
    }
  }

  async function exchangePeers(rt: GroupRuntime, minIntervalMs = 5000): Promise<void> {
    const now = Date.now();
    if (now - (lastPeerExchange.get(rt.group) ?? 0) < minIntervalMs) return;
    lastPeerExchange.set(rt.group, now);
    const connected = rt.engine.members().filter((m) => m.key !== selfKey && m.state === 'member' && isConnected(m.key));
    for (const m of connected.slice(0, 3)) {
      const pid = peerOfMemberKey(m.key);
      if (!pid) continue;
      const frames = await request(node, pid, PROTOCOL_PEERS, new TextEncoder().encode(JSON.stringify({ group: rt.group })), PEERS_LIMITS);
      const list = parseJsonFrame(frames?.[0]);
      if (!Array.isArray(list)) continue;
      for (const entry of list.slice(0, 64)) {
        const e = entry as { peer?: unknown; addrs?: unknown };
        if (typeof e.peer !== 'string' || !Array.isArray(e.addrs)) continue;
        const key = memberKeyOfPeer(e.peer);
        if (!key || key === selfKey || !rt.engine.members().some((x) => x.key === key)) continue;
        const addrs = e.addrs.filter((a): a is string => typeof a === 'string' && a.length < 600 && validMultiaddr(a));
        if (addrs.length > 0 && addressesOf(rt, key).length === 0) addressBook.set(key, addrs.slice(0, 16));
      }
    }
  }

  const meshTimer = setInterval(() => {
    if (stopped) return;
    for (const rt of groups.values()) {
      const state = rt.engine.state();
      if (state === 'excluded' || state === 'left') continue;
      let missing = false;
      for (const m of rt.engine.members()) {
        if (m.key === selfKey || m.state !== 'member') continue;
        const known = addressBook.get(m.key);
        if (known && rt.record.addresses?.[m.key]?.join() !== known.join()) {
          rt.record.addresses ??= {};
          rt.record.addresses[m.key] = known;
        }
        if (isConnected(m.key)) continue;
        missing = true;
        void dialMember(rt, m.key);
      }
      if (missing && (state === 'member' || state === 'joining')) void exchangePeers(rt);
    }
  }, MESH_INTERVAL_MS);

  function ownAddresses(): string[] {
    return node
      .getMultiaddrs()
      .map((a) => a.toString())
      .filter((a) => !a.includes('/ip4/0.0.0.0') && !a.includes('/ip6/::/'));
  }

  // ── restore groups from the profile ───────────────────────────────────────
  for (const gid of profile.groupIds()) {
    try {
      const record = profile.loadGroup(gid);
      if (!record || !record.snapshot) continue;
      const snapshot = fromBase64(record.snapshot);
      if (!snapshot) continue;
      const rt = new GroupRuntime(host, record, (deps) => GroupEngine.restore(deps, { seed: identity.seed, name: identity.name }, snapshot, Date.now()), keepTraffic);
      attach(rt);
      rt.drive();
      for (const [key, addrs] of Object.entries(record.addresses ?? {})) {
        const pid = peerOfMemberKey(key);
        if (pid && addrs.length > 0) await node.peerStore.merge(pid, { multiaddrs: addrs.filter(validMultiaddr).map((a) => multiaddr(a)) }).catch(() => {});
      }
    } catch (err) {
      log(`group ${gid.slice(0, 8)} could not be restored: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  // ── the API ───────────────────────────────────────────────────────────────
  function runtime(group: string): GroupRuntime {
    const rt = groups.get(group);
    if (!rt) throw notFound(group);
    return rt;
  }

  function engineCall<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.notAllowed, err.message);
      throw err;
    }
  }

  function makeInvite(rt: GroupRuntime, uses: number, ttlSec: number): { invite: string; expiresAt: number } {
    const expiresAt = Date.now() + ttlSec * 1000;
    const invite = createInvite({
      group: rt.group,
      name: rt.engine.groupName,
      params: rt.engine.params,
      inviterSeed: identity.seed,
      inviterPeerId: selfPeerId,
      addrs: options.inviteAddresses === 'none' ? [] : ownAddresses(),
      expiresAt,
      uses,
      secret: new Uint8Array(randomBytes(16)),
    });
    return { invite, expiresAt };
  }

  function policyOf(p: Params<'group.create'>['policy']): ExclusionPolicy {
    if (!p || p.exclude === 'any-member') return { exclude: 'any-member' };
    const admins: MemberKey[] = [];
    for (const id of p.admins) {
      const key = memberKeyOfPeer(id);
      if (!key) throw new ApiError(ErrorCodes.invalidParams, `admin ${id.slice(0, 64)} is not an Ed25519 peer ID`);
      admins.push(key);
    }
    return { exclude: 'admins', admins };
  }

  async function joinWith(invite: Invite): Promise<{ group: string }> {
    const inviterPid = peerOfMemberKey(invite.inviterKey)!;
    const dialable = invite.addrs.filter(validMultiaddr);
    if (dialable.length > 0) {
      await node.peerStore.merge(inviterPid, { multiaddrs: dialable.map((a) => multiaddr(a)) }).catch(() => {});
      await node.dial(inviterPid, { signal: AbortSignal.timeout(15_000) }).catch(() => log('inviter not reachable yet'));
    }
    // Subscribe before asking for admission, and give gossipsub a moment to graft us into the
    // inviter's mesh: announcements made right after our admission must find us subscribed.
    // Subscribing grafts at once the peers gossipsub already knows on the topic (with an
    // outbound stream); any other peer waits for the next gossipsub heartbeat (700 ms). So
    // first wait, briefly, for the inviter's gossipsub stream and its subscriptions.
    const topics = topicsOf(invite.group);
    const gossip = pubsub as unknown as GossipSub;
    const inviterId = inviterPid.toString();
    const meshDeadline = Date.now() + 3000;
    const inviterKnown = (): boolean =>
      gossip.streamsOutbound.has(inviterId) && [topics.control, topics.data].every((t) => gossip.getSubscribers(t).some((p) => p.toString() === inviterId));
    while (Date.now() < meshDeadline - 1500 && isConnected(invite.inviterKey) && !inviterKnown()) {
      await sleep(20);
    }
    for (const topic of [topics.control, topics.data]) {
      pubsub.topicValidators.set(topic, validator);
      pubsub.subscribe(topic);
    }
    while (Date.now() < meshDeadline && isConnected(invite.inviterKey) && !gossip.getMeshPeers(topics.control).includes(inviterId)) {
      await sleep(20);
    }
    const lanFirst = [...lanPeers].filter((k) => k !== invite.inviterKey && isConnected(k));
    const contacts = [...lanFirst, invite.inviterKey];
    const now = Date.now();
    const record = newGroupRecord(invite.group, invite.name, now);
    record.addresses = dialable.length > 0 ? { [invite.inviterKey]: dialable } : {};
    let rt: GroupRuntime;
    try {
      rt = new GroupRuntime(
        host,
        record,
        (deps) =>
          GroupEngine.join(deps, { seed: identity.seed, name: identity.name }, {
            group: invite.group,
            name: invite.name,
            params: invite.params,
            credential: new TextEncoder().encode(invite.link),
            contacts,
            now,
          }),
        keepTraffic,
      );
    } catch (err) {
      for (const topic of [topics.control, topics.data]) {
        pubsub.unsubscribe(topic);
        pubsub.topicValidators.delete(topic);
      }
      if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.badInvite, `invite parameters refused: ${err.message}`);
      throw err;
    }
    attach(rt);
    rt.drive();
    rt.save();
    return { group: rt.group };
  }

  const methods: PeerMethods = {
    status: () => ({ peerId: selfPeerId, name: identity.name, groups: groups.size, version: PEER_VERSION }),
    'profile.setName': ({ name }) => {
      identity = { ...identity, name };
      profile.saveIdentity(identity);
      return { ok: true as const };
    },
    'group.create': ({ name, policy }) => {
      const params = defaultParams(policyOf(policy));
      const now = Date.now();
      const rt = engineCall(
        () => new GroupRuntime(host, newGroupRecord('', name, now), (deps) => GroupEngine.create(deps, { seed: identity.seed, name: identity.name }, { name, params, now }), keepTraffic),
      );
      rt.record.name = name;
      attach(rt);
      rt.drive();
      rt.save();
      return { group: rt.group, invite: makeInvite(rt, DEFAULT_INVITE_USES, DEFAULT_INVITE_TTL_SEC).invite };
    },
    'group.list': () =>
      [...groups.values()].map(
        (rt): GroupSummary => {
          const state = rt.engine.state();
          const policy = rt.engine.params.policy;
          return {
            group: rt.group,
            name: rt.engine.groupName,
            state: state === 'listening' || state === 'joining' ? 'joining' : state,
            members: rt.engine.members().filter((m) => m.state === 'member').length,
            unread: rt.unread(),
            policy: policy.exclude === 'admins' ? { exclude: 'admins', admins: policy.admins.map(peerIdOf) } : { exclude: 'any-member' },
            canExclude: rt.engine.canExclude(),
          };
        },
      ),
    'group.invite': ({ group, uses, ttlSec }) => {
      const rt = runtime(group);
      if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, 'only a current member can invite');
      return makeInvite(rt, uses ?? DEFAULT_INVITE_USES, ttlSec ?? DEFAULT_INVITE_TTL_SEC);
    },
    'group.join': async ({ invite: link }) => {
      let invite;
      try {
        invite = parseInvite(link, Date.now());
      } catch (err) {
        if (err instanceof InviteError) throw new ApiError(err.code === 'expired' ? ErrorCodes.expiredInvite : ErrorCodes.badInvite, err.message);
        throw err;
      }
      const existing = groups.get(invite.group);
      if (existing || pendingJoins.has(invite.group)) return { group: invite.group };
      if (invite.inviterKey === selfKey) throw new ApiError(ErrorCodes.badInvite, 'this invite was issued by this peer');
      pendingJoins.add(invite.group);
      try {
        return await joinWith(invite);
      } finally {
        pendingJoins.delete(invite.group);
      }
    },
    'group.leave': ({ group }) => {
      const rt = runtime(group);
      engineCall(() => rt.leave());
      rt.save();
      setTimeout(() => {
        if (!stopped) detachTopics(rt);
      }, 2000);
      return { ok: true as const };
    },
    'group.exclude': ({ group, peers }) => {
      const rt = runtime(group);
      const keys = peers.map((p) => {
        const key = memberKeyOfPeer(p);
        if (!key) throw new ApiError(ErrorCodes.invalidParams, `${p.slice(0, 64)} is not an Ed25519 peer ID`);
        return key;
      });
      for (const key of keys) {
        if (!rt.engine.members().some((m) => m.key === key && m.state === 'member')) throw new ApiError(ErrorCodes.notFound, `${peerIdOf(key)} is not a member`);
      }
      engineCall(() => rt.exclude(keys));
      return { ok: true as const };
    },
    'group.members': ({ group }) =>
      runtime(group)
        .engine.members()
        .map(
          (m): Member => ({
            peerId: peerIdOf(m.key),
            key: m.key,
            name: m.name,
            participantId: m.participantId,
            role: m.admin ? 'admin' : 'member',
            online: m.key === selfKey || isConnected(m.key),
            self: m.key === selfKey,
            state: m.state,
          }),
        ),
    'group.read': ({ group }) => {
      const rt = runtime(group);
      rt.record.lastReadAt = Date.now();
      rt.save();
      return { ok: true as const };
    },
    'chat.send': ({ group, text }) => {
      const rt = runtime(group);
      if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, `not a member of ${group} (state ${rt.engine.state()})`);
      return engineCall(() => rt.sendChat(text));
    },
    'chat.history': ({ group, limit }) => runtime(group).chatHistory(limit ?? 500),
    'board.draw': async ({ group, stroke }) => {
      const rt = runtime(group);
      if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, `not a member of ${group} (state ${rt.engine.state()})`);
      await engineCall(() => rt.draw(stroke));
      return { ok: true as const };
    },
    'board.state': ({ group }) => runtime(group).board(),
    'keys.table': ({ group }) => {
      const rt = runtime(group);
      return keysTableResult(rt.engine.keyTable(Date.now()), rt.rejections.list(), peerIdOf);
    },
    'net.info': () => ({
      peerId: selfPeerId,
      addresses: ownAddresses(),
      connections: node.getConnections().map((c) => {
        const address = c.remoteAddr.toString();
        return { peerId: c.remotePeer.toString(), address, kind: classifyAddress(address) };
      }),
    }),
  };

  api = createApiHandler(methods, (method, err) => log(`api ${method}: ${err instanceof Error ? `${err.name}: ${err.message}` : 'error'}`));

  return {
    api: api as ApiHandler,
    peerId: selfPeerId,
    memberKey: selfKey,
    addresses: ownAddresses,
    node,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(meshTimer);
      for (const rt of groups.values()) rt.stop();
      await Promise.resolve(node.stop()).catch(() => {});
      profile.close();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseJsonFrame(frame: Uint8Array | undefined): unknown {
  if (!frame) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame));
  } catch {
    return null;
  }
}

function validMultiaddr(a: string): boolean {
  try {
    multiaddr(a);
    return true;
  } catch {
    return false;
  }
}
