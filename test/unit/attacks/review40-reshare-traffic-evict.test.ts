// Review 40, insider: group.ts onData keeps every received board/file re-share packet in the
// traffic log (`this.opened(from, packet, { a: from, s: 0, k, for: [] })`), whatever became of its
// items — even when every item was refused — though with `for: []` it is never served to anyone.
// The traffic log keeps the newest `keepTraffic` packets (10,000 by default; 20,000 before it
// compacts): an insider's stream of junk re-shares (one 64 KiB packet each, nothing shown anywhere)
// pushes every genuine chat message out of every member's catch-up store, writes up to ~1.3 GB per
// member per group, and a member that was offline can then catch up the real conversation from
// nobody.
// Secure: a re-share none of whose items was taken is not kept; a packet never served
// (`for: []`) does not count against what is kept for serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import type { SignedMessage } from '../../../app/peer/payload.js';

test("an insider's junk re-shares do not push genuine messages out of the members' catch-up store", async (t) => {
  const { g, rt, sign, seal, send, done } = runtimeOfB(); // keepTraffic 100 in the fixture (10,000 in the app)
  t.after(done);
  const A = g.ids.a!.key;
  const M = g.ids.m!.key;
  for (let i = 0; i < 50; i++) send('a', { t: 'chat', text: `a says ${i}`, name: 'a' });
  await rt.held.durable();
  const servable = () => rt.trafficLog.select({}, 0, 0, 100_000, 1e12).items.filter((x) => x.tag?.a === A).length;
  assert.equal(servable(), 50, "b keeps a's 50 messages for catch-up");
  const bad: SignedMessage = { ...sign('a', { t: 'stroke', stroke: { id: 's', tool: 'pen', color: '#000000', width: 2, points: [] } }, 999), sig: '0'.repeat(128) };
  for (let p = 0; p < 200; p++) rt.receive(M, 'data', seal('m', { v: 2, t: 'board', items: p % 2 ? [bad] : [] }));
  assert.equal(servable(), 50, "a's messages are still served to members that missed them");
});
