/**
 * @module peer/join
 * Joining a group with an invite (seed 001; docs/protocol.md §5 "Join";
 * docs/architecture.md "Joining, nearest first"): reach the inviter at the
 * addresses the invite carries, subscribe the group's topics before asking for
 * admission, and start a joining engine whose contacts are the LAN peers first
 * and the inviter last (the expanding ring of 001).
 *
 * Invariants:
 * - The invite was parsed and checked (signature, secret, expiry) by the caller.
 *   The engine carries, as its credential, the ticket and a signature with the
 *   invite's join key bound to this identity and the group (peer/invite): never
 *   the secret, and worth nothing to another identity.
 * - No contact is offered to the engine (which would send it the credential, and
 *   accept an Admit from it) before it has answered this newcomer's challenge with
 *   a proof of membership (docs/protocol.md §5 "Invites and the join handshake",
 *   issue 15 §2): the inviter, LAN peers found by mDNS, and any peer offered later
 *   alike. A contact whose proof is wrong is never asked again during this join.
 * - If the engine refuses the invite's parameters, the topics subscribed for the
 *   join are unsubscribed again and the caller gets `badInvite`; nothing is saved.
 * - Once the engine exists, the group is attached, driven and saved at once.
 * - Join progress carries the path to the inviter (issue 16 §8, `watchInviterPath`):
 *   a `reaching-peers` event with `path` when the first connection to it opens
 *   (`relayed`: "reaching the inviter through a relay"), and again whenever the
 *   best open path changes (a hole punch: `direct`), until the join ends or
 *   PATH_WATCH_MS pass.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import { classifyConnection, type ConnectionKind } from '../net/node.js';
import { peerOfMemberKey } from '../net/ids.js';
import { ErrorCodes } from '../api/contract.js';
import { ApiError } from '../api/handler.js';
import { LocalProtocolError } from '../core/errors.js';
import { GroupEngine, GroupRuntime, newGroupRecord } from './group.js';
import type { GroupHost } from './group.js';
import { joinCredential, type Invite } from './invite.js';
import type { ContactCheck, InviteExchange } from './invite-exchange.js';
import { dialDirectThenRelayed, type Mesh } from './mesh.js';
import type { Transport } from './transport.js';
import { isConnected, sleep, validMultiaddr, type PeerContext } from './peer-context.js';
import type { MemberKey } from '../core/types.js';

/** How far apart a contact that did not answer (yet) is challenged again: 1.5 s, growing to 6 s. */
const CHECK_RETRY_MS = 1500;
/** How long the path to the inviter is reported during a join, at most. */
const PATH_WATCH_MS = 120_000;

/** What a join needs besides the context: the mesh (LAN contacts), the transport (topics), the invite exchange and the runtimes' host. */
export interface JoinParts {
  readonly ctx: PeerContext;
  readonly host: GroupHost;
  readonly mesh: Mesh;
  readonly transport: Transport;
  readonly invites: InviteExchange;
}

export async function joinWithInvite({ ctx, host, mesh, transport, invites }: JoinParts, invite: Invite): Promise<{ group: string }> {
  const { node, log } = ctx;
  const inviterPid = peerOfMemberKey(invite.inviterKey)!;
  const dialable = invite.addrs.filter(validMultiaddr);
  let joinRuntime: GroupRuntime | null = null;
  let abandoned = false;
  watchInviterPath(ctx, invite.group, inviterPid, () => !abandoned && (joinRuntime === null || joinRuntime.engine.state() === 'joining'));
  if (dialable.length > 0) {
    await node.peerStore.merge(inviterPid, { multiaddrs: dialable.map((a) => multiaddr(a)) }).catch(() => {});
    await dialDirectThenRelayed(node, inviterPid, dialable, 15_000).catch(() => log('inviter not reachable yet'));
  }
  await transport.subscribeForJoin(invite.group, invite.inviterKey);
  const now = Date.now();
  const record = newGroupRecord(invite.group, invite.name, now);
  record.addresses = dialable.length > 0 ? { [invite.inviterKey]: dialable } : {};
  const identity = ctx.identity.current;
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
          credential: joinCredential(invite, ctx.selfKey),
          contacts: [],
          now,
        }),
      ctx.keepTraffic,
    );
    // On disk before the join is asked for: admitted while its state cannot be written, this
    // member would be gone after a restart while the group counts it (a full disk: state-file.ts).
    rt.saveOrAbandon();
  } catch (err) {
    abandoned = true;
    transport.abandonJoin(invite.group);
    if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.badInvite, `invite parameters refused: ${err.message}`);
    throw err;
  }
  joinRuntime = rt;
  rt.contactCheck = contactChecker(ctx, invites, rt, invite);
  transport.attach(rt);
  rt.drive();
  rt.save();
  // Nearest first (001): LAN peers, then the inviter; each must prove membership first.
  rt.addContacts([...mesh.lanContacts(invite.inviterKey), invite.inviterKey]);
  return { group: rt.group };
}

/**
 * The join handshake's gate for one join: challenges each contact, one challenge
 * at a time per contact; retries, while the join lasts, one that could not be
 * reached or had no proof yet (a member not yet told of the invite); refuses for
 * good one whose proof was wrong.
 */
function contactChecker(ctx: PeerContext, invites: InviteExchange, rt: GroupRuntime, invite: Invite): (key: MemberKey) => Promise<boolean> {
  const inFlight = new Map<MemberKey, Promise<boolean>>();
  const refused = new Set<MemberKey>();
  const passed = new Set<MemberKey>();
  const joining = () => !ctx.stopped() && rt.engine.state() === 'joining';
  const who = (key: MemberKey) => `contact ${peerOfMemberKey(key)?.toString().slice(-8) ?? '?'}`;
  const revoked = (key: MemberKey): false => {
    ctx.emit('group.joinProgress', { group: invite.group, stage: 'failed', detail: 'this invite was revoked by the member who made it; ask for a new one' });
    refused.add(key);
    return false;
  };
  // The inviter's word comes first: while it is reachable, a proof from anyone else
  // counts only once the inviter has not said "revoked" (docs/protocol.md §5).
  let inviterAsked: Promise<ContactCheck> | null = null;
  const inviterWord = async (): Promise<ContactCheck> => {
    inviterAsked ??= invites.checkContact(invite, invite.inviterKey);
    const word = await inviterAsked;
    if (word === 'unreachable' || word === 'no-proof') inviterAsked = null;
    return word;
  };
  const vet = async (key: MemberKey): Promise<boolean> => {
    for (let attempt = 0; joining(); attempt++) {
      const verdict = key === invite.inviterKey ? await inviterWord() : await invites.checkContact(invite, key);
      if (verdict === 'member') {
        if (key !== invite.inviterKey && isConnected(ctx.node, invite.inviterKey) && (await inviterWord()) === 'revoked') return revoked(key);
        passed.add(key);
        return true;
      }
      if (verdict === 'forged') {
        ctx.log(`${who(key)} failed the invite handshake (not a member of the invited group): it is not asked`);
        refused.add(key);
        return false;
      }
      if (verdict === 'revoked') return revoked(key);
      await sleep(CHECK_RETRY_MS * Math.min(attempt + 1, 4));
    }
    return false;
  };
  return (key) => {
    if (refused.has(key) || passed.has(key)) return Promise.resolve(passed.has(key));
    let p = inFlight.get(key);
    if (!p) {
      p = vet(key).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    return p;
  };
}

/** The best open path to `peer`: a LAN or direct connection before a relayed one; null when none is open. */
function bestPath(ctx: PeerContext, peer: PeerId): ConnectionKind | null {
  const kinds = ctx.node.getConnections(peer).filter((c) => c.status === 'open').map(classifyConnection);
  return kinds.find((k) => k === 'lan') ?? kinds.find((k) => k === 'direct') ?? kinds[0] ?? null;
}

/** Reports the path to the inviter as join progress while `joining()` holds (see the invariants). */
function watchInviterPath(ctx: PeerContext, group: string, inviter: PeerId, joining: () => boolean): void {
  const node = ctx.node;
  let reported: ConnectionKind | null = null;
  const deadline = Date.now() + PATH_WATCH_MS;
  const check = (): void => {
    if (ctx.stopped() || !joining() || Date.now() > deadline) {
      node.removeEventListener('connection:open', onChange);
      node.removeEventListener('connection:close', onChange);
      return;
    }
    const path = bestPath(ctx, inviter);
    if (!path || path === reported) return;
    reported = path;
    ctx.emit('group.joinProgress', { group, stage: 'reaching-peers', path });
  };
  const onChange = (evt: CustomEvent<{ remotePeer: PeerId }>): void => {
    if (evt.detail.remotePeer.equals(inviter)) setTimeout(check, 0); // after libp2p has listed the connection
  };
  node.addEventListener('connection:open', onChange);
  node.addEventListener('connection:close', onChange);
  setTimeout(check, 0);
}
