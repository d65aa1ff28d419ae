/**
 * The completion plan's `directOnly` shape (docs/protocol.md §8.2: a reseal too large for
 * one hop): every completer it names holds one of the excluder's usable KEKs, so it reads
 * TEK' in the first delivery and every member reads it at most two deliveries after the
 * table; with the pairwise list, the plan still reaches every remaining member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCompletion } from '../../app/core/engine/completion-plan.js';
import { pidOf, type EngineCore } from '../../app/core/engine/context.js';
import { slotsOf } from '../../app/core/params.js';
import { toHex } from '../../app/core/bytes.js';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation } from '../../app/sim/simulation.js';

test('a directOnly plan names only completers the excluder reaches itself, and reaches every member', () => {
  const sim = new Simulation(parseScenario({ events: [{ at: 0, do: 'create', peer: 'a' }, { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 255 }], until: 10 }), { seed: 3 });
  sim.run();
  const core = (sim.engineOf('m1') as unknown as { core: EngineCore }).core;
  const V = core.s.params.V;
  // As after 8 concurrent exclusions: every slot of m200..m207 is unusable.
  const targets = Array.from({ length: 8 }, (_, i) => sim.keyOf(`m${200 + i}`));
  const unusable = new Set(targets.flatMap((k) => slotsOf(pidOf(core, k), V)));
  const ownUsable = slotsOf(core.selfId, V).filter((s) => !unusable.has(s));
  const slotsOfKey = (k: string) => slotsOf(pidOf(core, k), V);
  const members = Object.keys(core.s.roster).filter((k) => k !== core.self && !targets.includes(k));
  const direct = new Set(members.filter((k) => slotsOfKey(k).some((s) => ownUsable.includes(s))));
  assert.ok(direct.size < members.length, 'the excluder alone does not reach everyone (else there is nothing to plan)');
  const { plan, pairwiseFor } = planCompletion(core, targets, unusable, ownUsable, 255, true);
  assert.ok(plan.length > 0);
  const reached = new Set(direct);
  for (const step of plan) {
    const completer = members.find((k) => k.startsWith(toHex(step.prefix)));
    assert.ok(completer, 'a completer is a member');
    assert.ok(direct.has(completer), 'every completer holds one of the excluder\'s usable KEKs');
    const slots = slotsOfKey(completer);
    for (const symbol of step.symbols) for (const k of members) if (slotsOfKey(k).includes(slots[symbol]!)) reached.add(k);
  }
  for (const k of pairwiseFor) reached.add(k);
  assert.deepEqual(members.filter((k) => !reached.has(k)), [], 'every remaining member is reached');
});
