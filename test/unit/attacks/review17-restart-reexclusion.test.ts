// Review 17 (73e71c8). The re-exclusion bound ("at most three such tables per excluded
// member, whatever it sends", docs/protocol.md §7.4) lives in memory (EngineCore.reExcluded,
// toldExcludedCount): after the designated tellers restart, an excluded member that keeps
// sending junk gets three more re-exclusions, as soon as any later table (here one ordinary
// exclusion) gives the tellers a table that names it again.
// Fixed (review 17): one re-exclusion per excluded member, and none for exclusions seen before a restart (excludedMembers is in memory); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, deps, honestGroup } from './forge.js';
import { GroupEngine } from '../../../app/core/engine.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';

const HONEST = ['a', 'b', 'c', 'd', 'e'];

test('an excluded member that keeps sending costs at most three re-exclusions in all, across restarts', () => {
  const g = honestGroup([...HONEST, 'x', 'z']);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.x!.key);
  const x = new Attacker(g.ids.x!);
  const tables = () => [...HONEST, 'z'].reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  let round = 0;
  const junk = (rounds: number) => {
    for (let i = 0; i < rounds; i++, round++) {
      x.sealUnder({ slot: 0, version: 1, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([round & 255, round >> 8, 9])) });
      const hb = x.heartbeat({ sentAt: g.net.now + 1, keys: [] });
      x.sealUnder(null);
      for (const w of HONEST) g.e[w]!.receive(x.key, 'control', hb, g.net.now);
      g.net.run(g.net.now + g.params.heartbeatMs);
    }
  };
  const before = tables();
  junk(40);
  const first = tables() - before;
  // Every honest member restarts (an app closed and opened again), one ordinary exclusion follows.
  for (const w of HONEST) {
    const snap = g.e[w]!.snapshot();
    g.e[w] = g.net.add(g.ids[w]!, GroupEngine.restore(deps(`${w}-again`), g.ids[w]!, snap, g.net.now));
  }
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const mid = tables();
  g.e.b!.exclude([g.ids.z!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const ordinary = tables() - mid;
  junk(40);
  const second = tables() - mid - ordinary;
  console.log(`re-exclusions before restart ${first}, ordinary ${ordinary}, after restart ${second}`);
  for (const w of HONEST) assert.equal(g.e[w]!.state(), 'member');
  assert.ok(first + second <= 3, `${first} + ${second} re-exclusion tables from one excluded member's junk`);
});
