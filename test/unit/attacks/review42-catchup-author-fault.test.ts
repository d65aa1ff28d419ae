// Review 42 (MEDIUM), on review 40's fix. Since e25a9c9 every 'invalid' refusal of what a catch-up server served is put on
// the server, red ("served in <author>'s name"). But two 'invalid' refusals are proven faults of the
// *author*, carried by its own valid signatures, and an honest server keeps and serves them:
//  - an edit/delete of another member's message (history 'not-author': kept for numbering, so the
//    server keeps the packet for catch-up, group.ts keepReceived returns true);
//  - an equivocation: the server holds one of the author's two signed versions of a number, the
//    asker the other.
// A malicious author A then makes every honest server that reconciles a member read red as a forger,
// and is itself not shown at all on that path. Secure: a fault the author's own signature proves is
// put on the author, whoever carried or served it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { signMessage } from '../../../app/peer/payload.js';
import { toHex } from '../../../app/core/bytes.js';

test("an honest catch-up server is not shown red for an author's own signed not-author delete", (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const S = f.g.ids.m!.key; // an honest server here: it serves exactly what A published
  // m's message, with its derived ID (as every current client signs it: it owns its ID).
  const mId = f.g.ids.m!;
  const own = signMessage(toHex(groupBytes), { key: mId.key, sign: (x) => nodeCrypto.ed25519Sign(mId.seed, x) }, { s: 1, k: currentTek(f.g.e.m!)!.version, at: f.clock }, { t: 'chat', text: 'mine', name: 'm' });
  assert.equal(f.rt.receive(S, 'data', f.seal('m', { v: 2, t: 'msg', m: own })), 'accept');
  const target = own.id;
  // A signs a delete of m's message and publishes it; b missed it, and reconciles from S.
  const del = f.sign('a', { t: 'delete', target });
  f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: del }), S);
  const red = f.rt.rejections.list().filter((r) => r.from === S && r.expected === undefined);
  assert.deepEqual(red.map((r) => `${r.reason}: ${r.detail}`), [], 'the honest server is not blamed for what A signed');
  assert.ok(f.rt.rejections.list().some((r) => r.from === A && r.reason === 'invalid'), 'A is, its own signature proving it');
});

test("an honest catch-up server is not shown red for an author's equivocation", (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const S = f.g.ids.m!.key;
  // A signs two different messages under its number 1: b got one live, S kept the other.
  const m1 = f.sign('a', { t: 'chat', text: 'to b', name: 'a' }, 1);
  const m2 = f.sign('a', { t: 'chat', text: 'to the others', name: 'a' }, 1);
  assert.equal(f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: m1 })), 'accept');
  f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: m2 }), S);
  const red = f.rt.rejections.list().filter((r) => r.from === S && r.expected === undefined);
  assert.deepEqual(red.map((r) => `${r.reason}: ${r.detail}`), [], 'the honest server is not blamed for A equivocating');
});
