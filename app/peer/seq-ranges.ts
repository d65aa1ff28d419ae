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

  /** The set of the numbers in `ranges` (any order, overlapping or not): one sort and one pass. */
  static of(ranges: readonly Range[]): SeqRanges {
    const r = new SeqRanges();
    const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((x, y) => x[0] - y[0]);
    for (const [lo, hi] of sorted) {
      const last = r.ranges[r.ranges.length - 1];
      if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
      else r.ranges.push([lo, hi]);
    }
    return r;
  }

  /** Index of the first range that ends at or after `n` (ranges.length if none). */
  private firstEndingFrom(n: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]![1] < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

  /**
   * Adds [lo, hi]: a binary search and one splice, so that an author's numbers arriving one by one
   * cost O(log k) each to find, not a copy of all k ranges (review 32: an insider numbering its
   * messages 1, 3, 5, … made every member's bookkeeping quadratic, seconds per catch-up check).
   */
  addRange(lo: number, hi: number): void {
    if (hi < lo) return;
    const first = this.firstEndingFrom(lo - 1); // the first range that touches or follows [lo, hi]
    let last = first; // one past the last range that touches [lo, hi]
    while (last < this.ranges.length && this.ranges[last]![0] <= hi + 1) last++;
    if (first < last) {
      lo = Math.min(lo, this.ranges[first]![0]);
      hi = Math.max(hi, this.ranges[last - 1]![1]);
    }
    if (first === this.ranges.length) this.ranges.push([lo, hi]);
    else this.ranges.splice(first, last - first, [lo, hi]);
  }

  remove(n: number): void {
    const i = this.firstEndingFrom(n);
    const r = this.ranges[i];
    if (!r || n < r[0]) return;
    const pieces: Range[] = [];
    if (r[0] < n) pieces.push([r[0], n - 1]);
    if (n < r[1]) pieces.push([n + 1, r[1]]);
    this.ranges.splice(i, 1, ...pieces);
  }

  /** Numbers in [1, upTo] in neither this set nor `also`, as ranges, at most `limit` of them. */
  missing(upTo: number, also: SeqRanges | undefined, limit: number): Range[] {
    const covered = also && also.ranges.length > 0 ? SeqRanges.of([...this.ranges, ...also.ranges]) : this;
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
