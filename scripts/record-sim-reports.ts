/**
 * Records the simulator's report for every scenarios/*.json at seed 7 into
 * test/scenario/recorded/, without the wall-clock figure. The test
 * test/scenario/recorded-reports.test.ts replays them and demands identical
 * reports: a refactoring that changes behaviour fails it. Re-record only for a
 * change that is meant to alter behaviour, and say so in the commit.
 *   node --import tsx scripts/record-sim-reports.ts [name ...]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { recordedReport, RECORDED_DIR, SCENARIO_DIR } from '../test/scenario/recorded-reports.js';

const names = process.argv.slice(2);
for (const file of readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).sort()) {
  const name = file.replace(/\.json$/, '');
  if (names.length && !names.includes(name)) continue;
  const report = recordedReport(JSON.parse(readFileSync(`${SCENARIO_DIR}/${file}`, 'utf8')));
  writeFileSync(`${RECORDED_DIR}/${name}.json`, JSON.stringify(report, null, 1) + '\n');
  console.log(`recorded ${name}`);
}
