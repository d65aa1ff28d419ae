/**
 * @module sim/simulation
 * A whole group of engines over an in-memory network with a virtual clock
 * (docs/simulator.md). The network is a real transport for the engine: it carries
 * the engine's bytes with latency, loss and partitions; nothing is mocked.
 *
 * Invariants:
 * - Deterministic: the same scenario and seed give the same report.
 * - Time only moves forward, to the next delivery, scenario event or engine deadline.
 * - Loss applies to the control topic only: data and unicast ride gossipsub mesh
 *   forwarding and Noise streams, which retransmit (docs/simulator.md).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { GroupEngine, admitEveryone, type EngineDeps } from '../core/engine.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { EngineEvent, GroupParams, MemberKey } from '../core/types.js';
import { DEFAULT_PARAMS, idToString, symbolsFromBytes } from '../core/params.js';
import { fromHex, toHex } from '../core/bytes.js';
import { nodeCrypto } from '../crypto/node.js';
import { settledGroupStates } from './bootstrap.js';
import { FractionalPanel } from '../fractional/panel-hook.js';
import { SeededRandom } from './random.js';
import type { Scenario, ScenarioEvent } from './scenario.js';
import { MsgType, decodeMessage } from '../core/wire.js';
import { decodeState, encodeState } from '../core/state.js';
import { Adversary, type KnownKey, type RecordedControl, type RecordedData } from './oracle.js';

export interface SimOptions {
  seed: number;
  crypto?: CryptoProvider;
  /** Called with each peer's engine deps before creation (fractional panels plug in here). */
  decorateDeps?: (name: string, deps: EngineDeps) => EngineDeps;
}

interface Peer {
  name: string;
  seed: Uint8Array;
  key: MemberKey;
  engine: GroupEngine | null;
  snapshot: Uint8Array | null;
  crashed: boolean;
  state: 'none' | 'member' | 'excluded' | 'left' | 'crashed';
  joinedAt: number | null;
  admittedAt: number | null;
  removedAt: number | null;
  everKeys: Map<string, KnownKey>;
  versionsSeen: Set<string>;
  rng: SeededRandom;
  rejected: { at: number; from: string; reason: string; detail: string }[];
  deadline: number | undefined;
}

type QueueItem =
  | { t: number; seq: number; kind: 'deliver'; to: string; from: MemberKey; channel: 'control' | 'data' | 'unicast'; bytes: Uint8Array }
  | { t: number; seq: number; kind: 'event'; ev: ScenarioEvent | { do: 'sendOne'; peer: string; text: string } | { do: 'joinOne'; peer: string; via: string[] } }
  | { t: number; seq: number; kind: 'tick'; to: string }
  | { t: number; seq: number; kind: 'fanout'; from: MemberKey; channel: 'control' | 'data'; bytes: Uint8Array; recipients: { to: string; t: number }[]; next: number };

class Heap {
  private a: QueueItem[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: QueueItem): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): QueueItem | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  peek(): QueueItem | undefined {
    return this.a[0];
  }
}
function less(x: QueueItem, y: QueueItem): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

export interface Operation {
  op: string;
  at: number;
  controlMessages: number;
  controlBytes: number;
  convergedAt: number | null;
  convergeMs: number | null;
}

export interface SimReport {
  ok: boolean;
  converged: boolean;
  seed: number;
  until: number;
  members: {
    name: string;
    id: string;
    key: string;
    state: 'member' | 'excluded' | 'left' | 'crashed' | 'joining';
    tek: { version: number; revision: number; fingerprint: string; origin: unknown } | null;
    keysHeld: number;
    ownerOf: string[];
    rejected: { reason: string; count: number; examples: string[] }[];
  }[];
  messages: { from: string; at: number; text: string; readBy: string[] }[];
  violations: { backward: string[]; forward: string[]; missed: string[] };
  stats: {
    controlMessages: number;
    controlBytes: number;
    dataMessages: number;
    unicastMessages: number;
    unicastBytes: number;
    deliveries: number;
    operations: Operation[];
    panelRounds: number;
    panelRecoveries: number;
    wallMs?: number;
  };
  errors: string[];
}

const GROUP = '00'.repeat(15) + '01';

export class Simulation {
  private readonly params: GroupParams;
  private readonly crypto: CryptoProvider;
  private readonly net: SeededRandom;
  private readonly peers = new Map<string, Peer>();
  private readonly byKey = new Map<MemberKey, Peer>();
  private readonly pinned = new Map<MemberKey, number[]>();
  private readonly queue = new Heap();
  private seq = 0;
  private now = 0;
  private loss: number;
  private partition: Map<string, number> | null = null;
  private readonly control: RecordedControl[] = [];
  private readonly data: (RecordedData & { text: string; readBy: Set<string>; msgId: string })[] = [];
  private readonly operations: Operation[] = [];
  private readonly disturbances: number[] = [];
  private stats = { controlMessages: 0, controlBytes: 0, dataMessages: 0, unicastMessages: 0, unicastBytes: 0, deliveries: 0, panelRounds: 0, panelRecoveries: 0 };
  private readonly errors: string[] = [];
  private lastConvergenceCheck = -Infinity;
  private readonly groupBytes = fromHex(GROUP);

  constructor(
    private readonly scenario: Scenario,
    private readonly options: SimOptions,
  ) {
    const p = scenario.params;
    this.params = {
      ...DEFAULT_PARAMS,
      W: p.W,
      V: p.V,
      heartbeatMs: p.heartbeatMs,
      graceMs: p.graceMs,
      listenMs: p.listenMs ?? 2 * p.heartbeatMs,
      refreshRevisionMs: p.refreshRevisionMs,
      refreshVersionMs: p.refreshVersionMs,
      failoverIntervals: p.failoverIntervals,
      fetchAfterMs: p.fetchAfterMs ?? 2 * p.heartbeatMs,
      panelSize: p.panelSize,
      policy: { exclude: 'any-member' },
    };
    this.crypto = options.crypto ?? nodeCrypto;
    this.net = new SeededRandom(`${options.seed}:network`);
    this.loss = scenario.network.loss;
    for (const sp of scenario.peers) {
      const peer = this.peer(sp.name);
      if (sp.id) this.pinned.set(peer.key, symbolsFromBytes(fromHex(sp.id.toLowerCase().padEnd(Math.ceil((p.W * Math.log2(p.V)) / 4), '0')), p.W, p.V));
    }
    for (const ev of scenario.events) {
      if (ev.do === 'joinMany') {
        const vias = Array.isArray(ev.via) ? ev.via : [ev.via];
        for (let i = 0; i < ev.count; i++) {
          const at = ev.at + (ev.count > 1 ? (ev.spreadMs * i) / ev.count : 0);
          this.push({ t: at, seq: 0, kind: 'event', ev: { do: 'joinOne', peer: `${ev.prefix}${i}`, via: [vias[i % vias.length]!] } });
        }
      } else this.push({ t: ev.at, seq: 0, kind: 'event', ev });
    }
  }

  private push(x: QueueItem): void {
    x.seq = this.seq++;
    this.queue.push(x);
  }

  private peer(name: string): Peer {
    let p = this.peers.get(name);
    if (p) return p;
    const seed = sha256(new TextEncoder().encode(`conclave-sim-identity:${this.options.seed}:${name}`));
    const key = toHex(this.crypto.ed25519PublicKey(seed));
    p = {
      name,
      seed,
      key,
      engine: null,
      snapshot: null,
      crashed: false,
      state: 'none',
      joinedAt: null,
      admittedAt: null,
      removedAt: null,
      everKeys: new Map(),
      versionsSeen: new Set(),
      rng: new SeededRandom(`${this.options.seed}:peer:${name}`),
      rejected: [],
      deadline: undefined,
    };
    this.peers.set(name, p);
    this.byKey.set(key, p);
    return p;
  }

  private deps(p: Peer): EngineDeps {
    const base: EngineDeps = { crypto: this.crypto, rng: p.rng.asRng(), admission: admitEveryone, participantIds: this.pinned };
    // Fractional-key panel (issue 4 §7): same crypto, the peer's RNG; a process may take ten heartbeats.
    if (this.params.panelSize >= 4) {
      base.panel = new FractionalPanel({ crypto: this.crypto, rng: base.rng }, p.seed, { processTimeoutMs: 10 * this.params.heartbeatMs });
    }
    return this.options.decorateDeps ? this.options.decorateDeps(p.name, base) : base;
  }

  run(): SimReport {
    const started = Date.now();
    const until = this.scenario.until;
    for (;;) {
      const next = this.queue.peek();
      if (!next || next.t > until) break;
      this.queue.pop();
      this.now = next.t;
      switch (next.kind) {
        case 'deliver': {
          const p = this.peers.get(next.to);
          if (!p || !p.engine || p.crashed) break;
          this.stats.deliveries++;
          p.engine.receive(next.from, next.channel, next.bytes, this.now);
          this.drain(p);
          break;
        }
        case 'tick': {
          const p = this.peers.get(next.to);
          if (!p || !p.engine || p.crashed || (p.deadline !== undefined && Math.max(p.deadline, 0) > next.t)) break;
          p.deadline = undefined;
          p.engine.tick(this.now);
          this.ticking = p.name;
          this.drain(p);
          this.ticking = null;
          break;
        }
        case 'event':
          this.runEvent(next.ev);
          break;
        case 'fanout': {
          // One queue item per publication, re-queued at each recipient's arrival time.
          const r = next.recipients[next.next++]!;
          if (next.next < next.recipients.length) {
            next.t = next.recipients[next.next]!.t;
            this.push(next);
          }
          const p = this.peers.get(r.to);
          if (!p || !p.engine || p.crashed || !this.reachable(this.byKey.get(next.from)?.name ?? '', r.to)) break;
          this.stats.deliveries++;
          p.engine.receive(next.from, next.channel, next.bytes, this.now);
          this.drain(p);
          break;
        }
      }
      this.checkConvergence(false);
    }
    this.now = until;
    this.checkConvergence(true);
    const report = this.report();
    report.stats.wallMs = Date.now() - started;
    return report;
  }

  // ------------------------------------------------------------ scenario events

  private startOperation(op: string): void {
    this.operations.push({ op, at: this.now, controlMessages: 0, controlBytes: 0, convergedAt: null, convergeMs: null });
  }

  private runEvent(ev: QueueItem extends infer Q ? (Q extends { kind: 'event'; ev: infer E } ? E : never) : never): void {
    try {
      this.runEventUnsafe(ev);
    } catch (e) {
      this.errors.push(`t=${this.now} ${ev.do}: ${(e as Error).message}`);
    }
  }

  private runEventUnsafe(ev: QueueItem extends infer Q ? (Q extends { kind: 'event'; ev: infer E } ? E : never) : never): void {
    switch (ev.do) {
      case 'create': {
        const p = this.peer(ev.peer);
        const policy = ev.policy
          ? ev.policy.exclude === 'admins'
            ? { exclude: 'admins' as const, admins: ev.policy.admins.map((n) => this.peer(n).key) }
            : { exclude: 'any-member' as const }
          : this.params.policy;
        p.engine = GroupEngine.create(this.deps(p), { seed: p.seed, name: p.name }, {
          group: GROUP,
          name: 'sim',
          params: { ...this.params, policy },
          now: this.now,
          listenFirst: ev.listen ?? false,
        });
        this.startOperation(`create ${ev.peer}`);
        this.drain(p);
        break;
      }
      case 'join':
      case 'joinOne': {
        const p = this.peer(ev.peer);
        const vias = ev.do === 'join' ? [ev.via] : ev.via;
        const contacts = vias.map((v) => this.peer(v).key);
        const creator = [...this.peers.values()].find((x) => x.engine && x.engine.state() === 'member');
        const params = creator?.engine?.params ?? this.params;
        p.engine = GroupEngine.join(this.deps(p), { seed: p.seed, name: p.name }, { group: GROUP, name: 'sim', params, credential: new Uint8Array(0), contacts, now: this.now });
        if (ev.do === 'join' || !this.operations.length || !this.operations[this.operations.length - 1]!.op.startsWith('joinMany')) {
          this.startOperation(ev.do === 'join' ? `join ${ev.peer}` : `joinMany`);
        }
        this.drain(p);
        break;
      }
      case 'joinMany':
        break; // expanded at load time
      case 'bootstrap': {
        const peers = [ev.creator, ...Array.from({ length: ev.count }, (_, i) => `${ev.prefix}${i}`)].map((n) => this.peer(n));
        const probe = GroupEngine.create(this.deps(peers[0]!), { seed: peers[0]!.seed, name: peers[0]!.name }, { group: GROUP, name: 'sim', params: this.params, now: this.now });
        const members = peers.map((p) => ({ key: p.key, name: p.name, id: probe.participantIdOf(p.key) }));
        // Engines consult the pinned map first: the IDs are computed once, not once per engine.
        for (const m of members) if (!this.pinned.has(m.key)) this.pinned.set(m.key, m.id);
        const states = settledGroupStates(GROUP, 'sim', this.params, members, peers[0]!.rng.asRng(), this.now);
        this.startOperation(`bootstrap ${peers.length}`);
        peers.forEach((p, i) => {
          p.engine = GroupEngine.restoreState(this.deps(p), { seed: p.seed, name: p.name }, states[i]!, this.now);
          p.state = 'member';
          p.joinedAt = this.now;
          p.admittedAt = this.now;
          this.collectKeys(p);
          this.drain(p);
        });
        break;
      }
      case 'send':
        this.sendFrom(this.peer(ev.peer), ev.text);
        break;
      case 'sendOne':
        this.sendFrom(this.peer(ev.peer), ev.text);
        break;
      case 'sendAll': {
        let i = 0;
        for (const p of this.peers.values()) {
          if (p.engine?.state() === 'member' && !p.crashed) {
            // Spread sends over a few milliseconds, as users would.
            this.push({ t: this.now + i++, seq: 0, kind: 'event', ev: { do: 'sendOne', peer: p.name, text: ev.text } });
          }
        }
        break;
      }
      case 'exclude': {
        const by = this.peer(ev.by);
        this.startOperation(`exclude ${ev.peers.join(',')} by ${ev.by}`);
        this.disturb();
        const targets = ev.peers.map((n) => this.peer(n).key);
        if (by.engine && by.engine.state() === 'member' && !by.engine.canExclude()) {
          // An unauthorized peer: emulate a malicious client that skips its own policy
          // check, so every other member's authorization is what gets tested.
          this.maliciousExclude(by, targets);
          break;
        }
        try {
          by.engine?.exclude(targets, this.now);
        } catch (e) {
          this.errors.push(`t=${this.now} exclude by ${ev.by} refused locally: ${(e as Error).message}`);
        }
        this.drain(by);
        break;
      }
      case 'leave': {
        const p = this.peer(ev.peer);
        this.startOperation(`leave ${ev.peer}`);
        this.disturb();
        this.collectKeys(p);
        p.engine?.leave(this.now);
        p.state = 'left';
        p.removedAt = this.now;
        this.drain(p);
        break;
      }
      case 'loss':
        this.loss = ev.rate;
        this.disturb();
        break;
      case 'crash': {
        const p = this.peer(ev.peer);
        if (p.engine) p.snapshot = p.engine.snapshot();
        p.crashed = true;
        this.startOperation(`crash ${ev.peer}`);
        this.disturb();
        break;
      }
      case 'restart': {
        const p = this.peer(ev.peer);
        if (p.snapshot) p.engine = GroupEngine.restore(this.deps(p), { seed: p.seed, name: p.name }, p.snapshot, this.now);
        p.crashed = false;
        this.startOperation(`restart ${ev.peer}`);
        this.disturb();
        this.drain(p);
        break;
      }
      case 'partition': {
        this.partition = new Map();
        ev.groups.forEach((g, i) => g.forEach((n) => this.partition!.set(n, i)));
        this.startOperation('partition');
        this.disturb();
        break;
      }
      case 'heal':
        this.partition = null;
        this.startOperation('heal');
        this.disturb();
        break;
    }
  }

  private maliciousExclude(by: Peer, targets: MemberKey[]): void {
    const state = decodeState(by.engine!.snapshot());
    state.params = { ...state.params, policy: { exclude: 'any-member' } };
    const forger = GroupEngine.restore(this.deps(by), { seed: by.seed, name: by.name }, encodeState(state), this.now);
    forger.exclude(targets, this.now);
    this.unauthorizedAttempts++;
    for (let t = forger.pollTransmit(); t; t = forger.pollTransmit()) {
      if (t.kind !== 'publish' || t.topic !== 'control') continue;
      this.control.push({ at: this.now, from: by.name, bytes: t.bytes });
      for (const q of this.peers.values()) {
        if (q === by || !q.engine || q.crashed || !this.reachable(by.name, q.name)) continue;
        this.push({ t: this.now + this.latency(), seq: 0, kind: 'deliver', to: q.name, from: by.key, channel: 'control', bytes: t.bytes });
      }
    }
  }
  private unauthorizedAttempts = 0;

  private disturb(): void {
    this.disturbances.push(this.now);
  }

  private sendFrom(p: Peer, text: string): void {
    if (!p.engine || p.crashed || p.engine.state() !== 'member') return;
    const msgId = `${p.name}#${this.data.length}`;
    p.engine.send(new TextEncoder().encode(JSON.stringify({ id: msgId, text })), this.now);
    this.pendingSend = { msgId, text, blocked: new Set(p.engine.blocklist()) };
    this.drain(p);
    this.pendingSend = null;
  }
  private ticking: string | null = null;
  private readonly panelRoundsSeen = new Set<string>();
  private readonly panelRecoveriesSeen = new Set<string>();
  private lastRevisionStepAt = -Infinity;
  private pendingSend: { msgId: string; text: string; blocked: Set<MemberKey> } | null = null;
  private heldSends = new Map<string, { msgId: string; text: string }[]>();

  // ------------------------------------------------------------ engine I/O

  private reachable(a: string, b: string): boolean {
    if (!this.partition) return true;
    return (this.partition.get(a) ?? -1) === (this.partition.get(b) ?? -1);
  }

  private latency(): number {
    const [lo, hi] = this.scenario.network.latencyMs;
    return Math.round(lo + this.net.next() * (hi - lo));
  }

  private drain(p: Peer): void {
    const e = p.engine;
    if (!e) return;
    let keysChanged = false;
    for (let t = e.pollTransmit(); t; t = e.pollTransmit()) {
      if (t.kind === 'publish') {
        if (t.topic === 'control') {
          this.stats.controlMessages++;
          this.stats.controlBytes += t.bytes.length;
          const op = this.operations[this.operations.length - 1];
          if (op) {
            op.controlMessages++;
            op.controlBytes += t.bytes.length;
          }
          this.control.push({ at: this.now, from: p.name, bytes: t.bytes });
          if (this.net.next() < this.loss) continue; // lost for everyone (one multicast)
        } else {
          this.stats.dataMessages++;
          const send = this.pendingSend ?? this.heldSends.get(p.name)?.shift();
          this.data.push({
            index: this.data.length,
            at: this.now,
            from: p.name,
            bytes: t.bytes,
            senderBlocked: new Set(e.blocklist()),
            text: send?.text ?? '',
            readBy: new Set(),
            msgId: send?.msgId ?? '',
          });
        }
        const recipients: { to: string; t: number }[] = [];
        for (const q of this.peers.values()) {
          if (q === p || !q.engine || q.crashed || !this.reachable(p.name, q.name)) continue;
          if (t.topic === 'control' && this.loss > 0 && this.net.next() < this.loss / 2) continue; // per-link loss
          recipients.push({ to: q.name, t: this.now + this.latency() });
        }
        if (recipients.length) {
          recipients.sort((x, y) => x.t - y.t);
          this.push({ t: recipients[0]!.t, seq: 0, kind: 'fanout', from: p.key, channel: t.topic, bytes: t.bytes, recipients, next: 0 });
        }
      } else {
        this.stats.unicastMessages++;
        this.stats.unicastBytes += t.bytes.length;
        const q = this.byKey.get(t.to);
        if (!q || !this.reachable(p.name, q.name)) continue;
        this.push({ t: this.now + this.latency(), seq: 0, kind: 'deliver', to: q.name, from: p.key, channel: 'unicast', bytes: t.bytes });
      }
    }
    if (this.pendingSend && !this.data.some((d) => d.msgId === this.pendingSend!.msgId)) {
      // The engine held the message (TEK not yet covering its blocklist): it goes out later.
      const list = this.heldSends.get(p.name) ?? [];
      list.push({ msgId: this.pendingSend.msgId, text: this.pendingSend.text });
      this.heldSends.set(p.name, list);
    }
    for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) {
      if (this.onEvent(p, ev)) keysChanged = true;
    }
    if (keysChanged) this.collectKeys(p);
    let d = e.nextDeadline();
    if (d !== undefined && d <= this.now && this.ticking === p.name) {
      // The engine asked to be woken at a time that has already passed right after a tick: a bug.
      if (this.errors.length < 20) this.errors.push(`t=${this.now} ${p.name}: engine deadline ${d} did not advance past its tick`);
      d = this.now + 1;
    }
    if (d !== p.deadline) {
      p.deadline = d;
      if (d !== undefined) this.push({ t: Math.max(d, this.now), seq: 0, kind: 'tick', to: p.name });
    }
  }

  private onEvent(p: Peer, ev: EngineEvent): boolean {
    switch (ev.type) {
      case 'joined':
        if (p.joinedAt === null) p.joinedAt = this.now;
        p.state = 'member';
        return true;
      case 'member-admitted': {
        const m = this.byKey.get(ev.member);
        if (m && m.admittedAt === null) m.admittedAt = this.now;
        return false;
      }
      case 'self-excluded':
        p.state = 'excluded';
        if (p.removedAt === null) p.removedAt = this.now;
        return false;
      case 'key-changed': {
        if (ev.slot.kind === 'tek' && /revision/.test(ev.reason)) this.lastRevisionStepAt = this.now;
        // A revision step teaches nothing new (it is derivable forward); a new version does.
        const id = `${ev.slot.kind === 'tek' ? 0 : `${ev.slot.symbol}/${ev.slot.value}`}:${ev.version}`;
        if (p.versionsSeen.has(id)) return false;
        p.versionsSeen.add(id);
        return true;
      }
      case 'data': {
        try {
          const { id } = JSON.parse(new TextDecoder().decode(ev.payload)) as { id: string };
          const rec = this.data.find((d) => d.msgId === id);
          rec?.readBy.add(p.name);
        } catch {
          this.errors.push(`${p.name} decrypted a payload that is not a simulator message`);
        }
        return false;
      }
      case 'rejected':
        p.rejected.push({ at: this.now, from: this.byKey.get(ev.from)?.name ?? ev.from.slice(0, 8), reason: ev.reason, detail: ev.detail });
        return false;
      case 'log': {
        // Every member logs the same round or recovery: count each once.
        if (ev.entry.kind === 'panel-round') {
          const round = /TEK v(\d+) from panel round (\d+)/.exec(ev.entry.text);
          if (round) this.panelRoundsSeen.add(`${round[1]}:${round[2]}`);
          this.stats.panelRounds = this.panelRoundsSeen.size;
        }
        if (ev.entry.kind === 'panel-recovery') {
          this.panelRecoveriesSeen.add(ev.entry.text);
          this.stats.panelRecoveries = this.panelRecoveriesSeen.size;
        }
        return false;
      }
      default:
        return false;
    }
  }

  /** Records every key this peer holds now: an excluded peer keeps them all (oracle input). */
  private collectKeys(p: Peer): void {
    if (!p.engine || p.state === 'excluded' || p.state === 'left') return;
    for (const k of p.engine.exportKeyMaterial()) {
      // Keep the lowest revision of each key version: later ones are derivable from it.
      const id = `${k.slot}:${k.version}:${k.creators.join(',')}`;
      const cur = p.everKeys.get(id);
      if (!cur || cur.revision > k.revision) p.everKeys.set(id, { ...k, key: Uint8Array.from(k.key) });
    }
  }

  // ------------------------------------------------------------ convergence

  private liveMembers(): Peer[] {
    return [...this.peers.values()].filter((p) => p.engine && !p.crashed && p.engine.state() === 'member');
  }

  /**
   * Agreement: every live member holds the same TEK version (same creators), the same
   * blocklist, and the same revision — unless a revision step was made within the
   * last maximum latency, which is still in flight (docs/simulator.md).
   */
  private agreement(): boolean {
    const live = this.liveMembers();
    if (live.length === 0) return true;
    const inFlight = this.now - this.lastRevisionStepAt <= this.scenario.network.latencyMs[1];
    let ref: string | null = null;
    for (const p of live) {
      const sig = p.engine!.convergenceSignature(!inFlight);
      if (ref === null) ref = sig;
      else if (sig !== ref) return false;
    }
    return true;
  }

  private checkConvergence(force: boolean): void {
    if (!force && this.now - this.lastConvergenceCheck < 100) return;
    this.lastConvergenceCheck = this.now;
    const open = this.operations.filter((o) => o.convergedAt === null);
    if (open.length === 0) return;
    if (this.agreement()) {
      for (const o of open) {
        o.convergedAt = this.now;
        o.convergeMs = this.now - o.at;
      }
    }
  }

  // ------------------------------------------------------------ report

  private settleMs(): number {
    if (this.scenario.settleMs !== undefined) return this.scenario.settleMs;
    const hi = this.scenario.network.latencyMs[1];
    return 2 * this.params.fetchAfterMs + (this.params.failoverIntervals + 3) * this.params.heartbeatMs + 8 * hi;
  }

  private report(): SimReport {
    const violations = { backward: [] as string[], forward: [] as string[], missed: [] as string[] };
    this.oracle(violations);
    const converged = this.agreement();
    const members = [...this.peers.values()]
      .filter((p) => p.engine || p.state !== 'none')
      .map((p) => {
        const e = p.engine;
        const state = p.crashed ? 'crashed' : p.state === 'excluded' || p.state === 'left' ? p.state : e?.state() === 'member' ? 'member' : e?.state() === 'excluded' ? 'excluded' : 'joining';
        const t = e?.tekInfo() ?? null;
        const table = e && e.state() === 'member' ? e.keyTable(this.now) : null;
        const ownerOf = table ? [...(table.tek && table.tek.owner === p.key ? [table.tek] : []), ...table.slots.filter((s) => s.held && s.owner === p.key)].map((s) => (s.slot.kind === 'tek' ? 'TEK' : `KEK(${s.slot.symbol},${s.slot.value})`)) : [];
        const byReason = new Map<string, { count: number; examples: string[] }>();
        for (const r of p.rejected) {
          const b = byReason.get(r.reason) ?? { count: 0, examples: [] };
          b.count++;
          if (b.examples.length < 3) b.examples.push(`t=${Math.round(r.at)} from ${r.from}: ${r.detail}`);
          byReason.set(r.reason, b);
        }
        const origin = t ? (t.origin.kind === 'single' ? { kind: 'single', creator: this.byKey.get(t.origin.creator)?.name ?? t.origin.creator } : t.origin.kind === 'panel' ? { kind: 'panel', round: t.origin.round, members: t.origin.members.map((m) => this.byKey.get(m)?.name ?? m) } : { kind: 'merge', creators: t.origin.creators.map((m) => this.byKey.get(m)?.name ?? m) }) : null;
        return {
          name: p.name,
          id: e ? idToString(e.selfId) : '',
          key: p.key,
          state: state as SimReport['members'][number]['state'],
          tek: t ? { version: t.version, revision: t.revision, fingerprint: t.fingerprint, origin } : null,
          keysHeld: table ? (table.tek ? 1 : 0) + table.slots.filter((s) => s.held).length : 0,
          ownerOf,
          rejected: [...byReason.entries()].map(([reason, b]) => ({ reason, ...b })),
        };
      });
    const ok = converged && violations.backward.length === 0 && violations.forward.length === 0 && violations.missed.length === 0 && this.errors.length === 0;
    return {
      ok,
      converged,
      seed: this.options.seed,
      until: this.scenario.until,
      members,
      messages: this.data.filter((d) => d.msgId).map((d) => ({ from: d.from, at: Math.round(d.at), text: d.text, readBy: [...d.readBy].sort() })),
      violations,
      stats: { ...this.stats, operations: this.operations },
      errors: this.errors,
    };
  }

  private oracle(v: { backward: string[]; forward: string[]; missed: string[] }): void {
    const removed = [...this.peers.values()].filter((p) => p.removedAt !== null);
    const check = (label: string, members: Peer[], keys: KnownKey[]) => {
      const since = Math.min(...members.map((m) => m.removedAt!));
      const adv = new Adversary(this.crypto, this.groupBytes, keys);
      adv.absorbControl(this.control.filter((c) => c.at >= since));
      const memberKeys = members.map((m) => m.key);
      for (const d of this.data) {
        if (d.at < since) continue;
        const after = memberKeys.every((k) => d.senderBlocked.has(k));
        if (after && adv.canRead(d)) v.forward.push(`${label} read "${d.text}" sent by ${d.from} at ${Math.round(d.at)} after its exclusion`);
      }
      const created = this.tekCreations();
      for (const tk of adv.learnedTeks) {
        const bl = created.get(`${tk.version}:${tk.creators.join(',')}`);
        if (bl && memberKeys.every((k) => bl.has(k))) v.forward.push(`${label} learned TEK v${tk.version} created after its exclusion`);
      }
    };
    for (const p of removed) check(p.name, [p], [...p.everKeys.values()]);
    if (removed.length > 1) check(`coalition(${removed.map((p) => p.name).join('+')})`, removed, removed.flatMap((p) => [...p.everKeys.values()]));
    // The outside eavesdropper: no keys, all traffic.
    const eve = new Adversary(this.crypto, this.groupBytes, []);
    eve.absorbControl(this.control);
    for (const d of this.data) if (eve.canRead(d)) v.forward.push(`eavesdropper read "${d.text}"`);

    // Backward secrecy: nobody reads what was sent before its admission.
    for (const p of this.peers.values()) {
      if (p.admittedAt === null) continue;
      const adv = new Adversary(this.crypto, this.groupBytes, [...p.everKeys.values()]);
      for (const d of this.data) if (d.at < p.admittedAt && d.from !== p.name && adv.canRead(d)) v.backward.push(`${p.name} (admitted at ${Math.round(p.admittedAt)}) can read "${d.text}" sent at ${Math.round(d.at)}`);
    }

    // Missed: a settled member that should have read a message did not.
    const settle = this.settleMs();
    const settledAt = (t: number) => this.disturbances.every((x) => t - x >= settle || x - t >= settle) && t + settle <= this.scenario.until;
    for (const d of this.data) {
      if (!d.msgId || !settledAt(d.at)) continue;
      for (const p of this.peers.values()) {
        if (p.name === d.from || p.crashed || p.state !== 'member' || p.joinedAt === null || p.joinedAt > d.at - settle) continue;
        if (p.engine?.state() !== 'member') continue;
        if (!this.reachable(d.from, p.name)) continue;
        if (!d.readBy.has(p.name)) v.missed.push(`${p.name} did not read "${d.text}" from ${d.from} at ${Math.round(d.at)}`);
      }
    }
  }

  /** TEK (version, creators) → the blocklist its table was created against (from the public headers). */
  private tekCreations(): Map<string, Set<MemberKey>> {
    const out = new Map<string, Set<MemberKey>>();
    for (const c of this.control) {
      try {
        const m = decodeTableOnly(this.groupBytes, c.bytes);
        if (!m) continue;
        const creators = m.header.panel ? [...m.header.panel.members].sort() : [m.header.excluder];
        const id = `${m.header.newVersion}:${creators.join(',')}`;
        if (!out.has(id)) out.set(id, new Set(m.header.blocklist));
      } catch {
        /* not a table */
      }
    }
    return out;
  }

  /** For tests: every control publication so far (time, bytes), in order. */
  controlLog(): readonly RecordedControl[] {
    return this.control;
  }
  /** For tests: every data publication so far. */
  dataLog(): readonly { at: number; from: string; bytes: Uint8Array; text: string }[] {
    return this.data;
  }
  /** For tests: advance the run to `until` (can be called repeatedly with later times). */
  runUntil(until: number): SimReport {
    (this.scenario as { until: number }).until = until;
    return this.run();
  }
  /** For tests: the engine of a peer. */
  engineOf(name: string): GroupEngine | null {
    return this.peers.get(name)?.engine ?? null;
  }
  keyOf(name: string): MemberKey {
    return this.peer(name).key;
  }
}

function decodeTableOnly(group: Uint8Array, bytes: Uint8Array) {
  const m = decodeMessage(group, 'control', bytes);
  return m.type === MsgType.Table ? m : null;
}

export function runScenario(scenario: Scenario, options: SimOptions): SimReport {
  return new Simulation(scenario, options).run();
}

