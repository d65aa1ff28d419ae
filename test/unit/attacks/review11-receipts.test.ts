// Review 11 (app/peer/receipts.ts, group.ts receipt branch; docs/protocol.md §13.2): a receipt
// has no signature of its own, so it is believed only from the member the transport
// authenticated, in the very turn that delivered it. A catch-up server names each packet's
// sender itself; a packet it credits to member C under a TEK the receiver lacks is buffered by
// the engine and opened later, while the receiver handles some live input. Taken then, a
// receipt in it let the server (a current member M) mark the receiver's own messages as
// delivered to C, who never had them, and the mark was kept on disk. Each test asserts the
// SECURE outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { unheardExclusion } from './unheard.js';
import { currentTek, drain, groupBytes } from './forge.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { offlineHost } from '../solo-runtime.js';
import { creatorsTag, dataKey } from '../../../app/core/keys.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex } from '../../../app/core/bytes.js';
import { encodePayload } from '../../../app/peer/payload.js';
import { makeReceipt, type ReceiptEntry } from '../../../app/peer/receipts.js';
import type { MemberKey } from '../../../app/core/types.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

test('review11: a receipt a catch-up server credits to another member under a key not held yet is never taken, not even once the key comes', async () => {
  const { g, b, control } = unheardExclusion(['a', 'b', 'c', 'm'], ['m'], 1);
  const B = g.ids.b!.key;
  const C = g.ids.c!.key;
  g.net.engines.delete(B);
  drain(b);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-r11-'));
  const profile = Profile.open(dir);
  let clock = g.net.now;
  const rt = new GroupRuntime(
    offlineHost({ selfKey: B, profile, seed: g.ids.b!.seed, now: () => clock, name: 'b' }),
    newGroupRecord('', 'g', clock),
    () => b,
    100,
  );
  try {
    rt.drive();
    const own = await rt.sendChat('b says hi');
    await new Promise((r) => setTimeout(r, 50));
    // M holds the exclusion's TEK′, which B has not heard of, and forges a packet in C's name.
    const tek = currentTek(g.e.m!)!;
    assert.notEqual(tek.version, b.tekInfo()!.version, 'B lacks the new TEK');
    const forged = (claim: ReceiptEntry[], t = tek): Uint8Array => {
      const payload = encodePayload({ v: 2, t: 'rcpt', r: makeReceipt(C as MemberKey, clock, claim) });
      const h: DataMessage = {
        type: MsgType.Data,
        senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(C), g.params.W, g.params.V)),
        tekVersion: t.version,
        tekTag: creatorsTag(nodeCrypto, t.creators),
        revision: t.revision,
        sentAt: clock,
        nonce: new Uint8Array(randomBytes(24)),
        ciphertext: new Uint8Array(0),
      };
      h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, t.key), h.nonce, payload, dataAad(groupBytes, h));
      return encodeMessage(groupBytes, h);
    };
    // M, serving B's catch-up, credits the packet to C: buffered, its key unknown here.
    rt.receive(C, 'data', forged([[B, 1, 1]]), true);
    // B then hears the exclusion live (authenticated publishers): the buffered packet opens.
    clock += 1000;
    for (const c of control) rt.receive(c.from, 'control', c.bytes);
    assert.equal(b.tekInfo()!.version, tek.version, 'B now holds the new TEK');
    const delivery = rt.held.message(own.id)!.delivery;
    assert.equal(delivery?.delivered ?? 0, 0, `no member confirmed B's message: ${JSON.stringify(delivery)}`);
    // The same forgery fed by catch-up with the key held is refused at once, as before.
    const refusedBefore = rt.rejections.list().filter((x) => /receipt/.test(x.detail)).reduce((s, x) => s + x.count, 0);
    rt.receive(C, 'data', forged([[B, 1, 1]], currentTek(b)!), true);
    const refusedAfter = rt.rejections.list().filter((x) => /receipt/.test(x.detail)).reduce((s, x) => s + x.count, 0);
    assert.equal(refusedAfter, refusedBefore + 1, 'a catch-up receipt is refused');
    assert.equal(rt.held.message(own.id)!.delivery?.delivered ?? 0, 0, 'and still no confirmation');
  } finally {
    rt.stop();
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
