// Shared scenario plumbing for the scenario tests: run, and explain a failure.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation, type SimReport } from '../../app/sim/simulation.js';
import { ControlOpener } from '../../app/sim/sealed-control.js';
import { MsgType, type TableHeader } from '../../app/core/wire.js';
import { toHex } from '../../app/core/bytes.js';

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

/**
 * Review 14's check over a run's control traffic, opened with every key any peer ever held: the
 * members excluded before a table that read its header only through a copy under a sibling TEK
 * (never under the table's own seal), and the headers of the copies (every publication of a
 * table after its first).
 */
export function siblingCopyReads(sim: Simulation): { leaks: string[]; copies: TableHeader[] } {
  const peers = [...sim.peers.values()];
  // One opener per peer (ControlOpener keeps one key per version and tag, and a bootstrap gives its creator a v1 of its own).
  const openers = new Map(peers.map((p) => [p.name, new ControlOpener(sim.crypto, sim.groupBytes, [...p.everKeys.values()])]));
  const open = (bytes: Uint8Array) => {
    for (const o of openers.values()) {
      const m = o.open(bytes);
      if (m) return m;
    }
    return null;
  };
  const firstSeal = new Set<string>();
  const copies: TableHeader[] = [];
  const viaPrimary = new Map<string, boolean>(); // peer|table → opened under the first seal
  for (const c of sim.controlLog()) {
    const m = open(c.bytes);
    if (m?.type !== MsgType.Table) continue;
    const id = `${c.from}|${c.at}|${toHex(m.headerSignature)}`;
    const primary = !firstSeal.has(id);
    firstSeal.add(id);
    if (!primary) copies.push(m.header);
    for (const p of peers) {
      if (p.removedAt === null || c.at < p.removedAt || !m.header.blocklist.includes(p.key)) continue;
      if (!openers.get(p.name)!.open(c.bytes)) continue;
      const key = `${p.name}|${toHex(m.headerSignature)}`;
      viaPrimary.set(key, (viaPrimary.get(key) ?? false) || primary);
    }
  }
  return { leaks: [...viaPrimary].filter(([, v]) => !v).map(([key]) => key.split('|')[0]!), copies };
}
