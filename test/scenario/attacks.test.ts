/**
 * Active adversaries (issue 14 §5): every scenarios/attacks/*.json, run at a fixed
 * seed, must report each of its attacks refused (every member it reached rejected
 * it, none changed state) and the group unharmed (the attacker read nothing, nobody
 * honest was excluded, honest members kept reading each other), and `ok`.
 *
 * Attacks the engine does not refuse yet carry node:test's `todo` with the issue
 * item that fixes them: a failing todo does not fail the run, and a todo that starts
 * passing is reported as such, so its entry below can be removed with the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../../app/sim/scenario.js';
import { runScenario } from '../../app/sim/simulation.js';

const DIR = fileURLToPath(new URL('../../scenarios/attacks', import.meta.url));
const SEED = 7;

/** Scenario file → why it still succeeds (remove the entry when the engine refuses it). */
/** Attacks not refused yet, with the issue item that fixes them (none: every attack of issue 14's list is refused). */
const TODO: Record<string, string> = {};

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
  const todo = TODO[file];
  test(`attack scenario ${file}: every attack refused, the group unharmed`, todo ? { todo } : {}, () => {
    const report = runScenario(parseScenario(JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8'))), { seed: SEED });
    assert.ok(report.attacks && report.attacks.length > 0, 'the scenario has attacks');
    for (const a of report.attacks) {
      assert.ok(a.reached > 0, `"${a.label}" reached a member`);
      assert.ok(a.refused, `"${a.label}" refused: rejected by ${a.rejected} of ${a.reached}; changed: ${a.changed.join('; ')}; threw: ${a.threw.join('; ')}`);
      assert.ok(a.unharmed, `"${a.label}" left the group unharmed: ${a.harm.slice(0, 5).join('; ')}`);
    }
    assert.deepEqual(report.errors, []);
    assert.ok(report.ok, 'the report is ok');
  });
}

test('every todo names an existing attack scenario', () => {
  const files = new Set(readdirSync(DIR).filter((f) => f.endsWith('.json')));
  for (const f of Object.keys(TODO)) assert.ok(files.has(f), `TODO names ${f}, which does not exist`);
});
