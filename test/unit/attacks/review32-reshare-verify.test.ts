// Review 32 (h2's note): every member receives every board or file re-share meant for a newcomer,
// and each item of it was checked (an Ed25519 verify) before the history found it held already:
// about 180 verifies per 64 KiB packet on every member, against one for a chat message, and an
// insider can send such packets of its own at will. Secure: an item held already, with the same
// signature and its record on disk, is not checked again (`history.isHeldCopy`): keeping it would
// change nothing, whatever its body; an item not held is checked as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import type { SignedMessage } from '../../../app/peer/payload.js';

test('review32: a re-share of items already held costs no signature check; a changed one is still refused', async (t) => {
  const { g, rt, sign, seal, done } = runtimeOfB();
  t.after(done);
  const A = g.ids.a!.key;
  const items: SignedMessage[] = [];
  for (let i = 0; i < 40; i++) {
    const m = sign('a', { t: 'stroke', stroke: { id: `s${i}`, tool: 'pen', color: '#000000', width: 2, points: [{ x: i, y: i }] } });
    items.push(m);
    assert.equal(rt.receive(A, 'data', seal('a', { v: 2, t: 'msg', m })), 'accept');
  }
  await rt.held.durable();
  const verify = nodeCrypto.ed25519Verify;
  let verifies = 0;
  nodeCrypto.ed25519Verify = (...args) => {
    verifies++;
    return verify(...args);
  };
  try {
    for (let p = 0; p < 5; p++) rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'board', items }));
    assert.equal(verifies, 0, `items held already were checked again (${verifies} verifies for 5 re-shares of 40)`);
    // The same number with another body under the copied signature changes nothing: it is a
    // copy by its signature, and the history keeps what it held.
    const forged = { ...items[0]!, b: JSON.stringify({ t: 'stroke', stroke: { id: 'evil', tool: 'pen', color: '#ff0000', width: 9, points: [] } }) };
    rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'board', items: [forged] }));
    await rt.held.durable();
    assert.ok(!JSON.stringify(rt.held.boardStrokes()).includes('evil'), 'the forged body is not kept');
    // An item not held yet is checked as before.
    const fresh = sign('a', { t: 'stroke', stroke: { id: 'new', tool: 'pen', color: '#000000', width: 2, points: [{ x: 1, y: 1 }] } });
    rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'board', items: [fresh] }));
    assert.equal(verifies, 1, 'an item not held is checked');
  } finally {
    nodeCrypto.ed25519Verify = verify;
  }
});
