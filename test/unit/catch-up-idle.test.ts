/**
 * Periodic reconciliation backs off while nothing happens (peer/catch-up.ts
 * `idlePeriodAfter`, `periodicDue`): every 5 s while the group's history grows or a
 * session brings something, doubling to 20 s while neither does; a message kept
 * between ticks makes the next tick run a session whatever the spacing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATCHUP_BOUNDS, idlePeriodAfter, periodicDue } from '../../app/peer/catch-up.js';

test('a quiet member spaces its sessions 5, 10, 20, 20 s; anything brought or kept returns to 5 s', () => {
  let period: number = CATCHUP_BOUNDS.periodMs;
  const spacings: number[] = [];
  for (let i = 0; i < 5; i++) {
    period = idlePeriodAfter(period, false);
    spacings.push(period);
  }
  assert.deepEqual(spacings, [10_000, 20_000, 20_000, 20_000, 20_000]);
  assert.equal(idlePeriodAfter(20_000, true), CATCHUP_BOUNDS.periodMs);
});

test('a periodic tick runs a session once the spacing has passed, or at once when a message was kept since the last one', () => {
  const s = { idlePeriodMs: 20_000, lastSessionAt: 1_000_000, keptAtSession: 12 };
  assert.equal(periodicDue(s, 12, 1_000_000 + 5_000), false, 'quiet, 5 s after the last session');
  assert.equal(periodicDue(s, 12, 1_000_000 + 19_999), false);
  assert.equal(periodicDue(s, 12, 1_000_000 + 20_000), true, 'the spacing has passed');
  assert.equal(periodicDue({ ...s, lastSessionAt: -Infinity }, 12, 0), true, 'no session answered yet');
  assert.equal(periodicDue(s, 13, 1_000_000 + 5_000), true, 'a message kept since: the group talks again');
});
