// Review 18 (5dfc3e5, exclusion.ts noteStillSending). The re-exclusion that ends review 16's
// lossy chained split now has a single actor: the lowest-keyed current member that may
// exclude, and only if this very engine saw the target excluded while a member (in memory).
// If that one member is offline (still 'member' in every roster) or restarts during the race,
// nobody acts: review 16's failure returns (N = 32, four chained exclusions 10 ms apart,
// 10 % loss, seed 31; m9 is the lowest-keyed member and the one that acts at 5dfc3e5).
// Secure: every excluded member learns it, whichever single member is away.
// Fixed (review 18): the second and third lowest-keyed members that may exclude act after 3 and 6 more messages if the lowest has not (noteStillSending); this test failed before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../scenario/helpers.js';

const names = (n: number) => ['a', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];
function chained(extra: unknown[]) {
  const n = 32;
  const nm = names(n);
  const events: unknown[] = [{ at: 0, do: 'create', peer: 'a' }, { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: n - 1 }];
  for (let i = 0; i < 4; i++) events.push({ at: 4000 + 10 * i, do: 'exclude', peers: [nm[n - 1 - i]], by: i > 0 ? nm[n - i] : nm[1] });
  events.push(...extra);
  return { params: {}, network: { latencyMs: [5, 40], loss: 0.1 }, events, until: 60000 };
}

function outcome(extra: unknown[]) {
  const { report } = run(chained(extra), 31);
  const states = Object.fromEntries(report.members.filter((m) => ['m27', 'm29'].includes(m.name)).map((m) => [m.name, m.state]));
  return { converged: report.converged, states };
}

test('control: seed 31 as in contested-tek.test.ts, m27 and m29 learn their exclusion', () => {
  assert.deepEqual(outcome([]), { converged: true, states: { m27: 'excluded', m29: 'excluded' } });
});

test('the lowest-keyed member restarts 2 s after the race: m27 and m29 stay members in their own eyes', () => {
  const r = outcome([{ at: 6000, do: 'crash', peer: 'm9' }, { at: 7000, do: 'restart', peer: 'm9' }]);
  assert.deepEqual(r, { converged: true, states: { m27: 'excluded', m29: 'excluded' } });
});

test('the lowest-keyed member goes offline 2 s after the race: the same', () => {
  const r = outcome([{ at: 6000, do: 'crash', peer: 'm9' }]);
  assert.deepEqual(r, { converged: true, states: { m27: 'excluded', m29: 'excluded' } });
});
