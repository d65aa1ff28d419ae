// Review 44 (LOW), on review 21's fix: data from a member whose block waits to be dropped is kept, 32
// packets per sender that open under a key held here. A catch-up server names each packet's author,
// and an insider holds the TEK: its 32 packets sealed with x's participant ID open here, filled x's
// share, and pushed x's genuine message out, so when x's block was dropped m never read it. What a
// catch-up server brings now counts against the server's share (as D1's buffer, review 42), and is
// kept by its bytes, not by its nonce alone.
// Setup as review21-kept-flood: admins a, b; non-admins m, n, x; a and x are cut off while b
// excludes x; back, a excludes b on the old TEK; m and n drop x's block 8 heartbeats later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PARAMS, currentTek, groupBytes, honestGroup, identity } from './forge.js';
import { utf8 } from '../../../app/core/bytes.js';
import { creatorsTag, dataKey } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex } from '../../../app/core/bytes.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

function race(flood: boolean): string[] {
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: ['a', 'b'].map((n) => identity(n).key) } };
  const g = honestGroup(['a', 'b', 'm', 'n', 'x'], { params });
  const hb = g.params.heartbeatMs;
  const x = g.ids.x!.key;
  g.net.offline.add(g.ids.a!.key);
  g.net.offline.add(x);
  g.e.b!.exclude([x], g.net.now);
  g.net.run(g.net.now + 6 * hb);
  g.net.offline.delete(g.ids.a!.key);
  g.net.offline.delete(x);
  g.e.a!.exclude([g.ids.b!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 2 * hb);
  assert.ok(g.e.m!.isBlocked(x), 'm blocks x during the wait');
  if (flood) {
    // Insider n serves m's catch-up: 32 packets "by x", sealed under the TEK m holds (n holds it too).
    const t = currentTek(g.e.n!)!;
    for (let i = 0; i < 32; i++) {
      const h: DataMessage = {
        type: MsgType.Data,
        senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(x), g.params.W, g.params.V)),
        tekVersion: t.version,
        tekTag: creatorsTag(nodeCrypto, t.creators),
        revision: t.revision,
        sentAt: g.net.now,
        nonce: new Uint8Array(randomBytes(24)),
        ciphertext: new Uint8Array(0),
      };
      h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, t.key), h.nonce, utf8(`junk ${i}`), dataAad(groupBytes, h));
      g.e.m!.receive(x, 'data', encodeMessage(groupBytes, h), g.net.now, g.ids.n!.key);
    }
  }
  g.e.x!.send(utf8('from x during the wait'), g.net.now);
  g.net.run(g.net.now + 12 * hb);
  const read = (w: string) => g.net.eventsOf(g.ids[w]!.key).some((e) => e.type === 'data' && new TextDecoder().decode(e.payload) === 'from x during the wait');
  return ['a', 'm', 'n'].filter(read);
}

test('held (control): x\'s message sent during the wait is read at m and n once its block is dropped', () => {
  assert.deepEqual(race(false), ['a', 'm', 'n']);
});

test("an insider's 32 packets in x's name, served by catch-up, do not push x's genuine message out of m's kept packets", () => {
  assert.deepEqual(race(true), ['a', 'm', 'n']);
});
