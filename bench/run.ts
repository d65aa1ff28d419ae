/**
 * @module bench/run
 * `npm run bench [-- --quick] [-- --out DIR] [-- --render-only] [-- --network-only | --network-into-latest] [-- --catchup-only] [-- --nat-only] [-- --files-only] [-- --scale-only] [-- --conclave-only]`: measures rekey cost (conclave, mls,
 * lkh, pairwise), convergence at scale and crypto throughput, then writes
 * latest.json, latest.md and SVG charts to bench/results (docs/performance.md).
 * `--quick` runs a reduced set meant to finish in under 3 minutes on 2 cores.
 * Every number is measured in this run; what could not be measured is said in
 * `notes`, never filled in. `--render-only` redraws latest.md and the charts
 * from an existing latest.json (after a change to the report), measuring nothing.
 * `--network-only` runs the real-network section alone (10 and 50 peers) and writes
 * network.json beside latest.json, leaving latest.json as it is; `--network-into-latest`
 * runs it alone and puts its fields (`network`, `networkSizes`, its notes) into the
 * latest.json already there, keeping every other field.
 * `--convergence-into-latest` re-measures only the convergence rows (k = 1, 4, 16) into latest.json.
 * `--conclave-only` measures Conclave, LKH and pairwise (rekey, convergence, partitions)
 * and skips MLS, the real network, catch-up, files and NAT.
 * `--catchup-only` runs the catch-up measure alone (bench/catchup.ts: 5,000 missed
 * messages, 1,000 with `--quick`) and updates only its fields (`network.catchupMs`,
 * `catchupMsgsPerSec`, `catchupMissed`) and its note in an existing latest.json;
 * `--nat-only` and `--files-only` do the same for the NAT testbed's fields (bench/nat.ts)
 * and the file transfer's (bench/files.ts).
 * `--scale-only` runs the scale scenario alone (bench/scale.ts, issue 17 item 6: N = 10,000
 * by bootstrap, 20 exclusions with churn; N = 500 and 10 with `--quick`; `--scale-n N` and
 * `--scale-exclusions E` choose others) into `scale10k` and
 * its note of the latest.json in the output folder, or of a bare one when there is none.
 * A size whose predicted memory the machine's free memory cannot hold is not started
 * (a note says so) unless `--scale-force` is given.
 * The full run measures it after the partition heal, with `--conclave-only` too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nobleCrypto, systemRng } from '../app/crypto/noble.js';
import { nodeCrypto } from '../app/crypto/node.js';
import { jsonChild, opsPerCpuSecond, round } from './measure.js';
import { measureCatchUp } from './catchup.js';
import { measureFiles } from './files.js';
import { SCALE_HEAP_MB, measureScale, predictedScaleMB } from './scale.js';
import { networkSection } from './network.js';
import { natSection } from './nat.js';
import { measureLkh, measurePairwise } from './reference.js';
import { renderCharts, renderMarkdown } from './report.js';
import { LATENCY_MS, WINDOW_MS, type ConclaveOp, type ConclaveOpResult } from './schemes/conclave.js';
import type { LargeLeaveResult } from './schemes/conclave-large.js';
import type { PartitionHealResult } from './schemes/conclave-partition.js';
import { MLS_SUITE, measureMls } from './schemes/mls.js';
import type { BenchResults, CryptoResult, MachineInfo, RekeyRow, RoleCost, SecurityMessages, SecurityRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const conclaveOnly = args.includes('--conclave-only');
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1] as string) : join(here, 'results');
const started = Date.now();
/** The integer after a flag (`--scale-n 2000`), or undefined. */
function numberArg(flag: string): number | undefined {
  const i = args.indexOf(flag);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
const log = (s: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const SIZES = quick ? [16, 64, 256] : [16, 64, 256, 1024, 4096, 10_000];
/** MLS: tree filled by every odd leaf up to this N, by the targeted fill above it (bench/schemes/mls.ts). */
const MLS_FULL_FILL_MAX = quick ? 64 : 256;
const MLS_BUDGET_MS = quick ? 80_000 : 22 * 60_000;
const CONCLAVE_SIZES = quick ? [16, 64, 256, 1024] : [16, 64, 256, 1024, 4096];
/** Sizes simulated whole for the leave only (quick: N = 1,024, where the sampled method runs too). */
const LEAVE_ONLY = quick ? [1024] : [];
/** The sampled leave (bench/schemes/conclave-large.ts) runs at these sizes; where they overlap the simulated sizes, both methods are compared (issue 17). */
const SAMPLED_SIZES = [256, 1024, 10_000];
/** Partition heal (issue 17 item 3): 4 partitions at these sizes. */
const PARTITION_SIZES = [128, 1024];
/**
 * Time limits are wall-clock: on a machine shared with other work (load average above the
 * core count) they are stretched by the load at the start of the run, so that a size is not
 * dropped only because the machine was busy. The factor is in the notes.
 */
const LOAD_FACTOR = Math.min(4, Math.max(1, (os.loadavg()[0] ?? 0) / os.cpus().length));
const CONCLAVE_TIMEOUT_MS = (quick ? 25_000 : 6 * 60_000) * LOAD_FACTOR;
/** The simulated leave at N = 1,024 in a quick run. */
const LEAVE_ONLY_TIMEOUT_MS = 150_000 * LOAD_FACTOR;
const PARTITION_TIMEOUT_MS = 240_000 * LOAD_FACTOR;
/** The scale scenario (bench/scale.ts, issue 17 item 6): N members by bootstrap, then exclusions with churn. */
const SCALE = {
  n: numberArg('--scale-n') ?? (quick ? 500 : 10_000),
  exclusions: numberArg('--scale-exclusions') ?? (quick ? 10 : 20),
};
/** Full run: sizes tried, largest first, when the asked one does not fit in memory. */
const SCALE_FALLBACK = quick ? [] : [4000, 2000];
const SCALE_TIMEOUT_MS = (quick ? 90_000 : 20 * 60_000) * LOAD_FACTOR;
const CONCLAVE_BUDGET_MS = (quick ? 50_000 : 30 * 60_000) * LOAD_FACTOR + (quick ? LEAVE_ONLY_TIMEOUT_MS : 0);

function machine(): MachineInfo {
  let gitCommit = 'unknown';
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  let tsMls = 'unknown';
  try {
    tsMls = (JSON.parse(readFileSync(join(root, 'node_modules/ts-mls/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed */
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    quick,
    tsMls,
    gitCommit,
  };
}

function cryptoThroughput(): CryptoResult {
  const key = systemRng(32);
  const nonce = systemRng(24);
  const aad = new Uint8Array(0);
  const msg = systemRng(1024);
  const sealed = nobleCrypto.seal(key, nonce, msg, aad);
  return {
    encryptPerSec: Math.round(opsPerCpuSecond(() => nobleCrypto.seal(key, nonce, msg, aad))),
    decryptPerSec: Math.round(opsPerCpuSecond(() => nobleCrypto.open(key, nonce, sealed, aad))),
  };
}

/** One Ed25519 verify and sign through the engine's provider (nodeCrypto), CPU µs. */
function ed25519Cost(): { verifyUs: number; signUs: number } {
  const seed = systemRng(32);
  const pub = nodeCrypto.ed25519PublicKey(seed);
  const msg = systemRng(300); // about a table header
  const sig = nodeCrypto.ed25519Sign(seed, msg);
  return {
    verifyUs: round(1e6 / opsPerCpuSecond(() => nodeCrypto.ed25519Verify(pub, msg, sig)), 1),
    signUs: round(1e6 / opsPerCpuSecond(() => nodeCrypto.ed25519Sign(seed, msg)), 1),
  };
}

/**
 * The security section (issue 14): per N, every receive of the join and leave runs by
 * message type, and the roles of the admission and the exclusion.
 */
class SecurityCollector {
  private byN = new Map<number, { receives: SecurityMessages; admission: SecurityRow['admission']; exclusion: SecurityRow['exclusion'] }>();

  add(n: number, op: ConclaveOp, s: ConclaveOpResult['security']): void {
    if (op !== 'join' && op !== 'leave') return;
    const row = this.byN.get(n) ?? { receives: {}, admission: null, exclusion: null };
    this.byN.set(n, row);
    for (const [type, v] of Object.entries(s.receives)) {
      const b = (row.receives[type] ??= { count: 0, cpuMs: 0, verifies: 0 });
      b.count += v.count;
      b.cpuMs += v.cpuMs;
      b.verifies += v.verifies;
    }
    const r = (c: RoleCost): RoleCost => ({ ms: round(c.ms, 3), verifies: c.verifies, signs: c.signs });
    if (op === 'join' && s.initiator && s.newcomer) row.admission = { admitter: r(s.initiator), newcomer: r(s.newcomer), existing: r(s.receiver) };
    if (op === 'leave' && s.initiator) row.exclusion = { excluder: r(s.initiator), receiver: r(s.receiver) };
  }

  rows(): SecurityRow[] {
    return [...this.byN.entries()]
      .sort(([a], [b]) => a - b)
      .map(([n, x]) => ({
        n,
        perMessage: Object.fromEntries(
          Object.entries(x.receives).map(([type, v]) => [type, { count: v.count, cpuUs: round((v.cpuMs * 1000) / v.count, 1), verifies: round(v.verifies / v.count, 3) }]),
        ),
        admission: x.admission,
        exclusion: x.exclusion,
      }));
  }
}

/** Runs one Conclave measurement in a child process with a time limit. */
function conclaveWorker<R = ConclaveOpResult>(n: number, op: ConclaveOp | 'leave-large' | 'heal4', timeoutMs: number): Promise<R | { error: string }> {
  return jsonChild<R>(join(here, 'conclave-worker.ts'), [String(n), op], { cwd: root, timeoutMs, heapMB: 12000 });
}

/** Writes latest.md and the charts from the latest.json already in outDir. */
function write(results: BenchResults): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  const charts = renderCharts(results);
  for (const c of charts) writeFileSync(join(outDir, c.file), c.svg + '\n');
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(results, charts));
  log(`wrote ${join(outDir, 'latest.json')}, latest.md and ${charts.length} charts`);
}

/** The scale scenario (bench/scale.ts): into `scale10k` and one note starting "scale:". */
async function scaleSection(results: BenchResults, notes: string[]): Promise<void> {
  const { exclusions } = SCALE;
  const load = `the 1-minute load average was ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores at its start`;
  // The size asked for, else (full run) the largest of the fallbacks whose predicted memory fits.
  // A fifth to spare: the prediction is a fit through two runs, and a run it underestimates is killed.
  const fits = (size: number) => args.includes('--scale-force') || predictedScaleMB(size) * 1.2 <= Math.min(os.freemem() / 2 ** 20, SCALE_HEAP_MB);
  const n = [SCALE.n, ...SCALE_FALLBACK.filter((x) => x < SCALE.n)].find(fits);
  const freeMB = Math.round(os.freemem() / 2 ** 20);
  if (n !== SCALE.n) {
    const why = `N=${SCALE.n} is predicted to need about ${predictedScaleMB(SCALE.n)} MiB of memory (bench/scale.ts predictedScaleMB), more than the ${Math.min(freeMB, SCALE_HEAP_MB)} MiB it may use with a fifth to spare (${freeMB} MiB free, heap limit ${SCALE_HEAP_MB} MiB): not started (--scale-force starts it anyway)`;
    notes.push(`scale: ${why}${n === undefined ? '' : `; N=${n} was run instead`}.`);
    log(`scale: ${why}`);
    if (n === undefined) {
      results.scale10k = { n: SCALE.n, exclusions, error: why };
      return;
    }
  }
  log(`scale: ${n} members by bootstrap, ${exclusions} exclusions with churn (about ${predictedScaleMB(n)} MiB predicted)…`);
  const r = await measureScale(n, exclusions, SCALE_TIMEOUT_MS);
  if ('error' in r) {
    results.scale10k = { n, exclusions, error: r.error };
    notes.push(`scale: N=${n}, ${exclusions} exclusions: not measured — ${r.error}; ${load}.`);
    log(`scale: ${r.error}`);
    return;
  }
  results.scale10k = r;
  const verdict = r.converged ? `converged: all ${r.live} live members hold one TEK that no removed member ever held` : `NOT converged (TEK agreed: ${r.tekAgreed}; unknown to the removed: ${r.tekUnknownToRemoved}; violations ${r.violations}; errors: ${r.errors.slice(0, 2).join(' / ') || 'none'})`;
  notes.push(
    `scale (app/sim/scale.ts, bench/scale.ts): N=${n} by bootstrap, ${r.exclusions} exclusions 3 s apart, ${r.crashes} members offline 25 s and back, ${r.leaves} leaves, simulated whole with every check on; ${verdict}; ${r.simMs ?? '—'} ms simulated from the first exclusion to the last agreement (worst exclusion ${r.worstExcludeMs ?? '—'} ms); ${r.wallMs} ms wall, ${r.cpuMs} ms CPU, peak RSS ${r.peakRssMB} MiB; ${load}.`,
  );
  log(`scale: N=${n} converged ${r.converged}, sim ${r.simMs} ms, wall ${r.wallMs} ms, cpu ${r.cpuMs} ms, rss ${r.peakRssMB} MiB`);
}

/** Catch-up of a member that missed messages (bench/catchup.ts, issue 19): into `network` and one note. */
async function catchUpSection(network: NonNullable<BenchResults['network']>, notes: string[], context = ''): Promise<void> {
  try {
    const c = await measureCatchUp(quick ? 1000 : 5000, log);
    Object.assign(network, { catchupMs: c.catchupMs, catchupMsgsPerSec: c.catchupMsgsPerSec, catchupMissed: c.missed });
    notes.push(`network: catch-up (bench/catchup.ts): 3 peers; one stopped while the other two sent ${c.missed} messages (in ${c.sendMs} ms), then started again (${c.startMs} ms to ready); it held all ${c.missed} ${c.catchupMs} ms after it was ready (${c.catchupMsgsPerSec} messages/s)${context}.`);
  } catch (err) {
    notes.push(`network: catch-up not measured — ${(err as Error).message}.`);
  }
}

function filesNote(f: Awaited<ReturnType<typeof measureFiles>>): string {
  return `files (bench/files.ts): ${f.sizeMB} MiB from one peer process to another on loopback at ${f.throughputMBps} MiB/s (fetch, hash check and store of every chunk); chat p95 during it ${f.chatP95DuringMs} ms over ${f.chatSamples} messages.`;
}

/** Replaces (or adds) the row of the same scheme, operation, size and method. */
function putRow(rows: RekeyRow[], row: RekeyRow): void {
  const at = rows.findIndex((x) => x.scheme === row.scheme && x.op === row.op && x.n === row.n && x.method === row.method);
  if (at >= 0) rows[at] = row;
  else rows.push(row);
}

/**
 * `--sizes-into-latest 128,512`: Conclave's leave, join and refresh simulated whole and MLS at
 * these sizes, merged into the latest.json already in outDir (issue 17 item 2 asks the whole
 * group's cost at N = 128 and 512 too, which the full run's sizes skip). Rows of the same scheme,
 * operation, size and method are replaced; everything else is kept.
 */
async function sizesIntoLatest(): Promise<void> {
  const sizes = (args[args.indexOf('--sizes-into-latest') + 1] ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 4 && n <= 4096);
  if (sizes.length === 0) throw new Error('--sizes-into-latest takes sizes such as 128,512 (4 to 4,096)');
  const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
  const security = new SecurityCollector();
  const notes = results.notes.filter((x) => !sizes.some((n) => x.startsWith(`conclave N=${n} `) || x.startsWith(`mls N=${n}:`)));
  for (const n of sizes) {
    for (const op of ['leave', 'join', 'refresh'] as ConclaveOp[]) {
      const r = await conclaveWorker(n, op, CONCLAVE_TIMEOUT_MS);
      if ('error' in r) {
        notes.push(`conclave N=${n} ${op}: not measured — ${r.error}.`);
        continue;
      }
      if (r.row) putRow(results.rekey, { ...r.row, initiatorMs: round(r.row.initiatorMs, 4), receiverMs: round(r.row.receiverMs, 4), ...(r.row.groupCpuMs !== undefined ? { groupCpuMs: round(r.row.groupCpuMs, 2) } : {}) });
      security.add(n, op, r.security);
      for (const x of r.notes ?? []) notes.push(`conclave N=${n} ${op}: ${x}.`);
      notes.push(`conclave N=${n} ${op}: measured by --sizes-into-latest after the main run (load ${os.loadavg()[0]?.toFixed(1)}).`);
      log(`conclave N=${n} ${op}: ${r.wallSeconds.toFixed(1)} s`);
    }
    const r = await measureMls(n, n <= MLS_FULL_FILL_MAX ? 'full' : 'targeted', Date.now() + MLS_BUDGET_MS * LOAD_FACTOR, 3).catch((err: Error) => err);
    if (r instanceof Error || 'stoppedAt' in r) {
      notes.push(`mls N=${n}: not measured — ${r instanceof Error ? r.message : `stopped during ${r.stoppedAt}`}.`);
      continue;
    }
    for (const row of r.rows) putRow(results.rekey, row);
    notes.push(`mls N=${n}: ${r.fillCommits} update commits to fill the tree, measured by --sizes-into-latest after the main run.`);
    log(`mls N=${n}: ${r.rows.map((x) => `${x.op} ${x.bytes} B`).join(', ')}`);
  }
  const bySize = new Map((results.security ?? []).map((x) => [x.n, x]));
  for (const row of security.rows()) bySize.set(row.n, row);
  results.security = [...bySize.values()].sort((a, b) => a.n - b.n);
  results.notes = notes;
  write(results);
}

/**
 * `--convergence-into-latest`: Conclave's one, four and sixteen simultaneous exclusions simulated
 * whole at every CONCLAVE_SIZES size, merged into the convergence rows of the latest.json already
 * in outDir (issue 17 item 4); rows of the same size and k are replaced, everything else is kept
 * (the rekey rows of those runs too: a convergence change leaves their CPU as it was).
 */
async function convergenceIntoLatest(): Promise<void> {
  const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
  const notes = results.notes.filter((x) => !x.startsWith('conclave convergence:'));
  for (const n of CONCLAVE_SIZES) {
    for (const op of ['leave', 'k4', ...(n >= 64 ? ['k16'] : [])] as ConclaveOp[]) {
      const r = await conclaveWorker(n, op, CONCLAVE_TIMEOUT_MS);
      if ('error' in r || !r.convergence) {
        notes.push(`conclave convergence: N=${n} ${op} not measured — ${'error' in r ? r.error : 'no convergence row'}.`);
        continue;
      }
      const row = r.convergence;
      results.convergence = [...results.convergence.filter((c) => !(c.n === row.n && c.k === row.k)), row].sort((a, b) => a.n - b.n || a.k - b.k);
      log(`conclave N=${n} ${op}: converged ${row.ms ?? 'no'} ms (${r.wallSeconds.toFixed(1)} s)`);
    }
  }
  notes.push(`conclave convergence: measured by --convergence-into-latest at ${machine().gitCommit}, after the main run (whose commit latest.json names).`);
  results.notes = notes;
  write(results);
}

/** Partitions healed (issue 17 item 3): 4 partitions, one exclusion in each, at every PARTITION_SIZES size. */
async function partitionSection(results: BenchResults, notes: string[]): Promise<void> {
  results.partitionHeal = [];
  for (const n of PARTITION_SIZES) {
    const r = await conclaveWorker<PartitionHealResult>(n, 'heal4', PARTITION_TIMEOUT_MS);
    if ('error' in r) {
      notes.push(`conclave partition heal N=${n}: not measured — ${r.error}.`);
      log(`conclave partition heal N=${n}: ${r.error}`);
      continue;
    }
    results.partitionHeal.push(r.row);
    const types = Object.entries(r.row.byType).map(([k, v]) => `${k} ${v.count} msgs / ${v.bytes} B`).join(', ');
    notes.push(
      `conclave partition heal N=${n}: ${r.row.parts} partitions of consecutive members, one exclusion in each at ${4} s, healed at 8 s (bench/schemes/conclave-partition.ts); ${r.row.ms === null ? 'not converged within 15 s of the heal' : `one TEK everywhere ${r.row.ms} ms after the heal`}; bytes until then (heartbeats left out, ${r.row.heartbeatBytes} B of them): ${types || 'none'}.`,
    );
    log(`conclave partition heal N=${n}: ${r.wallSeconds.toFixed(1)} s, ${r.row.bytes} B, converged: ${r.row.ms ?? 'no'}`);
  }
}

async function main(): Promise<void> {
  if (args.includes('--network-only')) {
    // The real-network section alone, into network.json (latest.json is left as it is).
    const net = await networkSection(quick, log);
    const loadNote = `load: the 1-minute load average at the end of the run was ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores.`;
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'network.json'), `${JSON.stringify({ machine: machine(), network: net.network, networkSizes: net.networkSizes, notes: [...net.notes, loadNote] }, null, 2)}\n`);
    log(`wrote ${join(outDir, 'network.json')}`);
    return;
  }
  if (args.includes('--network-into-latest')) {
    // The real-network section alone, merged into the latest.json already in outDir (its other fields kept).
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    const net = await networkSection(quick, log);
    // Fields of other parts of the bench: catch-up's (bench/catchup.ts) and the NAT testbed's (bench/nat.ts).
    const otherParts = new Set(['natJoinMs', 'directAfterMs', 'roamMs']);
    const kept = Object.fromEntries(Object.entries(results.network ?? {}).filter(([k]) => k.startsWith('catchup') || otherParts.has(k)));
    results.network = net.network ? { ...net.network, ...kept } : results.network;
    results.networkSizes = net.networkSizes;
    results.notes = [
      ...results.notes.filter((n) => !/^network( \d+ peers:|: \d+ headless peers| 10 and 50 peers: measured again| sizes: measured by --network-into-latest)/.test(n)),
      ...net.notes,
      `network sizes: measured by --network-into-latest at ${machine().gitCommit}, after the main run (whose commit latest.json names).`,
    ];
    write(results);
    return;
  }
  if (args.includes('--sizes-into-latest')) {
    await sizesIntoLatest();
    return;
  }
  if (args.includes('--convergence-into-latest')) {
    await convergenceIntoLatest();
    return;
  }
  if (args.includes('--partition-into-latest')) {
    // The partition heals alone, into the partitionHeal rows and notes of an existing latest.json.
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    const notes = results.notes.filter((n) => !n.startsWith('conclave partition heal'));
    await partitionSection(results, notes);
    notes.push(`conclave partition heal: measured by --partition-into-latest at ${machine().gitCommit}, after the main run (whose commit latest.json names).`);
    results.notes = notes;
    write(results);
    return;
  }
  if (args.includes('--catchup-only')) {
    // The catch-up measure alone, into the catch-up fields and note of an existing latest.json.
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    if (!results.network) throw new Error(`${join(outDir, 'latest.json')} has no network section to add the catch-up to`);
    results.notes = results.notes.filter((n) => !n.startsWith('network: catch-up'));
    await catchUpSection(results.network, results.notes, `; the 1-minute load average was ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores at its start`);
    write(results);
    return;
  }
  if (args.includes('--nat-only')) {
    // The NAT testbed alone, into the network.nat* fields and NAT note of an existing latest.json.
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    if (!results.network) throw new Error(`${join(outDir, 'latest.json')} has no network section to add the NAT figures to`);
    const nat = await natSection(log);
    if (nat.result) Object.assign(results.network, nat.result);
    results.notes = [...results.notes.filter((n) => !n.startsWith('network: NAT')), nat.note];
    write(results);
    return;
  }
  if (args.includes('--files-only')) {
    // The file transfer measure alone, into the `files` field and note of an existing latest.json.
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    const f = await measureFiles(quick ? 20 : 50, log);
    results.files = { throughputMBps: f.throughputMBps, chatP95DuringMs: f.chatP95DuringMs, sizeMB: f.sizeMB };
    results.notes = [...results.notes.filter((n) => !n.startsWith('files')), filesNote(f)];
    write(results);
    return;
  }
  if (args.includes('--scale-only')) {
    // The scale scenario alone, into `scale10k` and its note of the latest.json in outDir (a bare one if there is none).
    let results: BenchResults;
    try {
      results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults;
    } catch {
      results = { machine: machine(), rekey: [], convergence: [], network: null, crypto: { encryptPerSec: 0, decryptPerSec: 0 }, notes: ['--scale-only into an empty results file: only the scale scenario was measured.'] };
    }
    results.notes = results.notes.filter((n) => !n.startsWith('scale'));
    await scaleSection(results, results.notes);
    write(results);
    return;
  }
  if (args.includes('--render-only')) {
    // Re-renders the Markdown and charts of an existing latest.json; measures nothing.
    write(JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as BenchResults);
    return;
  }
  const notes: string[] = [];
  const rekey: RekeyRow[] = [];
  const security = new SecurityCollector();
  const results: BenchResults = { machine: machine(), rekey, convergence: [], network: null, crypto: { encryptPerSec: 0, decryptPerSec: 0 }, heartbeat: [], notes };
  log(`machine: ${results.machine.cpu} ×${results.machine.cores}; ${quick ? 'quick' : 'full'} run`);
  const loadAtStart = os.loadavg()[0] ?? 0;
  notes.push(`load: the 1-minute load average at the start of the run was ${loadAtStart.toFixed(1)} on ${os.cpus().length} cores; the Conclave time limits were stretched ×${LOAD_FACTOR.toFixed(1)} for it.`);

  results.crypto = cryptoThroughput();
  results.ed25519 = ed25519Cost();
  log(`ed25519: verify ${results.ed25519.verifyUs} µs, sign ${results.ed25519.signUs} µs`);
  log(`crypto: ${results.crypto.encryptPerSec} enc/s, ${results.crypto.decryptPerSec} dec/s`);

  for (const n of SIZES) {
    rekey.push(...measureLkh(nobleCrypto, systemRng, n));
    rekey.push(...measurePairwise(nobleCrypto, systemRng, n, n >= 4096 ? 3 : 7));
    log(`lkh, pairwise: N=${n}`);
  }

  // Conclave: the engine through the simulator, one process per (N, operation).
  const conclaveTried = new Set<number>();
  const conclaveDeadline = Date.now() + CONCLAVE_BUDGET_MS;
  let lastWall = 0;
  let lastN = 0;
  for (const n of CONCLAVE_SIZES) {
    // Simulating every member costs ~N·(heartbeats + tables) deliveries and N² roster entries: skip a size that cannot finish in time.
    // (From the leave run at the previous size; the worker's time limit still applies.)
    const predicted = lastN > 0 ? lastWall * (n / lastN) ** 1.5 : 0;
    const timeoutMs = LEAVE_ONLY.includes(n) ? LEAVE_ONLY_TIMEOUT_MS : CONCLAVE_TIMEOUT_MS;
    if (predicted * 1000 > 2 * timeoutMs) {
      notes.push(`conclave N=${n}: not simulated whole (predicted ${Math.round(predicted)} s per operation at N^1.5 scaling from N=${lastN}, over the ${CONCLAVE_TIMEOUT_MS / 1000} s limit).`);
      continue;
    }
    conclaveTried.add(n);
    const ops: ConclaveOp[] = LEAVE_ONLY.includes(n) ? ['leave'] : ['leave', 'join', 'refresh', 'k4', ...(n >= 64 ? (['k16'] as ConclaveOp[]) : [])];
    let hbDone = false;
    let timedOut = false;
    for (const op of ops) {
      const left = conclaveDeadline - Date.now();
      if (timedOut) {
        notes.push(`conclave N=${n} ${op}: not measured (an earlier operation at this size ran out of time).`);
        continue;
      }
      if (left < 5_000) {
        notes.push(`conclave N=${n} ${op}: not measured (the run's Conclave time budget of ${CONCLAVE_BUDGET_MS / 1000} s was spent).`);
        continue;
      }
      const r = await conclaveWorker(n, op, Math.min(timeoutMs, left));
      if ('error' in r) {
        timedOut = r.error.startsWith('no result within');
        notes.push(`conclave N=${n} ${op}: not measured — ${r.error}.`);
        log(`conclave N=${n} ${op}: ${r.error}`);
        continue;
      }
      if (op === 'leave') {
        lastWall = r.wallSeconds;
        lastN = n;
      }
      if (r.row) rekey.push(r.row);
      if (r.convergence) results.convergence.push(r.convergence);
      security.add(n, op, r.security);
      for (const x of r.notes ?? []) notes.push(`conclave N=${n} ${op}: ${x}.`);
      if (!hbDone) {
        results.heartbeat?.push({
          n,
          bytesPerMemberPerMin: round(r.heartbeat.receivedPerMemberPerMin, 0),
          sentPerMemberPerMin: round(r.heartbeat.sentPerMemberPerMin, 0),
          receivedPerMemberPerMin: round(r.heartbeat.receivedPerMemberPerMin, 0),
        });
        hbDone = true;
      }
      const types = Object.entries(r.byType)
        .filter(([k]) => !k.startsWith('Heartbeat'))
        .map(([k, v]) => `${k} ${v.count} msgs / ${v.bytes} B`)
        .join(', ');
      notes.push(`conclave N=${n} ${op}: transmits in the window (heartbeats left out): ${types || 'none'}.`);
      if (!r.report.ok) {
        const why = [...new Set([...r.report.errors, ...r.report.violations].map((e) => e.replace(/^t=\d+ /, '').replace(/\d+/g, '#')))].join('; ');
        notes.push(`conclave N=${n} ${op}: the simulator's report was not ok (converged: ${r.report.converged}${why ? `; ${why}` : ''}); figures are as measured.`);
      }
      log(`conclave N=${n} ${op}: ${r.wallSeconds.toFixed(1)} s${r.row ? `, ${r.row.bytes} B, ${r.row.messages} msgs` : ''}${r.convergence ? `, converged: ${r.convergence.ms ?? 'no'}` : ''}`);
    }
  }
  // The sampled leave: the publishing engines real, the other members sampled. Where a size was
  // also simulated whole, both rows are kept (method) and compared (issue 17 item 1).
  for (const n of [...new Set([...SAMPLED_SIZES, ...SIZES.filter((x) => !conclaveTried.has(x))])].sort((x, y) => x - y)) {
    const r = await conclaveWorker<LargeLeaveResult>(n, 'leave-large', CONCLAVE_TIMEOUT_MS);
    if ('error' in r) {
      notes.push(`conclave N=${n} leave (sampled receivers): not measured — ${r.error}.`);
      continue;
    }
    const simulated = rekey.some((x) => x.scheme === 'conclave' && x.op === 'leave' && x.n === n);
    conclaveTried.add(n);
    rekey.push(r.row);
    if (!simulated) results.convergence.push(r.convergence);
    notes.push(
      `conclave N=${n} leave (sampled): the excluder and its ${r.completers} planned completers running as engines and the other members' arrival times drawn from the latency model (bench/schemes/conclave-large.ts); ${r.row.messages} table publications, ${r.pairwise} pairwise entries; receiver CPU is the median of the completers and a sample of receivers; convergence ${r.convergence.ms ?? 'not reached'} ms.${simulated ? ' The whole group was simulated at this size too: both rows are in latest.json (method), the tables show the simulated one.' : ' Join, refresh and k > 1 are not measured at this size.'}`,
    );
    log(`conclave N=${n} leave (sampled): ${r.wallSeconds.toFixed(1)} s, ${r.row.bytes} B, ${r.row.messages} msgs, converged: ${r.convergence.ms ?? 'no'}`);
  }
  await partitionSection(results, notes);
  await scaleSection(results, notes);
  for (const n of SIZES) if (!conclaveTried.has(n) && !notes.some((x) => x.startsWith(`conclave N=${n}:`))) notes.push(`conclave N=${n}: not measured in ${quick ? 'a --quick run' : 'this run'} (sizes simulated: ${CONCLAVE_SIZES.join(', ')}).`);

  // MLS through ts-mls.
  if (conclaveOnly) notes.push('--conclave-only: MLS, the real network, catch-up, files and NAT were not measured in this run.');
  const mlsDeadline = Date.now() + MLS_BUDGET_MS * LOAD_FACTOR;
  for (const n of conclaveOnly ? [] : SIZES) {
    const mode = n <= MLS_FULL_FILL_MAX ? 'full' : 'targeted';
    if (Date.now() > mlsDeadline) {
      notes.push(`mls N=${n}: not measured (the run's MLS time budget of ${MLS_BUDGET_MS / 60_000} min was spent).`);
      continue;
    }
    let r: Awaited<ReturnType<typeof measureMls>>;
    try {
      r = await measureMls(n, mode, mlsDeadline, n >= 4096 ? 1 : 3);
    } catch (err) {
      notes.push(`mls N=${n}: not measured — ts-mls threw ${(err as Error).name}: ${(err as Error).message}.`);
      log(`mls N=${n}: ${(err as Error).message}`);
      continue;
    }
    if ('stoppedAt' in r) {
      notes.push(`mls N=${n}: stopped during ${r.stoppedAt}.`);
      log(`mls N=${n}: stopped (${r.stoppedAt})`);
      continue;
    }
    rekey.push(...r.rows);
    for (const f of r.failures) notes.push(`mls N=${n} ${f}.`);
    notes.push(`mls N=${n}: ${mode} tree fill, ${r.fillCommits} update commits, ${r.blankParents} blank parent nodes left; building took ${r.buildSeconds.toFixed(1)} s; Welcome with ratchet tree ${r.welcomeBytes} B.`);
    log(`mls N=${n}: ${mode} fill in ${r.buildSeconds.toFixed(1)} s; ${r.rows.map((x) => `${x.op} ${x.bytes} B`).join(', ')}${r.failures.length ? `; ${r.failures.join('; ')}` : ''}`);
  }

  notes.push(`mls: ${MLS_SUITE} through ts-mls ${results.machine.tsMls} with its @noble crypto provider (faster than its WebCrypto default here); commits as PrivateMessage; ts-mls imports @noble/hashes without declaring it (the project provides 2.0.1 at top level).`);
  notes.push(`conclave: engine via the simulator, latency uniform in [${LATENCY_MS[0]}, ${LATENCY_MS[1]}] ms per delivery, no loss, W=16, V=16, heartbeat 1 s; each operation measured in a ${WINDOW_MS / 1000} s window on a freshly built group of N members; receiver CPU is the median other member.`);
  // Real network: 10 and 50 peers on loopback (bench/network.ts).
  const net = conclaveOnly ? { network: null, networkSizes: [], notes: [] } : await networkSection(quick, log);
  results.network = net.network;
  results.networkSizes = net.networkSizes;
  notes.push(...net.notes);
  // Catch-up of a member that missed messages (bench/catchup.ts, issue 19).
  if (results.network) await catchUpSection(results.network, notes);
  // File transfer between two peers, and chat latency while it runs (bench/files.ts, issue 18 §1).
  if (!conclaveOnly) try {
    const f = await measureFiles(quick ? 20 : 50, log);
    results.files = { throughputMBps: f.throughputMBps, chatP95DuringMs: f.chatP95DuringMs, sizeMB: f.sizeMB };
    notes.push(filesNote(f));
  } catch (err) {
    notes.push(`files: not measured — ${(err as Error).message}.`);
  }
  // NAT traversal in the testbed (bench/nat.ts, issue 16): root and network namespaces, else skipped with the reason.
  if (!conclaveOnly) {
    const nat = await natSection(log);
    if (results.network && nat.result) Object.assign(results.network, nat.result);
    notes.push(nat.note);
  }
  notes.push(`load: the 1-minute load average at the end of the run was ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores (other work on the machine inflates CPU and latency figures).`);

  for (const r of rekey) {
    r.initiatorMs = round(r.initiatorMs, 4);
    r.receiverMs = round(r.receiverMs, 4);
    if (r.groupCpuMs !== undefined) r.groupCpuMs = round(r.groupCpuMs, 2);
  }
  results.security = security.rows();
  write(results);
}

await main();
// Timers of the network section (timeouts that were not needed) must not hold the process.
process.exit(0);
