// The secrecy oracle reads what it checks (review 14's finding): it opens control traffic with
// every TEK any peer ever held (sim/oracle.ts allSeeing). After a `bootstrap`, the creator held
// two different keys of version 1 under the same creators (the one its `create` made, then the
// group's), and the opener kept one key per (version, creators) and cached derived keys by
// version and revision alone: every control message under the group's v1 (heartbeats, the first
// exclusions' tables) went unopened, so no secrecy check saw them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSeeing } from '../../app/sim/oracle.js';
import { assertOk, run } from './helpers.js';

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

test("a creator excluded after a bootstrap is checked with the group's keys, not only the ones its create made", () => {
  // Review 15: `everKeys` (and the oracle's adversary) kept one key per (slot, version,
  // creators), so the creator's record held its create-time v1 keys and never the group's:
  // the secrecy checks of its removal started without the TEK it had really used.
  const { sim, report } = run(
    {
      params: {},
      network: { latencyMs: [5, 40], loss: 0 },
      events: [
        { at: 0, do: 'create', peer: 'a' },
        { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 7 },
        { at: 1000, do: 'send', peer: 'm0', text: 'before' },
        { at: 3000, do: 'exclude', peers: ['a'], by: 'm1' },
      ],
      until: 8000,
    },
    1,
  );
  assertOk(report);
  const a = sim.peers.get('a')!;
  const m0 = sim.peers.get('m0')!;
  const groupTek = [...m0.everKeys.values()].find((k) => k.slot === 0 && k.version === 1)!;
  const held = [...a.everKeys.values()].filter((k) => k.slot === 0 && k.version === 1);
  assert.ok(
    held.some((k) => k.revision === groupTek.revision && Buffer.compare(k.key, groupTek.key) === 0),
    `a's record of TEK v1 (${held.length} line(s)) lacks the group's v1 that a read "before" under`,
  );
  const sharedKeks = [...m0.everKeys.values()].filter((k) => k.slot !== 0);
  for (const kek of sharedKeks) {
    const mine = [...a.everKeys.values()].filter((k) => k.slot === kek.slot && k.version === kek.version && k.revision === kek.revision);
    if (mine.length > 0) assert.ok(mine.some((k) => Buffer.compare(k.key, kek.key) === 0), `a's record of KEK slot ${kek.slot} lacks the group's key`);
  }
});
