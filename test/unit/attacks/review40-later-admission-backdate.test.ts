// Review 40 (MEDIUM), insider (docs/protocol.md §13 "Message times"): a chat message is listed no earlier
// than its author's admission less 2 min — "where an admission counts as no later than this
// member's own join" (message-times.ts earliestSendTime: min(authorAdmittedAt, ownJoin)). That
// cap was made for the roster times a newcomer takes, unsigned, from its admitter (review 34). But
// it applies to members admitted AFTER this member joined too, whose admission this member took
// itself, live (M1: signed by the admitter, within the grace window of its own clock). So a member
// admitted today can serve, by reconciliation only, its first message dated to the day the viewer
// joined (years ago): it is listed there — before its author was in the group — and, dated exactly
// ownJoin − 2 min, not even marked "dated earlier". The doc's "what remains" says such a message
// "may be dated back to its author's admission"; this goes past that by the whole time between.
// Secure: a message of a member whose admission this member witnessed is listed no earlier than
// that admission (less skew).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { currentTek, deps, drain, Gate, GROUP, groupBytes, identity, Net, PARAMS } from './forge.js';
import { GroupEngine } from '../../../app/core/engine.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { offlineHost } from '../solo-runtime.js';
import { creatorsTag, dataKey } from '../../../app/core/keys.js';
import { encodeMessage, MsgType, dataAad, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex, toHex } from '../../../app/core/bytes.js';
import { encodePayload, signMessage, type AppPayload } from '../../../app/peer/payload.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;
const HOUR = 3_600_000;
const START = 10 * HOUR;
const params = { ...PARAMS, heartbeatMs: 60_000 };

test('a member admitted hours after b cannot date its first message, by reconciliation, to before its own admission', async (t) => {
  const net = new Net();
  net.now = START;
  const gate = new Gate();
  const ids = { a: identity('a'), b: identity('b'), m: identity('m') };
  for (const id of Object.values(ids)) gate.allowed.add(id.key);
  const e: Record<string, GroupEngine> = {};
  e.a = net.add(ids.a, GroupEngine.create(deps('a', { admission: gate }), ids.a, { group: GROUP, name: 'g', params, now: net.now }));
  e.b = net.add(ids.b, GroupEngine.join(deps('b', { admission: gate }), ids.b, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [ids.a.key], now: net.now }));
  net.settle();
  const bJoined = net.now;
  net.run(net.now + 6 * HOUR, 1000); // b has been a member for six hours
  e.m = net.add(ids.m, GroupEngine.join(deps('m', { admission: gate }), ids.m, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [ids.a.key], now: net.now }));
  net.settle();
  net.run(net.now + 5 * params.heartbeatMs, 1000);
  for (const n of ['a', 'b', 'm']) assert.equal(e[n]!.state(), 'member');
  const mAdmitted = e.b.rosterAdmittedAt(ids.m.key)!;
  assert.ok(mAdmitted >= START + 6 * HOUR, `b learnt m's admission live, six hours after its own join (${(mAdmitted - START) / HOUR} h)`);

  // b's runtime from here.
  net.engines.delete(ids.b.key);
  drain(e.b);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r40-')));
  const clock = net.now;
  const rt = new GroupRuntime(offlineHost({ selfKey: ids.b.key, profile, seed: ids.b.seed, now: () => clock, name: 'b' }), newGroupRecord('', 'g', bJoined), () => e.b!, 100);
  rt.drive();
  t.after(() => {
    rt.stop();
    profile.close();
  });
  const seal = (payload: AppPayload): Uint8Array => {
    const tek = currentTek(e.m!)!;
    const h: DataMessage = { type: MsgType.Data, senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(ids.m.key), params.W, params.V)), tekVersion: tek.version, tekTag: creatorsTag(nodeCrypto, tek.creators), revision: tek.revision, sentAt: clock, nonce: new Uint8Array(randomBytes(24)), ciphertext: new Uint8Array(0) };
    h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, tek.key), h.nonce, encodePayload(payload), dataAad(groupBytes, h));
    return encodeMessage(groupBytes, h);
  };
  // m's first message, never published, served by m when b reconciles with it; dated just before b joined.
  const at = bJoined - 2 * 60_000;
  const m1 = signMessage(toHex(groupBytes), { key: ids.m.key, sign: (x) => nodeCrypto.ed25519Sign(ids.m.seed, x) }, { s: 1, k: currentTek(e.m)!.version, at }, { t: 'chat', text: 'I told you all about this at the very start', name: 'm' });
  assert.equal(rt.receive(ids.m.key, 'data', seal({ v: 2, t: 'msg', m: m1 }), true), 'accept');
  await rt.held.durable();
  const shown = rt.chatHistory(50).find((x) => x.text.startsWith('I told you'))!;
  assert.ok(shown.sentAt >= mAdmitted - 2 * 60_000, `listed ${((mAdmitted - shown.sentAt) / HOUR).toFixed(2)} h before its author was admitted (b saw that admission itself), unmarked: ${shown.claimedAt === undefined}`);
});
