// Pure renderer logic: the board replay, stable colours. (Member keys become
// peer IDs at the peer now: renderer-key-log.test.ts checks those against libp2p.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStroke, emptyBoard, lastOwnMark, replay } from '../../renderer/src/board-model.js';
import { hueOf, initials, shortId } from '../../renderer/src/identity.js';
import type { BoardStroke, Stroke } from '../../app/api/contract.js';

const G = '0123456789abcdef0123456789abcdef';
const pen = (id: string, sender = 'a'): BoardStroke => ({ group: G, sender, sentAt: 0, stroke: { id, tool: 'pen', color: '#000000', width: 2, points: [{ x: 1, y: 1 }] } });
const op = (id: string, tool: Stroke['tool'], sender = 'a', target?: string): BoardStroke => ({
  group: G,
  sender,
  sentAt: 0,
  stroke: { id, tool, color: '#000000', width: 1, points: [], ...(target ? { target } : {}) },
});

test('the board replays pen, clear and undo deterministically', () => {
  const b = replay([pen('1'), pen('2', 'b'), op('3', 'clear'), pen('4'), pen('5', 'b'), op('6', 'undo', 'a', '4')]);
  assert.deepEqual(
    b.marks.map((m) => m.stroke.id),
    ['5'],
  );
});

test('undo removes only the sender’s own stroke', () => {
  const b = replay([pen('1', 'a'), op('2', 'undo', 'b', '1')]);
  assert.deepEqual(
    b.marks.map((m) => m.stroke.id),
    ['1'],
  );
});

test('a stroke seen twice (own echo, history overlap) is applied once', () => {
  const once = applyStroke(emptyBoard(), pen('1'));
  assert.equal(applyStroke(once, pen('1')), once);
  assert.equal(once.marks.length, 1);
});

test('the last own mark is what Undo removes', () => {
  const b = replay([pen('1', 'me'), pen('2', 'other'), pen('3', 'me'), pen('4', 'other')]);
  assert.equal(lastOwnMark(b, 'me')?.stroke.id, '3');
  assert.equal(lastOwnMark(b, 'nobody'), undefined);
});

test('colours are stable per id and names abbreviate sensibly', () => {
  assert.equal(hueOf('12D3KooWabc'), hueOf('12D3KooWabc'));
  assert.ok(hueOf('x') >= 0 && hueOf('x') < 360);
  assert.equal(initials('Ada Lovelace'), 'AL');
  assert.equal(initials('bob'), 'BO');
  assert.equal(initials('  '), '?');
  assert.equal(shortId('12D3KooWDEvzqbL5v4PfQxVZJXKd3UCukapuWkcmeRVkEmMeV7Ce'), '12D3Ko…V7Ce');
});
