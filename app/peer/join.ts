/**
 * @module peer/join
 * Joining a group with an invite (seed 001; docs/protocol.md §5 "Join";
 * docs/architecture.md "Joining, nearest first"): reach the inviter at the
 * addresses the invite carries, subscribe the group's topics before asking for
 * admission, and start a joining engine whose contacts are the LAN peers first
 * and the inviter last (the expanding ring of 001).
 *
 * Invariants:
 * - The invite was parsed and checked (signature, expiry) by the caller; the
 *   engine carries it, as bytes, as the credential every admitter checks.
 * - If the engine refuses the invite's parameters, the topics subscribed for the
 *   join are unsubscribed again and the caller gets `badInvite`; nothing is saved.
 * - Once the engine exists, the group is attached, driven and saved at once.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { peerOfMemberKey } from '../net/ids.js';
import { ErrorCodes } from '../api/contract.js';
import { ApiError } from '../api/handler.js';
import { LocalProtocolError } from '../core/errors.js';
import { GroupEngine, GroupRuntime, newGroupRecord } from './group.js';
import type { GroupHost } from './group.js';
import type { Invite } from './invite.js';
import type { Mesh } from './mesh.js';
import type { Transport } from './transport.js';
import { validMultiaddr, type PeerContext } from './peer-context.js';

/** What a join needs besides the context: the mesh (LAN contacts), the transport (topics) and the runtimes' host. */
export interface JoinParts {
  readonly ctx: PeerContext;
  readonly host: GroupHost;
  readonly mesh: Mesh;
  readonly transport: Transport;
}

export async function joinWithInvite({ ctx, host, mesh, transport }: JoinParts, invite: Invite): Promise<{ group: string }> {
  const { node, log } = ctx;
  const inviterPid = peerOfMemberKey(invite.inviterKey)!;
  const dialable = invite.addrs.filter(validMultiaddr);
  if (dialable.length > 0) {
    await node.peerStore.merge(inviterPid, { multiaddrs: dialable.map((a) => multiaddr(a)) }).catch(() => {});
    await node.dial(inviterPid, { signal: AbortSignal.timeout(15_000) }).catch(() => log('inviter not reachable yet'));
  }
  await transport.subscribeForJoin(invite.group, invite.inviterKey);
  const contacts = [...mesh.lanContacts(invite.inviterKey), invite.inviterKey];
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
          credential: new TextEncoder().encode(invite.link),
          contacts,
          now,
        }),
      ctx.keepTraffic,
    );
  } catch (err) {
    transport.abandonJoin(invite.group);
    if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.badInvite, `invite parameters refused: ${err.message}`);
    throw err;
  }
  transport.attach(rt);
  rt.drive();
  rt.save();
  return { group: rt.group };
}
