// Review 40 (LOW-MEDIUM), insider: a catch-up server names each packet's author itself (catch-up.ts
// feed). Every refusal of such a packet, the engine's or the peer's own (group.ts onData), was
// counted in the key panel's rejection log under the member the server named and logged as
// "refused application message from <it>". An insider M serving B's reconciliation sealed, under the
// TEK, packets carrying honest A's participant ID with a broken signature, or M's own message
// "carried by A": B's key panel showed red lines from A, which never sent a byte of it, and M
// nowhere. Secure: nothing fed by catch-up is put on the author the server named; what an honest
// server never serves is put on the server; what an honest one may is not shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';

test('a catch-up server cannot make an honest member read as a forger; its forgeries are its own', (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const M = f.g.ids.m!.key;
  // 1. A "message by A" whose signature is broken (M cannot sign as A; it flips the signature).
  const genuine = f.sign('a', { t: 'chat', text: 'hello', name: 'a' });
  const broken = { ...genuine, sig: (genuine.sig[0] === '0' ? '1' : '0') + genuine.sig.slice(1) };
  // M's catch-up reply names A as the sender of packets M sealed (as a's data packet) itself.
  f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: broken }), M);
  // 2. M's own signed message, "carried by A as its own" (rule 1: invalid).
  f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: f.sign('m', { t: 'chat', text: 'x', name: 'm' }) }), M);
  const lines = f.rt.rejections.list();
  assert.deepEqual(lines.filter((r) => r.from === A), [], 'nothing is put on A, which sent none of it');
  const againstM = lines.filter((r) => r.from === M && r.expected === undefined).map((r) => r.reason).sort();
  assert.deepEqual(againstM, ['bad-signature', 'invalid'], 'both forgeries are put on their server, red');
  assert.ok(lines.every((r) => r.from !== M || r.detail.startsWith(`served in ${A.slice(0, 12)}'s name`)));
  // The genuine message, served later by anyone, is still taken.
  assert.equal(f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: genuine }), M), 'accept');
});
