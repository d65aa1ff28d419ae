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
 * (docs/performance.md "The 10,000-member scenario"). The child reports its own CPU
 * time (user + system) and wall time for the run; building the group is included.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScale, type ScaleResult } from '../app/sim/scale.js';
import type { ScaleRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Heap limit of the child, MiB (the N² rosters of 10,000 engines; see the header). */
export const SCALE_HEAP_MB = 16_000;

/**
 * Peak resident memory a run is expected to need, MiB: a·N + b·N², fitted to the peak RSS
 * of N = 2,000 and 4,000 runs on this machine (docs/performance.md "Round seven"). The
 * bench does not start a run the machine's free memory cannot hold (it would be killed,
 * or push other work out): it says so instead.
 */
export function predictedScaleMB(n: number): number {
  return Math.round((SCALE_LINEAR_BYTES * n + SCALE_PAIR_BYTES * n * n) / 2 ** 20);
}
const SCALE_LINEAR_BYTES = 970_000;
const SCALE_PAIR_BYTES = 117;

function toRow(r: ScaleResult & { peakRssMB: number }): ScaleRow {
  return {
    n: r.n,
    exclusions: r.exclusions,
    crashes: r.crashes,
    leaves: r.leaves,
    live: r.live,
    converged: r.converged,
    tekAgreed: r.tekAgreed,
    tekUnknownToRemoved: r.tekUnknownToRemoved,
    violations: r.violations,
    errors: r.errors,
    simMs: r.simMs,
    worstExcludeMs: r.worstExcludeMs,
    worstOpMs: r.worstOpMs,
    wallMs: r.wallMs,
    cpuMs: r.cpuMs,
    peakRssMB: r.peakRssMB,
    controlMessages: r.controlMessages,
    controlBytes: r.controlBytes,
    unicastMessages: r.unicastMessages,
    unicastBytes: r.unicastBytes,
    deliveries: r.deliveries,
  };
}

/** Runs the scale scenario in a child process; an error (time limit, memory) is returned, never thrown. */
export function measureScale(n: number, exclusions: number, timeoutMs: number): Promise<ScaleRow | { error: string }> {
  return new Promise((done) => {
    const flags = ['--max-semi-space-size=64', `--max-old-space-size=${SCALE_HEAP_MB}`, '--import', 'tsx'];
    const child = spawn(process.execPath, [...flags, join(here, 'scale.ts'), 'worker', String(n), String(exclusions)], { cwd: resolve(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return done({ error: `no result within ${Math.round(timeoutMs / 1000)} s (stopped)` });
      try {
        done(toRow(JSON.parse(out.trim().split('\n').pop() ?? '') as ScaleResult & { peakRssMB: number }));
      } catch {
        done({ error: `worker exited ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' / ')}` });
      }
    });
  });
}

if (process.argv[2] === 'worker') {
  const r = runScale({ n: Number(process.argv[3]), exclusions: Number(process.argv[4]) });
  process.stdout.write(`${JSON.stringify({ ...r, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}
