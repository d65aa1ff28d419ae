// Review 34, attack on 710d940 (docs/protocol.md §13 "Message times"): a message is listed no
// earlier than its author's admission (`admittedAt` of its roster entry, group.ts
// `earliestSendTime`, now message-times.ts). The doc calls that time "signed by its admitter", but a newcomer takes the
// admittedAt of every OTHER member from the roster inside its Admit message (engine/admission.ts
// onAdmit), which nothing signs or bounds: only the newcomer's own certificate is signed. So a
// malicious admitter m admits the newcomer b with a roster that dates an honest member a's
// admission a year ahead (or at 2^53 − 1 ms, the largest u64 the wire takes). Nothing corrects it
// later (roster sync adds only keys b lacks). From then on, at b, every message of a — live,
// honest, correctly dated — is listed a year in the future: below everything said after it,
// pinned at the bottom of the conversation for good, and marked "dated earlier" (the UI tells
// the user a moved its date back: a false accusation of an honest member). With 2^53 − 1 the
// shown time is past the largest JavaScript date (8.64e15 ms): `new Date(sentAt).toISOString()`,
// which renderer/src/MessageRow.tsx calls for every row, throws a RangeError.
// Secure: an honest member's live, correctly dated message is listed at its own time, unmarked,
// in the order it was said, whatever roster a newcomer's admitter handed it (an admittedAt that
// the newcomer cannot check is no floor, or is bounded by what the newcomer can check, e.g. not
// after the newcomer's own signed admission); no shown time is an invalid date.
// Both tests FAILED on 710d940 (the attack worked). Fixed: no admission counts as later than the
// receiver's own join (its own clock's record, or its signed admission if earlier), and no shown
// time is later than the message's arrival (message-times.ts earliestSendTime, history.ts shownTime).
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
import { decodeMessage, encodeMessage, MsgType, dataAad, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex, toHex } from '../../../app/core/bytes.js';
import { encodePayload, signMessage, type AppPayload, type SignedMessage } from '../../../app/peer/payload.js';
import type { MemberKey } from '../../../app/core/types.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const START = 10 * HOUR;
const params = { ...PARAMS, heartbeatMs: 60_000 };

/** a creates the group, m joins through a, then b joins through m, which dates a's admission `fakeAdmittedAt` in b's roster. */
function groupWithLyingAdmitter(fakeAdmittedAt: number) {
  const net = new Net();
  net.now = START;
  const gate = new Gate();
  const ids = { a: identity('a'), m: identity('m'), b: identity('b') };
  for (const id of Object.values(ids)) gate.allowed.add(id.key);
  const e: Record<string, GroupEngine> = {};
  e.a = net.add(ids.a, GroupEngine.create(deps('a', { admission: gate }), ids.a, { group: GROUP, name: 'g', params, now: net.now }));
  e.m = net.add(ids.m, GroupEngine.join(deps('m', { admission: gate }), ids.m, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [ids.a.key], now: net.now }));
  net.settle();
  net.run(net.now + 2 * HOUR, 1000);
  e.b = GroupEngine.join(deps('b', { admission: gate }), ids.b, { group: GROUP, name: 'g', params, credential: new Uint8Array(), contacts: [ids.m.key], now: net.now });
  // m's Admit to b: the roster inside it is m's word (nothing signs another member's admittedAt).
  const honestReceive = e.b.receive.bind(e.b);
  let lied = false;
  e.b.receive = (from: MemberKey, channel, bytes: Uint8Array, now: number) => {
    if (channel === 'unicast' && from === ids.m.key) {
      const msg = decodeMessage(groupBytes, 'unicast', bytes);
      if (msg.type === MsgType.Admit) {
        msg.roster = msg.roster.map((r) => (r.key === ids.a.key ? { ...r, admittedAt: fakeAdmittedAt } : r));
        bytes = encodeMessage(groupBytes, msg);
        lied = true;
      }
    }
    return honestReceive(from, channel, bytes, now);
  };
  net.add(ids.b, e.b);
  net.settle();
  net.run(net.now + 5 * params.heartbeatMs, 1000);
  assert.ok(lied, "m admitted b with its roster");
  for (const n of ['a', 'm', 'b']) assert.equal(e[n]!.state(), 'member', `${n} is a member`);
  assert.equal(e.b.rosterAdmittedAt(ids.a.key), fakeAdmittedAt, "b took a's admission time from m's roster");
  // b's runtime from here (as review29-fixtures.ts runtimeOfB does).
  net.engines.delete(ids.b.key);
  drain(e.b);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r34-')));
  const clock = net.now;
  const rt = new GroupRuntime(offlineHost({ selfKey: ids.b.key, profile, seed: ids.b.seed, now: () => clock, name: 'b', log: () => undefined }), newGroupRecord('', 'g', clock), () => e.b!, 100);
  rt.drive();
  const seq = new Map<string, number>();
  const names = { a: ids.a, m: ids.m } as const;
  /** `who`'s next chat message, honestly dated `at`, published live to b. */
  const say = (who: 'a' | 'm', text: string, at = clock) => {
    const id = names[who];
    const s = (seq.get(who) ?? 0) + 1;
    seq.set(who, s);
    const m: SignedMessage = signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s, k: currentTek(e[who]!)!.version, at, id: randomBytes(16).toString('hex') }, { t: 'chat', text, name: who });
    const t = currentTek(e[who]!)!;
    const h: DataMessage = {
      type: MsgType.Data,
      senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(id.key), params.W, params.V)),
      tekVersion: t.version,
      tekTag: creatorsTag(nodeCrypto, t.creators),
      revision: t.revision,
      sentAt: at,
      nonce: new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(0),
    };
    const payload: AppPayload = { v: 2, t: 'msg', m };
    h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, t.key), h.nonce, encodePayload(payload), dataAad(groupBytes, h));
    assert.equal(rt.receive(id.key, 'data', encodeMessage(groupBytes, h)), 'accept');
  };
  const done = () => {
    rt.stop();
    profile.close();
  };
  return { rt, clock, say, done };
}

test("attack (review 34): a lying admitter dates an honest member's admission a year ahead in the newcomer's roster: its messages are listed a year late, last, marked 'dated earlier'", async (t) => {
  const f = groupWithLyingAdmitter(START + YEAR);
  t.after(f.done);
  f.say('a', 'lunch at one?', f.clock - 60_000);
  f.say('m', 'sure', f.clock - 1000);
  f.say('m', 'see you there', f.clock);
  await f.rt.held.durable();
  const shown = f.rt.held.chatHistory(50);
  const lunch = shown.find((x) => x.text === 'lunch at one?')!;
  assert.deepEqual(
    { sentAt: lunch.sentAt, claimedAt: lunch.claimedAt },
    { sentAt: f.clock - 60_000, claimedAt: undefined },
    `secure: a's honest live message is listed at its own time, unmarked (listed ${((lunch.sentAt - f.clock) / HOUR).toFixed(0)} h in the future, marked "dated earlier")`,
  );
  assert.deepEqual(shown.map((x) => x.text), ['lunch at one?', 'sure', 'see you there'], 'secure: listed in the order it was said');
});

test('attack (review 34): a lying admitter dates an honest member\'s admission at 2^53 − 1 ms: its messages get a time no JavaScript Date can show', async (t) => {
  const f = groupWithLyingAdmitter(2 ** 53 - 1);
  t.after(f.done);
  f.say('a', 'hello');
  await f.rt.held.durable();
  const hello = f.rt.held.chatHistory(50).find((x) => x.text === 'hello')!;
  // renderer/src/MessageRow.tsx: <time dateTime={new Date(m.sentAt).toISOString()}> for every row.
  assert.doesNotThrow(() => new Date(hello.sentAt).toISOString(), `secure: a shown time is a valid date (sentAt ${hello.sentAt})`);
  assert.equal(hello.sentAt, f.clock, 'secure: listed at its own time');
});
