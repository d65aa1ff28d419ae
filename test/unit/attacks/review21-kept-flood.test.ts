// Review 21 (7bc301e, engine/gate.ts → admin-races.ts keepFromPendingDrop). Data from a member
// whose block waits to be dropped is refused but kept, 32 packets per sender, and read if the
// block is dropped (review 20). The packet is kept before anything about it is checked: not its
// header participant ID, not whether it opens under a key held here (the key is usually held:
// the member being reinstated sends under the group's TEK), not whether it is a copy of one
// kept already. Gossip authenticates its author, but catch-up does not: a catch-up reply names
// each packet's author in its frame (app/peer/catch-up.ts feed → GroupRuntime.receive(sender,
// 'data', …)), so whichever member serves this member's catch-up hands it packets "from x" of
// its choosing; data.ts says as much ("a catch-up server names the author", review 7) and D1
// guards pendingData against exactly this ("a flood from anyone else cannot push a genuine
// packet out"). Here 32 junk packets named x, made from nothing but x's public participant ID,
// fill x's quota at m at the start of the wait; x's genuine message sent during the wait is not
// kept, and when the block is dropped m reads nothing of it (the other camp and n, not flooded,
// read it).
// Setup (admins a, b; non-admins m, n, x): a and x are cut off while b excludes x; back, a
// excludes b on the old TEK; m and n drop x's block 8 heartbeats later (no current admin names
// x). Secure: forged or duplicate packets do not count toward a sender's kept quota (keep only
// what opens under a key held here, or whose header is the sender's, once per nonce); x's
// genuine message is read at m as at n. Fails on 7bc301e; the control (no flood) passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Attacker, PARAMS, currentTek, groupBytes, honestGroup, identity } from './forge.js';
import { fromHex, utf8 } from '../../../app/core/bytes.js';
import { creatorsTag, dataKey } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { participantId } from '../../../app/core/params.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

function race(flood: boolean | 'insider'): { readBy: string[]; reinstatedAt: string[] } {
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
  assert.equal(g.e.x!.state(), 'member', 'x never took b\'s table: a member on a\'s TEK in its own eyes');
  g.net.run(g.net.now + 2 * hb);
  for (const w of ['m', 'n']) assert.ok(g.e[w]!.isBlocked(x), `${w} blocks x during the wait`);
  if (flood === true) {
    // A member serving m's catch-up names x as the author of 32 junk packets (no secret of x needed).
    const junk = new Attacker(g.ids.x!);
    for (let i = 0; i < 32; i++) g.e.m!.receive(x, 'data', junk.data({ params: g.params, tekVersion: g.e.m!.tekInfo()!.version, sentAt: g.net.now }), g.net.now);
  }
  if (flood === 'insider') {
    // Review 44: insider n serves m's catch-up: 32 packets "by x", sealed under the TEK m holds
    // (n holds it too), so they open; they used to fill x's share. Now they count against n's.
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
  return {
    readBy: ['a', 'm', 'n'].filter(read),
    reinstatedAt: ['m', 'n'].filter((w) => g.net.eventsOf(g.ids[w]!.key).some((e) => e.type === 'member-reinstated' && e.members.includes(x))),
  };
}

test('held (control): x\'s message sent during the wait is read at m and n once its block is dropped', () => {
  assert.deepEqual(race(false), { readBy: ['a', 'm', 'n'], reinstatedAt: ['m', 'n'] });
});

test('32 junk packets named x, handed over by a catch-up server, push x\'s genuine message out of m\'s kept packets', () => {
  // Now: { readBy: ['a', 'n'], reinstatedAt: ['m', 'n'] }.
  assert.deepEqual(race(true), { readBy: ['a', 'm', 'n'], reinstatedAt: ['m', 'n'] });
});

test("review 44: an insider's 32 packets in x's name, served by catch-up and opening under the TEK it holds, do not push x's genuine message out", () => {
  assert.deepEqual(race('insider'), { readBy: ['a', 'm', 'n'], reinstatedAt: ['m', 'n'] });
});
