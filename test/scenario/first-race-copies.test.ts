// A reseal after a group's first race is sealed under the group's first TEK (version 1), which no
// table made; the sibling-copy rule (docs/protocol.md §8.2 "Races in a row", review 14) found no
// table for it and sent no copy, so members that had taken a racing sibling waited for a fetch
// (issue 17 item 4: four simultaneous exclusions at N = 4,096 took 1.55× one). Version 1 blocked
// nobody, so any member blocked since may hold it, and the copies go out. What review 14 guards
// stays true: no member excluded in the race reads a later table's header only through a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, siblingCopyReads } from './helpers.js';

const names = (n: number) => ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];

function scenario(n: number, k: number, gap: number) {
  const nm = names(n);
  const events: unknown[] = [{ at: 0, do: 'create', peer: 'a' }, { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 }];
  for (let i = 0; i < k; i++) events.push({ at: 4000 + gap * i, do: 'exclude', peers: [nm[n - 1 - i]], by: nm[1 + i] });
  return { params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 9000 };
}

test('the first race\'s reseal goes out under the racing siblings too; no member excluded in it reads a header only through a copy', () => {
  let copiesOfFirstReseal = 0;
  for (const [n, k, gap] of [[16, 4, 0], [32, 4, 0], [16, 6, 5]] as const) {
    for (const seed of [1, 2, 3]) {
      const { sim, report } = run(scenario(n, k, gap), seed);
      assert.ok(report.converged, `N=${n} k=${k} seed ${seed}: converged`);
      const { leaks, copies } = siblingCopyReads(sim);
      // A copy of a table built on a version-2 TEK: the reseal over the first race.
      copiesOfFirstReseal += copies.filter((h) => h.base.version === 2).length;
      assert.deepEqual(leaks, [], `N=${n} k=${k} seed ${seed}: excluded members that read a header only through a copy`);
    }
  }
  assert.ok(copiesOfFirstReseal > 0, 'the reseal over the first race went out under its siblings');
});
