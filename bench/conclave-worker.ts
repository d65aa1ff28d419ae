/**
 * @module bench/conclave-worker
 * Runs one Conclave measurement (group size, operation) and prints its result as
 * one JSON line. bench/run.ts starts it as a child process with a time limit, so
 * a slow or stuck simulation is reported as such instead of stopping the bench.
 * Usage: node --import tsx bench/conclave-worker.ts N OP
 *   OP: join | leave | refresh | k4 | k16 (whole group simulated), or
 *       leave-large (the publishing engines run, the others are sampled:
 *       bench/schemes/conclave-large.ts), or
 *       heal4 (4 partitions, one exclusion in each, healed: bench/schemes/conclave-partition.ts), or
 *       leave-replay (internal: reads a leave's ReplayInput as JSON on stdin and prints its
 *       ReplayResult; see below).
 * A simulated leave's excluder and sampled receivers are timed by the one definition
 * (issue 17 item 1) in a fresh process of their own, started here with this process's
 * flags once the simulation is done: what they need is taken from the simulation
 * (timeReplay's input), so their exclude() and receipts run with none of the simulation's
 * N engines, recorded calls and garbage-collection work in the process, as the sampled
 * method's do.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONCLAVE_OPS, measureConclaveOp, timeReplay, type ConclaveOp, type ReplayInput, type ReplayResult } from './schemes/conclave.js';
import { measureLargeLeave } from './schemes/conclave-large.js';
import { measurePartitionHeal } from './schemes/conclave-partition.js';

/** The replay's own time limit (it takes seconds; a stuck one must not hold the worker to run.ts's limit). */
const REPLAY_TIMEOUT_MS = 600_000;

/** Runs timeReplay in a fresh process with this process's Node flags; a failure is a note, and the simulation's own figures stand. */
function replayInChild(input: ReplayInput): ReplayResult {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(n), 'leave-replay'], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: REPLAY_TIMEOUT_MS,
  });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ReplayResult;
  } catch {
    const why = r.error?.message ?? `exited ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
    return { excluder: null, receivers: [], notes: [`the replay process failed (${why}): the excluder's and the receiver's figures are the simulation's own (one sample each)`] };
  }
}

const n = Number(process.argv[2]);
const op = process.argv[3] ?? '';
if (!Number.isInteger(n) || n < 4 || !(CONCLAVE_OPS.includes(op as ConclaveOp) || op === 'leave-large' || op === 'heal4' || op === 'leave-replay')) {
  console.error('usage: conclave-worker N join|leave|refresh|k4|k16|leave-large|heal4|leave-replay');
  process.exit(2);
}
if (op === 'heal4') process.stdout.write(JSON.stringify(measurePartitionHeal(n, 4)) + '\n');
else if (op === 'leave-replay') {
  const input = JSON.parse(readFileSync(0, 'utf8')) as ReplayInput;
  timeReplay(input); // untimed warm-up, as the sampled method's worker runs one whole untimed leave first
  process.stdout.write(JSON.stringify(timeReplay(input)) + '\n');
}
else if (op === 'leave-large') {
  measureLargeLeave(Math.min(n, 512), 2); // untimed warm-up, as for every other row
  process.stdout.write(JSON.stringify(measureLargeLeave(n)) + '\n');
} else process.stdout.write(JSON.stringify(measureConclaveOp(n, op as ConclaveOp, 1, replayInChild)) + '\n');
