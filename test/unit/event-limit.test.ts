/**
 * What remote input can put in front of clients and in the log (peer/event-limit.ts,
 * group.ts; docs/protocol.md §6): `chat.undecryptable` placeholders and log lines of
 * rejected input are bounded per window, per sender and in all, however many packets
 * a peer replays or forges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../app/core/types.js';
import { soloRuntime } from './solo-runtime.js';
import { REJECTED_LOG_LIMITS, UNDECRYPTABLE_LIMITS, WindowLimit } from '../../app/peer/event-limit.js';

test('a window passes at most perKey per key and total in all, an id once; the next window passes again', () => {
  const l = new WindowLimit({ windowMs: 1000, perKey: 2, total: 3 });
  const shown = (key: string, id: number | null, now: number) => l.admit(key, id, now).show;
  assert.deepEqual([shown('a', 1, 0), shown('a', 1, 1), shown('a', 2, 2)], [true, false, true], 'an id once');
  const perKey = l.admit('a', 3, 3);
  assert.deepEqual([perKey.show, perKey.firstHidden], [false, true], 'two per key: the first held back is reported');
  assert.equal(l.admit('b', 1, 4).show, true);
  const over = l.admit('c', 1, 5);
  assert.deepEqual([over.show, over.firstHidden], [false, false], 'three in all; reported once a window');
  assert.equal(l.admit('d', 1, 6).show, false);
  const next = l.admit('a', 3, 1000);
  assert.deepEqual([next.show, next.closed], [true, { hidden: 3, keys: 3, keysAtLeast: false }], 'the next window passes again, and reports the last one');
  assert.deepEqual([shown('x', null, 1001), shown('x', null, 1002), shown('x', null, 1003)], [true, true, false], 'items without an id count, never merge');
});

/** A group of one on a virtual clock; what its clients are told and what it logs. */
function soloGroup() {
  const clock = { now: 1_700_000_000_000 };
  const events: string[] = [];
  const lines: string[] = [];
  const { rt, key, done } = soloRuntime({ now: () => clock.now, emit: (event) => void events.push(event), log: (line) => void lines.push(line) });
  return { rt, key, clock, events, lines, done };
}

test('a flood of packets that can never be read shows at most perKey placeholders per sender and total in all; the log two lines', () => {
  const { rt, key, clock, events, lines, done } = soloGroup();
  try {
    // What the engine reports for each too-old or dropped packet (data.ts, tek-records.ts): a member
    // replaying 1,000 old packets, then a catch-up server crediting 1,000 to made-up authors.
    const queued: EngineEvent[] = [];
    const poll = rt.engine.pollEvent.bind(rt.engine);
    rt.engine.pollEvent = () => queued.shift() ?? poll();
    const other = 'ab'.repeat(32);
    for (let i = 0; i < 1000; i++) queued.push({ type: 'undecryptable', from: other, sentAt: i % 100, tekVersion: 1, at: clock.now });
    for (let i = 0; i < 1000; i++) queued.push({ type: 'undecryptable', from: i.toString(16).padStart(64, '0'), sentAt: 1, tekVersion: 1, at: clock.now });
    rt.drive();
    const shown = () => events.filter((e) => e === 'chat.undecryptable').length;
    assert.equal(shown(), UNDECRYPTABLE_LIMITS.total, `2,000 unreadable packets, ${shown()} placeholders`);
    assert.equal(lines.filter((l) => l.includes('undecryptable')).length, 1, 'one line: the rest are held back');
    // The next minute shows again, and logs the count of the last: 950 of the member's (its 45 repeats are not counted), 975 of the others.
    clock.now += UNDECRYPTABLE_LIMITS.windowMs;
    for (let i = 0; i < 10; i++) queued.push({ type: 'undecryptable', from: other, sentAt: 1000 + i, tekVersion: 1, at: clock.now });
    rt.drive();
    assert.equal(shown(), UNDECRYPTABLE_LIMITS.total + UNDECRYPTABLE_LIMITS.perKey);
    assert.ok(lines.some((l) => l.includes('1925 undecryptable packet placeholders held back last minute (from over 30 source(s))')), lines.join('\n'));
    // Refused junk: the key panel counts every one, the log keeps a few lines.
    for (let i = 0; i < 200; i++) rt.receive(key.replace(/^../, 'cd'), 'data', new Uint8Array([1, 2, 3, i]));
    const refusals = lines.filter((l) => l.includes('rejected input from')).length;
    assert.equal(refusals, REJECTED_LOG_LIMITS.perKey, `${refusals} log lines for 200 refusals`);
    assert.equal(lines.filter((l) => l.includes('too many log lines of rejected input')).length, 1);
    assert.equal(rt.rejections.list()[0]?.count, 200);
  } finally {
    done();
  }
});
