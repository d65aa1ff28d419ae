// Review 16 (b5ba357, docs/protocol.md §8.2 "Contested TEKs"). A current member seals one
// control message under a made-up TEK whose creators tag is that of an excluded member, and
// names a version far ahead of the group's (up to MAX_VERSION_AHEAD = 1,024 is accepted).
// noteContestedTek records that version; stillContested drops an entry only once our TEK
// version passes it, so the first member's reseal no longer makes the others' moot (as it
// does for a version at ours): every member that may exclude reseals, one table each, and the
// tables race (further ordinary reseals). One message per blocked member, N tables each.
// Measured (8 members): 1 table at our version, 4 at one ahead, 8 at three ahead or more.
// Secure: one such message costs the group about one reseal, whatever version it names
// (as it does at our version), e.g. by forgetting a contested entry as soon as our TEK
// changes after it was noted (a real second camp is seen again at its next heartbeat).
// Fixed so (rekey-triggers.ts stillContested): test 2 failed before, 8 tables of 8 members.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, assertRejectedUnchanged, honestGroup, identity } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function tablesAfterOneJunkMessage(ahead: number): number {
  const g = honestGroup([...HONEST, 'm', 'x'], { params: { ...PARAMS, W: 8 } });
  const m = new Attacker(g.ids.m!);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.m!.key); // her own engine stays quiet: she speaks only through what she crafts
  const total = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = total();
  const v = g.e.b!.tekInfo()!.version;
  m.sealUnder({ slot: 0, version: v + ahead, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([ahead, 16])) });
  const hb = m.heartbeat({ sentAt: g.net.now + 1, keys: [] });
  m.sealUnder(null);
  for (const w of HONEST) g.e[w]!.receive(m.key, 'control', hb, g.net.now);
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  for (const w of HONEST) assert.equal(g.e[w]!.state(), 'member');
  return total() - before;
}

test('one junk message under an excluded member\'s tag at our TEK version: about one reseal in the group', () => {
  const n = tablesAfterOneJunkMessage(0);
  assert.ok(n <= 2, `${n} tables`);
});

test('one junk message under an excluded member\'s tag 1,000 versions ahead: still about one reseal in the group', () => {
  const n = tablesAfterOneJunkMessage(1000);
  assert.ok(n <= 2, `${HONEST.length} members published ${n} tables after one sealed heartbeat`);
});

// Controls for the same trigger (they pass at b5ba357): only a current member's message is a
// sign; an outsider's or an excluded member's is refused before noteContestedTek, and a member
// excluded before the reseal is not handed its header.
test('an outsider or an excluded member sealing under an excluded member\'s tag causes no reseal', () => {
  const g = honestGroup([...HONEST, 'x', 'y'], { params: { ...PARAMS, W: 8 } });
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.e.a!.exclude([g.ids.y!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const outsider = new Attacker(identity('o'));
  const y = new Attacker(g.ids.y!);
  g.net.offline.add(g.ids.y!.key);
  const total = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = total();
  const v = g.e.b!.tekInfo()!.version;
  for (const [who, att] of [['outsider', outsider], ['excluded', y]] as const) {
    for (const ahead of [0, 1000]) {
      att.sealUnder({ slot: 0, version: v + ahead, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([ahead, 17])) });
      const hb = att.heartbeat({ sentAt: g.net.now + 1 + ahead, keys: [] });
      att.sealUnder(null);
      for (const w of HONEST) assertRejectedUnchanged(g.e[w]!, att.key, () => g.e[w]!.receive(att.key, 'control', hb, g.net.now), `${who} at +${ahead}`);
    }
  }
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  assert.equal(total() - before, 0);
});

test('a member seen on a contested TEK and excluded before the reseal is not handed its header', () => {
  const g = honestGroup([...HONEST, 'm', 'x'], { params: { ...PARAMS, W: 8 } });
  const m = new Attacker(g.ids.m!);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.m!.key);
  const v = g.e.b!.tekInfo()!.version;
  m.sealUnder({ slot: 0, version: v + 1000, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([18])) });
  const hb = m.heartbeat({ sentAt: g.net.now + 1, keys: [] });
  m.sealUnder(null);
  for (const w of HONEST) g.e[w]!.receive(m.key, 'control', hb, g.net.now);
  g.e.a!.exclude([g.ids.m!.key], g.net.now);
  const from = g.net.log.length;
  g.net.run(g.net.now + 12 * g.params.heartbeatMs);
  // (Fetch requests by tag still go to m, S1's pre-existing fetch: type 11, not a table.)
  const tablesToM = g.net.log.slice(from).filter((s) => s.t.kind === 'unicast' && s.t.to === g.ids.m!.key && s.t.bytes[2] === MsgType.Table);
  assert.equal(tablesToM.length, 0);
});
