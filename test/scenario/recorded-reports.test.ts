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

/**
 * Where two JSON values first differ (a path and both values, short), or null. A deep-equal
 * assertion on a whole report carried both reports in its error, and the test runner's reporter
 * spun for over half an hour writing them out (a CI run that never ended).
 */
function firstDifference(actual: unknown, recorded: unknown, path = '$'): string | null {
  if (typeof actual !== 'object' || actual === null || typeof recorded !== 'object' || recorded === null) {
    return Object.is(actual, recorded) ? null : `${path}: ${JSON.stringify(actual)?.slice(0, 200)} (recorded ${JSON.stringify(recorded)?.slice(0, 200)})`;
  }
  if (Array.isArray(actual) !== Array.isArray(recorded)) return `${path}: ${Array.isArray(actual) ? 'an array' : 'an object'} (recorded ${Array.isArray(recorded) ? 'an array' : 'an object'})`;
  const a = actual as Record<string, unknown>;
  const r = recorded as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(r)])) {
    if (!(k in a) || !(k in r)) return `${path}.${k}: ${k in a ? 'present' : 'missing'} (recorded ${k in r ? 'present' : 'missing'})`;
    const d = firstDifference(a[k], r[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

for (const file of readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).sort()) {
  test(`scenario ${file} gives the recorded report`, () => {
    const recorded: unknown = JSON.parse(readFileSync(`${RECORDED_DIR}/${file}`, 'utf8'));
    const now = recordedReport(JSON.parse(readFileSync(`${SCENARIO_DIR}/${file}`, 'utf8')));
    assert.equal(firstDifference(now, recorded), null);
  });
}
