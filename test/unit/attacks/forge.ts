// A "frankenstein" kit for hostile tests of the engine (STYLE §15): honest groups
// built from real engines on a zero-latency in-memory network, and an attacker that
// crafts every message type of app/core/wire.ts as a peer with nothing but the
// group ID and an Ed25519 key of its own would (or, for an insider, with the keys
// it legitimately held). Everything here speaks the engine's public API and the
// wire codec only; the sealing and signing rules are re-derived from the protocol
// (docs/protocol.md), not called through the engine's private methods.
import assert from 'node:assert/strict';
import { GroupEngine, type AdmissionPolicy, type EngineDeps } from '../../../app/core/engine.js';
import { concat, fromHex, toHex, utf8 } from '../../../app/core/bytes.js';
import type { CryptoProvider } from '../../../app/core/crypto-provider.js';
import { DEFAULT_PARAMS, participantId } from '../../../app/core/params.js';
import { KEY_BYTES, creatorsTag, wrapKey } from '../../../app/core/keys.js';
import type { EngineEvent, GroupParams, MemberKey, PanelHook, Transmit } from '../../../app/core/types.js';
import {
  MsgType,
  encodeMessage,
  encodeTableHeader,
  type Certificate,
  type ControlMessage,
  type KeyInfo,
  type Message,
  type OwnerInfo,
  type PairwiseEntry,
  type ReplacedKek,
  type RosterEntry,
  type SealedKey,
  type TableEntry,
  type TableHeader,
} from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { SeededRandom } from '../../../app/sim/random.js';
import { Attacker as SimAttacker } from '../../../app/sim/adversary.js';
import { ControlOpener, sealControlWith, type TekKnown } from '../../../app/sim/sealed-control.js';

export const GROUP = 'c0'.repeat(15) + '0e';
export const groupBytes = fromHex(GROUP);
export const PARAMS: GroupParams = { ...DEFAULT_PARAMS, W: 4, V: 4 };
/** The reason text of a JoinRefused that makes a member rejoin (engine constant, also on the wire). */
export const NOT_A_MEMBER = 'not a member of this group';

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);
const ZERO_NONCE = new Uint8Array(24);

// ---------------------------------------------------------------- identities, engines, network

export interface Id {
  seed: Uint8Array;
  name: string;
  key: MemberKey;
}

export function identity(name: string): Id {
  const seed = nodeCrypto.sha256(utf8(`attack:${name}`));
  return { seed, name, key: toHex(nodeCrypto.ed25519PublicKey(seed)) };
}

/** An identity whose key sorts below (or above) `than`: tie-breaks go by key order. */
export function identitySorted(prefix: string, than: MemberKey, below: boolean): Id {
  for (let i = 0; ; i++) {
    const id = identity(`${prefix}${i}`);
    if (below ? id.key < than : id.key > than) return id;
  }
}

export function deps(name: string, extra: Partial<EngineDeps> = {}): EngineDeps {
  return { crypto: nodeCrypto, rng: new SeededRandom(`attack:${name}`).asRng(), ...extra };
}

/** An admission hook that admits whoever is on its list; `lock()` empties the list once the group is built. */
export class Gate implements AdmissionPolicy {
  readonly allowed = new Set<MemberKey>();
  check(r: { member: MemberKey }) {
    return this.allowed.has(r.member) ? ({ ok: true } as const) : ({ ok: false, reason: 'not invited' } as const);
  }
  lock(): void {
    this.allowed.clear();
  }
}

/** A crypto provider that counts SHA-256 calls and throws once a budget is spent (to stop a hash bomb early). */
export class HashBudgetExceeded extends Error {
  override name = 'HashBudgetExceeded';
}
export function meteredCrypto(budget: { left: number }): CryptoProvider {
  return {
    ...nodeCrypto,
    name: 'metered',
    sha256(data: Uint8Array) {
      if (--budget.left < 0) throw new HashBudgetExceeded('more SHA-256 calls than the budget allows for one message');
      return nodeCrypto.sha256(data);
    },
  };
}

/** Engines by member key: an attacker that has one seals control messages under the TEK it holds (an insider). */
const insiders = new Map<MemberKey, GroupEngine>();

export interface Sent {
  from: MemberKey;
  t: Transmit;
  at: number;
}

/**
 * Zero-latency delivery between real engines. Every transmit is logged (a gossip
 * attacker sees every publication and can replay it); `offline` members neither send
 * nor receive.
 */
export class Net {
  readonly engines = new Map<MemberKey, GroupEngine>();
  readonly names = new Map<MemberKey, string>();
  readonly log: Sent[] = [];
  readonly events = new Map<MemberKey, EngineEvent[]>();
  readonly offline = new Set<MemberKey>();
  /** Opens control traffic with every TEK an engine of this net held (the tests look inside as insiders). */
  readonly opener = new ControlOpener(nodeCrypto, groupBytes);
  now = 0;

  add(id: Id, e: GroupEngine): GroupEngine {
    this.engines.set(id.key, e);
    this.names.set(id.key, id.name);
    insiders.set(id.key, e);
    this.collectTeks(e);
    return e;
  }

  private collectTeks(e: GroupEngine): void {
    for (const k of e.exportKeyMaterial()) this.opener.add(k);
  }

  /** The inner message of a control publication (null when no TEK of this net opens it). */
  open(bytes: Uint8Array): ControlMessage | null {
    return this.opener.open(bytes);
  }

  eventsOf(key: MemberKey): EngineEvent[] {
    let l = this.events.get(key);
    if (!l) this.events.set(key, (l = []));
    return l;
  }

  /** Delivers everything in flight until the network is quiet. */
  settle(rounds = 200): void {
    for (let i = 0; i < rounds; i++) {
      let moved = false;
      for (const [from, e] of this.engines) {
        this.collectTeks(e);
        const out: Transmit[] = [];
        for (let t = e.pollTransmit(); t; t = e.pollTransmit()) out.push(t);
        for (let v = e.pollEvent(); v; v = e.pollEvent()) this.eventsOf(from).push(v);
        if (this.offline.has(from)) continue;
        for (const t of out) {
          moved = true;
          this.log.push({ from, t, at: this.now });
          if (t.kind === 'unicast') {
            if (!this.offline.has(t.to)) this.engines.get(t.to)?.receive(from, 'unicast', t.bytes, this.now);
          } else {
            for (const [k, o] of this.engines) if (k !== from && !this.offline.has(k)) o.receive(from, t.topic, t.bytes, this.now);
          }
        }
      }
      if (!moved) return;
    }
  }

  /** Advances the clock to `until` in steps, ticking every online engine and delivering. */
  run(until: number, step = 50): void {
    while (this.now < until) {
      this.now = Math.min(until, this.now + step);
      for (const [k, e] of this.engines) if (!this.offline.has(k)) e.tick(this.now);
      this.settle();
    }
  }

  /** Publications seen on the wire from `from` of one message type, control ones by their sealed inner type (for replays). */
  published(from: MemberKey, type: number): Uint8Array[] {
    return this.log
      .filter((s) => s.from === from && s.t.kind === 'publish' && (s.t.topic === 'control' ? this.opener.typeOf(s.t.bytes) === type : s.t.bytes[2] === type))
      .map((s) => s.t.bytes);
  }
}

export interface Group {
  net: Net;
  ids: Record<string, Id>;
  e: Record<string, GroupEngine>;
  gate: Gate;
  params: GroupParams;
}

/**
 * A settled group: `names[0]` creates it, every other name joins through it, one after
 * another; afterwards the gate is locked (nobody else is admitted).
 */
export function honestGroup(names: string[], opts: { params?: GroupParams; ids?: Record<string, Id>; panel?: (id: Id) => PanelHook; start?: number } = {}): Group {
  const params = opts.params ?? PARAMS;
  const net = new Net();
  net.now = opts.start ?? 0; // the clock at the group's creation
  const gate = new Gate();
  const ids: Record<string, Id> = {};
  const e: Record<string, GroupEngine> = {};
  for (const n of names) {
    ids[n] = opts.ids?.[n] ?? identity(n);
    gate.allowed.add(ids[n].key);
  }
  const first = ids[names[0]!]!;
  const depsOf = (id: Id) => deps(id.name, { admission: gate, ...(opts.panel ? { panel: opts.panel(id) } : {}) });
  e[names[0]!] = net.add(first, GroupEngine.create(depsOf(first), first, { group: GROUP, name: 'g', params, now: net.now }));
  for (const n of names.slice(1)) {
    const id = ids[n]!;
    e[n] = net.add(id, GroupEngine.join(depsOf(id), id, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [first.key], now: net.now }));
    net.settle();
    net.run(net.now + params.heartbeatMs);
  }
  net.run(net.now + 3 * params.heartbeatMs);
  for (const n of names) assert.equal(e[n]!.state(), 'member', `${n} is a member of the honest group`);
  gate.lock();
  return { net, ids, e, gate, params };
}

// ---------------------------------------------------------------- the invariant

/** What a rejected input must leave untouched: the persistent state and the TEK. */
export function fingerprintState(e: GroupEngine): { snapshot: string; tek: string } {
  return { snapshot: toHex(e.snapshot()), tek: JSON.stringify(e.tekInfo()) };
}

export function drain(e: GroupEngine): { out: Transmit[]; events: EngineEvent[] } {
  const out: Transmit[] = [];
  const events: EngineEvent[] = [];
  for (let t = e.pollTransmit(); t; t = e.pollTransmit()) out.push(t);
  for (let v = e.pollEvent(); v; v = e.pollEvent()) events.push(v);
  return { out, events };
}

/**
 * "A rejected input changes nothing" (STYLE §8): runs `act` against `victim` and asserts
 * a `rejected` event naming `from`, and snapshot bytes and tekInfo() equal before and after.
 */
export function assertRejectedUnchanged(victim: GroupEngine, from: MemberKey, act: () => void, what = 'input'): { out: Transmit[]; events: EngineEvent[] } {
  drain(victim);
  const before = fingerprintState(victim);
  act();
  const after = fingerprintState(victim);
  const got = drain(victim);
  assert.deepEqual(after.tek, before.tek, `${what}: the TEK must not change`);
  assert.ok(after.snapshot === before.snapshot, `${what}: the persistent state must not change`);
  assert.ok(
    got.events.some((ev) => ev.type === 'rejected' && ev.from === from),
    `${what}: a rejected event naming the sender is emitted (got ${got.events.map((ev) => ev.type).join(', ') || 'no events'})`,
  );
  return got;
}

// ---------------------------------------------------------------- the attacker

export interface CraftedTable {
  /** Sealed for the control topic. */
  bytes: Uint8Array;
  /** The same table as a unicast carries it (a fetch reply, an exclusion notice). */
  unicast: Uint8Array;
  header: TableHeader;
  headerSignature: Uint8Array;
  tekPrime: Uint8Array;
}

/**
 * One hostile identity. It knows the group ID and its own seed; as an insider it may also
 * be given keys it once held. Every builder returns wire bytes ready for `receive`.
 */
export class Attacker {
  readonly id: Id;
  readonly key: MemberKey;
  private counter = 0;

  /** The simulator's crafting kit (app/sim/adversary.ts) does the sealing and signing: one implementation for both. */
  private readonly kit: SimAttacker;

  constructor(id: Id) {
    this.id = id;
    this.key = id.key;
    this.kit = new SimAttacker(nodeCrypto, groupBytes, id.seed, new SeededRandom(`forge:${id.name}`));
  }

  /** Fresh deterministic bytes (nonces, attacker keys). */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const h = nodeCrypto.sha256(utf8(`attacker-bytes:${this.key}:${this.counter++}`));
      out.set(h.subarray(0, Math.min(32, n - filled)), filled);
      filled += 32;
    }
    return out;
  }

  encode(m: Message): Uint8Array {
    return encodeMessage(groupBytes, m);
  }

  /**
   * A control message sealed as a member seals it (docs/protocol.md §14): under the TEK this
   * identity's own engine holds if it has one (an insider), else under a TEK it makes up,
   * named as `claim` (an outsider cannot make a member open it).
   */
  control(m: ControlMessage, claim?: { version: number; creators: MemberKey[] }): Uint8Array {
    const own = insiders.get(this.key);
    this.kit.hold(this.sealing ?? (own ? currentTek(own) : null));
    return this.kit.control(m, claim);
  }

  /** Seals every control message under `tek` (e.g. the victim's own: a fuzzer's strongest insider), or as before (null). */
  sealUnder(tek: TekKnown | null): void {
    this.sealing = tek;
  }
  private sealing: TekKnown | null = null;

  /** The pairwise key the victim computes with this attacker (X25519 of the identities, HKDF, group-bound). */
  pairwise(peer: MemberKey): Uint8Array {
    const pk = this.kit.pairwise(peer);
    assert.ok(pk);
    return pk;
  }

  /** A key sealed pairwise for `peer` the way an owner seals a grant ('grant') or a fetch reply ('fetch'). */
  sealFor(peer: MemberKey, purpose: 'grant' | 'fetch', info: KeyInfo, key: Uint8Array, owner: MemberKey = this.key): SealedKey {
    return this.kit.sealFor(peer, purpose, info, key, owner);
  }

  /** Opens a key sealed for this attacker by `from` (to check that no key ever reaches it). */
  openFrom(from: MemberKey, purpose: 'grant' | 'fetch', s: SealedKey): Uint8Array | null {
    return this.kit.openFrom(from, purpose, s)?.key ?? null;
  }

  certify(member: MemberKey, admittedAt: number): Certificate {
    return this.kit.certify(member, admittedAt);
  }

  // --- one builder per message type

  heartbeat(o: { sentAt: number; keys: KeyInfo[]; history?: KeyInfo[]; blocklistCount?: number; rosterCount?: number }): Uint8Array {
    const claim = o.keys.find((k) => k.slot === 0);
    return this.control({ type: MsgType.Heartbeat, sentAt: o.sentAt, keys: o.keys, history: o.history ?? [], blocklistCount: o.blocklistCount ?? 0, rosterCount: o.rosterCount ?? 1 }, claim);
  }
  revision(keys: KeyInfo[]): Uint8Array {
    return this.control({ type: MsgType.Revision, keys }, keys.find((k) => k.slot === 0));
  }
  /** An announcement signed by this identity as an admitter signs it (`forged`: 64 zero bytes instead). */
  memberAdmitted(members: RosterEntry[], revisions: KeyInfo[] = [], forged = false): Uint8Array {
    const body = concat(LABEL('announce'), groupBytes, ...members.map((e) => concat(fromHex(e.key), utf8(`:${e.admittedAt};`))));
    const signature = forged ? new Uint8Array(64) : nodeCrypto.ed25519Sign(this.id.seed, body);
    return this.control({ type: MsgType.MemberAdmitted, members, revisions, signature });
  }
  joinRequest(name = 'mallory', credential = new Uint8Array(), sentAt = 0): Uint8Array {
    return this.encode({ type: MsgType.JoinRequest, name, credential, sentAt });
  }
  joinRefused(reason: string): Uint8Array {
    return this.encode({ type: MsgType.JoinRefused, reason });
  }
  keyRequest(slots: number[], certificate: Certificate): Uint8Array {
    return this.encode({ type: MsgType.KeyRequest, slots, certificate });
  }
  keyGrant(grants: SealedKey[]): Uint8Array {
    return this.encode({ type: MsgType.KeyGrant, grants });
  }
  fetchRequest(slot: number, version: number, creators: MemberKey[]): Uint8Array {
    return this.encode({ type: MsgType.FetchRequest, slot, version, tag: creatorsTag(nodeCrypto, creators) });
  }
  fetchReply(key: SealedKey | null, table: Uint8Array | null = null): Uint8Array {
    return this.encode({ type: MsgType.FetchReply, table, key });
  }
  /** A Leave signed by this identity (as an honest leaver signs it). */
  leave(sentAt: number): Uint8Array {
    const body = concat(LABEL('leave'), groupBytes, fromHex(this.key), utf8(String(sentAt)));
    return this.control({ type: MsgType.Leave, sentAt, signature: nodeCrypto.ed25519Sign(this.id.seed, body) });
  }
  panel(body: Uint8Array): Uint8Array {
    return this.encode({ type: MsgType.Panel, body });
  }
  admit(o: { victim: MemberKey; params: GroupParams; roster: RosterEntry[]; blocklist?: MemberKey[]; owners?: OwnerInfo[]; grants?: SealedKey[]; admittedAt: number }): Uint8Array {
    return this.encode({
      type: MsgType.Admit,
      groupName: 'attacker group',
      params: o.params,
      roster: o.roster,
      blocklist: o.blocklist ?? [],
      owners: o.owners ?? [],
      grants: o.grants ?? [],
      certificate: this.certify(o.victim, o.admittedAt),
    });
  }

  /** A data packet with the sender's real participant ID under an arbitrary (unknown) TEK version and tag. */
  data(o: { params: GroupParams; tekVersion: number; tekTag?: Uint8Array; revision?: number; sentAt: number; ciphertextBytes?: number }): Uint8Array {
    return this.encode({
      type: MsgType.Data,
      senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(this.key), o.params.W, o.params.V)),
      tekVersion: o.tekVersion,
      tekTag: o.tekTag ?? this.bytes(8),
      revision: o.revision ?? 0,
      sentAt: o.sentAt,
      nonce: this.bytes(24),
      ciphertext: this.bytes(o.ciphertextBytes ?? 32),
    });
  }

  /**
   * An exclusion or refresh table signed by this attacker, carrying TEK' sealed pairwise
   * for each of `recipients` (so they can read it without any KEK), with a matching
   * commitment: everything a victim checks is consistent, only the authority is missing.
   */
  table(o: {
    kind?: 'exclude' | 'refresh';
    targets: MemberKey[];
    base: { version: number; creators: MemberKey[] };
    blocklist: MemberKey[];
    recipients: MemberKey[];
    createdAt: number;
    panel?: { round: number; members: MemberKey[] } | null;
    entries?: TableEntry[];
    signature?: 'valid' | 'zero';
    /** The targets' KEKs the header says it replaces (slot, version, revision as the excluder knew them). */
    replaced?: ReplacedKek[];
  }): CraftedTable {
    const tekPrime = this.bytes(KEY_BYTES);
    const header: TableHeader = {
      kind: o.kind ?? 'exclude',
      excluder: this.key,
      targets: [...o.targets].sort(),
      base: { version: o.base.version, creators: [...o.base.creators] },
      newVersion: o.base.version + 1,
      createdAt: o.createdAt,
      blocklist: [...new Set(o.blocklist)].sort(),
      tekCommitment: commitTek(this.key, o.base.version + 1, o.createdAt, tekPrime),
      panel: o.panel ?? null,
      replaced: o.replaced ?? [],
      plan: [],
    };
    const headerBytes = encodeTableHeader(header);
    const headerSignature = o.signature === 'zero' ? new Uint8Array(64) : nodeCrypto.ed25519Sign(this.id.seed, concat(LABEL('table'), groupBytes, headerBytes));
    const id = tableId(headerBytes);
    const pairwise: PairwiseEntry[] = o.recipients.map((m) => ({
      member: m,
      sealed: nodeCrypto.seal(wrapKey(nodeCrypto, this.pairwise(m), concat(id, fromHex(m))), ZERO_NONCE, tekPrime, LABEL('table-entry')),
    }));
    const message = { type: MsgType.Table, header, headerSignature, entries: o.entries ?? [], pairwise } as const;
    return { bytes: this.control(message, header.base), unicast: this.encode(message), header, headerSignature, tekPrime };
  }
}

export function tableId(headerBytes: Uint8Array): Uint8Array {
  return nodeCrypto.sha256(concat(LABEL('table-id'), headerBytes)).slice(0, 16);
}

export function commitTek(excluder: MemberKey, newVersion: number, createdAt: number, tekPrime: Uint8Array): Uint8Array {
  return nodeCrypto.sha256(concat(LABEL('tek-commitment'), groupBytes, fromHex(excluder), utf8(`${newVersion}:${createdAt}`), tekPrime));
}

/** The TEK `e` sends under now, with its key (an insider's view). */
export function currentTek(e: GroupEngine): TekKnown | null {
  const t = e.tekInfo();
  if (!t) return null;
  const same = e.exportKeyMaterial().filter((k) => k.slot === 0 && k.version === t.version && k.creators.join() === [...t.creators].sort().join());
  return same.sort((a, b) => b.revision - a.revision)[0] ?? null;
}

const CONTROL_TYPES: ReadonlySet<number> = new Set([MsgType.Heartbeat, MsgType.Revision, MsgType.MemberAdmitted, MsgType.Table, MsgType.Leave]);

/** `m` as it travels to `victim`: a control message sealed under the victim's current TEK (the strongest insider), anything else as is. */
export function encodeFor(victim: GroupEngine, m: Message, channel: 'control' | 'data' | 'unicast'): Uint8Array {
  const tek = currentTek(victim);
  if (channel !== 'control' || !CONTROL_TYPES.has(m.type) || !tek) return encodeMessage(groupBytes, m);
  return sealControlWith(nodeCrypto, groupBytes, tek, new Uint8Array(24).fill(m.type), m as ControlMessage);
}

/** The TEK as the victim announces it (public: version, revision, creators). */
export function tekOf(e: GroupEngine): KeyInfo {
  const t = e.tekInfo();
  assert.ok(t, 'the victim holds a TEK');
  return { slot: 0, version: t.version, revision: t.revision, creators: [...t.creators].sort() };
}

/** Unicasts in `out` addressed to `to` of message type `type`. */
export function unicastsTo(out: readonly Transmit[], to: MemberKey, type?: number): Uint8Array[] {
  return out.filter((t): t is Extract<Transmit, { kind: 'unicast' }> => t.kind === 'unicast' && t.to === to && (type === undefined || t.bytes[2] === type)).map((t) => t.bytes);
}
