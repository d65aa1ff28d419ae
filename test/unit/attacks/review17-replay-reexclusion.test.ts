// Review 17 (73e71c8). gate.ts unseal answers any SealedControl whose author is blocked with
// tellExcluded, before anything is opened or checked for replay; tellExcluded now counts those
// answers and re-excludes after 3 + 2·rank of them. So the excluded member itself need not act:
// anyone who kept one of its old control publications (a gossip relay, an outsider on the
// topic) replays those exact bytes, a heartbeat apart, and the designated tellers each publish
// a re-exclusion table. (Gossipsub's seen-cache stops a replay only within its TTL, ~2 min.)
// Secure: a replayed old message from an excluded member costs the group no rekey.
// Fixed (review 17): only a message sealed at or past the TEK version that blocked its sender, not seen before, counts (noteStillSending); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { honestGroup } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';

const HONEST = ['a', 'b', 'c', 'd', 'e'];

test('replaying an excluded member\'s old heartbeat makes the tellers re-exclude it', () => {
  const g = honestGroup([...HONEST, 'x']);
  // One of x's own control publications while it was a member, as any relay saw it.
  const old = g.net.published(g.ids.x!.key, MsgType.Heartbeat).at(-1);
  assert.ok(old, 'x published a heartbeat while a member');
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  assert.equal(g.e.x!.state(), 'excluded');
  g.net.offline.add(g.ids.x!.key); // x is gone for good: it sends nothing more
  const tables = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = tables();
  for (let round = 0; round < 40; round++) {
    for (const w of HONEST) g.e[w]!.receive(g.ids.x!.key, 'control', old, g.net.now);
    g.net.run(g.net.now + g.params.heartbeatMs);
  }
  const extra = tables() - before;
  for (const w of HONEST) assert.equal(g.e[w]!.state(), 'member');
  assert.equal(extra, 0, `${extra} re-exclusion tables from replays of one old heartbeat of x's`);
});
