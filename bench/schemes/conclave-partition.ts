/**
 * @module bench/schemes/conclave-partition
 * Issue 17 item 3: a settled group of N members (the simulator's `bootstrap`) is split
 * into `parts` partitions of consecutive members; in each, one member excludes another
 * of the same partition; the partitions are healed once each has settled on its own
 * TEK. Measured from the heal: the virtual ms until every remaining member holds one
 * TEK and one blocklist (the simulator's own convergence check on the `heal`
 * operation), and every non-heartbeat byte put on the wire until then (`bytes`, a
 * multicast once; `bytesIn`, at every member that received it). Heartbeats go on
 * regardless and are reported apart. Same latency model and parameters as the other
 * Conclave rows (bench/schemes/conclave.ts); every check of the engine is on. CPU is
 * not reported here, so the simulator's default provider (verifies remembered across
 * members, app/sim/crypto-memo.ts) is used to keep N = 1,024 within its time limit.
 */
import { MsgType } from '../../app/core/wire.js';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation } from '../../app/sim/simulation.js';
import type { PartitionHealRow } from '../types.js';
import { LATENCY_MS, Recorder, byType, instrument } from './conclave.js';

const PARTITION_AT = 3_000;
const EXCLUDE_AT = 4_000;
const HEAL_AT = 8_000;
const AFTER_HEAL_MS = 15_000;

export interface PartitionHealResult {
  row: PartitionHealRow;
  wallSeconds: number;
  report: { ok: boolean; converged: boolean; errors: string[] };
}

function scenarioFor(n: number, parts: number): unknown {
  const names = ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)]; // bootstrap names m0…m(n−2)
  const size = Math.ceil(n / parts);
  const groups = Array.from({ length: parts }, (_, i) => names.slice(i * size, (i + 1) * size));
  return {
    params: {},
    network: { latencyMs: LATENCY_MS, loss: 0 },
    events: [
      { at: 0, do: 'create', peer: 'a' },
      { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 },
      { at: PARTITION_AT, do: 'partition', groups },
      // One exclusion in each partition: its first member excludes its last.
      ...groups.map((g) => ({ at: EXCLUDE_AT, do: 'exclude', peers: [g[g.length - 1]], by: g[0] })),
      { at: HEAL_AT, do: 'heal' },
    ],
    until: HEAL_AT + AFTER_HEAL_MS,
  };
}

export function measurePartitionHeal(n: number, parts = 4, seed = 1): PartitionHealResult {
  const started = performance.now();
  const rec = new Recorder();
  const uninstall = instrument(rec);
  let report;
  try {
    report = new Simulation(parseScenario(scenarioFor(n, parts)), { seed }).run();
  } finally {
    uninstall();
  }
  const heal = report.stats.operations.find((o) => o.op === 'heal' && o.at === HEAL_AT);
  const ms = heal?.convergeMs ?? null;
  const until = HEAL_AT + (ms ?? AFTER_HEAL_MS) + 1;
  const sent = rec.sentIn(HEAL_AT, until);
  const ops = sent.filter((s) => s.type !== MsgType.Heartbeat);
  let bytesIn = 0;
  for (const calls of rec.cpu.values()) for (const c of calls) if (c.at >= HEAL_AT && c.at < until) bytesIn += c.bytesIn;
  return {
    row: {
      n,
      parts,
      bytes: ops.reduce((s, x) => s + x.bytes, 0),
      bytesIn,
      ms,
      heartbeatBytes: sent.filter((s) => s.type === MsgType.Heartbeat).reduce((s, x) => s + x.bytes, 0),
      byType: byType(ops),
    },
    wallSeconds: (performance.now() - started) / 1000,
    report: { ok: report.ok, converged: report.converged, errors: report.errors.slice(0, 5) },
  };
}
