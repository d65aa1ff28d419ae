/**
 * @module bench/report
 * Turns a BenchResults object into the Markdown summary (bench/results/latest.md)
 * and the SVG charts. Pure functions of the results: nothing here measures.
 */
import { renderChart, type Series } from './svg.js';
import type { BenchResults, RekeyOp, RekeyRow, RoleCost, SchemeName } from './types.js';
import { WINDOW_MS } from './schemes/conclave.js';

const SCHEMES: SchemeName[] = ['conclave', 'mls', 'lkh', 'pairwise'];
const COLORS: Record<SchemeName, string> = { conclave: '#1f77b4', mls: '#d62728', lkh: '#2ca02c', pairwise: '#9467bd' };

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return Number(v.toFixed(digits)).toString();
}

/** One row per N: where Conclave's leave was measured both ways, the simulated row. */
function rowsOf(r: BenchResults, op: RekeyOp, scheme: SchemeName): RekeyRow[] {
  const rows = r.rekey.filter((x) => x.op === op && x.scheme === scheme);
  return rows.filter((x) => x.method !== 'sampled' || !rows.some((y) => y.n === x.n && y.method !== 'sampled')).sort((a, b) => a.n - b.n);
}

/** Conclave's leave rows of one method. */
function methodRows(r: BenchResults, method: 'simulated' | 'sampled'): RekeyRow[] {
  return r.rekey.filter((x) => x.scheme === 'conclave' && x.op === 'leave' && (x.method ?? 'simulated') === method).sort((a, b) => a.n - b.n);
}

function series(r: BenchResults, op: RekeyOp, pick: (row: RekeyRow) => number, dashed = false, suffix = ''): Series[] {
  return SCHEMES.map((s) => ({ name: s + suffix, color: COLORS[s], dashed, points: rowsOf(r, op, s).map((row) => ({ x: row.n, y: pick(row) })) })).filter((s) => s.points.length > 0);
}

export function renderCharts(r: BenchResults): { file: string; svg: string; title: string }[] {
  const charts: { file: string; svg: string; title: string }[] = [];
  const add = (file: string, spec: Parameters<typeof renderChart>[0]) => charts.push({ file, svg: renderChart(spec), title: spec.title });
  add('leave-bytes.svg', {
    title: 'Leave (exclude one member): bytes on the wire',
    xLabel: 'group size N',
    yLabel: 'bytes',
    xLog: true,
    yLog: true,
    series: series(r, 'leave', (x) => x.bytes),
  });
  add('leave-cpu.svg', {
    title: 'Leave: CPU at the initiator (solid) and at one receiver (dashed)',
    xLabel: 'group size N',
    yLabel: 'CPU ms',
    xLog: true,
    yLog: true,
    series: [...series(r, 'leave', (x) => x.initiatorMs), ...series(r, 'leave', (x) => x.receiverMs, true, ' (receiver)')],
  });
  add('join-bytes-existing.svg', {
    title: 'Join: bytes every existing member must receive',
    xLabel: 'group size N',
    yLabel: 'bytes',
    xLog: true,
    yLog: true,
    series: series(r, 'join', (x) => x.bytesToExisting),
  });
  add('join-bytes-total.svg', {
    title: 'Join: total bytes on the wire (MLS includes the Welcome with the tree)',
    xLabel: 'group size N',
    yLabel: 'bytes',
    xLog: true,
    yLog: true,
    series: series(r, 'join', (x) => x.bytes),
  });
  const sim = methodRows(r, 'simulated');
  const sam = methodRows(r, 'sampled');
  if (sam.length > 0) {
    add('leave-methods.svg', {
      title: 'Conclave leave CPU, two methods: whole group simulated (solid) and sampled (dashed)',
      xLabel: 'group size N',
      yLabel: 'CPU ms',
      xLog: true,
      yLog: true,
      series: [
        { name: 'excluder, simulated', color: '#1f77b4', points: sim.map((x) => ({ x: x.n, y: x.initiatorMs })) },
        { name: 'receiver, simulated', color: '#ff7f0e', points: sim.map((x) => ({ x: x.n, y: x.receiverMs })) },
        { name: 'excluder, sampled', color: '#1f77b4', dashed: true, points: sam.map((x) => ({ x: x.n, y: x.initiatorMs })) },
        { name: 'receiver, sampled', color: '#ff7f0e', dashed: true, points: sam.map((x) => ({ x: x.n, y: x.receiverMs })) },
      ].filter((x) => x.points.length > 0),
    });
  }
  const ks = [...new Set(r.convergence.map((c) => c.k))].sort((a, b) => a - b);
  add('convergence.svg', {
    title: 'Exclusion convergence (simulator, virtual time)',
    xLabel: 'group size N',
    yLabel: 'ms until every member has the new TEK',
    xLog: true,
    series: ks.map((k, i) => ({
      name: `k = ${k}`,
      color: ['#1f77b4', '#ff7f0e', '#2ca02c'][i % 3],
      points: r.convergence.filter((c) => c.k === k).sort((a, b) => a.n - b.n).map((c) => ({ x: c.n, y: c.ms ?? Number.NaN })),
    })),
  });
  return charts;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0) || !(a > 0)) return '—';
  const q = a / b;
  return q >= 1 ? `${fmt(q, 1)}×` : `1/${fmt(1 / q, 1)}`;
}

/** Issue 17 item 1: the leave measured both ways where the sizes overlap. */
function methodsSection(r: BenchResults): string[] {
  const sam = methodRows(r, 'sampled');
  const both = methodRows(r, 'simulated').filter((x) => sam.some((y) => y.n === x.n));
  if (both.length === 0) return [];
  const out = [
    '## Conclave leave: the two methods where they overlap',
    '',
    'One definition in both (docs/performance.md, "One method at every N"): the excluder\'s `exclude()` warm, median of repeated runs, plus the completions it receives and the timer work the exclusion adds beside a copy that saw no exclusion; the receiver, the median of the completers and 24 other members, each its receipts plus the timer work the exclusion adds (a completer its receipts). Both time engines restored from state bytes in a process that holds no simulation: the simulated method replays what its simulation recorded (snapshots just before the exclusion, the receipts after it) in a fresh process. Issue 17 asks agreement within 2×.',
    '',
    '| N | excluder ms simulated / sampled | receiver ms simulated / sampled | within 2× | bytes simulated / sampled |',
    '|---:|---:|---:|:---:|---:|',
  ];
  const within = (a: number, b: number) => a > 0 && b > 0 && Math.max(a / b, b / a) <= 2;
  for (const x of both) {
    const y = sam.find((z) => z.n === x.n) as RekeyRow;
    const ok = within(x.initiatorMs, y.initiatorMs) && within(x.receiverMs, y.receiverMs);
    out.push(`| ${x.n.toLocaleString('en-US')} | ${fmt(x.initiatorMs, 3)} / ${fmt(y.initiatorMs, 3)} (${ratio(x.initiatorMs, y.initiatorMs)}) | ${fmt(x.receiverMs, 3)} / ${fmt(y.receiverMs, 3)} (${ratio(x.receiverMs, y.receiverMs)}) | ${ok ? 'yes' : 'no'} | ${fmt(x.bytes)} / ${fmt(y.bytes)} |`);
  }
  out.push('');
  return out;
}

/** Issue 17 item 2: every member's CPU and received bytes, summed. */
function groupSection(r: BenchResults): string[] {
  const rows = r.rekey.filter((x) => x.groupCpuMs !== undefined).sort((a, b) => a.op.localeCompare(b.op) || a.n - b.n || (a.method ?? '').localeCompare(b.method ?? ''));
  if (rows.length === 0) return [];
  const out = ['## The whole group (every member summed)', '', '| scheme | op | N | method | group CPU ms | group bytes received |', '|---|---|---:|---|---:|---:|'];
  for (const x of rows) out.push(`| ${x.scheme} | ${x.op} | ${x.n.toLocaleString('en-US')} | ${x.method ?? '—'} | ${fmt(x.groupCpuMs, 2)} | ${fmt(x.groupBytesIn)} |`);
  // MLS beside them where it ran at the same size: ts-mls runs one member at a time, so its sum is
  // derived, the committer plus N − 1 times the median receiver (no bytes column: not measured per member).
  const mls = r.rekey.filter((x) => x.scheme === 'mls' && rows.some((y) => y.op === x.op && y.n === x.n)).sort((a, b) => a.op.localeCompare(b.op) || a.n - b.n);
  for (const x of mls) out.push(`| mls (ts-mls) | ${x.op} | ${x.n.toLocaleString('en-US')} | derived: committer + (N − 1) × receiver | ${fmt(x.initiatorMs + (x.n - 1) * x.receiverMs, 2)} | — |`);
  out.push('');
  return out;
}

/** Issue 14: what the authorization checks cost, measured through the engine. */
function securitySection(r: BenchResults): string[] {
  if (!r.security || r.security.length === 0) return [];
  const out = ['## Security checks (issue 14)', ''];
  if (r.ed25519) out.push(`One Ed25519 verify costs ${fmt(r.ed25519.verifyUs, 1)} µs of CPU here, one signature ${fmt(r.ed25519.signUs, 1)} µs (the engine's node provider).`, '');
  out.push('Per received message (mean over every receipt by every member in the join and leave runs):', '');
  out.push('| N | message | receipts | CPU µs each | Ed25519 verifies each |', '|---:|---|---:|---:|---:|');
  for (const s of r.security) for (const [type, v] of Object.entries(s.perMessage)) out.push(`| ${s.n} | ${type} | ${fmt(v.count)} | ${fmt(v.cpuUs, 1)} | ${fmt(v.verifies, 3)} |`);
  out.push('', 'Per operation (CPU ms / Ed25519 verifies / signatures; the receiver and the existing member are the median member):', '');
  out.push('| N | admitter | newcomer | existing member | excluder | receiver of an exclusion |', '|---:|---:|---:|---:|---:|---:|');
  const c = (x: RoleCost | undefined) => (x ? `${fmt(x.ms, 3)} / ${x.verifies} / ${x.signs}` : '—');
  for (const s of r.security) out.push(`| ${s.n} | ${c(s.admission?.admitter)} | ${c(s.admission?.newcomer)} | ${c(s.admission?.existing)} | ${c(s.exclusion?.excluder)} | ${c(s.exclusion?.receiver)} |`);
  out.push('');
  return out;
}

/** The scale scenario (issue 17 item 6; bench/scale.ts): one group simulated whole. */
function scaleSection(r: BenchResults): string[] {
  const s = r.scale10k;
  if (!s) return [];
  const out = [`## Scale: ${fmt(s.n)} members by bootstrap, exclusions with churn (simulator)`, ''];
  if ('error' in s) return [...out, `Not measured: ${s.error}.`, ''];
  out.push(
    `A group of ${fmt(s.n)} members built by bootstrap (every member a real engine restored from a built state), then ${s.exclusions} exclusions 3 s apart, ${s.crashes} members offline for 25 s during them and back, ${s.leaves} leaves; every message through the engines' receive path with every check on (app/sim/scale.ts).`,
    '',
    '| converged | live members | simulated ms, first exclusion → last agreement | worst exclusion, ms | wall ms | CPU ms | peak RSS MiB | control msgs | control bytes | unicast bytes | deliveries |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${s.converged ? 'yes' : `**no** (TEK agreed ${s.tekAgreed}, unknown to the removed ${s.tekUnknownToRemoved}, last message read ${s.lastMessageRead}, violations ${s.violations}, errors ${s.errors.length})`} | ${fmt(s.live)} | ${fmt(s.simMs)} | ${fmt(s.worstExcludeMs)} | ${fmt(s.wallMs)} | ${fmt(s.cpuMs)} | ${fmt(s.peakRssMB)} | ${fmt(s.controlMessages)} | ${fmt(s.controlBytes)} | ${fmt(s.unicastBytes)} | ${fmt(s.deliveries)} |`,
    '',
    'Converged: every live member holds the same TEK (version, creators, revision, key bytes), no excluded or departed member ever held it, every live member read a message sent after the last event and no removed member did, the secrecy oracle found no violation and the run logged no error.',
    '',
  );
  return out;
}

export function renderMarkdown(r: BenchResults, charts: { file: string; title: string }[]): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(`Run ${m.date} (${m.quick ? '`--quick`' : 'full'}) on ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}, Node ${m.node}, ts-mls ${m.tsMls}, commit ${m.gitCommit}.`);
  out.push('Every figure below was measured in this run. Method: docs/performance.md.');
  out.push('');
  const ops: RekeyOp[] = ['leave', 'join', 'refresh'];
  for (const op of ops) {
    out.push(`## ${op === 'leave' ? 'Leave (exclusion of one member)' : op === 'join' ? 'Join' : 'Periodic refresh'}`);
    out.push('');
    out.push('| scheme | N | bytes | to existing | messages | initiator CPU ms | receiver CPU ms | keys / member |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of SCHEMES) {
      for (const x of rowsOf(r, op, s)) {
        out.push(`| ${s}${x.method === 'sampled' ? ' (sampled)' : ''} | ${x.n.toLocaleString('en-US')} | ${fmt(x.bytes)} | ${fmt(x.bytesToExisting)} | ${fmt(x.messages)} | ${fmt(x.initiatorMs, 3)} | ${fmt(x.receiverMs, 3)} | ${fmt(x.keysPerMember)} |`);
      }
    }
    out.push('');
  }
  out.push(...methodsSection(r), ...groupSection(r), ...securitySection(r));
  out.push('## Conclave against MLS, same N');
  out.push('');
  out.push('| op | N | bytes (conclave / mls) | initiator CPU (mls ÷ conclave) | receiver CPU (mls ÷ conclave) |');
  out.push('|---|---:|---:|---:|---:|');
  let compared = 0;
  for (const op of ops) {
    for (const c of rowsOf(r, op, 'conclave')) {
      const mm = rowsOf(r, op, 'mls').find((x) => x.n === c.n);
      if (!mm) continue;
      compared++;
      out.push(`| ${op} | ${c.n} | ${ratio(c.bytes, mm.bytes)} | ${ratio(mm.initiatorMs, c.initiatorMs)} | ${ratio(mm.receiverMs, c.receiverMs)} |`);
    }
  }
  if (compared === 0) out.push('| — | — | no size measured for both schemes in this run | — | — |');
  out.push('');
  out.push('## Convergence at scale (simulator)');
  out.push('');
  if (r.convergence.length === 0) out.push('Not measured in this run.');
  else {
    // Issue 17 item 4 asks k = 16 within 1.5× of k = 1 at the same N: the ratio is beside each row.
    out.push('| N | k simultaneous exclusions | ms until every member holds the new TEK | ÷ k = 1 at this N |');
    out.push('|---:|---:|---:|---:|');
    for (const c of [...r.convergence].sort((a, b) => a.n - b.n || a.k - b.k)) {
      const one = r.convergence.find((x) => x.n === c.n && x.k === 1)?.ms ?? undefined;
      out.push(`| ${c.n} | ${c.k} | ${c.ms === null ? `did not converge within the ${WINDOW_MS / 1000} s window` : fmt(c.ms)} | ${c.k === 1 ? '' : ratio(c.ms ?? undefined, one)} |`);
    }
  }
  out.push('');
  if (r.partitionHeal && r.partitionHeal.length > 0) {
    out.push('Partitions healed (issue 17 item 3): the group split into partitions, one exclusion in each, then healed; from the heal until every member holds one TEK (heartbeats left out of the bytes):');
    out.push('');
    out.push('| N | partitions | ms after the heal | bytes sent | bytes received (all members) | heartbeat bytes meanwhile |');
    out.push('|---:|---:|---:|---:|---:|---:|');
    for (const h of r.partitionHeal) out.push(`| ${h.n} | ${h.parts} | ${h.ms === null ? 'not converged within 15 s' : fmt(h.ms)} | ${fmt(h.bytes)} | ${fmt(h.bytesIn)} | ${fmt(h.heartbeatBytes)} |`);
    out.push('');
  }
  if (r.heartbeat && r.heartbeat.length > 0) {
    out.push('Heartbeats in steady state (control bytes per member per minute):');
    out.push('');
    out.push('| N | sent per member | received per member |');
    out.push('|---:|---:|---:|');
    for (const h of r.heartbeat) out.push(`| ${h.n} | ${fmt(h.sentPerMemberPerMin)} | ${fmt(h.receivedPerMemberPerMin)} |`);
    out.push('');
  }
  out.push(...scaleSection(r));
  out.push('## Real network (real peers on loopback)');
  out.push('');
  const runs = r.networkSizes && r.networkSizes.length > 0 ? r.networkSizes : r.network ? [r.network] : [];
  if (runs.length === 0) out.push('Not measured in this run (see the notes below).');
  else {
    const ok = (v: number | null | undefined) => v !== null && v !== undefined && Number.isFinite(v);
    const opt = (v: number | undefined) => (v === undefined ? '—' : fmt(v));
    out.push('| peers | chat p50 ms | chat p95 ms | chat max ms | deliveries | join → first decrypted message ms | exclusion converged ms | idle CPU % per peer | RSS MB per peer |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const n of runs) {
      out.push(`| ${n.peers} | ${fmt(n.chatP50Ms)} | ${fmt(n.chatP95Ms)} | ${fmt(n.chatMaxMs)} | ${fmt(n.chatSamples)} | ${ok(n.joinMs) ? fmt(n.joinMs) : 'no message within 60 s'} | ${ok(n.exclusionMs) ? fmt(n.exclusionMs) : 'not within 30 s'} | ${opt(n.idleCpuPct)} | ${opt(n.rssMB)} |`);
    }
  }
  const c = r.network;
  if (c?.catchupMs !== undefined && c.catchupMsgsPerSec !== undefined) {
    out.push('');
    out.push(`Catch-up (bench/catchup.ts, issue 19): a member that missed ${fmt(c.catchupMissed ?? 0)} messages held every one ${fmt(c.catchupMs)} ms after it was ready again (${fmt(c.catchupMsgsPerSec)} messages/s).`);
  }
  if (c?.natJoinMs !== undefined && c.directAfterMs !== undefined && c.roamMs !== undefined) {
    out.push('');
    out.push(`NAT testbed (bench/nat.ts, issue 16): join across two NATs until both read each other ${fmt(c.natJoinMs)} ms; direct path ${fmt(c.directAfterMs)} ms after the joiner started; after moving to a third NAT, both read again ${fmt(c.roamMs)} ms later.`);
  }
  if (r.files) {
    out.push('');
    out.push(`Files (bench/files.ts, issue 18): ${fmt(r.files.sizeMB)} MiB between two peers on loopback at ${r.files.throughputMBps} MiB/s; chat p95 while it went ${fmt(r.files.chatP95DuringMs)} ms.`);
  }
  out.push('');
  out.push('## Symmetric crypto throughput (1 KiB messages, XChaCha20-Poly1305, @noble)');
  out.push('');
  out.push(`Encrypt ${fmt(r.crypto.encryptPerSec)} /s, decrypt ${fmt(r.crypto.decryptPerSec)} /s (one core).`);
  out.push('');
  out.push('## Charts');
  out.push('');
  for (const c of charts) out.push(`- [${c.title}](${c.file})`);
  out.push('');
  out.push('## Notes (what was not measured, and how things were built)');
  out.push('');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('');
  return out.join('\n');
}
