/**
 * @module peer/traffic
 * The encrypted data messages one group keeps for catch-up (issue 5 §7;
 * `catch-up.ts` serves them): every data message accepted from the topic or
 * published here, as it travelled, with its author and arrival time, kept in the
 * group's traffic log (`profile.append(group, 'traffic', …)`).
 *
 * Invariants:
 * - Kept even when this member cannot read it: others may.
 * - One copy per message (by SHA-256 of its bytes), also across restarts.
 * - Bounded: once more than twice `keep` are held, the oldest are dropped down
 *   to `keep` and the log is rewritten with what is left.
 */
import { createHash } from 'node:crypto';
import type { MemberKey } from '../core/types.js';
import type { Profile } from '../store/profile.js';
import { fromBase64, toBase64 } from '../store/seal.js';

export interface TrafficItem {
  from: MemberKey;
  bytes: Uint8Array;
  at: number;
}

function parseTraffic(value: unknown): TrafficItem | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { from?: unknown; b?: unknown; at?: unknown };
  if (typeof v.from !== 'string' || !/^[0-9a-f]{64}$/.test(v.from) || typeof v.b !== 'string' || typeof v.at !== 'number') return null;
  const bytes = fromBase64(v.b);
  return bytes ? { from: v.from, bytes, at: v.at } : null;
}

const digestOf = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');

export class TrafficLog {
  private items: TrafficItem[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly profile: Profile,
    private readonly group: string,
    private readonly keepCount: number,
  ) {
    const traffic = profile.read(group, 'traffic', parseTraffic);
    this.items = traffic.records.slice(-keepCount);
    for (const t of this.items) this.seen.add(digestOf(t.bytes));
  }

  get size(): number {
    return this.items.length;
  }

  keep(item: TrafficItem): void {
    const digest = digestOf(item.bytes);
    if (this.seen.has(digest)) return;
    this.seen.add(digest);
    this.items.push(item);
    this.profile.append(this.group, 'traffic', { from: item.from, b: toBase64(item.bytes), at: item.at });
    if (this.items.length > this.keepCount * 2) {
      this.items = this.items.slice(-this.keepCount);
      this.seen.clear();
      for (const t of this.items) this.seen.add(digestOf(t.bytes));
      this.profile.rewrite(this.group, 'traffic', this.items.map((t) => ({ from: t.from, b: toBase64(t.bytes), at: t.at })));
    }
  }

  /** Kept traffic received at or after `since`, oldest first, capped. */
  since(since: number, max: number): TrafficItem[] {
    const items = this.items.filter((t) => t.at >= since);
    return items.slice(-max);
  }
}
