// Review 32 pass 4: a message whose fsync failed is "unsaved": its number is no longer held, so
// reconciliation brings a copy, which `keep` writes again. On that path keep first deletes the
// unsaved entry and holds the number again, THEN writes (write() calls appendDurable). If that
// write throws (the disk is still full), the message is neither written nor unsaved any more, yet
// its number is held: it is never asked for again, and the next copy is a mere 'duplicate'. Lost
// for good (the pass-3 fix ordered the write before the indexing only for a first copy).
// Secure: a copy whose write throws leaves the message asked for again; a later copy is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { soloRuntime } from './solo-runtime.js';
import type { GroupHistory } from '../../app/peer/history.js';
import type { SignedMessage } from '../../app/peer/payload.js';

type Rec = { m: SignedMessage; sender: string; name: string; receivedAt: number; to?: string[] };

test('review32-pass4: a re-fetched copy whose write throws is still asked for and kept later', async () => {
  let t = 1_700_000_000_000;
  const solo = soloRuntime({ now: () => t++, emit: () => undefined });
  const f = fs as unknown as Record<string, unknown>;
  const orig = { fsync: fs.fsync, writeSync: fs.writeSync };
  const restore = () => {
    Object.assign(fs, orig);
    syncBuiltinESMExports();
  };
  try {
    await solo.rt.sendChat('before');
    f.fsync = (_fd: number, cb: (err: Error | null) => void) => setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
    syncBuiltinESMExports();
    await solo.rt.sendChat('its fsync fails').catch(() => undefined);
    restore();
    const h = (solo.rt as unknown as { history: GroupHistory }).history;
    const unsaved = (h as unknown as { unsaved: Map<string, Map<number, { record: Rec }>> }).unsaved;
    const lost = [...(unsaved.get(solo.key)?.values() ?? [])][0];
    assert.ok(lost, 'the message whose fsync failed is unsaved (asked for again)');
    const r = lost.record;
    f.writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    };
    syncBuiltinESMExports();
    let threw = false;
    try {
      h.keep(r.m, r.sender, r.name, r.receivedAt);
    } catch {
      threw = true;
    }
    restore();
    assert.ok(threw, 'the copy\'s write failed');
    const held = (h as unknown as { held: Map<string, { has(s: number): boolean; list(): [number, number][] }> }).held.get(solo.key)!;
    const again = h.keep(r.m, r.sender, r.name, r.receivedAt);
    assert.equal(
      again,
      'kept',
      `after a copy whose write threw, number ${r.m.s} is ${JSON.stringify(held.list())}-held and the next copy is '${again}': the message is never written nor asked for again`,
    );
  } finally {
    restore();
    solo.done();
  }
});
