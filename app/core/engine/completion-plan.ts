/**
 * @module core/engine/completion-plan
 * The excluder's plan of who completes a table (003 [0073], [0076]): a greedy set
 * cover of the remaining members over the KEKs still usable, computed on flat typed
 * arrays with a bounded sample of candidates per step, plus the members that only a
 * pairwise entry can reach. docs/protocol.md §7.1–§7.2; a reseal's plan (directOnly): §8.2.
 *
 * Invariant: the plan names at most 255 completers; with the pairwise list it covers
 * every remaining member; it depends only on the roster and the header, not on timing;
 * with `directOnly`, every completer holds one of the excluder's usable KEKs.
 */
import { PLAN_SAMPLE, rosterSlots, type EngineCore } from './context.js';
import { type MemberKey } from '../types.js';
import { fromHex } from '../bytes.js';
import { type PlanStep } from '../wire.js';

/**
 * Greedy set cover of the remaining members (003 [0073], [0076]): starting from the
 * excluder's own usable KEKs, repeatedly pick the member who can already read TEK'
 * and whose usable KEKs reach the most members not yet reached, and the symbols of
 * its that reach someone new. Members none of whose KEKs is usable get TEK' pairwise.
 * Each step scores a bounded, evenly spread sample of the candidates (PLAN_SAMPLE).
 * `maxSteps` = 0: no completers; every member the excluder's own KEKs miss gets TEK'
 * pairwise (a reseal that lands in one publication, docs/protocol.md §8.2).
 * `directOnly`: completers only among the members the excluder's own KEKs reach, so every
 * member reads TEK' at most two deliveries after the table (a reseal too large for one hop,
 * §8.2); members no such completer reaches get TEK' pairwise.
 */
export function planCompletion(core: EngineCore, blocklist: MemberKey[], unusable: ReadonlySet<number>, ownUsable: number[], maxSteps = 255, directOnly = false): { plan: PlanStep[]; pairwiseFor: MemberKey[] } {
  const { V, W } = core.s.params;
  const { keys, slots } = rosterSlots(core);
  const n = keys.length;
  const S = V * W + 1;
  const bad = new Uint8Array(S);
  for (const s of unusable) bad[s] = 1;
  const blocked = new Set(blocklist);
  // Members to reach, and the usable-slot holder lists (CSR) over them.
  const active = new Uint8Array(n);
  const count = new Int32Array(S);
  const pairwiseFor: MemberKey[] = [];
  let toReach = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (key === core.self || core.s.roster[key]?.state !== 'member' || blocked.has(key)) continue;
    let usable = 0;
    for (let w = 0; w < W; w++) if (!bad[slots[i * W + w]!]) usable++;
    if (usable === 0) {
      pairwiseFor.push(key);
      continue;
    }
    active[i] = 1;
    toReach++;
    for (let w = 0; w < W; w++) if (!bad[slots[i * W + w]!]) count[slots[i * W + w]!]!++;
  }
  const start = new Int32Array(S + 1);
  for (let s = 0; s < S; s++) start[s + 1] = start[s]! + count[s]!;
  const holders = new Int32Array(start[S]!);
  const fillAt = start.slice(0, S);
  for (let i = 0; i < n; i++) {
    if (!active[i]) continue;
    for (let w = 0; w < W; w++) {
      const sl = slots[i * W + w]!;
      if (!bad[sl]) holders[fillAt[sl]!++] = i;
    }
  }
  const uncovered = count; // members not yet reached, per slot
  const filled = new Uint8Array(S);
  const reached = new Uint8Array(n);
  const candidates: number[] = [];
  let reachedCount = 0;
  const gainOf = (i: number) => {
    let g = 0;
    for (let w = 0; w < W; w++) {
      const sl = slots[i * W + w]!;
      if (!bad[sl] && !filled[sl]) g += uncovered[sl]!;
    }
    return g;
  };
  const fill = (sl: number) => {
    if (filled[sl]) return;
    filled[sl] = 1;
    for (let h = start[sl]!; h < start[sl + 1]!; h++) {
      const j = holders[h]!;
      if (reached[j]) continue;
      reached[j] = 1;
      reachedCount++;
      if (!directOnly || direct) candidates.push(j);
      for (let w = 0; w < W; w++) uncovered[slots[j * W + w]!]!--;
    }
  };
  // Members reached by the excluder's own KEKs read TEK' in the first delivery (`direct`).
  let direct = true;
  for (const sl of ownUsable) fill(sl);
  direct = false;
  const plan: PlanStep[] = [];
  const chosen = new Uint8Array(n);
  while (reachedCount < toReach && plan.length < maxSteps) {
    // Score at most PLAN_SAMPLE candidates, spread evenly over those reached so far:
    // a near-greedy choice at a bounded cost per step, whatever the group size.
    const stride = Math.max(1, Math.floor(candidates.length / PLAN_SAMPLE));
    let best = -1;
    let bestGain = 0;
    for (let c = 0; c < candidates.length; c += stride) {
      const i = candidates[c]!;
      if (chosen[i]) continue;
      const g = gainOf(i);
      if (g > bestGain) [best, bestGain] = [i, g];
    }
    if (best < 0) break;
    chosen[best] = 1;
    const mine: number[] = [];
    for (let w = 0; w < W; w++) {
      const sl = slots[best * W + w]!;
      if (!bad[sl] && !filled[sl]) mine.push(sl);
    }
    mine.sort((x, y) => uncovered[y]! - uncovered[x]!);
    const symbols: number[] = [];
    for (const sl of mine) {
      if (uncovered[sl]! <= 0) continue;
      symbols.push(Math.floor((sl - 1) / V));
      fill(sl);
    }
    if (symbols.length > 0) plan.push({ prefix: fromHex(keys[best]!).slice(0, 8), symbols: symbols.sort((x, y) => x - y) });
  }
  for (let i = 0; i < n; i++) if (active[i] && !reached[i]) pairwiseFor.push(keys[i]!);
  return { plan, pairwiseFor: pairwiseFor.sort() };
}
