// Review 17 (2d22d7c, docs/protocol.md §8.2 "Contested TEKs"). A contested sign now stands only
// while our TEK is unchanged. But onUnopenedControl keeps a message that names a version ahead
// of ours in pendingSealed, and openPendingSealed feeds it again after every change of our TEK
// (for graceMs, 120 s): a member whose entry was already dropped notes the same one message
// again under its new TEK and schedules another contested reseal 4–6 heartbeats later; that
// reseal changes everyone's TEK, and so on, until every member has resealed once for that
// creator (contestedResealed) or the grace window ends. With latency and loss the chain runs:
// N = 32, 10 % loss, seed 6: 28 reseals from one heartbeat (30 at b5ba357, before the fix).
// Secure: one message costs the group about one reseal (review 16's bound).
// Fixed (review 17): a message offered again from pendingSealed notes no contested sign (rekey-triggers.ts noteContestedTek); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../../app/sim/simulation.js';
import { parseScenario } from '../../../app/sim/scenario.js';
import { Attacker } from '../../../app/sim/adversary.js';
import { SeededRandom } from '../../../app/sim/random.js';
import { MsgType } from '../../../app/core/wire.js';

function reseals(seed: number, inject: boolean): { reseals: number; converged: boolean } {
  const n = 32;
  const nm = ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];
  const x = nm[n - 1]!;
  const sc = {
    params: {},
    network: { latencyMs: [5, 40], loss: 0.1 },
    events: [{ at: 0, do: 'create', peer: 'a' }, { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 }, { at: 4000, do: 'exclude', peers: [x], by: 'm1' }],
    until: 12000,
  };
  const sim = new Simulation(parseScenario(sc), { seed });
  sim.runUntil(12000);
  const T = 12000;
  // Insider m0 (a current member) seals one heartbeat under a made-up TEK 1,000 versions ahead
  // whose creators tag is the excluded x's.
  const m0 = sim.peers.get('m0')!;
  const att = new Attacker(sim.crypto, sim.groupBytes, m0.seed, new SeededRandom(`r17:${seed}`));
  const v = sim.engineOf('a')!.tekInfo()!.version;
  const bytes = att.control({ type: MsgType.Heartbeat, sentAt: T + 5, keys: [], history: [], blocklistCount: 0, rosterCount: 1 }, { version: v + 1000, creators: [sim.keyOf(x)] });
  if (inject) sim.network.inject(T, m0, 'control', bytes, sim.peers.values());
  const report = sim.runUntil(T + 150_000);
  let count = 0;
  for (const p of sim.peers.values()) {
    for (const t of p.engine?.keyTable(sim.now).log ?? []) if (t.at > T && /^resealed after/.test(t.text)) count++;
  }
  return { reseals: count, converged: report.converged };
}

test('control: without the message, nobody reseals', () => {
  assert.deepEqual(reseals(6, false), { reseals: 0, converged: true });
});

test('one sealed heartbeat under an excluded member\'s tag, N = 32, 10 % loss, seed 6: about one reseal', () => {
  const r = reseals(6, true);
  assert.ok(r.reseals <= 2, `${r.reseals} reseals in the group from one message`);
});
