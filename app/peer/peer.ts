/**
 * @module peer/peer
 * One running peer: identity + libp2p node + one engine per group + profile store
 * + the transport-independent API handler. The CLI, the browser mode and
 * Electron's main process all start a peer through `startPeer` and speak to it
 * only through `api.call` / `api.subscribe`.
 *
 * This module only composes; each concern lives in its own room:
 * - `transport.ts`: gossipsub topics and validators, the group unicast stream,
 *   per-destination send queues (bytes ↔ `GroupRuntime`);
 * - `mesh.ts`: addresses, dialling, peer exchange, mDNS, connection events;
 * - `catch-up.ts`: serving and asking for kept traffic (issue 5 §7);
 * - `files.ts` (with `files-api.ts`): file chunks over `/conclave/file` (issue 18 §1);
 * - `join.ts` and `api-methods.ts`: the API's methods as peer commands;
 * - `group.ts` (with `history.ts`, `traffic.ts`, `state-file.ts`,
 *   `board-share.ts`, `admission.ts`): one group's engine and what it keeps.
 *
 * Data flows one way (STYLE "the house"): gossipsub/stream bytes → topic
 * validator or stream handler → GroupRuntime.receive → engine → events → API.
 *
 * Invariants:
 * - Start-up order: the stream protocols are served and the connection
 *   listeners and mesh timer run before any group is restored from the profile,
 *   and the API exists only after the restore; events raised before it (restore,
 *   early connections) have no subscriber and are dropped.
 * - `stop()` stops the mesh timer, then every group (each saves its state), then
 *   the node, then closes the profile; it is idempotent.
 * - A failure during start-up stops the node and closes the profile.
 */
import '../net/shim.js';
import { createConclaveNode, setRelayGate, type ConclaveLibp2p } from '../net/node.js';
import { bytesToHex, memberKeyOfPeer } from '../net/ids.js';
import { Profile, type ProfileIdentity } from '../store/profile.js';
import { fromBase64 } from '../store/seal.js';
import { createApiHandler, type ApiHandler, type EventSink } from '../api/handler.js';
import type { MemberKey } from '../core/types.js';
import { GroupEngine, GroupRuntime, type GroupHost } from './group.js';
import { Transport } from './transport.js';
import { InviteExchange } from './invite-exchange.js';
import { Mesh } from './mesh.js';
import { CatchUp } from './catch-up.js';
import { nodeCrypto } from '../crypto/node.js';
import { peerMethods } from './api-methods.js';
import { DEFAULT_MAX_FILE_BYTES, Files } from './files.js';
import { fileMethods } from './files-api.js';
import { ownAddresses, peerIdOf, type PeerContext } from './peer-context.js';

export interface StartPeerOptions {
  /** Profile directory (created if missing). */
  profile: string;
  /** Display name; kept in the profile. */
  name?: string;
  /** libp2p listen multiaddrs. Default: TCP on all interfaces, random port. */
  listen?: string[];
  /** Relays (multiaddr ending in /p2p/ID) to reserve a slot on when behind a NAT (issue 16). */
  relays?: string[];
  /** Relay for this peer's groups' members while publicly reachable (issue 16 §5). Default true. */
  memberRelay?: boolean;
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
  /** The largest file this peer sends or fetches (issue 18 §1). Default 100 MiB. */
  maxFileBytes?: number;
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
    const nodeOn = (listen: string[]) => createConclaveNode({ seed: identity.seed, listen, mdns: options.mdns ?? true, memberRelay: options.memberRelay ?? true });
    if (options.listen) node = await nodeOn(options.listen);
    else {
      node = await nodeOnStickyPort(identity.listenPort, nodeOn, log);
      const port = tcpPortOf(node);
      if (port !== null && port !== identity.listenPort) {
        identity = { ...identity, listenPort: port };
        try {
          profile.saveIdentity(identity);
        } catch (err) {
          log(`listening port not saved (${err instanceof Error ? err.name : 'error'}): the next start may take another`);
        }
      }
    }
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

/**
 * The default listen address: every IPv4 interface, on the TCP port this profile used last time
 * (a new one the first time, or when that port is taken now). A peer that came back on a new
 * port was unreachable at the addresses its fellow members saved for it: when every member of a
 * group restarted, with no mDNS and no relay, nobody found anybody (review 39).
 */
async function nodeOnStickyPort(port: number | undefined, nodeOn: (listen: string[]) => Promise<ConclaveLibp2p>, log: (line: string) => void): Promise<ConclaveLibp2p> {
  const any = ['/ip4/0.0.0.0/tcp/0'];
  if (port === undefined) return nodeOn(any);
  try {
    return await nodeOn([`/ip4/0.0.0.0/tcp/${port}`]);
  } catch (err) {
    log(`listening port ${port} not available (${err instanceof Error ? err.name : 'error'}): a new one is taken`);
    return nodeOn(any);
  }
}

/** The TCP port the node listens on (its first IPv4 TCP address), or null. */
function tcpPortOf(node: ConclaveLibp2p): number | null {
  for (const a of node.getMultiaddrs()) {
    const m = /^\/ip4\/[^/]+\/tcp\/(\d+)(\/p2p\/[^/]+)?$/.exec(a.toString());
    if (m) return Number(m[1]);
  }
  return null;
}

/** The access list of 001: peer IDs admitted without an invite, as member keys. */
function allowlistOf(ids: readonly string[]): Set<MemberKey> {
  const allowlist = new Set<MemberKey>();
  for (const id of ids) {
    const key = memberKeyOfPeer(id);
    if (!key) throw new Error(`allowlisted ${id.slice(0, 64)} is not an Ed25519 peer ID`);
    allowlist.add(key);
  }
  return allowlist;
}

async function compose(node: ConclaveLibp2p, profile: Profile, identity: ProfileIdentity, options: StartPeerOptions, log: (line: string) => void): Promise<RunningPeer> {
  // Created once the methods exist (below); events raised earlier (restore, early
  // connections) have no subscriber yet and are dropped.
  let api: (ApiHandler & EventSink) | null = null;
  let stopped = false;
  const allowlist = allowlistOf(options.allow ?? []);
  const ctx: PeerContext = {
    node,
    profile,
    selfKey: bytesToHex(node.peerId.publicKey!.raw),
    selfPeerId: node.peerId.toString(),
    identity: { current: identity },
    groups: new Map<string, GroupRuntime>(),
    keepTraffic: options.keepTraffic ?? 10_000,
    emit: (event, payload) => api?.emit(event, payload),
    log,
    stopped: () => stopped,
  };

  const catchUp = new CatchUp(ctx);
  const mesh = new Mesh(ctx, (rt, key) => void catchUp.ask(rt, key), options.relays ?? []);
  const transport = new Transport(ctx, mesh.reach);
  if (options.memberRelay ?? true) setRelayGate(node, mesh.reachability.relayGate(transport.guard));
  const invites = new InviteExchange(ctx);
  const files = new Files(ctx, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  const host: GroupHost = {
    selfKey: ctx.selfKey,
    profile,
    events: { emit: ctx.emit },
    now: () => Date.now(),
    displayName: () => ctx.identity.current.name,
    publish: (group, channel, bytes) => transport.publish(group, channel, bytes),
    unicast: (group, to, bytes) => transport.unicast(group, to, bytes),
    peerIdOf,
    allowlisted: (key) => allowlist.has(key),
    sign: (message) => nodeCrypto.ed25519Sign(ctx.identity.current.seed, message),
    onMember: (rt) => {
      catchUp.onMember(rt);
      invites.onMember(rt);
      files.attach(rt);
    },
    invitesChanged: (rt) => invites.announce(rt),
    memberDeparted: (rt) => {
      const revoked = invites.revokeIssuedOnDeparture(rt);
      if (revoked > 0) log(`group ${rt.group.slice(0, 8)}: revoked ${revoked} open invite(s) of mine: a departed member knew them`);
    },
    log,
  };

  await transport.serveGroupStream();
  await catchUp.serve();
  await mesh.serve();
  await invites.serve();
  await files.serve();
  mesh.listen();
  mesh.start();
  invites.start();
  files.start();

  // ── restore groups from the profile ───────────────────────────────────────
  for (const gid of profile.groupIds()) {
    try {
      const record = profile.loadGroup(gid);
      if (!record || !record.snapshot) continue;
      const snapshot = fromBase64(record.snapshot);
      if (!snapshot) continue;
      const self = ctx.identity.current;
      const rt = new GroupRuntime(host, record, (deps) => GroupEngine.restore(deps, { seed: self.seed, name: self.name }, snapshot, Date.now()), ctx.keepTraffic);
      transport.attach(rt);
      rt.drive();
      await mesh.restoreAddresses(record);
    } catch (err) {
      log(`group ${gid.slice(0, 8)} could not be restored: ${err instanceof Error ? err.message : 'error'}`);
    }
  }

  const methods = { ...peerMethods({ ctx, host, mesh, transport, invites }, { inviteAddresses: options.inviteAddresses }), ...fileMethods(ctx, files) };
  api = createApiHandler(methods, (method, err) => log(`api ${method}: ${err instanceof Error ? `${err.name}: ${err.message}` : 'error'}`));

  return {
    api: api as ApiHandler,
    peerId: ctx.selfPeerId,
    memberKey: ctx.selfKey,
    addresses: () => ownAddresses(node),
    node,
    async stop() {
      if (stopped) return;
      stopped = true;
      mesh.stop();
      invites.stop();
      catchUp.stop();
      files.stop();
      for (const rt of ctx.groups.values()) rt.stop();
      await Promise.resolve(node.stop()).catch(() => {});
      profile.close();
    },
  };
}
