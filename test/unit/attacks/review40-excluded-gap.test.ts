// Review 40 (LOW): 4142d80 made "an excluded member's missing numbers no gap" (history.ts gaps/hint skip
// `unfillable` authors; a failed chaos run). group.ts wires it as
//   this.history.unfillable = (key) => this.record.blocklist.includes(key);
// but nothing in app/ ever writes GroupRecord.blocklist (newGroupRecord sets [] and it stays so;
// the engine's blocklist lives in its own state). So in a real runtime `unfillable` is always
// false: an insider that skips a number (or a receipt naming its numbers) and is then excluded
// leaves every member's reconciliation in "gap open" for good — sessions with backoff, full from
// every server's start, "gap open" in the key panel — exactly what the commit meant to end. The
// same dead list is the first check of GroupRuntime.receive ("blocklisted senders are ignored
// before the engine").
// Secure: once the runtime's engine has excluded m, m's numbers are no gap and no hint opens one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';

test("an excluded member's missing numbers are no gap in a running peer (the engine's blocklist, not the record's, which is never filled)", async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const M = f.g.ids.m!.key;
  const live = (s: number) => {
    const m = f.sign('m', { t: 'chat', text: `m${s}`, name: 'm' }, s);
    assert.equal(f.rt.receive(M, 'data', f.seal('m', { v: 2, t: 'msg', m })), 'accept');
  };
  live(1);
  live(3); // number 2 never sent: a gap only m could fill
  await f.rt.held.durable();
  assert.deepEqual(f.rt.held.gaps().map((g) => g.author), [M], 'a gap while m is a member');
  f.rt.exclude([M]);
  assert.equal(f.rt.engine.rosterState(M), 'excluded', 'b excluded m');
  assert.ok(f.rt.engine.keyTable(f.clock).blocklist.includes(M), "m is on the engine's blocklist");
  assert.deepEqual(f.rt.held.gaps(), [], "m's numbers are no gap once m is excluded (nothing that could fill them is taken)");
});
