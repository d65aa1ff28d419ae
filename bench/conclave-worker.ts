/**
 * @module bench/conclave-worker
 * Runs one Conclave measurement (group size, operation) and prints its result as
 * one JSON line. bench/run.ts starts it as a child process with a time limit, so
 * a slow or stuck simulation is reported as such instead of stopping the bench.
 * Usage: node --import tsx bench/conclave-worker.ts N OP
 *   OP: join | leave | refresh | k4 | k16 (whole group simulated), or
 *       leave-large (the publishing engines run, the others are sampled:
 *       bench/schemes/conclave-large.ts), or
 *       heal4 (4 partitions, one exclusion in each, healed: bench/schemes/conclave-partition.ts).
 */
import { CONCLAVE_OPS, measureConclaveOp, type ConclaveOp } from './schemes/conclave.js';
import { measureLargeLeave } from './schemes/conclave-large.js';
import { measurePartitionHeal } from './schemes/conclave-partition.js';

const n = Number(process.argv[2]);
const op = process.argv[3] ?? '';
if (!Number.isInteger(n) || n < 4 || !(CONCLAVE_OPS.includes(op as ConclaveOp) || op === 'leave-large' || op === 'heal4')) {
  console.error('usage: conclave-worker N join|leave|refresh|k4|k16|leave-large|heal4');
  process.exit(2);
}
if (op === 'heal4') process.stdout.write(JSON.stringify(measurePartitionHeal(n, 4)) + '\n');
else if (op === 'leave-large') {
  measureLargeLeave(Math.min(n, 512), 2); // untimed warm-up, as for every other row
  process.stdout.write(JSON.stringify(measureLargeLeave(n)) + '\n');
} else process.stdout.write(JSON.stringify(measureConclaveOp(n, op as ConclaveOp)) + '\n');
