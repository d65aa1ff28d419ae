/**
 * @module peer/traffic
 * The encrypted data messages one group keeps for catch-up (issue 5 §7, issue 19;
 * `catch-up.ts` serves them): every data message accepted from the topic or
 * published here, as it travelled, with its author and arrival time, kept in the
 * group's traffic log (`profile.append(group, 'traffic', …)`), and where known
 * its tag: the author, per-author number and TEK version of the signed message
 * inside (group.ts learns it when the engine opens the packet).
 *
 * Invariants:
 * - Kept even when this member cannot read it: others may (untagged then).
 * - One copy per message (by SHA-256 of its bytes), also across restarts.
 * - Written without fsync (the history log is the durable record; a packet
 *   lost to a machine crash is still kept by the other members): catching up
 *   on n messages costs n fsyncs, not 2n.
 * - Bounded: once more than twice `keep` are held, the oldest are dropped down
 *   to `keep` and the log is rewritten with what is left.
 * - `select` answers a reconciliation summary with what the asker lacks, in
 *   arrival order from a cursor, within a count and a byte budget, and says how
 *   many it would have sent in all (the asker's progress).
 */
import { createHash } from 'node:crypto';
import type { MemberKey } from '../core/types.js';
import type { Profile } from '../store/profile.js';
import { fromBase64, toBase64 } from '../store/seal.js';
import type { Range } from './seq-ranges.js';

/**
 * The signed message inside a packet: author, its number, the TEK version the
 * packet came under. A board re-share (board-share.ts) is tagged with its
 * sharer, number 0 and `for`: the newcomers it was made for (empty when this
 * member received it), the only askers it is served to.
 */
export interface TrafficTag {
  a: MemberKey;
  s: number;
  k: number;
  for?: MemberKey[];
}

export interface TrafficItem {
  from: MemberKey;
  bytes: Uint8Array;
  at: number;
  tag: TrafficTag | null;
}

function parseTag(v: unknown): TrafficTag | null {
  if (typeof v !== 'object' || v === null) return null;
  const t = v as { a?: unknown; s?: unknown; k?: unknown; for?: unknown };
  if (typeof t.a !== 'string' || !/^[0-9a-f]{64}$/.test(t.a) || !Number.isSafeInteger(t.s) || !Number.isSafeInteger(t.k)) return null;
  const tag: TrafficTag = { a: t.a, s: t.s as number, k: t.k as number };
  if (t.for !== undefined) tag.for = Array.isArray(t.for) ? t.for.filter((k): k is string => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k)) : [];
  return tag;
}

function parseTraffic(value: unknown): TrafficItem | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { from?: unknown; b?: unknown; at?: unknown; tag?: unknown };
  if (typeof v.from !== 'string' || !/^[0-9a-f]{64}$/.test(v.from) || typeof v.b !== 'string' || typeof v.at !== 'number') return null;
  const bytes = fromBase64(v.b);
  return bytes ? { from: v.from, bytes, at: v.at, tag: parseTag(v.tag) } : null;
}

const digestOf = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');
const recordOf = (t: TrafficItem) => ({ from: t.from, b: toBase64(t.bytes), at: t.at, ...(t.tag ? { tag: t.tag } : {}) });

function covered(ranges: readonly Range[] | undefined, n: number): boolean {
  if (!ranges) return false;
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid]!;
    if (n < a) hi = mid - 1;
    else if (n > b) lo = mid + 1;
    else return true;
  }
  return false;
}

export interface Selection {
  items: TrafficItem[];
  /** The cursor to resume from (the position after the last item looked at). */
  next: number;
  /** Items at or after the cursor the asker lacks, in all (this reply's and later ones). */
  total: number;
}

export class TrafficLog {
  private items: TrafficItem[] = [];
  /** Position of `items[0]` in this session's numbering (cursors stay valid across compaction). */
  private base = 0;
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
    // Not fsynced: a kill -9 loses no written line, and a packet a machine crash loses is still kept by the other members.
    this.profile.append(this.group, 'traffic', recordOf(item), false);
    if (this.items.length > this.keepCount * 2) {
      const drop = this.items.length - this.keepCount;
      this.items = this.items.slice(drop);
      this.base += drop;
      this.seen.clear();
      for (const t of this.items) this.seen.add(digestOf(t.bytes));
      this.profile.rewrite(this.group, 'traffic', this.items.map(recordOf));
    }
  }

  /**
   * What an asker holding `have` (per author, ranges of numbers) lacks, from
   * position `cursor` on: tagged packets whose (author, number) it does not hold
   * and whose TEK version it can read (`minTek`), and untagged packets (this
   * member could not read them; the asker may). A board re-share goes only to
   * the newcomers it was made for: anyone else already holds its strokes or
   * cannot read it (sealed under a key from before it joined, or one erased
   * since), and an unreadable packet shows as "cannot decrypt".
   */
  select(have: Readonly<Record<MemberKey, readonly Range[]>>, minTek: number, cursor: number, maxItems: number, maxBytes: number, asker?: MemberKey): Selection {
    const items: TrafficItem[] = [];
    let bytes = 0;
    let next = this.base + this.items.length;
    let total = 0;
    for (let i = Math.max(0, cursor - this.base); i < this.items.length; i++) {
      const t = this.items[i]!;
      const wanted = !t.tag ? true : t.tag.for ? asker !== undefined && t.tag.for.includes(asker) && t.tag.k >= minTek : t.tag.k >= minTek && !covered(have[t.tag.a], t.tag.s);
      if (!wanted) continue;
      total++;
      if (next !== this.base + this.items.length) continue;
      if (items.length >= maxItems || bytes + t.bytes.length > maxBytes) {
        next = this.base + i;
        continue;
      }
      items.push(t);
      bytes += t.bytes.length;
    }
    return { items, next, total };
  }
}
