// The secrecy oracle reads what it checks (review 14's finding): it opens control traffic with
// every TEK any peer ever held (sim/oracle.ts allSeeing). After a `bootstrap`, the creator held
// two different keys of version 1 under the same creators (the one its `create` made, then the
// group's), and the opener kept one key per (version, creators) and cached derived keys by
// version and revision alone: every control message under the group's v1 (heartbeats, the first
// exclusions' tables) went unopened, so no secrecy check saw them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSeeing } from '../../app/sim/oracle.js';
import { run } from './helpers.js';

test('the oracle opens every control message of a bootstrapped group, the tables of its first exclusions included', () => {
  const n = 32;
  const names = ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];
  const { sim } = run(
    {
      params: {},
      network: { latencyMs: [5, 40], loss: 0 },
      events: [
        { at: 0, do: 'create', peer: 'a' },
        { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 },
        { at: 4000, do: 'exclude', peers: [names[n - 1]], by: names[1] },
        { at: 4000, do: 'exclude', peers: [names[n - 2]], by: names[2] },
      ],
      until: 9000,
    },
    3,
  );
  const opener = allSeeing(sim.crypto, sim.groupBytes, sim.peers.values());
  const log = sim.controlLog();
  const unopened = log.filter((c) => opener.open(c.bytes) === null);
  assert.ok(log.length > 50, `control messages recorded: ${log.length}`);
  assert.equal(unopened.length, 0, `${unopened.length} of ${log.length} control messages the oracle cannot open (first from ${unopened[0]?.from} at ${unopened[0]?.at})`);
});
