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
const TODO: Record<string, string> = {
  'outsider-fetch-reply.json': 'issue 14: keys only from a member answering our own request, matching a signed commitment',
  'outsider-key-grant.json': 'issue 14: keys only from a member answering our own request, matching a signed commitment',
  'outsider-heartbeat-merge.json': 'issue 14: no TEK dropped or rejoin for an unauthenticated heartbeat; merging requires proof of membership',
  'leaver-table.json': 'issue 14: departed identities author nothing',
  'excluded-concurrent-table.json': 'issue 14: excluded identities author no "concurrent" table',
  'revision-bomb.json': 'issue 14: bounded revision jumps (hash work per message)',
  'sybil-member-admitted.json': 'issue 14: MemberAdmitted carries an admission certificate; no keys without one',
  'admins-member-rotates.json': 'issue 14: under the admins policy only admins rotate, refresh or own the TEK',
  'join-refused.json': 'issue 14: no rejoin on an unauthenticated JoinRefused',
  'nested-fetch-reply.json': 'issue 14: nesting depth bound; nothing throws out of receive',
  'data-flood.json': 'issue 14: data from non-members rejected; fetch entries bounded',
  'unsigned-table.json': 'issue 14: the direct-header rule: every table header signature checked',
};

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
