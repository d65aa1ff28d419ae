/**
 * The simulator's report for a scenario at a fixed seed, minus what depends on
 * the machine (wall-clock time): the behaviour fingerprint that
 * recorded-reports.test.ts compares against reports recorded earlier.
 */
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../../app/sim/scenario.js';
import { runScenario } from '../../app/sim/simulation.js';

export const RECORDED_SEED = 7;
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios', import.meta.url));
export const RECORDED_DIR = fileURLToPath(new URL('./recorded', import.meta.url));

export function recordedReport(scenarioJson: unknown): unknown {
  const report = runScenario(parseScenario(scenarioJson), { seed: RECORDED_SEED });
  delete report.stats.wallMs;
  return JSON.parse(JSON.stringify(report));
}
