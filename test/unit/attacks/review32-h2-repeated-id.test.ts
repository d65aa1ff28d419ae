// Review 32, h2 (insider): an insider's own messages under one message ID.
// `history.ts keep` drops a message as a `duplicate` when its (sender, ID) is held, BEFORE it
// records the (author, number): the number is never held. `group.ts keepReceived` still returns
// true for a duplicate, so the packet is tagged (author, number) and kept for catch-up. An
// insider signs numbers 1..n all under one (non-derived, which is allowed) ID, then n + 1 under
// another: every member holds 1 and n + 1 only, so numbers 2..n are a gap that can never close
// (every copy served is again a "duplicate"), while every member serves those n packets, tagged
// with numbers no asker holds, to every asker. While the gap is open each catch-up session is a
// full one (catch-up.ts `sync`: `s.full = true`), retried at least every 30 s for ever, each
// fetching up to 10,000 of these packets and checking each signature again.
// Secure: a message the history did not keep under its number is either counted as held (no
// gap) or never kept for catch-up; an insider's numbers received here leave no permanent gap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { signMessage } from '../../../app/peer/payload.js';
import { toHex } from '../../../app/core/bytes.js';

test('review32-h2: messages an insider signs under one ID leave no permanent gap and are not served on', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal, clock } = f;
  const M = g.ids.m!;
  const sign = (s: number, id: string) =>
    signMessage(toHex(groupBytes), { key: M.key, sign: (x) => nodeCrypto.ed25519Sign(M.seed, x) }, { s, k: currentTek(g.e.m!)!.version, at: clock, id }, { t: 'chat', text: `message ${s}`, name: 'm' });
  const n = 6;
  for (let s = 1; s <= n; s++) assert.equal(rt.receive(M.key, 'data', seal('m', { v: 2, t: 'msg', m: sign(s, 'ab'.repeat(16)) })), 'accept');
  assert.equal(rt.receive(M.key, 'data', seal('m', { v: 2, t: 'msg', m: sign(n + 1, 'cd'.repeat(16)) })), 'accept');
  await rt.held.durable();

  const gaps = rt.held.gaps(64, clock);
  const served = rt.trafficLog.select(rt.held.summary(), 0, 0, 500, 4 << 20, g.ids.a!.key).items.filter((i) => i.tag?.a === M.key && !rt.held.has(M.key, i.tag.s));
  assert.ok(gaps.length === 0 || served.length === 0, `b has a gap of m's numbers ${JSON.stringify(gaps.map((x) => x.missing))} that its own catch-up can never close, and serves ${served.length} packet(s) of numbers it does not hold to an asker holding what b holds`);
  assert.deepEqual(gaps, [], 'numbers received and checked here are no gap to chase for ever');
});
