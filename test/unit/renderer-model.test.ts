// Pure renderer logic: the board replay, stable colours. (Member keys become
// peer IDs at the peer now: renderer-key-log.test.ts checks those against libp2p.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEntries, emptyBoard, lastOwnObject, replay } from '../../renderer/src/board-model.js';
import { hueOf, initials, shortId } from '../../renderer/src/identity.js';
import type { BoardStroke, Stroke } from '../../app/api/contract.js';

const G = '0123456789abcdef0123456789abcdef';
const pen = (id: string, sender = 'a', sentAt = 0): BoardStroke => ({ group: G, sender, sentAt, stroke: { id, tool: 'pen', color: '#000000', width: 2, points: [{ x: 1, y: 1 }] } });
const op = (id: string, tool: Stroke['tool'], sender = 'a', target?: string, sentAt = 0): BoardStroke => ({
  group: G,
  sender,
  sentAt,
  stroke: { id, tool, color: '#000000', width: 1, points: [], ...(target ? { target } : {}) },
});

// The UI replays with the peer's model (app/api/board-model.ts): unsigned strokes in
// (sentAt, sender, id) order, not in arrival order (issue 18 §4: the two disagreed).
test('the board replays pen, clear and undo deterministically, whatever the arrival order', () => {
  const strokes = [pen('1', 'a', 1), pen('2', 'b', 2), op('3', 'clear', 'a', undefined, 3), pen('4', 'a', 4), pen('5', 'b', 5), op('6', 'undo', 'a', '4', 6)];
  assert.deepEqual(
    replay(strokes).objects.map((m) => m.id),
    ['5'],
  );
  assert.deepEqual(
    replay([...strokes].reverse()).objects.map((m) => m.id),
    ['5'],
  );
});

test('undo removes only the sender’s own stroke', () => {
  const b = replay([pen('1', 'a'), op('2', 'undo', 'b', '1')]);
  assert.deepEqual(
    b.objects.map((m) => m.id),
    ['1'],
  );
});

test('a stroke seen twice (own echo, history overlap) is applied once', () => {
  const once = applyEntries(emptyBoard(), [pen('1')]);
  assert.equal(applyEntries(once, [pen('1')]), once);
  assert.equal(once.objects.length, 1);
});

test('the last own object is the newest this member created', () => {
  const signed = (id: string, sender: string, author: string, seq: number) => ({ ...pen(id, sender, seq), author, seq });
  const b = replay([signed('1', 'me', 'a'.repeat(64), 1), signed('2', 'other', 'b'.repeat(64), 2), signed('3', 'me', 'a'.repeat(64), 3), signed('4', 'other', 'b'.repeat(64), 4)]);
  assert.equal(lastOwnObject(b, 'me')?.id, '3');
  assert.equal(lastOwnObject(b, 'nobody'), undefined);
});

test('colours are stable per id and names abbreviate sensibly', () => {
  assert.equal(hueOf('12D3KooWabc'), hueOf('12D3KooWabc'));
  assert.ok(hueOf('x') >= 0 && hueOf('x') < 360);
  assert.equal(initials('Ada Lovelace'), 'AL');
  assert.equal(initials('bob'), 'BO');
  assert.equal(initials('  '), '?');
  assert.equal(shortId('12D3KooWDEvzqbL5v4PfQxVZJXKd3UCukapuWkcmeRVkEmMeV7Ce'), '12D3Ko…V7Ce');
});
