/**
 * @module sim/network
 * The in-memory transport (docs/simulator.md "Network model"). It is a real
 * transport for the engine, not a mock: it carries the engine's bytes to the
 * other peers with a latency, loses some, and honours partitions.
 *
 * - A publication goes to every other running peer in the sender's partition, each
 *   copy with its own latency drawn uniformly from `latencyMs` (integer ms), as one
 *   `fanout` queue item. Reachability is checked again when each copy arrives.
 * - Loss applies to the control topic only: a fraction `loss` of publications is lost
 *   for everyone, and each remaining copy with probability `loss / 2`. Data and
 *   unicast ride gossipsub mesh forwarding and Noise streams, which retransmit.
 * - A unicast goes to one peer if reachable when sent.
 * - `inject` delivers a message that no engine published (the malicious-client
 *   emulation and the adversaries): one copy per reachable running peer, no loss.
 *
 * Invariants: every random draw (loss, latency) comes from one seeded stream, in
 * the order the engines publish, so a scenario and a seed reproduce a run exactly.
 */
import type { MemberKey } from '../core/types.js';
import { SeededRandom } from './random.js';
import type { Channel, EventQueue, QueueItem } from './queue.js';

/** What the network needs to know about a peer. */
export interface Endpoint {
  readonly name: string;
  readonly key: MemberKey;
  readonly engine: object | null;
  readonly crashed: boolean;
}

export interface NetworkModel {
  latencyMs: [number, number];
  loss: number;
}

export class SimNetwork {
  private readonly rng: SeededRandom;
  private loss: number;
  private partition: Map<string, number> | null = null;

  constructor(
    private readonly model: NetworkModel,
    seed: number,
    private readonly queue: EventQueue,
  ) {
    this.rng = new SeededRandom(`${seed}:network`);
    this.loss = model.loss;
  }

  /** The largest one-way latency, ms. */
  get maxLatency(): number {
    return this.model.latencyMs[1];
  }

  setLoss(rate: number): void {
    this.loss = rate;
  }

  /** Only peers named in the same group hear each other (unnamed peers form one more). */
  split(groups: string[][]): void {
    this.partition = new Map();
    groups.forEach((g, i) => g.forEach((n) => this.partition!.set(n, i)));
  }

  heal(): void {
    this.partition = null;
  }

  reachable(a: string, b: string): boolean {
    if (!this.partition) return true;
    return (this.partition.get(a) ?? -1) === (this.partition.get(b) ?? -1);
  }

  private latency(): number {
    const [lo, hi] = this.model.latencyMs;
    return Math.round(lo + this.rng.next() * (hi - lo));
  }

  private up(p: Endpoint): boolean {
    return p.engine !== null && !p.crashed;
  }

  /** A publication by `from` on a topic, to every other running, reachable peer. */
  publish(now: number, from: Endpoint, topic: 'control' | 'data', bytes: Uint8Array, peers: Iterable<Endpoint>): void {
    if (topic === 'control' && this.rng.next() < this.loss) return; // lost for everyone (one multicast)
    const recipients: { to: string; t: number }[] = [];
    for (const q of peers) {
      if (q === from || !this.up(q) || !this.reachable(from.name, q.name)) continue;
      if (topic === 'control' && this.loss > 0 && this.rng.next() < this.loss / 2) continue; // per-link loss
      recipients.push({ to: q.name, t: now + this.latency() });
    }
    if (recipients.length) {
      recipients.sort((x, y) => x.t - y.t);
      this.queue.push({ t: recipients[0]!.t, seq: 0, kind: 'fanout', from: from.key, fromName: from.name, channel: topic, bytes, recipients, next: 0 });
    }
  }

  /** A unicast by `from` to `to` (absent when the key is no peer's: dropped). */
  unicast(now: number, from: Endpoint, to: Endpoint | undefined, bytes: Uint8Array): void {
    if (!to || !this.reachable(from.name, to.name)) return;
    this.queue.push({ t: now + this.latency(), seq: 0, kind: 'deliver', to: to.name, from: from.key, channel: 'unicast', bytes });
  }

  /**
   * Bytes no engine published, delivered as if `from` had sent them on `channel`, to
   * every running peer reachable from it but itself (`attack`: the attack they belong to).
   */
  inject(now: number, from: Endpoint, channel: Channel, bytes: Uint8Array, peers: Iterable<Endpoint>, attack?: number): void {
    for (const q of peers) {
      if (q.key === from.key || !this.up(q) || !this.reachable(from.name, q.name)) continue;
      this.queue.push({ t: now + this.latency(), seq: 0, kind: 'deliver', to: q.name, from: from.key, channel, bytes, ...(attack === undefined ? {} : { attack }) });
    }
  }

  /**
   * The next copy of a publication arrives: re-queues the item for the copy after it,
   * and returns the recipient's name, or null when partitioned from the sender now.
   */
  arrive(item: Extract<QueueItem, { kind: 'fanout' }>): string | null {
    const r = item.recipients[item.next++]!;
    if (item.next < item.recipients.length) {
      item.t = item.recipients[item.next]!.t;
      this.queue.push(item);
    }
    return this.reachable(item.fromName, r.to) ? r.to : null;
  }
}
