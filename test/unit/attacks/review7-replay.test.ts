// Red-team review 7 of the data replay window (docs/protocol.md §6, §12.1; issue 19: "a
// peer that lies can waste only a bounded amount of work", "nothing acknowledged is lost").
// A catch-up server names each packet's author itself, so it can credit a forged packet to
// any member, under a TEK version nobody holds, carrying the nonce of a genuine packet the
// victim has not received yet. The forgery waits in the buffer of packets under unknown
// keys; it must not make the genuine packet a replay. Each test asserts the SECURE outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupEngine } from '../../../app/core/engine.js';
import type { EngineEvent, MemberKey } from '../../../app/core/types.js';
import { dataAad, decodeMessage, encodeMessage, type MsgType, type Message } from '../../../app/core/wire.js';
import { dataKey } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { currentTek, drain, groupBytes, honestGroup, type Group } from './forge.js';
import { unheardExclusion } from './unheard.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

const texts = (events: EngineEvent[]): string[] => events.flatMap((e) => (e.type === 'data' ? [new TextDecoder().decode(e.payload)] : []));
const reasons = (events: EngineEvent[]): string[] => events.flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));

/** `a` sends `text` under the current TEK; `b` has not received it. Returns the packet as published. */
function unreceived(g: Group, text: string): { from: MemberKey; bytes: Uint8Array; msg: DataMessage } {
  const a = g.e.a!;
  a.send(new TextEncoder().encode(text), g.net.now);
  const out = drain(a).out.find((t) => t.kind === 'publish' && t.topic === 'data');
  assert.ok(out && out.kind === 'publish');
  drain(g.e.b!);
  return { from: g.ids.a!.key, bytes: out.bytes, msg: decodeMessage(groupBytes, 'data', out.bytes) as DataMessage };
}

/** The genuine packet's nonce and header, credited to its author, under a TEK version nobody holds. */
function forgedUnderUnknownKey(genuine: DataMessage, fill = 7): Uint8Array {
  return encodeMessage(groupBytes, { ...genuine, tekVersion: genuine.tekVersion + 5, ciphertext: new Uint8Array(genuine.ciphertext.length).fill(fill) });
}

function setup(): { g: Group; b: GroupEngine; now: number } {
  const g = honestGroup(['a', 'b', 'c']);
  return { g, b: g.e.b!, now: g.net.now };
}

test('a forged copy buffered under an unknown key does not make the genuine packet a replay', () => {
  const { g, b, now } = setup();
  const p = unreceived(g, 'genuine');
  b.receive(p.from, 'data', forgedUnderUnknownKey(p.msg), now);
  assert.deepEqual(reasons(drain(b).events), [], 'the forgery is buffered: its key is unknown');
  b.receive(p.from, 'data', p.bytes, now + 10);
  const got = drain(b).events;
  assert.deepEqual(texts(got), ['genuine'], `the genuine packet is delivered (refused: ${reasons(got).join(', ')})`);
  // Replay protection of the delivered packet is as strong as before.
  b.receive(p.from, 'data', p.bytes, now + 20);
  const again = drain(b).events;
  assert.deepEqual(texts(again), []);
  assert.deepEqual(reasons(again), ['replay']);
  // The forgery expires unopened at the grace window's end; the delivered packet stays a replay.
  b.tick(now + g.params.graceMs + 1);
  drain(b);
  b.receive(p.from, 'data', p.bytes, now + 30);
  assert.deepEqual(reasons(drain(b).events), ['replay'], 'the forgery leaving the buffer does not reopen the delivered packet');
});

test('many forged copies of one nonce cannot block the genuine packet; the buffer stays bounded', () => {
  const { g, b, now } = setup();
  const p = unreceived(g, 'genuine');
  for (let i = 0; i < 70; i++) b.receive(p.from, 'data', forgedUnderUnknownKey(p.msg, i), now);
  assert.equal(reasons(drain(b).events).filter((r) => r === 'not-authorized').length, 6, 'at most MAX_PENDING_PER_SENDER (64) wait per named author');
  b.receive(p.from, 'data', p.bytes, now + 10);
  const got = drain(b).events;
  assert.deepEqual(texts(got), ['genuine'], `the genuine packet is delivered (refused: ${reasons(got).join(', ')})`);
  // Copies of a delivered packet can never be delivered: they left the buffer with its delivery.
  b.tick(now + g.params.graceMs + 1);
  assert.deepEqual(drain(b).events.filter((e) => e.type === 'undecryptable'), []);
});

test('a forged copy under the current key fails to open and records nothing', () => {
  const { g, b, now } = setup();
  const p = unreceived(g, 'genuine');
  b.receive(p.from, 'data', encodeMessage(groupBytes, { ...p.msg, ciphertext: new Uint8Array(p.msg.ciphertext.length).fill(7) }), now);
  assert.deepEqual(reasons(drain(b).events), ['decrypt-failed']);
  b.receive(p.from, 'data', p.bytes, now + 10);
  assert.deepEqual(texts(drain(b).events), ['genuine']);
});

test('a packet still in the buffer sent again is a replay', () => {
  const { g, b, now } = setup();
  const p = unreceived(g, 'genuine');
  const buffered = forgedUnderUnknownKey(p.msg);
  b.receive(p.from, 'data', buffered, now);
  drain(b);
  b.receive(p.from, 'data', buffered, now + 10);
  assert.deepEqual(reasons(drain(b).events), ['replay'], 'an identical copy of a buffered packet is refused');
});

/** `a` sent one packet under a TEK `b` does not hold yet; the exclusion's control traffic brings it. */
function underAKeyNotHeld(): { g: Group; b: GroupEngine; p: { from: MemberKey; bytes: Uint8Array; msg: DataMessage }; control: { from: MemberKey; bytes: Uint8Array }[] } {
  const { g, b, packets, control } = unheardExclusion(['a', 'b', 'c'], ['a'], 1);
  const p = packets[0]!;
  return { g, b, p: { from: p.from, bytes: p.bytes, msg: decodeMessage(groupBytes, 'data', p.bytes) as DataMessage }, control };
}

function keyArrives(b: GroupEngine, control: { from: MemberKey; bytes: Uint8Array }[], now: number): EngineEvent[] {
  const got: EngineEvent[] = [];
  for (const c of control) {
    b.receive(c.from, 'control', c.bytes, now);
    got.push(...drain(b).events);
  }
  return got;
}

test('genuine and forged copies both buffered: the genuine one is delivered once when its key comes', () => {
  const { g, b, p, control } = underAKeyNotHeld();
  const now = g.net.now;
  b.receive(p.from, 'data', forgedUnderUnknownKey(p.msg), now);
  b.receive(p.from, 'data', p.bytes, now);
  b.receive(p.from, 'data', forgedUnderUnknownKey(p.msg, 9), now);
  assert.deepEqual(reasons(drain(b).events), [], 'all three wait for their keys');
  assert.deepEqual(texts(keyArrives(b, control, now)), ['a:0']);
  b.receive(p.from, 'data', p.bytes, now + 10);
  assert.deepEqual(reasons(drain(b).events), ['replay'], 'read from the buffer: a replay from its delivery');
});

test("an insider's different packet with the genuine one's nonce is never delivered beside it", () => {
  const { g, b, p, control } = underAKeyNotHeld();
  const now = g.net.now;
  // `c` holds the new TEK: it seals other words under `a`'s name with the same nonce.
  const tek = currentTek(g.e.c!)!;
  assert.equal(tek.version, p.msg.tekVersion);
  const other = { ...p.msg, sentAt: p.msg.sentAt + 1 };
  other.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, tek.key), other.nonce, new TextEncoder().encode('insider'), dataAad(groupBytes, other));
  b.receive(p.from, 'data', p.bytes, now);
  b.receive(p.from, 'data', encodeMessage(groupBytes, other), now);
  assert.deepEqual(reasons(drain(b).events), [], 'both wait for their key');
  const opened = keyArrives(b, control, now);
  assert.deepEqual(texts(opened), ['a:0'], 'the first to open is delivered, the other is a replay');
  assert.deepEqual(opened.filter((e) => e.type === 'undecryptable'), [], 'the other copy was valid: refused as a replay, not as unopenable');
  b.receive(p.from, 'data', encodeMessage(groupBytes, other), now + 10);
  assert.deepEqual(reasons(drain(b).events), ['replay'], 'and stays one once the key is held');
});
