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

/**
 * A file or picture a message carries (issue 18 §1): what a client shows before
 * the content is here. The content key never reaches a client; the content is
 * read with `file.read` once `file.status` (or `file.progress`) says `ready`.
 */
export const FileAttachment = z.object({
  /** The file's ID (32 hex): names it in `file.*` calls and events. */
  id: MessageIdString,
  name: z.string().max(255),
  size: z.number().int().min(0),
  mime: z.string().max(127),
  /** SHA-256 of the content, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** A picture's thumbnail as a data URL (JPEG, PNG or WebP), made by the sender. */
  thumb: z.string().max(24 * 1024).optional(),
});
export type FileAttachment = z.infer<typeof FileAttachment>;

/** Where a file's content stands on this device. */
export const FileState = z.enum(['fetching', 'ready', 'failed']);
export const FileStatus = z.object({
  group: GroupIdString,
  file: MessageIdString,
  state: FileState,
  /** Bytes of content held on this device (sealed chunks, counted as plaintext). */
  have: z.number().int().min(0),
  size: z.number().int().min(0),
  /** Why it failed, or why it is waiting (no member online that holds it, over the size limit). */
  detail: z.string().max(300).optional(),
});
export type FileStatus = z.infer<typeof FileStatus>;

export const Delivery = z.object({ state: z.enum(['sent', 'delivered']), delivered: z.number().int().min(0), members: z.number().int().min(0) });
export type Delivery = z.infer<typeof Delivery>;

export const ChatMessage = z.object({
  id: z.string(),
  group: GroupIdString,
  sender: PeerIdString,
  senderName: z.string(),
  /** The current text (after its author's last edit); empty once deleted. */
  text: z.string(),
  /**
   * When it was sent, as far as this member can tell: its author's signed time, but never earlier
   * than its arrival, its author's previous message or its author's admission allow
   * (docs/protocol.md §13 "Message times").
   */
  sentAt: z.number(),
  receivedAt: z.number(),
  /** Set when its author dated it more than two minutes earlier than `sentAt`: the time it claimed. */
  claimedAt: z.number().optional(),
  replyTo: ReplyQuote.optional(),
  reactions: z.array(Reaction).optional(),
  /** When its author last edited it (the edit's signed time). */
  editedAt: z.number().optional(),
  /** Deleted by its author: a tombstone (text empty, no reactions). */
  deleted: z.boolean().optional(),
  /** A file message (issue 18 §1): `text` is its name. */
  file: FileAttachment.optional(),
  /**
   * Own messages only (issue 18 §7): `sent` once on this device's disk and
   * published; `delivered` once `delivered` of the `members` it was sent to hold
   * it in their history on disk (docs/protocol.md §13.2).
   */
  delivery: Delivery.optional(),
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

/**
 * A whiteboard object's kind (issue 18 §4): shapes, text, sticky notes and
 * freehand ink. Legacy pen strokes show as 'ink', legacy erase strokes as 'erase'.
 */
export const ShapeKind = z.enum(['rect', 'ellipse', 'arrow', 'text', 'note', 'ink']);
export type ShapeKind = z.infer<typeof ShapeKind>;
const BoardCoord = z.number().finite().min(-1e6).max(1e6);
/**
 * One version of a whiteboard object, as its writer sends it (docs/ui.md "The
 * whiteboard"): the object `id` created by member `by`, its version `v` and
 * version nonce `n` (Excalidraw's rule: higher version wins, then lower nonce,
 * then lower author key), its box (x, y, w, h; an arrow runs from (x, y) to
 * (x + w, y + h)), stacking order `z`, style and text; `del` deletes it. `kind`
 * and ink `points` are set by version 1 only and never change. `by` may be left
 * out by a client creating an object (the peer fills its own member key).
 */
export const ShapeOp = z.object({
  id: z.string().regex(/^[0-9a-zA-Z_-]{1,64}$/),
  by: MemberKeyString.optional(),
  v: z.number().int().min(1).max(2 ** 31 - 1),
  n: z.number().int().min(0).max(2 ** 31 - 1),
  kind: ShapeKind.optional(),
  points: z.array(Point).max(5000).optional(),
  x: BoardCoord,
  y: BoardCoord,
  w: BoardCoord,
  h: BoardCoord,
  z: z.number().finite().min(-1e9).max(1e9),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  fill: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional(),
  width: z.number().min(0.5).max(64),
  text: z.string().max(4000).optional(),
  del: z.boolean().optional(),
});
export type ShapeOp = z.infer<typeof ShapeOp>;
/**
 * One thing kept on a board, as the peer holds it: a stroke (pen, erase, clear,
 * undo; older clients) or an object version (`shape`), with its sender and time
 * and, when signed, its author's member key, sequence number and (a clear) what
 * it had seen. The board shown is a pure function of these (app/api/board-model.ts).
 */
export const BoardEntry = z.object({
  group: GroupIdString,
  sender: PeerIdString,
  sentAt: z.number(),
  author: MemberKeyString.optional(),
  seq: z.number().int().min(1).optional(),
  seen: z.record(MemberKeyString, z.number().int()).optional(),
  stroke: Stroke.optional(),
  shape: ShapeOp.optional(),
});
export type BoardEntry = z.infer<typeof BoardEntry>;


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
  /** This device could not write the group's state (its keys, roster) and is trying again: the cause, named by its disk error. */
  unsaved: z.string().optional(),
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
  /**
   * Set when the refused input was only late, repeated or early, as an honest group's members'
   * are too (peer/key-panel.ts `expectedRefusal`), so the panel shows it apart from attempts at
   * what the sender may not do: `out-of-date`, under a key revision this member does not hold
   * (sent before it joined, or too old) or for a step it is past; `repeat`, a copy of what was
   * already taken; `before-admission`, from a member whose admission had not reached this one yet.
   */
  expected: z.enum(['out-of-date', 'repeat', 'before-admission']).optional(),
});
export type Rejection = z.infer<typeof Rejection>;
export type ExpectedRefusal = NonNullable<Rejection['expected']>;

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
  /**
   * `token` for a program; `launch`, a single-use code from a link the browser mode printed, traded
   * for the token (returned; with a `challenge`, a `proof` the server knew the code); or a
   * challenge-response: `challenge` → `{nonce, proof}` (the server proves it knows the token), then
   * `response` → `{ok}` (docs/api.md "Transports").
   */
  auth: {
    params: z.union([z.object({ token: z.string() }), z.object({ launch: z.string(), challenge: z.string().optional() }), z.object({ challenge: z.string() }), z.object({ response: z.string() })]),
    result: z.union([z.object({ ok: z.literal(true), token: z.string().optional(), proof: z.string().optional() }), z.object({ nonce: z.string(), proof: z.string() })]),
  },
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
  /** Search this device's decrypted history of the group (issue 18 §3): newest first. */
  'chat.search': {
    params: z.object({ group: GroupIdString, query: z.string().min(1).max(200), limit: z.number().int().min(1).max(500).optional() }),
    result: z.array(ChatMessage),
  },
  /**
   * Sending a file from a client (issue 18 §1): `begin` with its name, size and type
   * (refused past this peer's size limit, code `tooLarge`), `chunk` its bytes in
   * order (base64, at most 512 KiB each, `offset` the bytes sent before), `finish`
   * to send the file message; `cancel` drops an upload. An upload idle 5 minutes is dropped.
   */
  'file.begin': {
    params: z.object({ group: GroupIdString, name: z.string().min(1).max(255), size: z.number().int().min(0), mime: z.string().max(127).optional(), thumb: z.string().max(24 * 1024).optional() }),
    result: z.object({ upload: MessageIdString, maxBytes: z.number().int() }),
  },
  'file.chunk': {
    params: z.object({ upload: MessageIdString, offset: z.number().int().min(0), data: z.string().max(700_000) }),
    result: z.object({ received: z.number().int() }),
  },
  'file.finish': { params: z.object({ upload: MessageIdString }), result: ChatMessage },
  'file.cancel': { params: z.object({ upload: MessageIdString }), result: z.object({ ok: z.literal(true) }) },
  /** Where a received (or sent) file stands on this device. */
  'file.status': { params: z.object({ group: GroupIdString, file: MessageIdString }), result: FileStatus },
  /** Bytes of a file held whole on this device (`ready`), base64, at most 512 KiB per call. */
  'file.read': {
    params: z.object({ group: GroupIdString, file: MessageIdString, offset: z.number().int().min(0), length: z.number().int().min(1).max(512 * 1024) }),
    result: z.object({ data: z.string(), size: z.number().int() }),
  },
  'board.draw': { params: z.object({ group: GroupIdString, stroke: Stroke }), result: z.object({ ok: z.literal(true) }) },
  'board.state': { params: z.object({ group: GroupIdString }), result: z.array(BoardStroke) },
  /** Writes one version of a whiteboard object (issue 18 §4): create, move, resize, restyle, delete. */
  'board.shape': { params: z.object({ group: GroupIdString, op: ShapeOp }), result: z.object({ ok: z.literal(true) }) },
  /** Everything kept on the board, signed or not: the client computes the board with app/api/board-model.ts. */
  'board.entries': { params: z.object({ group: GroupIdString }), result: z.array(BoardEntry) },
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
  /** A message shown before changed: a reaction, its author's edit or delete, its reply's parent arrived, or (own messages) its delivery count rose. */
  'chat.update': ChatMessage,
  'chat.undecryptable': z.object({ group: GroupIdString, sender: PeerIdString, sentAt: z.number(), receivedAt: z.number() }),
  'board.stroke': BoardStroke,
  /** A board entry was kept (a stroke or an object version, own ones too). */
  'board.entry': BoardEntry,
  /** A file's content is arriving (or arrived, or failed) on this device. */
  'file.progress': FileStatus,
  /** Reconciliation is bringing back missing messages (issue 19 §4): `received` of `total`; `done` once the session ends. */
  'chat.catchUp': z.object({ group: GroupIdString, received: z.number().int().min(0), total: z.number().int().min(0), done: z.boolean() }),
  'group.member': z.object({
    group: GroupIdString,
    peerId: PeerIdString,
    change: z.enum(['joined', 'left', 'excluded', 'reinstated', 'online', 'offline']),
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
  /** The group's state could not be written on this device (`saved` false, `detail` the disk error), or was written again after that. */
  'group.storage': z.object({ group: GroupIdString, saved: z.boolean(), detail: z.string().optional() }),
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
  /** A file over this peer's size limit (issue 18 §1). */
  tooLarge: -32006,
  /** This device could not write what the call must keep (a full disk, a read-only profile). */
  storage: -32007,
} as const;
