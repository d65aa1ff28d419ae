// Shared scenario plumbing for the scenario tests: run, and explain a failure.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation, type SimReport } from '../../app/sim/simulation.js';

export const SMALL = { W: 8, V: 4, heartbeatMs: 500, graceMs: 60000 };

/** Join events for `names`, 150 ms apart from `from`, all through `via`. */
export const joins = (names: string[], from = 1000, via = 'a') => names.map((p, i) => ({ at: from + 150 * i, do: 'join', peer: p, via }));

export function run(json: unknown, seed = 1): { report: SimReport; sim: Simulation } {
  const sim = new Simulation(parseScenario(json), { seed });
  const report = sim.run();
  return { report, sim };
}

/** Saves a failing scenario so it can be replayed: npm run sim -- --scenario FILE --seed N. */
export function saveFailure(name: string, scenario: unknown, seed: number): string {
  mkdirSync('test-results', { recursive: true });
  const file = `test-results/${name}-seed${seed}.json`;
  writeFileSync(file, JSON.stringify(scenario, null, 1));
  return file;
}

export function assertOk(report: SimReport, label = ''): void {
  const why = [
    ...report.errors.map((e) => `error: ${e}`),
    ...report.violations.backward.map((v) => `backward: ${v}`),
    ...report.violations.forward.map((v) => `forward: ${v}`),
    ...report.violations.missed.map((v) => `missed: ${v}`),
    report.converged ? '' : `not converged: ${report.members.filter((m) => m.state === 'member').map((m) => `${m.name}=v${m.tek?.version}r${m.tek?.revision}:${m.tek?.fingerprint}`).join(' ')}`,
  ].filter(Boolean);
  assert.ok(report.ok, `${label} ${why.slice(0, 8).join('\n')}`);
}

export function member(report: SimReport, name: string) {
  const m = report.members.find((x) => x.name === name);
  assert.ok(m, `no member ${name}`);
  return m;
}

export function readers(report: SimReport, text: string): string[] {
  return report.messages.filter((m) => m.text === text).flatMap((m) => m.readBy);
}

/** Current members grouped by (TEK, blocklist), as "camp: names": one entry when the group agrees. */
export function camps(sim: Simulation): string[] {
  const out = new Map<string, string[]>();
  for (const p of sim.peers.values()) {
    if (p.engine?.state() !== 'member') continue;
    const t = p.engine.tekInfo()!;
    const camp = `v${t.version}:${t.fingerprint} blocking [${p.engine.blocklist().map((b) => sim.nameOf(b)).sort().join(',')}]`;
    out.set(camp, [...(out.get(camp) ?? []), p.name]);
  }
  return [...out].map(([k, v]) => `${k}: ${v.join(',')}`);
}
