// Review 40, insider (follow-up of review 32's re-share verify fix, b37b2df): review 32 found that
// every member verifies every item of every board/file re-share — "~180 Ed25519 verifies per 64 KiB
// packet, which an insider can send at will" — and fixed it for items HELD already
// (history.isHeldCopy). An item that is never held is still verified each time it comes: an
// insider fills a `{t:'board'}` payload with items that name a current member as author and
// carry a broken signature (one item repeated ~180 times is enough; nothing checks a re-share
// against an admission, nor dedups items inside one packet). Every one is refused
// (`bad-signature`) after its verify, nothing is kept, and the carrier's packet still gets the
// verdict `accept`: gossipsub forwards it to the whole mesh and scores nobody (refusals of
// application items never reach the verdict, group.ts receive). So one sealed 64 KiB packet —
// microseconds for the attacker, a fresh nonce each time — costs every member ~180 verifies.
// Secure: a packet's cost in verifies is bounded like a chat message's (an item whose check failed
// is not checked again, identical items in one packet are checked once, or a packet whose items
// fail is not accepted/forwarded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import type { SignedMessage } from '../../../app/peer/payload.js';
import { encodePayload } from '../../../app/peer/payload.js';

test('an insider\'s board re-share of forged items costs every member one verify per packet, and is not forwarded', (t) => {
  const { g, rt, sign, seal, done } = runtimeOfB();
  t.after(done);
  const M = g.ids.m!.key;
  const genuine = sign('a', { t: 'stroke', stroke: { id: 's', tool: 'pen', color: '#000000', width: 2, points: [] } }, 7);
  const bad: SignedMessage = { ...genuine, sig: 'f'.repeat(128) }; // author a, signature broken
  const items: SignedMessage[] = [];
  while (encodePayload({ v: 2, t: 'board', items: [...items, bad] }).length < 63 * 1024) items.push(bad);
  const verify = nodeCrypto.ed25519Verify;
  let verifies = 0;
  nodeCrypto.ed25519Verify = (...args) => {
    verifies++;
    return verify(...args);
  };
  const packets = 20;
  const verdicts = new Set<string>();
  try {
    for (let p = 0; p < packets; p++) verdicts.add(rt.receive(M, 'data', seal('m', { v: 2, t: 'board', items })));
  } finally {
    nodeCrypto.ed25519Verify = verify;
  }
  assert.ok(verifies <= 2 * packets, `${verifies} verifies for ${packets} packets (a chat message costs 1)`);
  assert.deepEqual([...verdicts], ['reject'], 'gossipsub forwards none of them');
  // An honest re-share of the same author's genuine item is still taken.
  assert.equal(rt.receive(M, 'data', seal('m', { v: 2, t: 'board', items: [genuine, genuine] })), 'accept');
});
