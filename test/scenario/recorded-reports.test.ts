/**
 * Behaviour is unchanged by a refactoring: every scenarios/*.json, run at the
 * recorded seed, gives exactly the report recorded in test/scenario/recorded/
 * (scripts/record-sim-reports.ts wrote them). A deliberate behaviour change
 * re-records them in the same commit and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { recordedReport, RECORDED_DIR, SCENARIO_DIR } from './recorded-reports.js';

for (const file of readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).sort()) {
  test(`scenario ${file} gives the recorded report`, () => {
    const recorded: unknown = JSON.parse(readFileSync(`${RECORDED_DIR}/${file}`, 'utf8'));
    const now = recordedReport(JSON.parse(readFileSync(`${SCENARIO_DIR}/${file}`, 'utf8')));
    assert.deepStrictEqual(now, recorded);
  });
}
