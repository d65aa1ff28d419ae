/**
 * @module api/contract
 * The one contract every client of a peer speaks: the Electron preload bridge,
 * the browser mode's WebSocket, tests and benchmarks. JSON-RPC 2.0 methods with
 * their parameter and result schemas, and the events a peer pushes. Every payload
 * is validated on receipt with these schemas (zod); nothing else defines them.
 *
 * Binary values (keys, ciphertexts) never cross this contract; peer IDs are
 * libp2p peer ID strings, groups are group IDs (hex), times are ms since epoch.
 * The key table names members by member key (hex Ed25519 public key, the
 * engine's name) and carries the peer ID of each key it names, so a client
 * never converts between the two spellings itself.
 */
import { z } from 'zod';

export const PeerIdString = z.string().min(1).max(200);
export const GroupIdString = z.string().regex(/^[0-9a-f]{32}$/, 'group id is 32 lowercase hex characters');

export const Policy = z.union([
  z.object({ exclude: z.literal('any-member') }),
  z.object({ exclude: z.literal('admins'), admins: z.array(PeerIdString).max(1000) }),
]);

export const Point = z.object({ x: z.number().finite(), y: z.number().finite() });
export const Stroke = z.object({
  id: z.string().min(1).max(64),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  width: z.number().min(0.5).max(64),
  /** 'pen' draws, 'erase' draws in the background colour, 'clear' empties the board, 'undo' removes stroke `target`. */
  tool: z.enum(['pen', 'erase', 'clear', 'undo']),
  points: z.array(Point).max(5000),
  target: z.string().max(64).optional(),
});
export type Stroke = z.infer<typeof Stroke>;

export const MessageIdString = z.string().regex(/^[0-9a-f]{32}$/, 'message id is 32 lowercase hex characters');

/** The message a reply quotes: its ID always; sender and an excerpt when this peer holds it. */
export const ReplyQuote = z.object({
  id: MessageIdString,
  sender: PeerIdString.optional(),
  senderName: z.string().optional(),
  excerpt: z.string().max(200).optional(),
  deleted: z.boolean().optional(),
});
/** One emoji on a message and who put it there (peer IDs, in the order they reacted). */
export const Reaction = z.object({ emoji: z.string().min(1).max(16), by: z.array(PeerIdString) });

export const ChatMessage = z.object({
  id: z.string(),
  group: GroupIdString,
  sender: PeerIdString,
  senderName: z.string(),
  /** The current text (after its author's last edit); empty once deleted. */
  text: z.string(),
  sentAt: z.number(),
  receivedAt: z.number(),
  replyTo: ReplyQuote.optional(),
  reactions: z.array(Reaction).optional(),
  /** When its author last edited it (the edit's signed time). */
  editedAt: z.number().optional(),
  /** Deleted by its author: a tombstone (text empty, no reactions). */
  deleted: z.boolean().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const BoardStroke = z.object({
  group: GroupIdString,
  sender: PeerIdString,
  stroke: Stroke,
  sentAt: z.number(),
});
export type BoardStroke = z.infer<typeof BoardStroke>;

export const MemberKeyString = z.string().regex(/^[0-9a-f]{64}$/, 'member key is 64 lowercase hex characters');

export const Member = z.object({
  peerId: PeerIdString,
  /** The member key `keys.table` names this member by. */
  key: MemberKeyString,
  name: z.string(),
  /** Participant ID as its W symbols (003 [0048]). */
  participantId: z.array(z.number().int()),
  role: z.enum(['admin', 'member']),
  online: z.boolean(),
  self: z.boolean(),
  state: z.enum(['member', 'excluded', 'left']),
});
export type Member = z.infer<typeof Member>;

export const GroupSummary = z.object({
  group: GroupIdString,
  name: z.string(),
  state: z.enum(['joining', 'member', 'excluded', 'left']),
  members: z.number().int(),
  unread: z.number().int(),
  policy: Policy,
  canExclude: z.boolean(),
});
export type GroupSummary = z.infer<typeof GroupSummary>;

const Slot = z.union([
  z.object({ kind: z.literal('tek') }),
  z.object({ kind: z.literal('kek'), symbol: z.number().int(), value: z.number().int() }),
]);
const Origin = z.union([
  z.object({ kind: z.literal('single'), creator: z.string() }),
  z.object({ kind: z.literal('panel'), round: z.number().int(), members: z.array(z.string()) }),
  z.object({ kind: z.literal('merge'), creators: z.array(z.string()) }),
]);
export const KeyEntry = z.object({
  slot: Slot,
  version: z.number().int(),
  revision: z.number().int(),
  creators: z.array(z.string()),
  owner: z.string().nullable(),
  held: z.boolean(),
  heartbeatAgeMs: z.number().nullable(),
  fingerprint: z.string().nullable(),
  origin: Origin.optional(),
  basedOn: z.object({ version: z.number(), revision: z.number(), creators: z.array(z.string()) }).nullable(),
});
export type KeyEntry = z.infer<typeof KeyEntry>;

/**
 * Inputs the engine refused (a typed `rejected` event: reason and sender), counted
 * per (reason, sender) so a flood is one line with a count, not a flood of lines.
 */
export const Rejection = z.object({
  reason: z.string(),
  from: z.string(),
  count: z.number().int(),
  firstAt: z.number(),
  lastAt: z.number(),
  /** The latest refused input's detail. */
  detail: z.string(),
});
export type Rejection = z.infer<typeof Rejection>;

export const KeysTable = z.object({
  group: GroupIdString,
  W: z.number().int(),
  V: z.number().int(),
  self: z.string(),
  selfId: z.array(z.number().int()),
  tek: KeyEntry.nullable(),
  slots: z.array(KeyEntry),
  blocklist: z.array(z.string()),
  log: z.array(z.object({ at: z.number(), kind: z.string(), text: z.string() })),
  rejections: z.array(Rejection),
  /** The peer ID of every member key this table names (self, owners, creators, blocklist, senders of rejections). */
  peerIds: z.record(z.string(), PeerIdString),
});
export type KeysTable = z.infer<typeof KeysTable>;

export const Connection = z.object({
  peerId: PeerIdString,
  address: z.string(),
  kind: z.enum(['lan', 'direct', 'relayed']),
});
export type Connection = z.infer<typeof Connection>;

/** A peer blocked at the peer layer for repeatedly sending what the authorization table forbids (issue 15 §1). */
export const BlockedPeer = z.object({
  peerId: PeerIdString,
  /** When the block lapses (ms since the epoch). */
  until: z.number(),
  /** The last offence before the block. */
  reason: z.string().max(200),
});
export type BlockedPeer = z.infer<typeof BlockedPeer>;

/** An invite's ID (16 hex): names it for revocation and use counting; reveals nothing of its secret. */
export const InviteId = z.string().regex(/^[0-9a-f]{16}$/, 'invite id is 16 lowercase hex characters');

/** An invite as this member's ledger knows it (issue 15 §2): uses counted group-wide as far as announced. */
export const InviteSummary = z.object({
  id: InviteId,
  uses: z.number().int(),
  used: z.number().int(),
  expiresAt: z.number(),
  revoked: z.boolean(),
  inviter: PeerIdString,
  /** This peer made it (only the inviter can revoke it). */
  mine: z.boolean(),
});
export type InviteSummary = z.infer<typeof InviteSummary>;

/** Every method: params schema and result schema. */
export const Methods = {
  auth: { params: z.object({ token: z.string() }), result: z.object({ ok: z.literal(true) }) },
  status: {
    params: z.object({}).optional(),
    result: z.object({ peerId: PeerIdString, name: z.string(), groups: z.number().int(), version: z.string() }),
  },
  'profile.setName': { params: z.object({ name: z.string().min(1).max(64) }), result: z.object({ ok: z.literal(true) }) },
  'group.create': {
    params: z.object({ name: z.string().min(1).max(100), policy: Policy.optional() }),
    result: z.object({ group: GroupIdString, invite: z.string() }),
  },
  'group.list': { params: z.object({}).optional(), result: z.array(GroupSummary) },
  'group.invite': {
    params: z.object({ group: GroupIdString, uses: z.number().int().min(1).max(1000).optional(), ttlSec: z.number().int().min(60).max(30 * 86400).optional() }),
    result: z.object({ invite: z.string(), expiresAt: z.number(), id: InviteId, uses: z.number().int() }),
  },
  'invite.list': { params: z.object({ group: GroupIdString }), result: z.array(InviteSummary) },
  'invite.revoke': { params: z.object({ group: GroupIdString, id: InviteId }), result: z.object({ ok: z.literal(true) }) },
  'group.join': { params: z.object({ invite: z.string().min(1).max(8192) }), result: z.object({ group: GroupIdString }) },
  'group.leave': { params: z.object({ group: GroupIdString }), result: z.object({ ok: z.literal(true) }) },
  'group.exclude': {
    params: z.object({ group: GroupIdString, peers: z.array(PeerIdString).min(1).max(64) }),
    result: z.object({ ok: z.literal(true) }),
  },
  'group.members': { params: z.object({ group: GroupIdString }), result: z.array(Member) },
  'group.read': { params: z.object({ group: GroupIdString }), result: z.object({ ok: z.literal(true) }) },
  'chat.send': { params: z.object({ group: GroupIdString, text: z.string().min(1).max(16000), replyTo: MessageIdString.optional() }), result: ChatMessage },
  /** Adds (`on`, the default) or withdraws this member's reaction `emoji` on message `id`. */
  'chat.react': {
    params: z.object({ group: GroupIdString, id: MessageIdString, emoji: z.string().min(1).max(16), on: z.boolean().optional() }),
    result: z.object({ ok: z.literal(true) }),
  },
  /** Replaces the text of one of this member's own messages. */
  'chat.edit': { params: z.object({ group: GroupIdString, id: MessageIdString, text: z.string().min(1).max(16000) }), result: ChatMessage },
  /** Deletes one of this member's own messages on every member (a tombstone stays). */
  'chat.delete': { params: z.object({ group: GroupIdString, id: MessageIdString }), result: z.object({ ok: z.literal(true) }) },
  'chat.history': {
    params: z.object({ group: GroupIdString, limit: z.number().int().min(1).max(10000).optional() }),
    result: z.array(ChatMessage),
  },
  'board.draw': { params: z.object({ group: GroupIdString, stroke: Stroke }), result: z.object({ ok: z.literal(true) }) },
  'board.state': { params: z.object({ group: GroupIdString }), result: z.array(BoardStroke) },
  'keys.table': { params: z.object({ group: GroupIdString }), result: KeysTable },
  'net.info': {
    params: z.object({}).optional(),
    result: z.object({ peerId: PeerIdString, addresses: z.array(z.string()), connections: z.array(Connection), blocked: z.array(BlockedPeer).optional() }),
  },
} as const;

export type MethodName = keyof typeof Methods;
export type Params<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>;
export type Result<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>;

/** Events a peer pushes to its clients (JSON-RPC notifications, method = event name). */
export const Events = {
  'chat.message': ChatMessage,
  /** A message shown before changed: a reaction, its author's edit or delete, or its reply's parent arrived. */
  'chat.update': ChatMessage,
  'chat.undecryptable': z.object({ group: GroupIdString, sender: PeerIdString, sentAt: z.number(), receivedAt: z.number() }),
  'board.stroke': BoardStroke,
  /** Reconciliation is bringing back missing messages (issue 19 §4): `received` of `total`; `done` once the session ends. */
  'chat.catchUp': z.object({ group: GroupIdString, received: z.number().int().min(0), total: z.number().int().min(0), done: z.boolean() }),
  'group.member': z.object({
    group: GroupIdString,
    peerId: PeerIdString,
    change: z.enum(['joined', 'left', 'excluded', 'online', 'offline']),
  }),
  'group.excluded': z.object({ group: GroupIdString, by: PeerIdString }),
  'group.joinProgress': z.object({
    group: GroupIdString,
    stage: z.enum(['looking-lan', 'reaching-peers', 'waiting-admission', 'keys-received', 'failed']),
    detail: z.string().optional(),
    /** How the joiner reaches the inviter (issue 16 §8): sent when a connection opens, and again when the path changes. */
    path: z.enum(['lan', 'direct', 'relayed']).optional(),
  }),
  'keys.changed': z.object({ group: GroupIdString, reason: z.string() }),
  'net.connection': z.object({ peerId: PeerIdString, address: z.string(), kind: z.enum(['lan', 'direct', 'relayed']), open: z.boolean() }),
} as const;

export type EventName = keyof typeof Events;
export type EventPayload<E extends EventName> = z.infer<(typeof Events)[E]>;

/** JSON-RPC error codes used by peers (standard ones plus our application range). */
export const ErrorCodes = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  unauthorized: -32001,
  notFound: -32002,
  notAllowed: -32003,
  badInvite: -32004,
  expiredInvite: -32005,
} as const;
