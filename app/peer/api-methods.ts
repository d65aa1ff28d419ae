/**
 * @module peer/api-methods
 * The peer's side of the control API (docs/api.md): one function per method of
 * `app/api/contract.ts`, turning a validated request into commands on this
 * peer's group runtimes and answers built from their views. `api/handler.ts`
 * validates parameters and results against the contract's schemas before and
 * after these run; the transport (JSON-RPC over WebSocket, Electron IPC) is not
 * known here.
 *
 * Invariants:
 * - A caller's misuse becomes an `ApiError` with a contract error code, never
 *   an engine exception: the engine's `LocalProtocolError` is `notAllowed`, an
 *   unknown group `notFound`, a bad peer ID `invalidParams`, a bad invite
 *   `badInvite` or `expiredInvite`.
 * - Clients see peer IDs, never member keys; they never see secrets (seeds, keys).
 * - Only a current member invites, sends, draws; a join for a group this peer is
 *   in, or is already joining, answers with the group at once. A join for a
 *   group this identity left or was excluded from is refused with the reason
 *   (`notAllowed`): every member refuses a blocked identity for good
 *   (docs/protocol.md §12), so only another profile, a new identity, can come
 *   back (docs/ui.md "Coming back to a group"; issue 18 §6).
 * - Invites default to 10 uses and 7 days (seed 001's authenticated credential);
 *   the inviter keeps each in the group's invite ledger and alone may revoke it.
 */
import { shownText } from './names.js';
import { randomBytes } from 'node:crypto';
import { classifyAddress } from '../net/node.js';
import { memberKeyOfPeer } from '../net/ids.js';
import { ErrorCodes, type GroupSummary, type Member, type Params } from '../api/contract.js';
import { keysTableResult } from './key-panel.js';
import { Emoji } from './payload.js';
import { searchMessages } from './search.js';
import type { FileMethodName } from './files-api.js';
import { ApiError, type PeerMethods } from '../api/handler.js';
import { LocalProtocolError } from '../core/errors.js';
import type { ExclusionPolicy, MemberKey } from '../core/types.js';
import { GroupEngine, GroupRuntime, newGroupRecord } from './group.js';
import { defaultParams } from './params.js';
import { createInvite, InviteError, parseInvite } from './invite.js';
import { joinWithInvite, type JoinParts } from './join.js';
import { inviteViews } from './invite-ledger.js';
import { isConnected, ownAddresses, peerIdOf } from './peer-context.js';

const PEER_VERSION = '0.1.0';

const DEFAULT_INVITE_USES = 10;
const DEFAULT_INVITE_TTL_SEC = 7 * 86_400;
/** A group left keeps its topics this long, so the leave announcement goes out. */
const DETACH_AFTER_LEAVE_MS = 2000;

export interface MethodOptions {
  /** 'none': invites carry no addresses (LAN-only sharing; mDNS finds the inviter). */
  inviteAddresses?: 'all' | 'none';
}

function notFound(group: string): ApiError {
  return new ApiError(ErrorCodes.notFound, `not in group ${group}`);
}

function engineCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.notAllowed, err.message);
    throw err;
  }
}

/** The group's exclusion policy; under `admins` the creator is always one (it holds the TEK first: docs/protocol.md §9). */
function policyOf(p: Params<'group.create'>['policy'], creator: MemberKey): ExclusionPolicy {
  if (!p || p.exclude === 'any-member') return { exclude: 'any-member' };
  const admins: MemberKey[] = [creator];
  for (const id of p.admins) {
    const key = memberKeyOfPeer(id);
    if (!key) throw new ApiError(ErrorCodes.invalidParams, `admin ${id.slice(0, 64)} is not an Ed25519 peer ID`);
    if (!admins.includes(key)) admins.push(key);
  }
  return { exclude: 'admins', admins };
}

function summary(rt: GroupRuntime): GroupSummary {
  const state = rt.engine.state();
  const policy = rt.engine.params.policy;
  return {
    group: rt.group,
    name: shownText(rt.engine.groupName),
    state: state === 'listening' || state === 'joining' ? 'joining' : state,
    members: rt.engine.memberCount(),
    unread: rt.unread(),
    policy: policy.exclude === 'admins' ? { exclude: 'admins', admins: policy.admins.map(peerIdOf) } : { exclude: 'any-member' },
    canExclude: rt.engine.canExclude(),
    ...(rt.unsaved() ? { unsaved: rt.unsaved()! } : {}),
  };
}

/** Why a departed or excluded identity cannot use a new invite, and what it can do instead. */
function rejoinRefusal(state: 'left' | 'excluded'): string {
  const why = state === 'left' ? 'You left this group' : 'You were excluded from this group';
  return `${why}, and its members refuse this identity for good. To come back, join with this invite from another profile (a new identity).`;
}

function requireMember(rt: GroupRuntime, group: string): void {
  if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, `not a member of ${group} (state ${rt.engine.state()})`);
}

/**
 * The method table. One object literal on purpose (over 80 lines): it reads as
 * the list of methods of the contract, each a few lines that call one command.
 */
export function peerMethods(parts: JoinParts, options: MethodOptions): Omit<PeerMethods, FileMethodName> {
  const { ctx, host, transport } = parts;
  const { node, profile, groups, selfKey, selfPeerId, identity } = ctx;
  const pendingJoins = new Set<string>();

  function runtime(group: string): GroupRuntime {
    const rt = groups.get(group);
    if (!rt) throw notFound(group);
    return rt;
  }

  function makeInvite(rt: GroupRuntime, uses: number, ttlSec: number): { invite: string; expiresAt: number; id: string; uses: number } {
    const expiresAt = Date.now() + ttlSec * 1000;
    const link = createInvite({
      group: rt.group,
      name: rt.engine.groupName,
      params: rt.engine.params,
      inviterSeed: identity.current.seed,
      inviterPeerId: selfPeerId,
      addrs: options.inviteAddresses === 'none' ? [] : ownAddresses(node),
      expiresAt,
      uses,
      secret: new Uint8Array(randomBytes(16)),
    });
    // Kept in the ledger with its member proof key, and shared with fellow members (issue 15 §2).
    const invite = parseInvite(link, Date.now());
    parts.invites.issued(rt, invite);
    return { invite: link, expiresAt, id: invite.id, uses };
  }

  return {
    status: () => ({ peerId: selfPeerId, name: identity.current.name, groups: groups.size, version: PEER_VERSION }),
    'profile.setName': ({ name }) => {
      identity.current = { ...identity.current, name };
      profile.saveIdentity(identity.current);
      return { ok: true as const };
    },
    'group.create': ({ name, policy }) => {
      const self = identity.current;
      const params = defaultParams(policyOf(policy, ctx.selfKey));
      const now = Date.now();
      const rt = engineCall(
        () => new GroupRuntime(host, newGroupRecord('', name, now), (deps) => GroupEngine.create(deps, { seed: self.seed, name: self.name }, { name, params, now }), ctx.keepTraffic),
      );
      rt.record.name = name;
      // On disk before anything of it is announced or an invite to it exists (a full disk: state-file.ts).
      rt.saveOrAbandon(); // a write error becomes `storage` in the API handler (api/handler.ts)
      transport.attach(rt);
      rt.drive();
      rt.save();
      return { group: rt.group, invite: makeInvite(rt, DEFAULT_INVITE_USES, DEFAULT_INVITE_TTL_SEC).invite };
    },
    'group.list': () => [...groups.values()].map(summary),
    'group.invite': ({ group, uses, ttlSec }) => {
      const rt = runtime(group);
      if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, 'only a current member can invite');
      return makeInvite(rt, uses ?? DEFAULT_INVITE_USES, ttlSec ?? DEFAULT_INVITE_TTL_SEC);
    },
    'invite.list': ({ group }) => {
      const rt = runtime(group);
      return inviteViews(rt.record, Date.now()).map((v) => ({ ...v, mine: v.inviter === selfPeerId }));
    },
    'invite.revoke': ({ group, id }) => {
      const rt = runtime(group);
      if (!parts.invites.revoke(rt, id)) throw new ApiError(ErrorCodes.notFound, 'no invite of yours with this ID in this group (only the member who made an invite can revoke it)');
      return { ok: true as const };
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
      const gone = existing?.engine.state();
      if (gone === 'left' || gone === 'excluded') throw new ApiError(ErrorCodes.notAllowed, rejoinRefusal(gone));
      if (existing || pendingJoins.has(invite.group)) return { group: invite.group };
      if (invite.inviterKey === selfKey) throw new ApiError(ErrorCodes.badInvite, 'this invite was issued by this peer');
      pendingJoins.add(invite.group);
      try {
        return await joinWithInvite(parts, invite);
      } finally {
        pendingJoins.delete(invite.group);
      }
    },
    'group.leave': ({ group }) => {
      const rt = runtime(group);
      engineCall(() => rt.leave());
      rt.save();
      setTimeout(() => {
        if (!ctx.stopped()) transport.detachTopics(rt);
      }, DETACH_AFTER_LEAVE_MS);
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
        if (rt.engine.rosterState(key) !== 'member') throw new ApiError(ErrorCodes.notFound, `${peerIdOf(key)} is not a member`);
      }
      // An exclusion makes keys from fresh randomness: made while the state cannot be written, it
      // would wait on this device for a write (unsaved-hold.ts) while the member still reads everything.
      const unsaved = rt.unsaved();
      if (unsaved) throw new ApiError(ErrorCodes.storage, `this device cannot save this group (${unsaved}): the exclusion was not made; free some space and try again`);
      engineCall(() => rt.exclude(keys));
      return { ok: true as const };
    },
    'group.members': ({ group }) => {
      const rt = runtime(group);
      return rt.engine
        .members()
        .map(
          (m): Member => ({
            peerId: peerIdOf(m.key),
            key: m.key,
            name: m.key === selfKey ? m.name : rt.nameOf(m.key),
            participantId: m.participantId,
            role: m.admin ? 'admin' : 'member',
            online: m.key === selfKey || isConnected(node, m.key),
            self: m.key === selfKey,
            state: m.state,
          }),
        );
    },
    'group.read': ({ group }) => {
      const rt = runtime(group);
      rt.record.lastReadAt = Date.now();
      rt.save();
      return { ok: true as const };
    },
    'chat.send': ({ group, text, replyTo }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      if (replyTo && !rt.heldMessage(replyTo)) throw new ApiError(ErrorCodes.notFound, 'no such message to reply to');
      return engineCall(() => rt.sendChat(text, replyTo));
    },
    'chat.react': async ({ group, id, emoji, on }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      const target = rt.heldMessage(id);
      if (!target || target.deleted) throw new ApiError(ErrorCodes.notFound, 'no such message to react to');
      if (!Emoji.safeParse(emoji).success) throw new ApiError(ErrorCodes.invalidParams, 'a reaction is one emoji');
      await engineCall(() => rt.sendChatAction({ t: 'react', target: id, emoji, on: on ?? true }));
      return { ok: true as const };
    },
    'chat.edit': async ({ group, id, text }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      const own = rt.ownMessage(id);
      if (!own) throw new ApiError(ErrorCodes.notAllowed, 'only the author of a message can edit it, and not once deleted');
      if (own.file) throw new ApiError(ErrorCodes.notAllowed, 'a file message cannot be edited (delete it and send the file again)');
      const shown = await engineCall(() => rt.sendChatAction({ t: 'edit', target: id, text }));
      if (!shown) throw new ApiError(ErrorCodes.internal, 'edited message not held');
      return shown;
    },
    'chat.delete': async ({ group, id }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      if (!rt.ownMessage(id)) throw new ApiError(ErrorCodes.notAllowed, 'only the author of a message can delete it');
      await engineCall(() => rt.sendChatAction({ t: 'delete', target: id }));
      return { ok: true as const };
    },
    'chat.history': ({ group, limit }) => runtime(group).chatHistory(limit ?? 500),
    'chat.search': ({ group, query, limit }) => searchMessages(runtime(group).chatHistory(Number.MAX_SAFE_INTEGER), query, limit ?? 50),
    'board.draw': async ({ group, stroke }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      await engineCall(() => rt.draw(stroke));
      return { ok: true as const };
    },
    'board.state': ({ group }) => runtime(group).board(),
    'board.shape': async ({ group, op }) => {
      const rt = runtime(group);
      requireMember(rt, group);
      if (op.v === 1 && !op.kind) throw new ApiError(ErrorCodes.invalidParams, 'a new object (version 1) names its kind');
      await engineCall(() => rt.drawShape(op));
      return { ok: true as const };
    },
    'board.entries': ({ group }) => runtime(group).boardEntries(),
    'keys.table': ({ group }) => {
      const rt = runtime(group);
      return keysTableResult(rt.engine.keyTable(Date.now()), rt.rejections.list(), peerIdOf, rt.syncLog);
    },
    'net.info': () => ({
      peerId: selfPeerId,
      addresses: ownAddresses(node),
      connections: node.getConnections().map((c) => {
        const address = c.remoteAddr.toString();
        return { peerId: c.remotePeer.toString(), address, kind: classifyAddress(address) };
      }),
      blocked: transport.guard.blocked(Date.now()),
    }),
  };
}
