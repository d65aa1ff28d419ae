/**
 * @module peer/traffic
 * The encrypted data messages one group keeps for catch-up (issue 5 §7, issue 19;
 * `catch-up.ts` serves them): every data message published here, and every one
 * received that opened here and whose signed contents were accepted, as it
 * travelled, with its author and arrival time, kept in the group's traffic log
 * (`profile.append(group, 'traffic', …)`), with its tag: the author, per-author
 * number and TEK version of the signed message inside (group.ts learns it when
 * the engine opens the packet).
 *
 * Invariants:
 * - A received packet is kept only once it opened here (tagged): a catch-up
 *   server names each packet's author itself, so one this member cannot open may
 *   be a forgery credited to anyone, and is never served on (review 7). One the
 *   engine buffered for a key not held yet waits apart, in memory
 *   (`UnopenedTraffic`), and is kept when it opens; its author and the members
 *   that opened it serve it meanwhile. Untagged records from others read back
 *   from an older profile (which kept what it could not open) are dropped.
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
import type { DataPacket, MemberKey } from '../core/types.js';
import { samePacket } from '../core/engine/tek-records.js';
import { decodeMessage, MsgType } from '../core/wire.js';
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

  /** `self`: this member; given, untagged records of others (kept by an older version: never opened here) are dropped. */
  constructor(
    private readonly profile: Profile,
    private readonly group: string,
    private readonly keepCount: number,
    self?: MemberKey,
  ) {
    const traffic = profile.read(group, 'traffic', parseTraffic);
    const records = self === undefined ? traffic.records : traffic.records.filter((t) => t.tag !== null || t.from === self);
    this.items = records.slice(-keepCount);
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
   * and whose TEK version it can read (`minTek`), and untagged packets (only
   * this member's own can be: a received one is kept once it opened, tagged). A board re-share goes only to
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

/** At most this many packets (and bytes) wait unopened: the engine buffers at most 512 (core/engine/context.ts MAX_PENDING_DATA). */
const UNOPENED_MAX = 512;
const UNOPENED_BYTES = 16 * 1024 * 1024;

/** The data packet `bytes` decode to (null: none; the engine refused it then). */
export function dataPacketOf(group: Uint8Array, bytes: Uint8Array): DataPacket | null {
  try {
    const m = decodeMessage(group, 'data', bytes);
    return m.type === MsgType.Data ? m : null;
  } catch {
    return null;
  }
}

/**
 * Packets received that the engine buffered unopened (under a key not held yet),
 * kept apart in memory and never served: `take` hands one back once a `data`
 * event names it as opened (the same packet field for field, `samePacket`: a
 * forgery beside it, even one carrying its nonce, is never taken for it). The
 * oldest go past UNOPENED_MAX packets or UNOPENED_BYTES; one lost so is only not
 * served by this member (its author and the members that opened it have it).
 */
export class UnopenedTraffic {
  /**
   * `live`: it came published, not brought by reconciliation (its arrival bounds its message's time,
   * history.ts); `server`: the catch-up server that brought it (null: live, or not known).
   */
  private held: { item: TrafficItem; packet: DataPacket; live: boolean; server: MemberKey | null }[] = [];
  private bytes = 0;

  get size(): number {
    return this.held.length;
  }

  hold(item: TrafficItem, packet: DataPacket, live = false, server: MemberKey | null = null): void {
    this.held.push({ item, packet, live, server });
    this.bytes += item.bytes.length;
    while (this.held.length > UNOPENED_MAX || this.bytes > UNOPENED_BYTES) this.bytes -= this.held.shift()!.item.bytes.length;
  }

  /** When the packet from `from` that opened as `packet` arrived, if it waits here and came live (null otherwise). */
  liveSince(from: MemberKey, packet: DataPacket): number | null {
    const h = this.held.find((x) => x.item.from === from && samePacket(x.packet, packet));
    return h?.live ? h.item.at : null;
  }

  /**
   * Who answers for the contents of the packet from `from` that opened as `packet`: undefined when it
   * came live (its carrier, `from`), the catch-up server that brought it, null when that is not known
   * (brought without a server named, or no longer waiting here).
   */
  originOf(from: MemberKey, packet: DataPacket): MemberKey | null | undefined {
    const h = this.held.find((x) => x.item.from === from && samePacket(x.packet, packet));
    return h?.live ? undefined : (h?.server ?? null);
  }

  /** The packet from `from` that opened as `packet`, if it waits here (it leaves). */
  take(from: MemberKey, packet: DataPacket): TrafficItem | null {
    const i = this.held.findIndex((h) => h.item.from === from && samePacket(h.packet, packet));
    if (i < 0) return null;
    const [h] = this.held.splice(i, 1);
    this.bytes -= h!.item.bytes.length;
    return h!.item;
  }
}
