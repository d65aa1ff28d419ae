// fast-check generators of engine messages: every type of app/core/wire.ts with random
// but encodable fields (structurally valid: encodeMessage accepts them and the decoder
// reads them back), biased towards the values a victim actually holds (its members'
// keys, its TEK version and creators) so that the engine's checks past the decoder run.
import fc from 'fast-check';
import { toHex } from '../../app/core/bytes.js';
import type { GroupParams, MemberKey } from '../../app/core/types.js';
import {
  MsgType,
  type Certificate,
  type KeyInfo,
  type Message,
  type SealedKey,
  type TableEntry,
  type TableHeader,
} from '../../app/core/wire.js';

/** What the generators bias towards: the victim's view of its group. */
export interface Ctx {
  keys: MemberKey[];
  V: number;
  W: number;
  version: number;
  revision: number;
  creators: MemberKey[];
  /** Largest revision a generated message may name (bounded: no revision bomb in the passing properties). */
  maxRevision: number;
}

export const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const time = fc.integer({ min: 0, max: 2 ** 40 });
const name = fc.string({ maxLength: 12 });

export function keyArb(c: Ctx): fc.Arbitrary<MemberKey> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...c.keys) }, { weight: 1, arbitrary: bytes(32, 32).map(toHex) });
}

function versionArb(c: Ctx): fc.Arbitrary<number> {
  return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: Math.max(0, c.version - 2), max: c.version + 2 }) }, { weight: 1, arbitrary: u32 });
}

function revisionArb(c: Ctx): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: Math.max(0, c.revision - 2), max: Math.min(c.maxRevision, c.revision + 3) }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: c.maxRevision }) },
  );
}

function creatorsArb(c: Ctx): fc.Arbitrary<MemberKey[]> {
  return fc.oneof({ weight: 2, arbitrary: fc.constant(c.creators) }, { weight: 1, arbitrary: fc.array(keyArb(c), { maxLength: 3 }) });
}

function slotArb(c: Ctx): fc.Arbitrary<number> {
  return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: c.V * c.W + 1 }) }, { weight: 1, arbitrary: u16 });
}

export function keyInfoArb(c: Ctx): fc.Arbitrary<KeyInfo> {
  return fc.record({ slot: slotArb(c), version: versionArb(c), revision: revisionArb(c), creators: creatorsArb(c) });
}

function sealedArb(c: Ctx): fc.Arbitrary<SealedKey> {
  return fc.record({
    info: keyInfoArb(c),
    basedOn: fc.option(fc.record({ version: versionArb(c), revision: revisionArb(c), creators: creatorsArb(c) }), { nil: null }),
    owner: keyArb(c),
    nonce: bytes(24, 24),
    sealed: bytes(0, 96),
  });
}

function certificateArb(c: Ctx): fc.Arbitrary<Certificate> {
  return fc.record({ admitter: keyArb(c), member: keyArb(c), admittedAt: time, signature: bytes(64, 64) });
}

export const paramsArb: fc.Arbitrary<GroupParams> = fc.record({
  W: fc.integer({ min: 0, max: 40 }),
  V: fc.constantFrom(0, 1, 2, 3, 4, 16, 256, 512),
  heartbeatMs: u32,
  graceMs: u32,
  listenMs: u32,
  refreshRevisionMs: u32,
  refreshVersionMs: u32,
  failoverIntervals: u16,
  fetchAfterMs: u32,
  panelSize: u16,
  policy: fc.oneof(
    fc.constant({ exclude: 'any-member' as const }),
    fc.array(bytes(32, 32).map(toHex), { maxLength: 3 }).map((admins) => ({ exclude: 'admins' as const, admins })),
  ),
});

function headerArb(c: Ctx): fc.Arbitrary<TableHeader> {
  return fc.record({
    kind: fc.constantFrom('exclude' as const, 'refresh' as const),
    excluder: keyArb(c),
    targets: fc.array(keyArb(c), { maxLength: 3 }),
    base: fc.record({ version: versionArb(c), creators: creatorsArb(c) }),
    newVersion: versionArb(c),
    createdAt: time,
    blocklist: fc.array(keyArb(c), { maxLength: 4 }),
    tekCommitment: bytes(32, 32),
    panel: fc.option(fc.record({ round: u32, members: fc.array(keyArb(c), { maxLength: 4 }) }), { nil: null }),
    replaced: fc.array(fc.record({ slot: slotArb(c), version: versionArb(c), revision: revisionArb(c) }), { maxLength: 3 }),
    plan: fc.array(fc.record({ prefix: bytes(8, 8), symbols: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }) }), { maxLength: 3 }),
  });
}

function entryArb(c: Ctx): fc.Arbitrary<TableEntry> {
  return fc.record({ slot: slotArb(c), kekVersion: versionArb(c), kekRevision: revisionArb(c), sealed: bytes(48, 48) });
}

/** Every message type with random, encodable fields. */
export function messageArb(c: Ctx): fc.Arbitrary<Message> {
  const infos = (n: number) => fc.array(keyInfoArb(c), { maxLength: n });
  const roster = fc.array(fc.record({ key: keyArb(c), name, admittedAt: time }), { maxLength: 3 });
  return fc.oneof(
    fc.record({ type: fc.constant(MsgType.Heartbeat), sentAt: time, keys: infos(4), history: infos(3), blocklistCount: fc.integer({ min: 0, max: 8 }), rosterCount: fc.integer({ min: 0, max: 8 }) }),
    fc.record({ type: fc.constant(MsgType.Revision), keys: infos(3) }),
    fc.record({ type: fc.constant(MsgType.MemberAdmitted), members: roster, revisions: infos(1), signature: bytes(64, 64) }),
    fc.record({ type: fc.constant(MsgType.JoinRequest), name, credential: bytes(0, 16), sentAt: time }),
    fc.record({
      type: fc.constant(MsgType.Admit),
      groupName: name,
      params: paramsArb,
      roster,
      blocklist: fc.array(keyArb(c), { maxLength: 3 }),
      owners: fc.array(fc.record({ slot: slotArb(c), version: versionArb(c), revision: revisionArb(c), creators: creatorsArb(c), owner: keyArb(c) }), { maxLength: 3 }),
      grants: fc.array(sealedArb(c), { maxLength: 2 }),
      certificate: certificateArb(c),
    }),
    fc.record({ type: fc.constant(MsgType.JoinRefused), reason: fc.oneof(fc.constant('not a member of this group'), name) }),
    fc.record({ type: fc.constant(MsgType.KeyRequest), slots: fc.array(slotArb(c), { maxLength: 4 }), certificate: certificateArb(c) }),
    fc.record({ type: fc.constant(MsgType.KeyGrant), grants: fc.array(sealedArb(c), { maxLength: 3 }) }),
    fc.record({
      type: fc.constant(MsgType.Data),
      senderId: bytes(0, 8),
      tekVersion: versionArb(c),
      tekTag: bytes(8, 8),
      revision: revisionArb(c),
      sentAt: time,
      nonce: bytes(24, 24),
      ciphertext: bytes(0, 48),
    }),
    fc.record({
      type: fc.constant(MsgType.Table),
      header: headerArb(c),
      headerSignature: bytes(64, 64),
      entries: fc.array(entryArb(c), { maxLength: 4 }),
      pairwise: fc.array(fc.record({ member: keyArb(c), sealed: bytes(48, 48) }), { maxLength: 3 }),
    }),
    fc.record({ type: fc.constant(MsgType.FetchRequest), slot: slotArb(c), version: versionArb(c), tag: bytes(8, 8) }),
    fc.record({ type: fc.constant(MsgType.FetchReply), table: fc.option(bytes(0, 40), { nil: null }), key: fc.option(sealedArb(c), { nil: null }) }),
    fc.record({ type: fc.constant(MsgType.Leave), sentAt: time, signature: bytes(64, 64) }),
    fc.record({ type: fc.constant(MsgType.Panel), body: bytes(0, 64) }),
    fc.record({
      type: fc.constant(MsgType.SealedControl),
      tekVersion: versionArb(c),
      tekTag: bytes(8, 8),
      revision: revisionArb(c),
      nonce: bytes(24, 24),
      ciphertext: bytes(0, 80),
    }),
  ) as fc.Arbitrary<Message>;
}

/** The channel a message type travels on (Table also travels by unicast); control types travel inside a SealedControl. */
export function channelOf(m: Message): 'control' | 'data' | 'unicast' {
  switch (m.type) {
    case MsgType.SealedControl:
    case MsgType.Heartbeat:
    case MsgType.Revision:
    case MsgType.MemberAdmitted:
    case MsgType.Table:
    case MsgType.Leave:
      return 'control';
    case MsgType.Data:
      return 'data';
    default:
      return 'unicast';
  }
}

/** Byte-level mutations of a valid encoding: bit flips, overwrites, truncation, extension, splices. */
export const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('max32' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: bytes(1, 8) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), extra: bytes(1, 8) }),
);
export type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

export function mutate(b: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(b);
  for (const m of muts) {
    const at = out.length === 0 ? 0 : ('at' in m ? m.at % out.length : 0);
    switch (m.kind) {
      case 'flip':
        if (out.length) out[at] = out[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (out.length) out[at] = m.value;
        break;
      case 'max32':
        for (let i = at; i < Math.min(out.length, at + 4); i++) out[i] = 0xff;
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'extend': {
        const n = new Uint8Array(out.length + m.extra.length);
        n.set(out);
        n.set(m.extra, out.length);
        out = n;
        break;
      }
      case 'splice': {
        const n = new Uint8Array(out.length + m.extra.length);
        n.set(out.subarray(0, at));
        n.set(m.extra, at);
        n.set(out.subarray(at), at + m.extra.length);
        out = n;
        break;
      }
    }
  }
  return out;
}
