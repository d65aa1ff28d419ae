/**
 * @module bench/measure
 * Timing helpers. CPU time is `process.cpuUsage()` (user + system, every thread
 * of the process, so work that WebCrypto hands to the thread pool counts too),
 * taken around each operation (getrusage resolves microseconds on Linux) and
 * reported as the median of several runs; throughput is timed in batches.
 * `jsonChild` runs a measurement in a child process with a time limit and a heap limit.
 */
import { spawn } from 'node:child_process';

/** CPU milliseconds used by the process since `start` (a `process.cpuUsage()` value). */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank] as number;
}

/**
 * Median CPU ms of `op` over `repeats` runs, each on a fresh input from `setup`
 * (untimed), after one warm-up run. getrusage on Linux resolves microseconds,
 * so one operation is timed at a time.
 */
export function cpuMedian<I>(setup: () => I, op: (input: I) => unknown, repeats = 7): number {
  op(setup());
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const input = setup();
    const start = process.cpuUsage();
    op(input);
    samples.push(cpuMsSince(start));
  }
  return median(samples);
}

/** The same for an asynchronous operation (awaited alone, nothing else running). */
export async function cpuMedianAsync<I>(setup: () => I | Promise<I>, op: (input: I) => Promise<unknown>, repeats = 3): Promise<number> {
  await op(await setup());
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const input = await setup();
    const start = process.cpuUsage();
    await op(input);
    samples.push(cpuMsSince(start));
  }
  return median(samples);
}

/** Operations per CPU second of a tiny synchronous operation, timed in batches of at least `minBatchMs`. */
export function opsPerCpuSecond(op: () => unknown, minBatchMs = 100, batches = 5): number {
  for (let i = 0; i < 100; i++) op();
  const rates: number[] = [];
  let repeats = 100;
  while (rates.length < batches) {
    const start = process.cpuUsage();
    for (let i = 0; i < repeats; i++) op();
    const ms = cpuMsSince(start);
    if (ms < minBatchMs) {
      repeats *= 2;
      continue;
    }
    rates.push((repeats * 1000) / ms);
  }
  return median(rates);
}

/** Rounds to 3 significant decimals for reporting (keeps small CPU times readable). */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Runs `node --import tsx script ...argv` with a heap limit and a time limit, and returns the
 * JSON object on the last line of its output, or an error (never throws).
 */
export function jsonChild<R>(script: string, argv: string[], o: { cwd: string; timeoutMs: number; heapMB: number }): Promise<R | { error: string }> {
  return new Promise((done) => {
    const flags = ['--max-semi-space-size=64', `--max-old-space-size=${o.heapMB}`, '--import', 'tsx'];
    const child = spawn(process.execPath, [...flags, script, ...argv], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return done({ error: `no result within ${Math.round(o.timeoutMs / 1000)} s (simulation still running; stopped)` });
      try {
        done(JSON.parse(out.trim().split('\n').pop() ?? '') as R);
      } catch {
        done({ error: `worker exited ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' / ')}` });
      }
    });
  });
}
