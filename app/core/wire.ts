/**
 * @module core/wire
 * Every engine message, defined once: type codes, fields, codec and size limits
 * (STYLE §6). The engine decodes with these functions only; anything that does not
 * decode is a RemoteProtocolError('decode' | 'wire-version' | 'wrong-group') and
 * never reaches protocol logic.
 *
 * Envelope: 'C' (0x43) ‖ wire version (1) ‖ type (u8) ‖ group ID (16 bytes) ‖ body.
 * Integers are big-endian. Member keys are 32 raw bytes on the wire, hex in memory.
 *
 * The control topic carries one type only, SealedControl: a clear header (TEK version,
 * creators tag, revision, nonce) and, sealed under a key derived from that TEK, the
 * inner message (type ‖ body) of a Heartbeat, Revision, MemberAdmitted, Table or Leave
 * (docs/protocol.md §3, §14). This module only frames it; engine/control-seal.ts seals.
 *
 * This lives inside app/core (not app/wire) because the engine must decode what it
 * receives and may import nothing outside app/core; app/wire holds transport framing.
 * The message types, type codes and limits are in core/wire-types, re-exported here.
 */
import { Reader, Writer, fromHex } from './bytes.js';
import { RemoteProtocolError } from './errors.js';
import type { ExclusionPolicy, GroupParams, MemberKey } from './types.js';

export * from './wire-types.js';
import { LIMITS, MsgType, SEALED_KEY_BYTES, WIRE_VERSION, type AdmissionProof, type AdmitTekCoverage, type BlockGround, type LeaveProof, type OwnerInfo, type PlanStep, type ReplacedKek, type Certificate, type ControlMessage, type KeyInfo, type Message, type PairwiseEntry, type RosterEntry, type SealedControlMessage, type SealedKey, type TableEntry, type TableHeader } from './wire-types.js';

const MAGIC = 0x43;
const CONTROL_INNER: ReadonlySet<number> = new Set([MsgType.Heartbeat, MsgType.Revision, MsgType.MemberAdmitted, MsgType.Table, MsgType.Leave]);

// ---------------------------------------------------------------- primitives

/** Member keys are written often (rosters, creators): their bytes are cached (never mutated: Writer copies). */
const keyBytesCache = new Map<MemberKey, Uint8Array>();
function wKey(w: Writer, k: MemberKey): void {
  let b = keyBytesCache.get(k);
  if (!b) {
    b = fromHex(k.length === 64 ? k : '00'.repeat(32));
    if (keyBytesCache.size >= 50_000) keyBytesCache.clear();
    keyBytesCache.set(k, b);
  }
  w.raw(b);
}
function rKey(r: Reader): MemberKey {
  return r.hex(32);
}
function wKeys(w: Writer, ks: readonly MemberKey[]): void {
  w.u16(ks.length);
  for (const k of ks) wKey(w, k);
}
function rKeys(r: Reader, max: number): MemberKey[] {
  const n = r.count(max);
  const out: MemberKey[] = [];
  for (let i = 0; i < n; i++) out.push(rKey(r));
  return out;
}
/** Larger lists (roster, blocklist) use a u32 count. */
function wKeys32(w: Writer, ks: readonly MemberKey[]): void {
  w.u32(ks.length);
  for (const k of ks) wKey(w, k);
}
function rKeys32(r: Reader, max: number): MemberKey[] {
  const n = r.u32();
  if (n > max) throw new RemoteProtocolError('decode', `list of ${n} exceeds ${max}`);
  const out: MemberKey[] = [];
  for (let i = 0; i < n; i++) out.push(rKey(r));
  return out;
}
function wTekCoverage(w: Writer, tc: AdmitTekCoverage | null): void {
  w.u8(tc === null ? 0 : tc.members === null ? 1 : 2);
  if (tc === null) return;
  w.u32(tc.version);
  wKeys(w, tc.creators);
  if (tc.members !== null) wKeys32(w, tc.members);
}
function wInfo(w: Writer, k: KeyInfo): void {
  w.u16(k.slot).u32(k.version).u32(k.revision);
  wKeys(w, k.creators);
}
function rInfo(r: Reader): KeyInfo {
  return { slot: r.u16(), version: r.u32(), revision: r.u32(), creators: rKeys(r, LIMITS.creators) };
}
function wInfos(w: Writer, ks: readonly KeyInfo[]): void {
  w.u32(ks.length);
  for (const k of ks) wInfo(w, k);
}
function rInfos(r: Reader, max: number): KeyInfo[] {
  const n = r.u32();
  if (n > max) throw new RemoteProtocolError('decode', `key list of ${n} exceeds ${max}`);
  const out: KeyInfo[] = [];
  for (let i = 0; i < n; i++) out.push(rInfo(r));
  return out;
}
function wSealed(w: Writer, s: SealedKey): void {
  wInfo(w, s.info);
  if (s.basedOn) {
    w.u8(1).u32(s.basedOn.version).u32(s.basedOn.revision);
    wKeys(w, s.basedOn.creators);
  } else w.u8(0);
  wKey(w, s.owner);
  w.raw(s.nonce).bytes(s.sealed);
}
function rSealed(r: Reader): SealedKey {
  const info = rInfo(r);
  const has = r.u8();
  const basedOn = has ? { version: r.u32(), revision: r.u32(), creators: rKeys(r, LIMITS.creators) } : null;
  return { info, basedOn, owner: rKey(r), nonce: r.raw(24), sealed: r.bytes(96) };
}
function wSealedList(w: Writer, l: readonly SealedKey[]): void {
  w.u16(l.length);
  for (const s of l) wSealed(w, s);
}
function rSealedList(r: Reader): SealedKey[] {
  const n = r.count(257);
  const out: SealedKey[] = [];
  for (let i = 0; i < n; i++) out.push(rSealed(r));
  return out;
}
function wCert(w: Writer, c: Certificate): void {
  wKey(w, c.admitter);
  wKey(w, c.member);
  w.u64(c.admittedAt).raw(c.signature);
}
function rCert(r: Reader): Certificate {
  return { admitter: rKey(r), member: rKey(r), admittedAt: r.u64(), signature: r.raw(64) };
}
function wPolicy(w: Writer, p: ExclusionPolicy): void {
  if (p.exclude === 'any-member') w.u8(0);
  else {
    w.u8(1);
    wKeys(w, p.admins);
  }
}
function rPolicy(r: Reader): ExclusionPolicy {
  const k = r.u8();
  if (k === 0) return { exclude: 'any-member' };
  if (k === 1) return { exclude: 'admins', admins: rKeys(r, LIMITS.admins) };
  throw new RemoteProtocolError('decode', 'unknown policy');
}

export function encodeParams(w: Writer, p: GroupParams): void {
  w.u16(p.W).u16(p.V).u32(p.heartbeatMs).u32(p.graceMs).u32(p.listenMs).u32(p.refreshRevisionMs).u32(p.refreshVersionMs);
  w.u16(p.failoverIntervals).u32(p.fetchAfterMs).u16(p.panelSize);
  wPolicy(w, p.policy);
}
export function decodeParams(r: Reader): GroupParams {
  return {
    W: r.u16(),
    V: r.u16(),
    heartbeatMs: r.u32(),
    graceMs: r.u32(),
    listenMs: r.u32(),
    refreshRevisionMs: r.u32(),
    refreshVersionMs: r.u32(),
    failoverIntervals: r.u16(),
    fetchAfterMs: r.u32(),
    panelSize: r.u16(),
    policy: rPolicy(r),
  };
}

/** The bytes an excluder signs: the encoded header. */
export function encodeTableHeader(h: TableHeader): Uint8Array {
  const w = new Writer();
  w.u8(h.kind === 'exclude' ? 0 : 1);
  wKey(w, h.excluder);
  wKeys(w, h.targets);
  w.u32(h.base.version);
  wKeys(w, h.base.creators);
  w.u32(h.newVersion).u64(h.createdAt);
  wKeys32(w, h.blocklist);
  w.raw(h.tekCommitment);
  if (h.panel) {
    w.u8(1).u32(h.panel.round);
    wKeys(w, h.panel.members);
  } else w.u8(0);
  w.varint(h.replaced.length);
  for (const x of h.replaced) w.u16(x.slot).varint(x.version).varint(x.revision);
  w.u8(h.plan.length);
  for (const p of h.plan) {
    w.raw(p.prefix).varint(p.symbols.length);
    for (const sym of p.symbols) w.u8(sym);
  }
  const leaves = h.leaves ?? [];
  w.u8(leaves.length);
  for (const l of leaves) {
    wKey(w, l.member);
    w.u64(l.sentAt).raw(l.signature);
  }
  return w.finish();
}
function decodeTableHeader(r: Reader): TableHeader {
  const k = r.u8();
  if (k > 1) throw new RemoteProtocolError('decode', 'unknown table kind');
  const excluder = rKey(r);
  const targets = rKeys(r, LIMITS.targets);
  const baseVersion = r.u32();
  const baseCreators = rKeys(r, LIMITS.creators);
  const newVersion = r.u32();
  const createdAt = r.u64();
  const blocklist = rKeys32(r, LIMITS.blocklist);
  const tekCommitment = r.raw(32);
  const hasPanel = r.u8();
  const panel = hasPanel ? { round: r.u32(), members: rKeys(r, 64) } : null;
  const nReplaced = r.varint();
  if (nReplaced > LIMITS.entries) throw new RemoteProtocolError('decode', `${nReplaced} replaced KEKs exceed ${LIMITS.entries}`);
  const replaced: ReplacedKek[] = [];
  for (let i = 0; i < nReplaced; i++) replaced.push({ slot: r.u16(), version: r.varint(), revision: r.varint() });
  const plan: PlanStep[] = [];
  const nPlan = r.u8();
  for (let i = 0; i < nPlan; i++) {
    const prefix = r.raw(8);
    const n = r.varint();
    if (n > 256) throw new RemoteProtocolError('decode', 'plan step names more than 256 symbols');
    const symbols: number[] = [];
    for (let j = 0; j < n; j++) symbols.push(r.u8());
    plan.push({ prefix, symbols });
  }
  const nLeaves = r.u8();
  if (nLeaves > LIMITS.targets) throw new RemoteProtocolError('decode', `${nLeaves} leave proofs exceed ${LIMITS.targets}`);
  const leaves: LeaveProof[] = [];
  for (let i = 0; i < nLeaves; i++) leaves.push({ member: rKey(r), sentAt: r.u64(), signature: r.raw(64) });
  return {
    ...(leaves.length > 0 ? { leaves } : {}),
    kind: k === 0 ? 'exclude' : 'refresh',
    excluder,
    targets,
    base: { version: baseVersion, creators: baseCreators },
    newVersion,
    createdAt,
    blocklist,
    tekCommitment,
    panel,
    replaced,
    plan,
  };
}

function encodeEntries(w: Writer, entries: readonly TableEntry[], pairwise: readonly PairwiseEntry[]): void {
  w.varint(entries.length);
  for (const e of entries) w.u16(e.slot).varint(e.kekVersion).varint(e.kekRevision).raw(e.sealed);
  w.varint(pairwise.length);
  for (const p of pairwise) {
    wKey(w, p.member);
    w.raw(p.sealed);
  }
}
function decodeEntries(r: Reader): { entries: TableEntry[]; pairwise: PairwiseEntry[] } {
  const n = r.varint();
  if (n > LIMITS.entries) throw new RemoteProtocolError('decode', `${n} table entries exceed ${LIMITS.entries}`);
  const entries: TableEntry[] = [];
  for (let i = 0; i < n; i++) entries.push({ slot: r.u16(), kekVersion: r.varint(), kekRevision: r.varint(), sealed: r.raw(SEALED_KEY_BYTES) });
  const np = r.varint();
  if (np > LIMITS.pairwise) throw new RemoteProtocolError('decode', `${np} pairwise entries exceed ${LIMITS.pairwise}`);
  const pairwise: PairwiseEntry[] = [];
  for (let i = 0; i < np; i++) pairwise.push({ member: rKey(r), sealed: r.raw(SEALED_KEY_BYTES) });
  return { entries, pairwise };
}

// ---------------------------------------------------------------- messages

export function encodeMessage(group: Uint8Array, m: Message): Uint8Array {
  const w = new Writer();
  w.u8(MAGIC).u8(WIRE_VERSION).u8(m.type).raw(group);
  encodeBody(w, m);
  return w.finish();
}

/** The plaintext of a SealedControl: inner type ‖ inner body. */
export function encodeControlInner(m: ControlMessage): Uint8Array {
  const w = new Writer();
  w.u8(m.type);
  encodeBody(w, m);
  return w.finish();
}

/** Decodes the plaintext of a SealedControl (bounded like any message); throws RemoteProtocolError('decode'). */
export function decodeControlInner(bytes: Uint8Array): ControlMessage {
  if (bytes.length > LIMITS.controlBytes) throw new RemoteProtocolError('decode', `sealed control message of ${bytes.length} bytes exceeds ${LIMITS.controlBytes}`);
  const r = new Reader(bytes);
  const type = r.u8();
  if (!CONTROL_INNER.has(type)) throw new RemoteProtocolError('decode', `message type ${type} not allowed inside a sealed control message`);
  const m = decodeBody(r, type);
  r.done();
  return m as ControlMessage;
}

/** One `case` per message type, beside the decoder's (over 80 lines on purpose: split, the two lists of fields would drift apart). */
function encodeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case MsgType.Heartbeat:
      w.u64(m.sentAt);
      wInfos(w, m.keys);
      wInfos(w, m.history);
      w.u32(m.blocklistCount).u32(m.rosterCount);
      break;
    case MsgType.Revision:
      wInfos(w, m.keys);
      break;
    case MsgType.MemberAdmitted:
      wEntries(w, m.members);
      wInfos(w, m.revisions);
      w.raw(m.signature);
      break;
    case MsgType.JoinRequest:
      w.str(m.name).bytes(m.credential).u64(m.sentAt);
      break;
    case MsgType.Admit:
      w.str(m.groupName);
      encodeParams(w, m.params);
      w.u32(m.roster.length);
      for (const e of m.roster) {
        wKey(w, e.key);
        w.str(e.name).u64(e.admittedAt);
      }
      wKeys32(w, m.blocklist);
      w.u32(m.blocks?.length ?? 0);
      for (const b of m.blocks ?? []) {
        wKey(w, b.key);
        w.str(b.name).u64(b.admittedAt).u32(b.blockedAtVersion).u8((b.many ? 1 : 0) | (b.dropBy !== null ? 2 : 0));
        wKeys(w, b.blockedBy);
        if (b.dropBy !== null) wKey(w, b.dropBy);
      }
      wTekCoverage(w, m.tekCoverage ?? null);
      w.u32(m.owners.length);
      for (const o of m.owners) {
        wInfo(w, o);
        wKey(w, o.owner);
      }
      wSealedList(w, m.grants);
      wCert(w, m.certificate);
      break;
    case MsgType.JoinRefused:
      w.str(m.reason);
      break;
    case MsgType.KeyRequest:
      w.u16(m.slots.length);
      for (const s of m.slots) w.u16(s);
      wCert(w, m.certificate);
      break;
    case MsgType.KeyGrant:
      wSealedList(w, m.grants);
      break;
    case MsgType.Data:
      w.bytes(m.senderId).u32(m.tekVersion).raw(m.tekTag).u32(m.revision).u64(m.sentAt).raw(m.nonce).bytes(m.ciphertext);
      break;
    case MsgType.Table: {
      w.bytes(encodeTableHeader(m.header)).raw(m.headerSignature);
      encodeEntries(w, m.entries, m.pairwise);
      break;
    }
    case MsgType.FetchRequest:
      w.u16(m.slot).u32(m.version).raw(m.tag);
      break;
    case MsgType.FetchReply:
      if (m.table) w.u8(1).bytes(m.table);
      else w.u8(0);
      if (m.key) {
        w.u8(1);
        wSealed(w, m.key);
      } else w.u8(0);
      break;
    case MsgType.Leave:
      w.u64(m.sentAt).raw(m.signature);
      break;
    case MsgType.Panel:
      w.bytes(m.body);
      break;
    case MsgType.SealedControl:
      writeSealedHeader(w, m);
      w.bytes(m.ciphertext);
      break;
    case MsgType.RosterRequest:
      w.u32(m.known.length);
      for (const k of m.known) w.raw(k);
      break;
    case MsgType.RosterReply:
      w.u8(m.proofs.length);
      for (const p of m.proofs) wProof(w, p);
      break;
  }
}

function wEntries(w: Writer, members: readonly RosterEntry[]): void {
  w.u16(members.length);
  for (const e of members) {
    wKey(w, e.key);
    w.str(e.name).u64(e.admittedAt);
  }
}
function rEntries(r: Reader, max: number): RosterEntry[] {
  const n = r.count(max);
  const members: RosterEntry[] = [];
  for (let i = 0; i < n; i++) members.push({ key: rKey(r), name: r.str(LIMITS.name), admittedAt: r.u64() });
  return members;
}
function wProof(w: Writer, p: AdmissionProof): void {
  if (p.kind === 'announcement') {
    w.u8(0);
    wKey(w, p.admitter);
    wEntries(w, p.members);
    w.raw(p.signature);
  } else {
    w.u8(1);
    wCert(w, p.certificate);
    w.str(p.name);
  }
}
/** A RosterReply's proofs: at most LIMITS.rosterProofs, naming at most LIMITS.announced members in all. */
function rProofs(r: Reader): AdmissionProof[] {
  const n = r.u8();
  if (n > LIMITS.rosterProofs) throw new RemoteProtocolError('decode', `${n} admission proofs exceed ${LIMITS.rosterProofs}`);
  const proofs: AdmissionProof[] = [];
  let named = 0;
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0) {
      const admitter = rKey(r);
      const members = rEntries(r, LIMITS.announced - named);
      named += members.length;
      proofs.push({ kind: 'announcement', admitter, members, signature: r.raw(64) });
    } else if (kind === 1) {
      if (++named > LIMITS.announced) throw new RemoteProtocolError('decode', `admission proofs name more than ${LIMITS.announced} members`);
      proofs.push({ kind: 'certificate', certificate: rCert(r), name: r.str(LIMITS.name) });
    } else throw new RemoteProtocolError('decode', `unknown admission proof kind ${kind}`);
  }
  return proofs;
}

function writeSealedHeader(w: Writer, m: SealedControlMessage): void {
  w.u32(m.tekVersion).raw(m.tekTag).u32(m.revision).raw(m.nonce);
}

/** The clear header of a SealedControl, bound as associated data: everything before the ciphertext. */
export function controlAad(group: Uint8Array, m: SealedControlMessage): Uint8Array {
  const w = new Writer();
  w.u8(MAGIC).u8(WIRE_VERSION).u8(MsgType.SealedControl).raw(group);
  writeSealedHeader(w, m);
  return w.finish();
}

/** The header bytes of a data packet that are bound as associated data (003 FIG. 8). */
export function dataAad(group: Uint8Array, m: Extract<Message, { type: typeof MsgType.Data }>): Uint8Array {
  const w = new Writer();
  w.u8(MAGIC).u8(WIRE_VERSION).u8(MsgType.Data).raw(group);
  w.bytes(m.senderId).u32(m.tekVersion).raw(m.tekTag).u32(m.revision).u64(m.sentAt).raw(m.nonce);
  return w.finish();
}

const channelLimit = { control: LIMITS.controlBytes, data: LIMITS.dataBytes, unicast: LIMITS.unicastBytes } as const;
const allowedOn: Record<'control' | 'data' | 'unicast', ReadonlySet<number>> = {
  control: new Set([MsgType.SealedControl]),
  data: new Set([MsgType.Data]),
  unicast: new Set([
    MsgType.JoinRequest,
    MsgType.Admit,
    MsgType.JoinRefused,
    MsgType.KeyRequest,
    MsgType.KeyGrant,
    MsgType.FetchRequest,
    MsgType.FetchReply,
    MsgType.Table,
    MsgType.Panel,
    MsgType.RosterRequest,
    MsgType.RosterReply,
  ]),
};

/**
 * Published messages reach every member as the same bytes; decoding is a pure
 * function, so its result is memoized per buffer (weakly: it goes with the buffer).
 * Decoded messages are never mutated by the engine.
 */
const decoded = new WeakMap<Uint8Array, { group: Uint8Array; channel: string; message: Message }>();

/** Decodes one message received on `channel` for `group`; throws RemoteProtocolError on anything wrong. */
export function decodeMessage(group: Uint8Array, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array): Message {
  const hit = decoded.get(bytes);
  if (hit && hit.channel === channel && sameGroup(hit.group, group)) return hit.message;
  const message = decodeFresh(group, channel, bytes);
  if (channel !== 'unicast') decoded.set(bytes, { group, channel, message });
  return message;
}

function sameGroup(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The decoder: envelope, channel and size checks, then the body. */
function decodeFresh(group: Uint8Array, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array): Message {
  if (bytes.length > channelLimit[channel]) throw new RemoteProtocolError('decode', `message of ${bytes.length} bytes exceeds ${channelLimit[channel]}`);
  const r = new Reader(bytes);
  if (r.u8() !== MAGIC) throw new RemoteProtocolError('decode', 'not a Conclave message');
  const version = r.u8();
  if (version !== WIRE_VERSION) throw new RemoteProtocolError('wire-version', `wire version ${version} is not ${WIRE_VERSION}`);
  const type = r.u8();
  const g = r.raw(16);
  for (let i = 0; i < 16; i++) if (g[i] !== group[i]) throw new RemoteProtocolError('wrong-group', 'message for another group');
  if (!allowedOn[channel].has(type)) throw new RemoteProtocolError('decode', `message type ${type} not allowed on ${channel}`);
  const m = decodeBody(r, type);
  r.done();
  return m;
}

/** One bounded `case` per message type, beside the encoder's (over 80 lines on purpose, as decodeFresh was). */
function decodeBody(r: Reader, type: number): Message {
  let m: Message;
  switch (type) {
    case MsgType.Heartbeat:
      m = {
        type,
        sentAt: r.u64(),
        keys: rInfos(r, LIMITS.keyInfos),
        history: rInfos(r, LIMITS.history),
        blocklistCount: r.u32(),
        rosterCount: r.u32(),
      };
      break;
    case MsgType.Revision:
      m = { type, keys: rInfos(r, LIMITS.keyInfos) };
      break;
    case MsgType.MemberAdmitted:
      m = { type, members: rEntries(r, LIMITS.announced), revisions: rInfos(r, 1), signature: r.raw(64) };
      break;
    case MsgType.JoinRequest:
      m = { type, name: r.str(LIMITS.name), credential: r.bytes(LIMITS.credential), sentAt: r.u64() };
      break;
    case MsgType.Admit: {
      const groupName = r.str(LIMITS.name);
      const params = decodeParams(r);
      const n = r.u32();
      if (n > LIMITS.roster) throw new RemoteProtocolError('decode', 'roster too large');
      const roster: RosterEntry[] = [];
      for (let i = 0; i < n; i++) roster.push({ key: rKey(r), name: r.str(LIMITS.name), admittedAt: r.u64() });
      const blocklist = rKeys32(r, LIMITS.blocklist);
      const nb = r.u32();
      if (nb > blocklist.length) throw new RemoteProtocolError('decode', 'more block grounds than blocks');
      const blocks: BlockGround[] = [];
      for (let i = 0; i < nb; i++) {
        const key = rKey(r);
        const name = r.str(LIMITS.name);
        const admittedAt = r.u64();
        const blockedAtVersion = r.u32();
        const flags = r.u8();
        if (flags > 3) throw new RemoteProtocolError('decode', 'unknown block ground flags');
        const blockedBy = rKeys(r, LIMITS.blockSupporters);
        blocks.push({ key, name, admittedAt, blockedAtVersion, blockedBy, many: (flags & 1) !== 0, dropBy: flags & 2 ? rKey(r) : null });
      }
      const tcKind = r.u8();
      if (tcKind > 2) throw new RemoteProtocolError('decode', 'unknown TEK coverage kind');
      let tekCoverage: AdmitTekCoverage | null = null;
      if (tcKind > 0) {
        const version = r.u32();
        const creators = rKeys(r, LIMITS.creators);
        tekCoverage = { version, creators, members: tcKind === 2 ? rKeys32(r, LIMITS.blocklist) : null };
      }
      const no = r.u32();
      if (no > LIMITS.keyInfos) throw new RemoteProtocolError('decode', 'owner table too large');
      const owners: OwnerInfo[] = [];
      for (let i = 0; i < no; i++) {
        const info = rInfo(r);
        owners.push({ ...info, owner: rKey(r) });
      }
      m = { type, groupName, params, roster, blocklist, blocks, tekCoverage, owners, grants: rSealedList(r), certificate: rCert(r) };
      break;
    }
    case MsgType.JoinRefused:
      m = { type, reason: r.str(LIMITS.name) };
      break;
    case MsgType.KeyRequest: {
      const n = r.count(257);
      const slots: number[] = [];
      for (let i = 0; i < n; i++) slots.push(r.u16());
      m = { type, slots, certificate: rCert(r) };
      break;
    }
    case MsgType.KeyGrant:
      m = { type, grants: rSealedList(r) };
      break;
    case MsgType.Data:
      m = {
        type,
        senderId: r.bytes(32),
        tekVersion: r.u32(),
        tekTag: r.raw(8),
        revision: r.u32(),
        sentAt: r.u64(),
        nonce: r.raw(24),
        ciphertext: r.bytes(LIMITS.payloadBytes + 16),
      };
      break;
    case MsgType.Table: {
      const headerBytes = r.bytes(LIMITS.controlBytes);
      const hr = new Reader(headerBytes);
      const header = decodeTableHeader(hr);
      hr.done();
      const headerSignature = r.raw(64);
      m = { type, header, headerSignature, ...decodeEntries(r) };
      break;
    }
    case MsgType.FetchRequest:
      m = { type, slot: r.u16(), version: r.u32(), tag: r.raw(8) };
      break;
    case MsgType.FetchReply: {
      const hasTable = r.u8();
      const table = hasTable ? r.bytes(LIMITS.controlBytes) : null;
      const hasKey = r.u8();
      m = { type, table, key: hasKey ? rSealed(r) : null };
      break;
    }
    case MsgType.Leave:
      m = { type, sentAt: r.u64(), signature: r.raw(64) };
      break;
    case MsgType.Panel:
      m = { type, body: r.bytes(LIMITS.panelBytes) };
      break;
    case MsgType.SealedControl:
      m = { type, tekVersion: r.u32(), tekTag: r.raw(8), revision: r.u32(), nonce: r.raw(24), ciphertext: r.bytes(LIMITS.controlBytes) };
      break;
    case MsgType.RosterRequest: {
      const n = r.u32();
      if (n > LIMITS.roster) throw new RemoteProtocolError('decode', `roster request listing ${n} keys exceeds ${LIMITS.roster}`);
      const known: Uint8Array[] = [];
      for (let i = 0; i < n; i++) known.push(r.raw(8));
      m = { type, known };
      break;
    }
    case MsgType.RosterReply:
      m = { type, proofs: rProofs(r) };
      break;
    default:
      throw new RemoteProtocolError('decode', `unknown message type ${type}`);
  }
  return m;
}
