// The scale scenario (app/sim/scale.ts, issue 17 item 6) at a small size: a group built
// by bootstrap, exclusions with churn, and a verdict that holds only when every live
// member has the same TEK and no removed member ever held it. The last two tests break
// convergence on purpose and check that the verdict says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../app/core/engine.js';
import { runScale, scaleScenario, scaleVerdict } from '../../app/sim/scale.js';
import { Simulation } from '../../app/sim/simulation.js';

const SMALL = { n: 200, exclusions: 3 };

test('scale scenario, 200 members, 3 exclusions with churn: every live member agrees on a TEK no removed member holds', () => {
  const r = runScale(SMALL);
  assert.deepEqual(r.errors, []);
  assert.equal(r.exclusions, 3);
  assert.equal(r.crashes, 2, 'two members went offline and came back');
  assert.equal(r.leaves, 1);
  assert.equal(r.live, 200 - 3 - 1, 'everyone but the excluded and the leaver is live at the end');
  assert.ok(r.tekAgreed, 'every live member holds the same TEK');
  assert.ok(r.tekUnknownToRemoved, 'no excluded or departed member ever held it');
  assert.ok(r.lastMessageRead, 'every live member read the last message, no removed member did');
  assert.equal(r.violations, 0);
  assert.ok(r.converged);
  assert.ok(r.simMs !== null && r.worstExcludeMs !== null && r.worstExcludeMs < 20_000, `exclusions converged (worst ${r.worstExcludeMs} ms)`);
});

/** The small scenario run to its end, with a snapshot of one live member taken before the first exclusion. */
function runWithOldSnapshot(): { sim: Simulation; report: ReturnType<Simulation['run']>; old: Uint8Array } {
  const scenario = scaleScenario(SMALL);
  const until = scenario.until;
  const sim = new Simulation(scenario, { seed: 1 });
  sim.runUntil(5_000);
  const old = sim.engineOf('m50')!.snapshot();
  const report = sim.runUntil(until);
  return { sim, report, old };
}

test('scale verdict: one live member left on the bootstrap TEK breaks agreement', () => {
  const { sim, report, old } = runWithOldSnapshot();
  assert.ok(scaleVerdict(sim, report, SMALL.n).converged, 'converged before the sabotage');
  const p = sim.peers.get('m50')!;
  p.engine = GroupEngine.restore(sim.deps(p), { seed: p.seed, name: p.name }, old, sim.now);
  const v = scaleVerdict(sim, report, SMALL.n);
  assert.equal(v.tekAgreed, false);
  assert.equal(v.converged, false);
});

test('scale verdict: an excluded member holding the final TEK breaks convergence', () => {
  const { sim, report } = runWithOldSnapshot();
  const e = sim.engineOf('a')!;
  const t = e.tekInfo()!;
  const tek = e.exportKeyMaterial().find((k) => k.slot === 0 && k.version === t.version && k.revision === t.revision)!;
  const excluded = sim.peers.get('m3')!;
  assert.equal(excluded.state, 'excluded');
  excluded.everKeys.set('leaked', { ...tek, key: Uint8Array.from(tek.key) });
  const v = scaleVerdict(sim, report, SMALL.n);
  assert.equal(v.tekUnknownToRemoved, false);
  assert.equal(v.converged, false);
});
