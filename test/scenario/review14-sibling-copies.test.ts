// Review 14 (dfd87db, "races in a row converge in one hop").
// 1. Sibling copies: the commit says a table's copies under its base's siblings "expose nothing
//    new" (every target knew one TEK or the other). A member excluded in the race can hold a
//    sibling TEK made before its exclusion was known, and then opens the header of a later table
//    (its targets, the whole blocklist) that it cannot open under the table's own seal.
//    N = 16, six exclusions 5 ms apart, seed 4: m11 and m12 open reseal v4's header only through
//    a copy under a v3 sibling. Passes on d84f938 (no copies), fails on dfd87db.
// 2. Chained exclusions (each excluder the previous target, 10 ms apart, N = 32, seed 1): the
//    early fetch of a table one version past a sibling of ours makes four members adopt TEK v4 of
//    m28, whom the rest excluded; both camps' blocklists are then covered by their own TEK, nobody
//    reseals, and the group stays split for good (no TEK change after 4.6 s of a 30 s run).
//    d84f938 converges (all four targets excluded, 2 reseals). Fails on dfd87db.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, siblingCopyReads } from './helpers.js';

const names = (n: number) => ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];

function scenario(n: number, k: number, gap: number, chain: boolean, until: number) {
  const nm = names(n);
  const events: unknown[] = [{ at: 0, do: 'create', peer: 'a' }, { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 }];
  for (let i = 0; i < k; i++) events.push({ at: 4000 + gap * i, do: 'exclude', peers: [nm[n - 1 - i]], by: chain && i > 0 ? nm[n - i] : nm[1 + i] });
  return { params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until };
}

test('review 14: a member excluded in a race opens no later table header through a sibling copy that it could not open under the table itself', () => {
  const { sim } = run(scenario(16, 6, 5, false, 9000), 4);
  const { leaks } = siblingCopyReads(sim);
  assert.deepEqual(leaks, [], `excluded members that read a later table's header only through a sibling copy: ${leaks.join(', ')}`);
});

test('review 14: chained exclusions 10 ms apart in 32 (each excluder the previous target) converge to one TEK', () => {
  const { report } = run(scenario(32, 4, 10, true, 30000), 1);
  const tekOf = new Map<string, string[]>();
  for (const m of report.members.filter((x) => x.state === 'member')) tekOf.set(`v${m.tek?.version}:${m.tek?.fingerprint}`, [...(tekOf.get(`v${m.tek?.version}:${m.tek?.fingerprint}`) ?? []), m.name]);
  assert.ok(report.converged, `split: ${[...tekOf].map(([k, v]) => `${k} ${v.length} (${v.slice(0, 6).join(',')})`).join(' | ')}`);
});
