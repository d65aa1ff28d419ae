/**
 * @module sim/queue
 * The simulator's one time-ordered queue (docs/simulator.md): scenario events,
 * engine timer wake-ups and packets in flight, popped in (time, insertion) order.
 *
 * Invariants:
 * - Ties in time break by insertion order (`seq`), so a run is deterministic.
 * - A `fanout` item is one publication to many recipients; it is re-queued at each
 *   recipient's arrival time instead of queuing one item per copy (thousands of
 *   members would otherwise fill the heap).
 */
import type { MemberKey } from '../core/types.js';
import type { ScenarioEvent } from './scenario.js';

/** A scenario event, or one of the steps the driver expands an event into. */
export type DriverEvent = ScenarioEvent | { do: 'sendOne'; peer: string; text: string } | { do: 'joinOne'; peer: string; via: string[] };

export type Channel = 'control' | 'data' | 'unicast';

export type QueueItem =
  | { t: number; seq: number; kind: 'deliver'; to: string; from: MemberKey; channel: Channel; bytes: Uint8Array; /** index of the attack that sent it */ attack?: number }
  | { t: number; seq: number; kind: 'event'; ev: DriverEvent }
  | { t: number; seq: number; kind: 'tick'; to: string }
  | { t: number; seq: number; kind: 'fanout'; from: MemberKey; fromName: string; channel: 'control' | 'data'; bytes: Uint8Array; recipients: { to: string; t: number }[]; next: number };

/** A binary min-heap on (t, seq); `push` stamps the insertion order. */
export class EventQueue {
  private a: QueueItem[] = [];
  private seq = 0;

  get size(): number {
    return this.a.length;
  }

  push(x: QueueItem): void {
    x.seq = this.seq++;
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      const t = a[p]!;
      a[p] = a[i]!;
      a[i] = t;
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
        const t = a[m]!;
        a[m] = a[i]!;
        a[i] = t;
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
