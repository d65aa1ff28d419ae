/**
 * @module sim/cli
 * `npm run sim -- --scenario FILE [--seed N] [--json]`: runs a scenario and prints
 * a report (human-readable, or one JSON object with --json). Exit 0 when ok.
 */
import { readFileSync } from 'node:fs';
import { parseScenario } from './scenario.js';
import { runScenario, type SimReport } from './simulation.js';

function usage(msg: string): never {
  console.error(`${msg}\nusage: npm run sim -- --scenario FILE [--seed N] [--json]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file: string | undefined;
let seed = 1;
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--scenario') file = args[++i];
  else if (a === '--seed') seed = Number(args[++i]);
  else if (a === '--json') json = true;
  else usage(`unknown argument ${a}`);
}
if (!file) usage('missing --scenario');
if (!Number.isInteger(seed)) usage('--seed must be an integer');

let report: SimReport;
try {
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  report = runScenario(scenario, { seed });
} catch (e) {
  console.error(`sim: ${(e as Error).message}`);
  process.exit(2);
}

if (json) {
  process.stdout.write(JSON.stringify(report) + '\n');
} else {
  const live = report.members.filter((m) => m.state === 'member');
  console.log(`scenario ${file} seed ${seed}: ${report.ok ? 'OK' : 'NOT OK'} (converged: ${report.converged})`);
  console.log(`members: ${live.length} live, ${report.members.length - live.length} other`);
  const tek = live[0]?.tek;
  if (tek) console.log(`TEK v${tek.version} r${tek.revision} ${tek.fingerprint} origin ${JSON.stringify(tek.origin)}`);
  const read = report.messages.filter((m) => m.readBy.length > 0).length;
  console.log(`messages: ${report.messages.length} sent, ${read} read by someone`);
  console.log(`violations: backward ${report.violations.backward.length}, forward ${report.violations.forward.length}, missed ${report.violations.missed.length}`);
  for (const k of ['backward', 'forward', 'missed'] as const) for (const v of report.violations[k].slice(0, 5)) console.log(`  ${k}: ${v}`);
  const s = report.stats;
  console.log(`control: ${s.controlMessages} messages, ${s.controlBytes} bytes; unicast ${s.unicastMessages}; data ${s.dataMessages}; ${s.deliveries} deliveries in ${s.wallMs} ms`);
  for (const o of s.operations.slice(0, 40)) console.log(`  ${o.op} at ${Math.round(o.at)}: ${o.controlMessages} msgs ${o.controlBytes} B, converged ${o.convergeMs === null ? 'never' : Math.round(o.convergeMs) + ' ms'}`);
  for (const e of report.errors.slice(0, 10)) console.log(`  error: ${e}`);
  for (const k of ['attackerRead', 'unauthorizedExclusion', 'unreadable'] as const) for (const v of (report.violations[k] ?? []).slice(0, 5)) console.log(`  ${k}: ${v}`);
  for (const a of report.attacks ?? []) {
    const verdict = a.refused && a.unharmed ? 'REFUSED, group unharmed' : a.refused ? 'refused, but the group was harmed' : 'SUCCEEDED';
    console.log(`attack "${a.label}" (${a.role} ${a.attacker}, t=${Math.round(a.at)}): ${verdict}; reached ${a.reached}, rejected by ${a.rejected}`);
    for (const c of a.changed.slice(0, 6)) console.log(`  changed ${c}`);
    for (const t of a.threw.slice(0, 3)) console.log(`  threw at ${t}`);
    for (const h of a.harm.slice(0, 6)) console.log(`  harm: ${h}`);
  }
}
process.exit(report.ok ? 0 : 1);
