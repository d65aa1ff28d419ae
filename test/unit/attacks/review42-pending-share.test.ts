// Review 42 (LOW-MEDIUM), written down last stop: a catch-up server names the author of every packet it
// serves, and the engine buffered a packet under a key not held yet against that author's share
// (MAX_PENDING_PER_SENDER). An insider M served 64 junk packets "by A" under made-up key versions; A's
// next live packet under a key b did not hold yet (a refresh b had not read) was then refused, and A's
// message reached b only if a later reconciliation brought it. What a server brings now counts against
// the server's share, never the author's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { PARAMS, groupBytes } from './forge.js';
import { MAX_PENDING_PER_SENDER } from '../../../app/core/engine/context.js';
import { participantId } from '../../../app/core/params.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { fromHex } from '../../../app/core/bytes.js';
import { MsgType, encodeMessage, type Message } from '../../../app/core/wire.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

test("a catch-up server's junk under unknown keys does not use up the named author's buffer", (t) => {
  const f = runtimeOfB({}, { params: { ...PARAMS, refreshVersionMs: 60_000 } });
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const M = f.g.ids.m!.key;
  const v0 = f.rt.engine.tekInfo()!.version;
  // M's catch-up reply: packets "by A" (A's participant ID in the header) under key versions nobody holds.
  const junk = (i: number): Uint8Array => {
    const h: DataMessage = {
      type: MsgType.Data,
      senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(A), f.g.params.W, f.g.params.V)),
      tekVersion: v0 + 2 + i,
      tekTag: new Uint8Array(randomBytes(8)),
      revision: 0,
      sentAt: f.clock,
      nonce: new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(randomBytes(64)),
    };
    return encodeMessage(groupBytes, h);
  };
  for (let i = 0; i < MAX_PENDING_PER_SENDER + 8; i++) f.rt.receive(A, 'data', junk(i), M);
  const from = f.g.net.log.length;
  f.g.net.run(f.g.net.now + 61_000, 1000); // the group refreshes its TEK; b has not read the table yet
  assert.ok(f.g.e.a!.tekInfo()!.version > v0, 'a refreshed');
  assert.equal(f.rt.engine.tekInfo()!.version, v0, 'b still on the old version');
  // A's own message, live, under the new TEK: b buffers it until it reads the table.
  const m = f.sign('a', { t: 'chat', text: 'after the refresh', name: 'a' });
  assert.equal(f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m })), 'accept');
  f.readNetSince(from);
  assert.ok(f.rt.engine.tekInfo()!.version > v0, 'b now holds the new TEK');
  assert.ok(f.shown(m.id), "A's live message opened once b read the table");
});
