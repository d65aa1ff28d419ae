/**
 * @module sim/driver
 * The scenario driver (docs/simulator.md "Scenario format"): turns each scenario
 * event, when its time comes, into calls on the engines (create, join, send,
 * exclude, leave, crash and restore) or on the network model (loss, partition,
 * heal), and opens an operation in the report for each event that changes
 * membership or the network.
 *
 * - `joinMany` expands at load time into one `joinOne` per joiner, spread evenly;
 *   `sendAll` expands when it runs into one `sendOne` per live member, 1 ms apart.
 * - `exclude` by a member the policy does not allow emulates a malicious client that
 *   skips its own check: a copy of its engine with the policy relaxed signs the
 *   table, and only the other members' authorization stands in the way.
 * - `attack` hands the event to the attack runner (attacks.ts).
 * - A step that throws (a local refusal) becomes a report error, never a crash.
 *
 * Invariants: the driver only calls the engines' public API and drains their
 * output through the host; it draws no randomness of its own.
 */
import { GroupEngine, type EngineDeps } from '../core/engine.js';
import type { CryptoProvider } from '../core/crypto-provider.js';
import type { GroupParams, MemberKey } from '../core/types.js';
import { decodeState, encodeState } from '../core/state.js';
import { settledGroupStates } from './bootstrap.js';
import { SIM_GROUP, collectKeys, type SimPeer } from './peers.js';
import type { DriverEvent, EventQueue } from './queue.js';
import type { SimNetwork } from './network.js';
import type { Recorder } from './report.js';
import type { AttackRunner } from './attacks.js';
import type { ScenarioEvent } from './scenario.js';

/** What the driver needs from the simulation that runs it. */
export interface DriverHost {
  readonly now: number;
  readonly params: GroupParams;
  readonly peers: ReadonlyMap<string, SimPeer>;
  /** Participant IDs fixed by the scenario or computed once (engines consult it first). */
  readonly pinned: Map<MemberKey, number[]>;
  readonly queue: EventQueue;
  readonly network: SimNetwork;
  readonly recorder: Recorder;
  readonly attacks: AttackRunner;
  readonly crypto: CryptoProvider;
  /** The peer of that name, created on first mention. */
  peer(name: string): SimPeer;
  deps(p: SimPeer): EngineDeps;
  /** Moves an engine's output to the network and the recorder, and arms its timer. */
  drain(p: SimPeer): void;
}

export class ScenarioDriver {
  constructor(private readonly host: DriverHost) {}

  /** Queues the scenario's events (expanding `joinMany`). */
  schedule(events: readonly ScenarioEvent[]): void {
    for (const ev of events) {
      if (ev.do === 'joinMany') {
        const vias = Array.isArray(ev.via) ? ev.via : [ev.via];
        for (let i = 0; i < ev.count; i++) {
          const at = ev.at + (ev.count > 1 ? (ev.spreadMs * i) / ev.count : 0);
          this.host.queue.push({ t: at, seq: 0, kind: 'event', ev: { do: 'joinOne', peer: `${ev.prefix}${i}`, via: [vias[i % vias.length]!] } });
        }
      } else this.host.queue.push({ t: ev.at, seq: 0, kind: 'event', ev });
    }
  }

  run(ev: DriverEvent): void {
    try {
      this.runUnsafe(ev);
    } catch (e) {
      this.host.recorder.errors.push(`t=${this.host.now} ${ev.do}: ${(e as Error).message}`);
    }
  }

  private operation(op: string, disturbs: boolean): void {
    this.host.recorder.startOperation(op, this.host.now);
    if (disturbs) this.host.recorder.disturb(this.host.now);
  }

  private runUnsafe(ev: DriverEvent): void {
    const h = this.host;
    switch (ev.do) {
      case 'create':
        return this.create(ev);
      case 'join':
      case 'joinOne': {
        const p = h.peer(ev.peer);
        const vias = ev.do === 'join' ? [ev.via] : ev.via;
        const contacts = vias.map((v) => h.peer(v).key);
        const creator = [...h.peers.values()].find((x) => x.engine && x.engine.state() === 'member');
        const params = creator?.engine?.params ?? h.params;
        p.engine = GroupEngine.join(h.deps(p), { seed: p.seed, name: p.name }, { group: SIM_GROUP, name: 'sim', params, credential: new Uint8Array(0), contacts, now: h.now });
        if (ev.do === 'join' || !h.recorder.inJoinMany()) this.operation(ev.do === 'join' ? `join ${ev.peer}` : `joinMany`, false);
        h.drain(p);
        return;
      }
      case 'joinMany':
        return; // expanded at load time
      case 'bootstrap':
        return this.bootstrap(ev);
      case 'send':
      case 'sendOne':
        return this.sendFrom(h.peer(ev.peer), ev.text);
      case 'sendAll': {
        let i = 0;
        for (const p of h.peers.values()) {
          if (p.engine?.state() === 'member' && !p.crashed) {
            // Spread sends over a few milliseconds, as users would.
            h.queue.push({ t: h.now + i++, seq: 0, kind: 'event', ev: { do: 'sendOne', peer: p.name, text: ev.text } });
          }
        }
        return;
      }
      case 'exclude':
        return this.exclude(ev);
      case 'leave': {
        const p = h.peer(ev.peer);
        this.operation(`leave ${ev.peer}`, true);
        collectKeys(p, h.crypto);
        p.engine?.leave(h.now);
        p.state = 'left';
        p.removedAt = h.now;
        h.drain(p);
        return;
      }
      case 'loss':
        h.network.setLoss(ev.rate);
        h.recorder.disturb(h.now);
        return;
      case 'crash': {
        const p = h.peer(ev.peer);
        if (p.engine) p.snapshot = p.engine.snapshot();
        p.crashed = true;
        this.operation(`crash ${ev.peer}`, true);
        return;
      }
      case 'restart': {
        const p = h.peer(ev.peer);
        if (p.snapshot) p.engine = GroupEngine.restore(h.deps(p), { seed: p.seed, name: p.name }, p.snapshot, h.now);
        p.crashed = false;
        // The tick queued before the crash was dropped: the restored engine's deadline is queued anew (drain).
        p.deadline = undefined;
        this.operation(`restart ${ev.peer}`, true);
        h.drain(p);
        return;
      }
      case 'partition':
        h.network.split(ev.groups);
        this.operation('partition', true);
        return;
      case 'heal':
        h.network.heal();
        this.operation('heal', true);
        return;
      case 'attack':
        // Not an operation and no disturbance: the group must stay settled through it.
        h.attacks.run(ev);
        return;
    }
  }

  private create(ev: Extract<ScenarioEvent, { do: 'create' }>): void {
    const h = this.host;
    const p = h.peer(ev.peer);
    const policy = ev.policy
      ? ev.policy.exclude === 'admins'
        ? { exclude: 'admins' as const, admins: ev.policy.admins.map((n) => h.peer(n).key) }
        : { exclude: 'any-member' as const }
      : h.params.policy;
    p.engine = GroupEngine.create(h.deps(p), { seed: p.seed, name: p.name }, { group: SIM_GROUP, name: 'sim', params: { ...h.params, policy }, now: h.now, listenFirst: ev.listen ?? false });
    this.operation(`create ${ev.peer}`, false);
    h.drain(p);
  }

  private bootstrap(ev: Extract<ScenarioEvent, { do: 'bootstrap' }>): void {
    const h = this.host;
    const peers = [ev.creator, ...Array.from({ length: ev.count }, (_, i) => `${ev.prefix}${i}`)].map((n) => h.peer(n));
    // The creator's own policy, when a `create` event gave it one (review 17: bootstrap used the
    // scenario's default, so a group created under `admins` became `any-member` here).
    const params = peers[0]!.engine ? { ...h.params, policy: peers[0]!.engine.params.policy } : h.params;
    const probe = GroupEngine.create(h.deps(peers[0]!), { seed: peers[0]!.seed, name: peers[0]!.name }, { group: SIM_GROUP, name: 'sim', params, now: h.now });
    const members = peers.map((p) => ({ key: p.key, name: p.name, id: probe.participantIdOf(p.key) }));
    // Engines consult the pinned map first: the IDs are computed once, not once per engine.
    for (const m of members) if (!h.pinned.has(m.key)) h.pinned.set(m.key, m.id);
    const states = settledGroupStates(SIM_GROUP, 'sim', params, members, peers[0]!.rng.asRng(), h.now);
    this.operation(`bootstrap ${peers.length}`, false);
    peers.forEach((p, i) => {
      p.engine = GroupEngine.restoreState(h.deps(p), { seed: p.seed, name: p.name }, states[i]!, h.now);
      p.state = 'member';
      p.joinedAt = h.now;
      p.admittedAt = h.now;
      collectKeys(p, h.crypto);
      h.drain(p);
    });
  }

  private exclude(ev: Extract<ScenarioEvent, { do: 'exclude' }>): void {
    const h = this.host;
    const by = h.peer(ev.by);
    this.operation(`exclude ${ev.peers.join(',')} by ${ev.by}`, true);
    const targets = ev.peers.map((n) => h.peer(n).key);
    if (by.engine && by.engine.state() === 'member' && !by.engine.canExclude()) {
      // An unauthorized peer: emulate a malicious client that skips its own policy
      // check, so every other member's authorization is what gets tested.
      this.maliciousExclude(by, targets);
      return;
    }
    try {
      by.engine?.exclude(targets, h.now);
    } catch (e) {
      h.recorder.errors.push(`t=${h.now} exclude by ${ev.by} refused locally: ${(e as Error).message}`);
    }
    h.drain(by);
  }

  private maliciousExclude(by: SimPeer, targets: MemberKey[]): void {
    const h = this.host;
    const state = decodeState(by.engine!.snapshot());
    state.params = { ...state.params, policy: { exclude: 'any-member' } };
    const forger = GroupEngine.restore(h.deps(by), { seed: by.seed, name: by.name }, encodeState(state), h.now);
    forger.exclude(targets, h.now);
    for (let t = forger.pollTransmit(); t; t = forger.pollTransmit()) {
      if (t.kind !== 'publish' || t.topic !== 'control') continue;
      h.recorder.logControl(h.now, by.name, t.bytes);
      h.network.inject(h.now, by, 'control', t.bytes, h.peers.values());
    }
  }

  private sendFrom(p: SimPeer, text: string): void {
    const h = this.host;
    if (!p.engine || p.crashed || p.engine.state() !== 'member') return;
    const msgId = h.recorder.nextMsgId(p.name);
    p.engine.send(new TextEncoder().encode(JSON.stringify({ id: msgId, text })), h.now);
    h.recorder.beginSend(msgId, text);
    h.drain(p);
    h.recorder.endSend(p.name);
  }
}
