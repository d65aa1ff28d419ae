// Review 32 passes 3 and 4: an own message sent while the disk is full.
// - Pass 3: sendSigned keeps the own message before publishing it, and `history.keep` indexed it
//   (chat list, held numbers) BEFORE writing its line. When the write failed (ENOSPC), keep threw
//   after indexing: chat.send failed, the message was never published nor written, yet it was
//   listed as sent, its number claimed as held, and it vanished at the next start (a gap nobody can
//   fill). Secure: a send that throws leaves nothing of its message in the author's history, and
//   the next message declares the failed number skipped.
// - Pass 4: when the number needed a new reservation, the reservation's `seq` line failed to write
//   after `nextOwn++` and after clearing a pending skip: the number was taken, never sent and never
//   declared. Secure: after a send that failed, the next message declares every number that never
//   went out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { soloRuntime } from './solo-runtime.js';
import type { GroupHistory } from '../../app/peer/history.js';

type Solo = ReturnType<typeof soloRuntime>;
type Ranges = Map<string, { list(): [number, number][] }>;

/** `text` sent while every write fails with ENOSPC; returns the error chat.send gave. */
async function sendWhileDiskFull(solo: Solo, text: string): Promise<unknown> {
  const orig = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  syncBuiltinESMExports();
  try {
    await solo.rt.sendChat(text);
    return null;
  } catch (err) {
    return err;
  } finally {
    (fs as { writeSync: unknown }).writeSync = orig;
    syncBuiltinESMExports();
  }
}

const historyOf = (solo: Solo) => (solo.rt as unknown as { history: GroupHistory }).history;
const rangesOf = (h: GroupHistory, field: 'held' | 'skipped', key: string) => (h as unknown as Record<string, Ranges>)[field]!.get(key)?.list() ?? [];

test('review32-pass3: a send whose history write fails (disk full) is not listed as sent, and its number is declared skipped', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  try {
    await solo.rt.sendChat('before');
    const error = await sendWhileDiskFull(solo, 'written while the disk is full');
    assert.ok(error instanceof Error, 'chat.send failed');
    await solo.rt.sendChat('after');
    const h = historyOf(solo);
    const listed = h.chatHistory(10).map((m) => m.text);
    assert.deepEqual(listed, ['before', 'after'], `chat.send failed (${(error as Error).message}), yet its message is listed: ${JSON.stringify(listed)}`);
    assert.deepEqual(rangesOf(h, 'skipped', solo.key), [[2, 2]], 'the message after declares the failed number skipped');
  } finally {
    solo.done();
  }
});

test('review32-pass4: a send whose number reservation fails to write leaves no undeclared gap', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  try {
    await solo.rt.sendChat('before'); // number 1, reserved up to 64
    const h = historyOf(solo);
    const hh = h as unknown as { reservedUpTo: number; nextOwn: number };
    hh.reservedUpTo = hh.nextOwn - 1; // the reservation is used up: the next number reserves again (as at number 65)
    assert.ok((await sendWhileDiskFull(solo, 'while the disk is full')) instanceof Error, 'chat.send failed');
    await solo.rt.sendChat('after');
    const held = rangesOf(h, 'held', solo.key);
    const skipped = rangesOf(h, 'skipped', solo.key);
    const covered = new Set<number>();
    for (const [lo, hi] of [...held, ...skipped]) for (let s = lo; s <= hi; s++) covered.add(s);
    const gaps = [...Array(Math.max(...covered)).keys()].map((i) => i + 1).filter((s) => !covered.has(s));
    assert.deepEqual(gaps, [], `numbers taken, never sent and never declared skipped: ${gaps.join(', ')} (held ${JSON.stringify(held)}, skipped ${JSON.stringify(skipped)})`);
  } finally {
    solo.done();
  }
});
