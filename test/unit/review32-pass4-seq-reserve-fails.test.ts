// Review 32 pass 4: sendSigned declares a taken number skipped (unsentOwnSeq) when the size check
// or keep throws, but takeOwnSeq itself is outside that try: when the number needs a new
// reservation and the reservation's `seq` line fails to write (disk full), takeOwnSeq throws after
// `nextOwn++` and after clearing `skipNext`. The number is taken and never sent, and nothing
// declares it skipped: every member sees a gap nobody can fill (and a skip pending from a restart
// is lost the same way).
// Secure: after a send that failed, the next message declares every number that never went out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { soloRuntime } from './solo-runtime.js';
import type { GroupHistory } from '../../app/peer/history.js';

test('review32-pass4: a send whose number reservation fails to write leaves no undeclared gap', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  const orig = fs.writeSync;
  try {
    await solo.rt.sendChat('before'); // number 1, reserved up to 64
    const h = (solo.rt as unknown as { history: GroupHistory }).history;
    const hh = h as unknown as { reservedUpTo: number; nextOwn: number };
    hh.reservedUpTo = hh.nextOwn - 1; // the reservation is used up: the next number reserves again (as at number 65)
    (fs as { writeSync: unknown }).writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    };
    syncBuiltinESMExports();
    let error: unknown = null;
    try {
      await solo.rt.sendChat('while the disk is full');
    } catch (err) {
      error = err;
    }
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
    assert.ok(error instanceof Error, 'chat.send failed');
    await solo.rt.sendChat('after');
    const held = (h as unknown as { held: Map<string, { list(): [number, number][] }> }).held.get(solo.key)?.list() ?? [];
    const skipped = (h as unknown as { skipped: Map<string, { list(): [number, number][] }> }).skipped.get(solo.key)?.list() ?? [];
    const covered = new Set<number>();
    for (const [lo, hi] of [...held, ...skipped]) for (let s = lo; s <= hi; s++) covered.add(s);
    const max = Math.max(...covered);
    const gaps = [...Array(max).keys()].map((i) => i + 1).filter((s) => !covered.has(s));
    assert.deepEqual(gaps, [], `numbers taken, never sent and never declared skipped: ${gaps.join(', ')} (held ${JSON.stringify(held)}, skipped ${JSON.stringify(skipped)})`);
  } finally {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
    solo.done();
  }
});
