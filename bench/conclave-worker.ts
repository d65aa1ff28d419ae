/**
 * @module bench/conclave-worker
 * Runs one Conclave measurement (group size, operation) and prints its result as
 * one JSON line. bench/run.ts starts it as a child process with a time limit, so
 * a slow or stuck simulation is reported as such instead of stopping the bench.
 * Usage: node --import tsx bench/conclave-worker.ts N OP
 */
import { CONCLAVE_OPS, measureConclaveOp, type ConclaveOp } from './schemes/conclave.js';

const n = Number(process.argv[2]);
const op = process.argv[3] as ConclaveOp;
if (!Number.isInteger(n) || n < 4 || !CONCLAVE_OPS.includes(op)) {
  console.error('usage: conclave-worker N join|leave|refresh|k4|k16');
  process.exit(2);
}
process.stdout.write(JSON.stringify(measureConclaveOp(n, op)) + '\n');
