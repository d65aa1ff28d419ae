/**
 * @module bench/scale
 * The scale scenario in the bench (issue 17 item 6; app/sim/scale.ts): a group of
 * N members built by bootstrap, then E exclusions every 3 s with churn, simulated
 * whole: every member a real engine restored from its built state, every message
 * through its receive path with every check on. The full bench runs N = 10,000 and
 * E = 20; `--quick` runs N = 500 and E = 10.
 *
 * It runs in a child process (this file, with `worker N E`) with a time limit and a
 * large heap: each of the N engines holds the whole roster, so memory grows as N²
 * (docs/performance.md "Round seven: the scale scenario"). The child reports its own CPU
 * time (user + system) and wall time for the run; building the group is included.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScale } from '../app/sim/scale.js';
import { jsonChild } from './measure.js';
import type { ScaleRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Heap limit of the child, MiB (the N² rosters of 10,000 engines; see the header). */
export const SCALE_HEAP_MB = 16_000;

/**
 * Peak resident memory a run is expected to need, MiB: a·N + b·N², fitted to the peak RSS
 * of N = 4,000 and 10,000 runs on this machine (4,313 and 11,784 MiB; 2,000: 1,900, the fit
 * says 2,090) since the bootstrapped engines share their roster entries (docs/performance.md
 * "Round thirteen"). A two-point fit of peak RSS, not a model of the heap: it holds between
 * 4,000 and 10,000 only (b is far below the heap's bytes per pair, which a absorbs). The bench
 * does not start a run the machine's free memory cannot hold with a fifth to spare (it would
 * be killed, or push other work out): it says so instead.
 */
export function predictedScaleMB(n: number): number {
  return Math.round((SCALE_LINEAR_BYTES * n + SCALE_PAIR_BYTES * n * n) / 2 ** 20);
}
const SCALE_LINEAR_BYTES = 1_060_600;
const SCALE_PAIR_BYTES = 17.5;

/** Runs the scale scenario in a child process; an error (time limit, memory) is returned, never thrown. */
export function measureScale(n: number, exclusions: number, timeoutMs: number): Promise<ScaleRow | { error: string }> {
  return jsonChild<ScaleRow>(join(here, 'scale.ts'), ['worker', String(n), String(exclusions)], { cwd: resolve(here, '..'), timeoutMs, heapMB: SCALE_HEAP_MB });
}

if (process.argv[2] === 'worker') {
  const r = runScale({ n: Number(process.argv[3]), exclusions: Number(process.argv[4]) });
  process.stdout.write(`${JSON.stringify({ ...r, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}
