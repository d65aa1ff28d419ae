/**
 * @module sim/simulation
 * A whole group of engines over an in-memory network with a virtual clock
 * (docs/simulator.md). This module composes the simulator's rooms and runs the
 * loop; each room owns one concern:
 *
 * - `queue`   the one time-ordered queue of events, timer wake-ups and packets;
 * - `network` the in-memory transport: latency, loss, partitions (a real transport
 *             for the engine: nothing is mocked);
 * - `driver`  scenario events → engine calls;
 * - `report`  traffic, operations, convergence, and the report;
 * - `oracle`  the secrecy checks over the recorded traffic;
 * - `attacks` active adversaries: attack events, what they did, the attack checks
 *             (crafting in `adversary`);
 * - `peers`   each peer's identity and what the oracle needs about it.
 *
 * The loop pops the next item, sets the clock to its time, hands it to its room,
 * then drains the engine it touched (`drain`: transmits to the network, events to
 * the recorder and the peer's record, the next deadline to the queue).
 *
 * Invariants:
 * - Deterministic: the same scenario and seed give the same report.
 * - Time only moves forward, to the next delivery, scenario event or engine deadline.
 * - An engine that asks to be woken in the past right after a tick is a bug: it is
 *   reported as an error and woken 1 ms later instead of spinning.
 */
import { admitEveryone, type EngineDeps, type GroupEngine } from '../core/engine.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { EngineEvent, GroupParams, MemberKey } from '../core/types.js';
import { DEFAULT_PARAMS, symbolsFromBytes } from '../core/params.js';
import { fromHex } from '../core/bytes.js';
import { nodeCrypto } from '../crypto/node.js';
import { memoizedVerify } from './crypto-memo.js';
import { FractionalPanel } from '../fractional/panel-hook.js';
import type { Scenario } from './scenario.js';
import type { RecordedControl } from './oracle.js';
import { EventQueue } from './queue.js';
import { SimNetwork } from './network.js';
import { ScenarioDriver } from './driver.js';
import { Recorder, type SimReport } from './report.js';
import { SIM_GROUP, collectKeys, newPeer, type SimPeer } from './peers.js';
import { AttackRunner } from './attacks.js';

export type { Operation, SimReport } from './report.js';

export interface SimOptions {
  seed: number;
  crypto?: CryptoProvider;
  /** Called with each peer's engine deps before creation (fractional panels plug in here). */
  decorateDeps?: (name: string, deps: EngineDeps) => EngineDeps;
}

export class Simulation {
  readonly params: GroupParams;
  readonly crypto: CryptoProvider;
  readonly seed: number;
  readonly groupBytes = fromHex(SIM_GROUP);
  readonly peers = new Map<string, SimPeer>();
  private readonly byKey = new Map<MemberKey, SimPeer>();
  readonly pinned = new Map<MemberKey, number[]>();
  readonly queue = new EventQueue();
  readonly network: SimNetwork;
  readonly recorder: Recorder;
  private readonly driver: ScenarioDriver;
  readonly attacks: AttackRunner;
  now = 0;
  /** The peer whose tick is being drained (the deadline check). */
  private ticking: string | null = null;

  constructor(
    readonly scenario: Scenario,
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
    this.seed = options.seed;
    // Default: Node's crypto with verifies remembered across members (same answers; sim/crypto-memo.ts).
    this.crypto = options.crypto ?? memoizedVerify(nodeCrypto);
    this.network = new SimNetwork(scenario.network, options.seed, this.queue);
    this.recorder = new Recorder(this);
    this.driver = new ScenarioDriver(this);
    this.attacks = new AttackRunner(this);
    for (const sp of scenario.peers) {
      const peer = sp.keyBelow ? this.peerKeyBelow(sp.name, this.peer(sp.keyBelow).key) : this.peer(sp.name);
      if (sp.id) this.pinned.set(peer.key, symbolsFromBytes(fromHex(sp.id.toLowerCase().padEnd(Math.ceil((p.W * Math.log2(p.V)) / 4), '0')), p.W, p.V));
    }
    this.driver.schedule(scenario.events);
  }

  /** The peer of that name, created on first mention. */
  peer(name: string): SimPeer {
    let p = this.peers.get(name);
    if (p) return p;
    p = newPeer(this.crypto, this.options.seed, name);
    this.peers.set(name, p);
    this.byKey.set(p.key, p);
    return p;
  }

  /** A peer whose identity key sorts below `than`: the first of name, name#1, name#2… derivations that does. */
  private peerKeyBelow(name: string, than: MemberKey): SimPeer {
    for (let i = 0; ; i++) {
      const p = newPeer(this.crypto, this.options.seed, name, i === 0 ? name : `${name}#${i}`);
      if (p.key < than) {
        this.peers.set(name, p);
        this.byKey.set(p.key, p);
        return p;
      }
    }
  }

  nameOf(key: MemberKey): string | undefined {
    return this.byKey.get(key)?.name;
  }

  deps(p: SimPeer): EngineDeps {
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
        case 'deliver':
          this.deliver(next.to, next.from, next.channel, next.bytes, next.attack);
          break;
        case 'fanout': {
          const to = this.network.arrive(next);
          if (to !== null) this.deliver(to, next.from, next.channel, next.bytes);
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
          this.driver.run(next.ev);
          break;
      }
      this.recorder.checkConvergence(this.now, false);
    }
    this.now = until;
    this.recorder.checkConvergence(this.now, true);
    const report = this.recorder.report(this.now);
    if (this.attacks.active) this.attacks.amend(report);
    report.stats.wallMs = Date.now() - started;
    return report;
  }

  private deliver(to: string, from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array, attack?: number): void {
    const p = this.peers.get(to);
    if (!p || !p.engine || p.crashed) return;
    this.recorder.stats.deliveries++;
    // No closure per delivery (three quarters of a million in the 1,000-member scenario): only attacks observe one.
    if (attack === undefined) this.receiveAndDrain(p, from, channel, bytes);
    else this.attacks.observe(p, from, attack, () => this.receiveAndDrain(p, from, channel, bytes));
  }

  private receiveAndDrain(p: SimPeer, from: MemberKey, channel: 'control' | 'data' | 'unicast', bytes: Uint8Array): Error | null {
    let err: Error | null = null;
    try {
      p.engine!.receive(from, channel, bytes, this.now);
    } catch (e) {
      // Nothing may throw out of the engine (STYLE §7): a report error, not a crash of the run.
      err = e instanceof Error ? e : new Error(String(e));
      this.recorder.errors.push(`t=${this.now} ${p.name}: receive threw ${err.name}: ${err.message.slice(0, 200)}`);
    }
    this.drain(p);
    return err;
  }

  /** Moves an engine's output to the network and the recorder, and arms its timer. */
  drain(p: SimPeer): void {
    const e = p.engine;
    if (!e) return;
    for (let t = e.pollTransmit(); t; t = e.pollTransmit()) {
      if (t.kind === 'publish') {
        if (t.topic === 'control') this.recorder.controlPublished(this.now, p.name, t.bytes);
        else this.recorder.dataPublished(this.now, p.name, t.bytes, e.blocklist());
        this.network.publish(this.now, p, t.topic, t.bytes, this.peers.values());
      } else {
        this.recorder.unicastSent(t.bytes);
        if (this.attacks.active && this.attacks.isAttacker(t.to)) this.attacks.unicastTo(p.key, t.to, t.bytes);
        this.network.unicast(this.now, p, this.byKey.get(t.to), t.bytes);
      }
    }
    let keysChanged = false;
    for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) {
      if (this.onEvent(p, ev)) keysChanged = true;
    }
    if (keysChanged) collectKeys(p, this.crypto);
    let d = e.nextDeadline();
    if (d !== undefined && d <= this.now && this.ticking === p.name) {
      // The engine asked to be woken at a time that has already passed right after a tick: a bug.
      if (this.recorder.errors.length < 20) this.recorder.errors.push(`t=${this.now} ${p.name}: engine deadline ${d} did not advance past its tick`);
      d = this.now + 1;
    }
    if (d !== p.deadline) {
      p.deadline = d;
      if (d !== undefined) this.queue.push({ t: Math.max(d, this.now), seq: 0, kind: 'tick', to: p.name });
    }
  }

  /** An engine event: updates the peer's record and the recorder; true when its keys may have changed. */
  private onEvent(p: SimPeer, ev: EngineEvent): boolean {
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
      case 'member-reinstated':
        // Its own exclusion fell with its excluder's (core/engine/exclusion-contest.ts): a member again.
        if (!ev.members.includes(p.key) || p.state !== 'excluded') return false;
        p.state = 'member';
        p.removedAt = null;
        return true;
      case 'key-changed': {
        if (ev.slot.kind === 'tek' && /revision/.test(ev.reason)) this.recorder.revisionStepped(this.now);
        // A revision step teaches nothing new (it is derivable forward); a new version does.
        const id = `${ev.slot.kind === 'tek' ? 0 : `${ev.slot.symbol}/${ev.slot.value}`}:${ev.version}`;
        if (p.versionsSeen.has(id)) return false;
        p.versionsSeen.add(id);
        return true;
      }
      case 'data':
        this.recorder.read(p.name, ev.payload);
        return false;
      case 'rejected':
        p.rejected.push({ at: this.now, from: this.byKey.get(ev.from)?.name ?? ev.from.slice(0, 8), reason: ev.reason, detail: ev.detail });
        return false;
      case 'log':
        this.recorder.panelLog(ev.entry);
        return false;
      default:
        return false;
    }
  }

  /** For tests: every control publication so far (time, bytes), in order. */
  controlLog(): readonly RecordedControl[] {
    return this.recorder.control;
  }
  /** For tests: every data publication so far. */
  dataLog(): readonly { at: number; from: string; bytes: Uint8Array; text: string }[] {
    return this.recorder.data;
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

export function runScenario(scenario: Scenario, options: SimOptions): SimReport {
  return new Simulation(scenario, options).run();
}
