/**
 * @module peer/seq-ranges
 * A set of per-author sequence numbers as sorted, disjoint, non-adjacent
 * inclusive ranges (issue 19 §1–2): what a member holds of one author, what it
 * may skip, and what it still lacks. Pure; no I/O.
 *
 * Invariants: `ranges` is sorted by start, ranges neither overlap nor touch
 * (`[1,3]` and `[4,5]` are kept as `[1,5]`); every operation keeps it so.
 */
export type Range = [number, number];

export class SeqRanges {
  private ranges: Range[] = [];

  static of(ranges: readonly Range[]): SeqRanges {
    const r = new SeqRanges();
    for (const [lo, hi] of ranges) r.addRange(lo, hi);
    return r;
  }

  get max(): number {
    return this.ranges.length === 0 ? 0 : this.ranges[this.ranges.length - 1]![1];
  }

  get min(): number {
    return this.ranges.length === 0 ? 0 : this.ranges[0]![0];
  }

  list(): Range[] {
    return this.ranges.map(([lo, hi]) => [lo, hi]);
  }

  has(n: number): boolean {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.ranges[mid]!;
      if (n < a) hi = mid - 1;
      else if (n > b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  add(n: number): void {
    this.addRange(n, n);
  }

  addRange(lo: number, hi: number): void {
    if (hi < lo) return;
    const out: Range[] = [];
    let placed = false;
    for (const r of this.ranges) {
      if (r[1] + 1 < lo) out.push(r);
      else if (hi + 1 < r[0]) {
        if (!placed) out.push([lo, hi]);
        placed = true;
        out.push(r);
      } else {
        lo = Math.min(lo, r[0]);
        hi = Math.max(hi, r[1]);
      }
    }
    if (!placed) out.push([lo, hi]);
    this.ranges = out;
  }

  remove(n: number): void {
    const out: Range[] = [];
    for (const [lo, hi] of this.ranges) {
      if (n < lo || n > hi) out.push([lo, hi]);
      else {
        if (lo < n) out.push([lo, n - 1]);
        if (n < hi) out.push([n + 1, hi]);
      }
    }
    this.ranges = out;
  }

  /** Numbers in [1, upTo] in neither this set nor `also`, as ranges, at most `limit` of them. */
  missing(upTo: number, also: SeqRanges | undefined, limit: number): Range[] {
    const covered = SeqRanges.of(this.ranges);
    for (const r of also?.ranges ?? []) covered.addRange(r[0], r[1]);
    const out: Range[] = [];
    let next = 1;
    for (const [lo, hi] of covered.ranges) {
      if (lo > upTo) break;
      if (lo > next) out.push([next, Math.min(lo - 1, upTo)]);
      next = hi + 1;
      if (out.length >= limit) return out;
    }
    if (next <= upTo && out.length < limit) out.push([next, upTo]);
    return out;
  }

  /** How many numbers `missing` would count. */
  static count(ranges: readonly Range[]): number {
    let n = 0;
    for (const [lo, hi] of ranges) n += hi - lo + 1;
    return n;
  }
}
