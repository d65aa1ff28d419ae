// Review 12 (one-publication exclusions, docs/protocol.md §7.1): a small group's exclusion now
// has one publisher, its excluder. If the excluder goes down just after publishing, members
// must still get TEK′ and the target must still learn of its exclusion: before, completers
// were publishers too, and answered both. Each test asserts the robust outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../app/sim/scenario.js';
import { Simulation } from '../../app/sim/simulation.js';

const PARAMS = { W: 16, V: 16, heartbeatMs: 1000, graceMs: 120000 };

test('a newcomer the excluder had not heard of, with no entry for it, gets TEK′ from another member when the excluder crashes after publishing', () => {
  for (const seed of [2, 7]) {
    const sim = new Simulation(
      parseScenario({
        params: PARAMS,
        network: { latencyMs: [5, 40], loss: 0 },
        events: [
          { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 19 },
          { at: 3000, do: 'join', peer: 'j', via: 'm1' },
        ],
        until: 60000,
      }),
      { seed },
    );
    let t = 3000;
    sim.runUntil(t);
    while (t < 10000 && sim.engineOf('j')?.state() !== 'member') sim.runUntil(++t);
    assert.equal(sim.engineOf('j')?.state(), 'member', `seed ${seed}: j joined`);
    const excluder = sim.peer('m5');
    excluder.engine!.exclude([sim.keyOf('m3')], t);
    sim.drain(excluder);
    (sim as unknown as { driver: { run(e: unknown): void } }).driver.run({ at: t + 50, do: 'crash', peer: 'm5' });
    const t0 = t;
    let got = -1;
    for (; t < t0 + 20000 && got < 0; t += 50) {
      sim.runUntil(t);
      if (sim.engineOf('j')!.tekInfo()!.version >= 2) got = t - t0;
    }
    assert.ok(got >= 0 && got <= 10000, `seed ${seed}: j holds the new TEK ${got} ms after the exclusion (at most 10 s; it waited for the grace window, ~2 min)`);
  }
});

test('a target cut off during its exclusion learns of it after the heal though the excluder crashed', () => {
  for (const seed of [1, 2, 3]) {
    const others = Array.from({ length: 11 }, (_, i) => `m${i}`).filter((n) => n !== 'm3');
    const sim = new Simulation(
      parseScenario({
        params: PARAMS,
        events: [
          { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 11 },
          { at: 2900, do: 'partition', groups: [['m3'], ['a', ...others]] },
          { at: 3000, do: 'exclude', peers: ['m3'], by: 'm5' },
          { at: 3100, do: 'crash', peer: 'm5' },
          { at: 3500, do: 'heal' },
        ],
        until: 40000,
      }),
      { seed },
    );
    let when = -1;
    for (let t = 3500; t <= 40000 && when < 0; t += 500) {
      sim.runUntil(t);
      if (sim.engineOf('m3')?.state() === 'excluded') when = t - 3000;
    }
    assert.ok(when >= 0, `seed ${seed}: m3 learnt of its exclusion (it stayed a member for good)`);
  }
});
