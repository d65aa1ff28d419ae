/**
 * @module sim/attacks
 * Active adversaries in the simulator (issue 14 §5; docs/simulator.md "Attacks").
 * An `attack` scenario event names an attacker, its role and what it sends; this
 * module checks the role holds, crafts the messages with the kit (adversary.ts),
 * injects them, watches every member they reach, and judges the outcome.
 *
 * - Roles: `outsider` (never admitted; knows the group ID and its own key), `excluded`
 *   and `leaver` (a removed peer, with every key it held), `member` (a current member,
 *   e.g. a non-admin under the `admins` policy), `sybil` (an identity a member
 *   announced without any admission).
 * - What the attacker knows of the group is public: the TEK's version, revision and
 *   creators (every heartbeat carries them), the blocklist (table headers), the
 *   members' keys and the parameters. The simulator reads them off one victim.
 * - Per delivery of a crafted message: the member was `reached`; it `rejected` it when
 *   it emitted a `rejected` event naming the sender while processing it; it `changed`
 *   when its persistent state differs afterwards (a refused input changes nothing,
 *   STYLE §8); an exception out of `receive` is recorded as `threw`.
 * - At the end (`judge`), the oracle's attack checks: an attacker never reads traffic
 *   sent after its removal or without admission (with the keys it held, the keys it
 *   made, the keys sealed to it, and everything it learns from tables); no honest
 *   member is excluded except by a scenario exclusion; honest members keep reading each
 *   other (a message sent a settle window after an attack is read by every honest
 *   member, including one the attack pushed out of the group).
 *
 * An attack is `refused` when every member it reached rejected it and none changed
 * or threw, and the group `unharmed` when no attack check names it.
 * Invariants: nothing here runs unless the scenario has attack events; honest
 * engines are never driven except through the network.
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { GroupEngine } from '../core/engine.js';
import type { GroupParams, MemberKey } from '../core/types.js';
import { fromHex, toHex } from '../core/bytes.js';
import { TEK_SLOT, participantId, slotsOf } from '../core/params.js';
import { MsgType, type KeyInfo } from '../core/wire.js';
import { Attacker, NOT_A_MEMBER } from './adversary.js';
import { Adversary, allSeeing, type KnownKey } from './oracle.js';
import type { TekKnown } from './sealed-control.js';
import type { SimNetwork } from './network.js';
import type { SimPeer } from './peers.js';
import type { AttackReport, AttackViolations, Recorder, SimReport } from './report.js';
import { SeededRandom } from './random.js';
import type { Scenario, ScenarioEvent } from './scenario.js';

type AttackEvent = Extract<ScenarioEvent, { do: 'attack' }>;
type Role = AttackEvent['role'];

/** What the attack runner needs from the simulation. */
export interface AttackHost {
  readonly now: number;
  readonly seed: number;
  readonly scenario: Scenario;
  readonly crypto: CryptoProvider;
  readonly groupBytes: Uint8Array;
  readonly peers: ReadonlyMap<string, SimPeer>;
  readonly pinned: ReadonlyMap<MemberKey, number[]>;
  readonly network: SimNetwork;
  readonly recorder: Recorder;
  peer(name: string): SimPeer;
  nameOf(key: MemberKey): string | undefined;
}

interface Identity {
  peer: SimPeer;
  role: Role;
  kit: Attacker;
  /** Keys sealed to this identity by members (grants, fetch replies). */
  received: KnownKey[];
  firstAttackAt: number;
  /** The TEK its last heartbeat claimed (an Admit that follows grants it). */
  claimed?: KeyInfo;
}

interface AttackRecord {
  report: AttackReport;
  reached: Set<string>;
  rejected: Set<string>;
  identities: string[];
}

const REPLAY_TYPES = { Heartbeat: MsgType.Heartbeat, Revision: MsgType.Revision, MemberAdmitted: MsgType.MemberAdmitted, Table: MsgType.Table, Leave: MsgType.Leave } as const;

export class AttackRunner {
  private readonly records: AttackRecord[] = [];
  private readonly identities = new Map<string, Identity>();
  private readonly attackerKeys = new Set<MemberKey>();
  private readonly sybilsOf = new Map<string, string[]>();

  constructor(private readonly host: AttackHost) {}

  get active(): boolean {
    return this.records.length > 0;
  }

  isAttacker(key: MemberKey): boolean {
    return this.attackerKeys.has(key);
  }

  /** A member unicast to an attacker identity: whatever key it seals, the attacker has. */
  unicastTo(from: MemberKey, to: MemberKey, bytes: Uint8Array): void {
    const id = this.identities.get(this.host.nameOf(to) ?? '');
    if (id) id.received.push(...id.kit.keysIn(from, bytes));
  }

  private identity(name: string, role: Role): Identity {
    let id = this.identities.get(name);
    if (!id) {
      const peer = this.host.peer(name);
      const kit = new Attacker(this.host.crypto, this.host.groupBytes, peer.seed, new SeededRandom(`${this.host.seed}:attacker:${name}`));
      id = { peer, role, kit, received: [], firstAttackAt: this.host.now };
      this.identities.set(name, id);
      this.attackerKeys.add(peer.key);
    }
    return id;
  }

  private roleError(ev: AttackEvent, p: SimPeer): string | null {
    switch (ev.role) {
      case 'outsider':
        return p.engine === null && p.admittedAt === null ? null : 'it is or was a member';
      case 'excluded':
        return p.state === 'excluded' ? null : 'it was not excluded';
      case 'leaver':
        return p.state === 'left' ? null : 'it did not leave';
      case 'member':
        return p.engine?.state() === 'member' && !p.crashed ? null : 'it is not a live member';
      case 'sybil':
        return [...this.sybilsOf.values()].some((l) => l.includes(ev.attacker)) ? null : 'no member announced it';
    }
  }

  private honest(p: SimPeer): boolean {
    return !this.attackerKeys.has(p.key);
  }

  /** Runs one attack event: crafts its messages and injects them. */
  run(ev: AttackEvent): void {
    const h = this.host;
    const label = ev.label ?? `${ev.kind} by ${ev.attacker}`;
    const p = h.peer(ev.attacker);
    const err = this.roleError(ev, p);
    if (err) {
      h.recorder.errors.push(`t=${h.now} attack "${label}": ${ev.attacker} cannot play ${ev.role}: ${err}`);
      return;
    }
    const id = this.identity(ev.attacker, ev.role);
    const victims = (ev.victims ?? [...h.peers.keys()]).map((n) => h.peer(n)).filter((v) => v !== p && v.engine && !v.crashed && this.honest(v));
    // Public knowledge, read off one victim (a member if any: an Admit may target joiners).
    const ref = (victims.find((v) => v.engine!.state() === 'member') ?? victims[0])?.engine;
    if (!ref) {
      h.recorder.errors.push(`t=${h.now} attack "${label}": nobody to attack`);
      return;
    }
    const index = this.records.length;
    const identities = [ev.attacker];
    const report: AttackReport = { label, kind: ev.kind, role: ev.role, attacker: ev.attacker, at: h.now, reached: 0, rejected: 0, changed: [], threw: [], refused: false, unharmed: false, harm: [] };
    this.records.push({ report, reached: new Set(), rejected: new Set(), identities });
    id.kit.hold(this.tekHeld(id));
    const crafted = this.craft(ev, id, victims, ref, identities);
    if (typeof crafted === 'string') {
      h.recorder.errors.push(`t=${h.now} attack "${label}": ${crafted}`);
      return;
    }
    const from = { name: p.name, key: crafted.author ?? p.key, engine: null, crashed: false };
    for (const m of crafted.messages) {
      if (m.channel === 'control') h.recorder.logControl(h.now, p.name, m.bytes);
      const to = m.to ? [m.to] : h.peers.values();
      h.network.inject(h.now, from, m.channel, m.bytes, to, index);
    }
  }

  /** The messages of one attack: published (no `to`) or unicast to one victim. */
  private craft(
    ev: AttackEvent,
    id: Identity,
    victims: SimPeer[],
    ref: GroupEngine,
    identities: string[],
  ): { messages: { channel: 'control' | 'data' | 'unicast'; bytes: Uint8Array; to?: SimPeer }[]; author?: MemberKey } | string {
    const h = this.host;
    const kit = id.kit;
    // A victim that dropped its TEK (e.g. for the attacker's heartbeat) is answered with the TEK the attacker claimed.
    const tek = ref.tekInfo() ?? (id.claimed ? { ...id.claimed, version: id.claimed.version - 1 } : null);
    if (!tek) return 'the victims hold no TEK';
    const current: KeyInfo = { slot: TEK_SLOT, version: tek.version, revision: tek.revision, creators: [...tek.creators].sort() };
    const next: KeyInfo = { slot: TEK_SLOT, version: tek.version + 1, revision: 0, creators: [kit.key] };
    const each = (f: (v: SimPeer) => Uint8Array) => ({ messages: victims.map((v) => ({ channel: 'unicast' as const, bytes: f(v), to: v })) });
    const params: GroupParams = ref.params;
    switch (ev.kind) {
      case 'heartbeat': {
        const claim = ev.claim === 'next-version' ? next : { ...current, revision: current.revision + 1 };
        if (ev.claim === 'next-version') id.claimed = next;
        return { messages: [{ channel: 'control', bytes: kit.heartbeat(h.now, [claim], ref.blocklist().length, ref.members().length) }] };
      }
      case 'revision':
        return { messages: [{ channel: 'control', bytes: kit.revision([{ ...current, revision: current.revision + ev.jump }]) }] };
      case 'table':
        return this.craftTable(ev, id, victims, ref, current);
      case 'admit': {
        const key = this.madeKey(id, next) ?? kit.newKey(TEK_SLOT, next.version, next.creators);
        return each((v) => kit.admit({ victim: v.key, params, roster: [{ key: kit.key, name: id.peer.name, admittedAt: 0 }, { key: v.key, name: v.name, admittedAt: h.now }], grants: [kit.sealFor(v.key, 'grant', next, key)], admittedAt: h.now }));
      }
      case 'key-grant':
      case 'fetch-reply': {
        const key = kit.newKey(TEK_SLOT, next.version, next.creators);
        return each((v) => (ev.kind === 'key-grant' ? kit.keyGrant([kit.sealFor(v.key, 'grant', next, key)]) : kit.fetchReply(kit.sealFor(v.key, 'fetch', next, key))));
      }
      case 'fetch-reply-nested': {
        const bytes = kit.nestedFetchReply(ev.count);
        return each(() => bytes);
      }
      case 'join-refused':
        return each(() => kit.joinRefused(NOT_A_MEMBER));
      case 'panel':
        return each(() => kit.panel(kit.bytes(64)));
      case 'member-admitted': {
        const sybils = (ev.sybils ?? [`${id.peer.name}-sybil`]).map((n) => h.peer(n));
        this.sybilsOf.set(id.peer.name, sybils.map((s) => s.name));
        for (const s of sybils) {
          this.identity(s.name, 'sybil');
          identities.push(s.name);
        }
        return { messages: [{ channel: 'control', bytes: kit.memberAdmitted(sybils.map((s) => ({ key: s.key, name: s.name, admittedAt: 0 }))) }] };
      }
      case 'key-request': {
        const slots = [TEK_SLOT, ...slotsOf(this.pid(kit.key, params), params.V)];
        return each(() => kit.keyRequest(slots, kit.certify(kit.key, 0)));
      }
      case 'data': {
        const pid = this.pid(kit.key, params);
        return { messages: Array.from({ length: ev.count }, (_, i) => ({ channel: 'data' as const, bytes: kit.data(pid, tek.version + 1 + i, h.now) })) };
      }
      case 'replay': {
        if (!ev.replay) return 'a replay names what it replays';
        const author = h.peer(ev.replay.from);
        const type = REPLAY_TYPES[ev.replay.type];
        const opener = allSeeing(h.crypto, h.groupBytes, h.peers.values());
        const old = [...h.recorder.control].reverse().find((c) => c.from === author.name && c.at < h.now && opener.typeOf(c.bytes) === type);
        if (!old) return `no ${ev.replay.type} from ${author.name} to replay`;
        return { messages: [{ channel: 'control', bytes: old.bytes }], author: author.key };
      }
    }
  }

  /** A table signed by the attacker, TEK' of its own sealed pairwise for every victim. */
  private craftTable(ev: AttackEvent, id: Identity, victims: SimPeer[], ref: GroupEngine, current: KeyInfo): { messages: { channel: 'control'; bytes: Uint8Array }[] } | string {
    const h = this.host;
    const base = ev.base === 'held' ? this.heldTek(id) : current;
    if (!base) return 'the attacker never held a TEK';
    const self = ev.role === 'excluded' || ev.role === 'leaver' ? [id.kit.key] : [];
    const bytes = id.kit.table({
      kind: ev.tableKind,
      targets: (ev.targets ?? []).map((n) => h.peer(n).key),
      base: { version: base.version, creators: base.creators },
      blocklist: [...ref.blocklist(), ...self],
      recipients: victims.map((v) => v.key),
      createdAt: h.now,
      signature: ev.signature,
    });
    return { messages: [{ channel: 'control', bytes }] };
  }

  private madeKey(id: Identity, k: KeyInfo): Uint8Array | null {
    return id.kit.made.find((m) => m.slot === k.slot && m.version === k.version && m.creators.join() === k.creators.join())?.key ?? null;
  }

  private pid(key: MemberKey, params: GroupParams): number[] {
    return this.host.pinned.get(key) ?? participantId(this.host.crypto, fromHex(key), params.W, params.V);
  }

  /** The TEK an attacker seals control messages under: a member's current one, else the newest it ever held (none: an outsider). */
  private tekHeld(id: Identity): TekKnown | null {
    const e = id.peer.engine;
    const live = e?.state() === 'member' ? e.exportKeyMaterial().find((k) => k.slot === TEK_SLOT) : undefined;
    if (live) return live;
    let best: KnownKey | null = null;
    for (const k of id.peer.everKeys.values()) if (k.slot === TEK_SLOT && (!best || k.version > best.version)) best = k;
    return best;
  }

  /** The newest TEK version a removed attacker held. */
  private heldTek(id: Identity): { version: number; creators: MemberKey[] } | null {
    let best: KnownKey | null = null;
    for (const k of id.peer.everKeys.values()) if (k.slot === TEK_SLOT && (!best || k.version > best.version)) best = k;
    return best ? { version: best.version, creators: [...best.creators].sort() } : null;
  }

  /**
   * Delivers one crafted message to `p` through `deliver` (receive and drain) and
   * records what it did there.
   */
  observe(p: SimPeer, from: MemberKey, index: number, deliver: () => Error | null): void {
    const rec = this.records[index]!;
    const e = p.engine!;
    const before = { snap: toHex(e.snapshot()), state: e.state(), tek: e.tekInfo(), blocked: e.blocklist().length, members: e.members().filter((m) => m.state === 'member').length };
    const seen = p.rejected.length;
    const err = deliver();
    // A removed peer's engine ignores everything: only members and joiners count as reached.
    if (before.state === 'excluded' || before.state === 'left') return;
    rec.reached.add(p.name);
    const fromName = this.host.nameOf(from) ?? from.slice(0, 8);
    if (p.rejected.slice(seen).some((r) => r.from === fromName)) rec.rejected.add(p.name);
    if (err) rec.report.threw.push(`${p.name}: ${err.name}: ${err.message.slice(0, 120)}`);
    const after = p.engine;
    if (!after || toHex(after.snapshot()) === before.snap) return;
    const what: string[] = [];
    if (after.state() !== before.state) what.push(`state ${before.state} -> ${after.state()}`);
    const t = after.tekInfo();
    if (t?.fingerprint !== before.tek?.fingerprint) what.push(`TEK ${this.tekName(before.tek)} -> ${this.tekName(t)}`);
    if (after.blocklist().length !== before.blocked) what.push(`blocklist ${before.blocked} -> ${after.blocklist().length}`);
    const members = after.members().filter((m) => m.state === 'member').length;
    if (members !== before.members) what.push(`members ${before.members} -> ${members}`);
    rec.report.changed.push(`${p.name}: ${what.join(', ') || 'persistent state changed'}`);
  }

  private tekName(t: ReturnType<GroupEngine['tekInfo']>): string {
    if (!t) return 'none';
    return `v${t.version} r${t.revision} by ${t.creators.map((c) => this.host.nameOf(c) ?? c.slice(0, 8)).join('+')}`;
  }

  // ------------------------------------------------------------ the oracle's attack checks

  /** Adds the attacks and the attack checks to a finished report; `ok` turns false if an attack succeeded. */
  amend(report: SimReport): void {
    const { attacks, violations } = this.judge((t) => this.host.recorder.settledAt(t), this.host.recorder.settleMs());
    report.attacks = attacks;
    Object.assign(report.violations, violations);
    report.ok = report.ok && attacks.every((a) => a.refused && a.unharmed) && Object.values(violations).every((l: string[]) => l.length === 0);
  }

  private judge(settled: (t: number) => boolean, settleMs: number): { attacks: AttackReport[]; violations: AttackViolations } {
    const v: AttackViolations = { attackerRead: this.attackerRead(), unauthorizedExclusion: this.unauthorizedExclusion(), unreadable: this.unreadable(settled, settleMs) };
    const attacks = this.records.map((r) => {
      const a = r.report;
      a.reached = r.reached.size;
      a.rejected = r.rejected.size;
      a.refused = a.rejected === a.reached && a.changed.length === 0 && a.threw.length === 0;
      a.harm = [
        ...v.attackerRead.filter((s) => r.identities.some((n) => s.startsWith(`${n} `))),
        ...v.unauthorizedExclusion,
        ...v.unreadable.filter((s) => Number(/sent at (\d+)/.exec(s)?.[1] ?? Infinity) >= a.at),
      ];
      a.unharmed = a.harm.length === 0;
      return a;
    });
    return { attacks, violations: v };
  }

  /** No attacker reads honest traffic sent after its removal, or at all if it was never admitted. */
  private attackerRead(): string[] {
    const h = this.host;
    const out: string[] = [];
    for (const [name, id] of this.identities) {
      if (id.role === 'member') continue; // a member reads legitimately
      const removed = id.role === 'excluded' || id.role === 'leaver';
      const since = removed ? (id.peer.removedAt ?? id.firstAttackAt) : -Infinity;
      const keys = [...(removed ? id.peer.everKeys.values() : []), ...id.kit.made, ...id.received];
      const adv = new Adversary(h.crypto, h.groupBytes, keys);
      adv.absorbControl(h.recorder.control.filter((c) => c.at >= since), allSeeing(h.crypto, h.groupBytes, h.peers.values()));
      for (const d of h.recorder.data) {
        if (!d.msgId || d.at < since || this.attackerName(d.from)) continue;
        if (removed && !d.senderBlocked.has(id.peer.key)) continue; // its removal had not reached the sender yet
        if (adv.canRead(d)) out.push(`${name} (${id.role}) read "${d.text}" sent by ${d.from} at ${Math.round(d.at)}`);
      }
    }
    return out;
  }

  private attackerName(name: string): boolean {
    return this.identities.has(name);
  }

  /** Peers a scenario event removed: excluded by a scenario `exclude`, or left. */
  private legitimatelyRemoved(): Set<string> {
    const out = new Set<string>();
    for (const ev of this.host.scenario.events) {
      if (ev.do === 'exclude') ev.peers.forEach((n) => out.add(n));
      if (ev.do === 'leave') out.add(ev.peer);
    }
    return out;
  }

  /** No honest member is excluded except by a scenario exclusion. */
  private unauthorizedExclusion(): string[] {
    const h = this.host;
    const legit = this.legitimatelyRemoved();
    const out: string[] = [];
    const honest = [...h.peers.values()].filter((p) => p.joinedAt !== null && !this.attackerName(p.name) && !legit.has(p.name));
    for (const p of honest) {
      const by = [...h.peers.values()].filter((q) => q.engine && q.engine.state() === 'member' && q.engine.isBlocked(p.key)).map((q) => q.name);
      if (p.state !== 'excluded' && by.length === 0) continue;
      out.push(`${p.name} was excluded by ${this.excluders(p.key).join(', ') || 'an unknown table'} (${p.state === 'excluded' ? 'it was told so' : `blocked by ${by.join(', ')}`})`);
    }
    return out;
  }

  private excluders(target: MemberKey): string[] {
    const h = this.host;
    const out = new Set<string>();
    const opener = allSeeing(h.crypto, h.groupBytes, h.peers.values());
    for (const c of h.recorder.control) {
      const m = opener.open(c.bytes);
      if (m?.type === MsgType.Table && m.header.targets.includes(target)) out.add(h.nameOf(m.header.excluder) ?? m.header.excluder.slice(0, 8));
    }
    return [...out];
  }

  /**
   * Honest members keep reading each other: a message an honest member sends a settle
   * window after an attack is read by every honest member that joined before it and is
   * not legitimately removed. Members still in the group are the `missed` check's; this
   * one covers those an attack pushed out (joining again, or excluded).
   */
  private unreadable(settled: (t: number) => boolean, settleMs: number): string[] {
    const h = this.host;
    const first = Math.min(...this.records.map((r) => r.report.at));
    const legit = this.legitimatelyRemoved();
    const out: string[] = [];
    for (const d of h.recorder.data) {
      if (!d.msgId || d.at < first + settleMs || !settled(d.at) || this.attackerName(d.from)) continue;
      for (const p of h.peers.values()) {
        if (p.name === d.from || p.crashed || p.joinedAt === null || p.joinedAt > d.at - settleMs) continue;
        if (this.attackerName(p.name) || legit.has(p.name) || !h.network.reachable(d.from, p.name)) continue;
        if (p.state === 'member' && p.engine?.state() === 'member') continue; // the missed check's
        if (!d.readBy.has(p.name)) out.push(`${p.name} (${p.engine?.state() ?? 'no engine'}) could not read "${d.text}" from ${d.from} sent at ${Math.round(d.at)}`);
      }
    }
    return out;
  }
}
