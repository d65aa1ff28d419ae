// Review 25's side finding (pre-existing since before f266e2e): under `admins` (a, m0, m1),
// m0 excludes m5 while m1 excludes m0 (both at 4 s, 16 members, latency 5-40 ms). Admin a
// takes m0's table, then m1's (kept over m0's): it blocks m5 on a TEK that does not cover the
// block and reseals ~3 s later, naming m5 at every member. a crashing at 5 s and restarting at
// 7 s lost that reseal (a timer): a kept m5 blocked alone, on the others' TEK, for good, and
// the group never converged (seeds 1 and 6 of 1-10). Fixed: a restart re-arms the reseal of a
// member that may exclude and whose TEK does not cover its blocklist (GroupEngine.resume).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../../app/sim/simulation.js';
import { parseScenario } from '../../../app/sim/scenario.js';

for (const seed of [1, 6, 2]) {
  test(`an admin restarting inside a race still reseals, and the group converges (seed ${seed})`, () => {
    const events = [
      { at: 0, do: 'create', peer: 'a', policy: { exclude: 'admins', admins: ['a', 'm0', 'm1'] } },
      { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 15 },
      { at: 4000, do: 'exclude', peers: ['m5'], by: 'm0' },
      { at: 4000, do: 'exclude', peers: ['m0'], by: 'm1' },
      { at: 5000, do: 'crash', peer: 'a' },
      { at: 7000, do: 'restart', peer: 'a' },
      { at: 50000, do: 'send', peer: 'a', text: 'after the race' },
    ];
    const sim = new Simulation(parseScenario({ params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 70000 }), { seed });
    const report = sim.run();
    const members = [...sim.peers.values()].filter((p) => p.engine?.state() === 'member');
    const camps = new Set(members.map((p) => p.engine!.convergenceSignature(false)));
    assert.equal(camps.size, 1, `${camps.size} camps among ${members.length} members`);
    const m5 = sim.keyOf('m5');
    const blocking = members.filter((p) => p.engine!.isBlocked(m5)).length;
    assert.ok(blocking === 0 || blocking === members.length, `m5 blocked at ${blocking} of ${members.length}`);
    const readers = report.messages.find((m) => m.text === 'after the race');
    assert.ok(readers, 'the message after the race was sent');
    const missed = members.map((p) => p.name).filter((n) => n !== 'a' && !readers.readBy.includes(n));
    assert.deepEqual(missed, [], 'every member reads what the restarted admin sends');
  });
}
