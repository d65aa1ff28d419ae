/**
 * Data packets under a key this member does not hold yet (core/engine/data.ts,
 * tek-records.ts; docs/protocol.md §6): one dropped unopened from the buffer
 * (past MAX_PENDING_DATA, at the grace window's end, or because it does not open
 * under the key that arrives) does not count as seen, so a copy reconciliation
 * sends later is read (issue 19: an acknowledged message never goes missing
 * until a restart). Anything delivered stays a replay for the grace window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, type MsgType, type Message } from '../../app/core/wire.js';
import type { GroupEngine } from '../../app/core/engine.js';
import type { EngineEvent, MemberKey } from '../../app/core/types.js';
import { drain, groupBytes, honestGroup } from './attacks/forge.js';
import { unheardExclusion } from './attacks/unheard.js';

const SENDERS = ['a', 'c', 'd', 'e', 'f', 'h', 'i', 'j', 'k'];

function texts(events: EngineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'data' ? [new TextDecoder().decode(e.payload)] : []));
}

function reasons(events: EngineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));
}

/** Hands `b` the exclusion's control traffic (its key arrives) and returns what it read. */
function keyArrives(b: GroupEngine, control: { from: MemberKey; bytes: Uint8Array }[], now: number): string[] {
  const read: string[] = [];
  for (const c of control) {
    b.receive(c.from, 'control', c.bytes, now);
    read.push(...texts(drain(b).events));
  }
  return read;
}

test('a packet pushed out of the full buffer unopened is read when reconciliation sends it again; a delivered one stays a replay', () => {
  const { g, b, packets, control } = unheardExclusion(['a', 'b', ...SENDERS.slice(1)], SENDERS, 64);
  const now = g.net.now;
  for (const p of packets) b.receive(p.from, 'data', p.bytes, now);
  const buffered = drain(b).events;
  assert.equal(buffered.filter((e) => e.type === 'undecryptable').length, 64, '576 buffered, the first 64 pushed out (MAX_PENDING_DATA = 512)');
  const read = keyArrives(b, control, now);
  assert.equal(read.length, 512, 'the 512 kept are read once the key arrives');
  const dropped = packets[0]!;
  assert.ok(!read.includes(dropped.text));
  // The full session that the key's arrival starts sends the dropped packet again.
  b.receive(dropped.from, 'data', dropped.bytes, now + 10);
  const again = drain(b).events;
  assert.deepEqual(texts(again), [dropped.text], `the copy is read (refused: ${reasons(again).join(', ')})`);
  // Dedup holds for whatever was delivered: the same copy again, and one read from the buffer.
  b.receive(dropped.from, 'data', dropped.bytes, now + 20);
  b.receive(packets[100]!.from, 'data', packets[100]!.bytes, now + 20);
  const replays = drain(b).events;
  assert.deepEqual(texts(replays), [], 'nothing delivered twice');
  assert.deepEqual(reasons(replays), ['replay', 'replay']);
});

test('a packet dropped unopened at the end of the grace window is read when it comes again with its key', () => {
  const { g, b, packets, control } = unheardExclusion(['a', 'b', 'c'], ['a', 'c'], 1);
  const at = g.net.now;
  b.receive(packets[0]!.from, 'data', packets[0]!.bytes, at);
  assert.deepEqual(texts(drain(b).events), []);
  // Its key has not come within the grace window: the engine's deadline drops it.
  const deadline = b.nextDeadline();
  assert.ok(deadline !== undefined && deadline <= at + g.params.graceMs);
  b.tick(at + g.params.graceMs);
  assert.ok(drain(b).events.some((e) => e.type === 'undecryptable'), 'dropped unopened');
  const later = at + g.params.graceMs + 1;
  keyArrives(b, control, later);
  b.receive(packets[0]!.from, 'data', packets[0]!.bytes, later);
  const again = drain(b).events;
  assert.deepEqual(texts(again), [packets[0]!.text], `the copy is read (refused: ${reasons(again).join(', ')})`);
});

test('a forged copy buffered first (a catch-up server names the author) does not make the genuine packet a replay once it fails to open', () => {
  const { g, b, packets, control } = unheardExclusion(['a', 'b', 'c'], ['a'], 1);
  const now = g.net.now;
  const genuine = decodeMessage(groupBytes, 'data', packets[0]!.bytes) as Extract<Message, { type: typeof MsgType.Data }>;
  const forged = encodeMessage(groupBytes, { ...genuine, ciphertext: new Uint8Array(genuine.ciphertext.length).fill(7) });
  b.receive(packets[0]!.from, 'data', forged, now);
  assert.deepEqual(reasons(drain(b).events), [], 'buffered: its key is unknown');
  assert.deepEqual(keyArrives(b, control, now), [], 'the forgery does not open');
  b.receive(packets[0]!.from, 'data', packets[0]!.bytes, now + 10);
  const again = drain(b).events;
  assert.deepEqual(texts(again), [packets[0]!.text], `the genuine packet is read (refused: ${reasons(again).join(', ')})`);
});

test('a forged copy naming a revision too old to open does not make the genuine packet a replay', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const b = g.e.b!;
  g.e.a!.send(new TextEncoder().encode('genuine'), g.net.now);
  const out = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'data');
  assert.ok(out && out.kind === 'publish');
  const genuine = decodeMessage(groupBytes, 'data', out.bytes) as Extract<Message, { type: typeof MsgType.Data }>;
  assert.ok(genuine.revision > 0);
  drain(b);
  b.receive(g.ids.a!.key, 'data', encodeMessage(groupBytes, { ...genuine, revision: 0 }), g.net.now);
  assert.ok(drain(b).events.some((e) => e.type === 'undecryptable'), 'too old: not opened');
  b.receive(g.ids.a!.key, 'data', out.bytes, g.net.now);
  const again = drain(b).events;
  assert.deepEqual(texts(again), ['genuine'], `the genuine packet is read (refused: ${reasons(again).join(', ')})`);
  b.receive(g.ids.a!.key, 'data', out.bytes, g.net.now);
  assert.deepEqual(reasons(drain(b).events), ['replay']);
});
