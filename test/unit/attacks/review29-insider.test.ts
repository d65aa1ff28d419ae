// Review 29 (insiders, red team), through a real GroupRuntime of member b (review29-fixtures.ts):
// - a second, different message under an insider's number is refused by the history (an
//   equivocation), yet it was tagged and kept in the traffic log, and b served both versions to a
//   member that lacked that number, which kept whichever came first in b's arrival order;
// - every refused item of one re-share payload wrote one log line (150 strangers' strokes in each
//   of 5 packets: 750 lines), past the per-minute budget engine refusals get.
// Secure: a message the history refused is never kept for catch-up (docs/protocol.md §12.1:
// "refused … dropped"), and refusals are logged under the same budget as the engine's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { groupBytes } from './forge.js';
import { signMessage, type SignedMessage } from '../../../app/peer/payload.js';
import { signer } from '../signers.js';
import { toHex } from '../../../app/core/bytes.js';
import { REJECTED_LOG_LIMITS } from '../../../app/peer/event-limit.js';

test('review29: an equivocation the history refused is not served by catch-up', async (t) => {
  const { g, rt, sign, seal, done } = runtimeOfB();
  t.after(done);
  const M = g.ids.m!.key;
  const first = sign('m', { t: 'chat', text: 'the meeting is at 10', name: 'm' }, 1);
  const second = sign('m', { t: 'chat', text: 'the meeting is cancelled', name: 'm' }, 1);
  assert.equal(rt.receive(M, 'data', seal('m', { v: 2, t: 'msg', m: first })), 'accept');
  rt.receive(M, 'data', seal('m', { v: 2, t: 'msg', m: second }));
  await rt.held.durable();
  assert.equal(rt.rejections.list().filter((r) => /second message/.test(r.detail)).length, 1, 'the history refused the second');
  // Member a lacks all of m's messages and asks b.
  const served = rt.trafficLog.select({ [g.ids.a!.key]: [] }, 0, 0, 500, 4 << 20, g.ids.a!.key).items.filter((i) => i.from === M);
  assert.equal(served.length, 1, 'only the message the history kept is served');
});

test('review29: refused re-shared items are logged within the per-minute budget', (t) => {
  const { g, rt, seal, logs, clock, done } = runtimeOfB();
  t.after(done);
  const items: SignedMessage[] = [];
  for (let i = 0; i < 150; i++) {
    const s = signer(50 + (i % 100)); // keys the roster does not list
    items.push(signMessage(toHex(groupBytes), s, { s: i + 1, k: 0, at: clock, id: randomBytes(16).toString('hex') }, { t: 'stroke', stroke: { id: 'x', tool: 'pen', color: '#000000', width: 1, points: [] } }));
  }
  const before = logs.length;
  for (let p = 0; p < 5; p++) rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'board', items }));
  const lines = logs.length - before;
  assert.ok(lines <= REJECTED_LOG_LIMITS.total + 2, `${lines} log lines for 750 refused items`);
});
