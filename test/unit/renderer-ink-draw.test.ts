// Pure renderer geometry (issue 18 §4): renderer/src/ink.ts turns a freehand stroke
// into the outline of a filled shape whose width follows a simulated pressure (slow
// movement: thick; fast: thin); renderer/src/board-draw.ts draws board objects as
// SVG nodes, hit-tests them and exports the board. Properties that can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inkPath } from '../../renderer/src/ink.js';
import { boardBounds, boardSvg, fillFor, hits, isFilled, normal, objectBox, objectNodes, topAt, wrap, NOTE_FILL } from '../../renderer/src/board-draw.js';
import type { BoardObject } from '../../app/api/board-model.js';

type P = { x: number; y: number };

/** Every coordinate pair of an SVG path made of M, Q and Z commands (ink outlines). */
function pathPoints(d: string): P[] {
  const nums = d.replace(/[MQZ]/g, ' ').trim().split(/\s+/).filter(Boolean).map(Number);
  const out: P[] = [];
  for (let i = 0; i + 1 < nums.length; i += 2) out.push({ x: nums[i]!, y: nums[i + 1]! });
  return out;
}

/** A horizontal stroke from x=0 to x=`length`, one point every `step` units. */
const line = (length: number, step: number): P[] => Array.from({ length: Math.floor(length / step) + 1 }, (_, i) => ({ x: i * step, y: 0 }));

/** Half the outline's thickness in the middle third of a horizontal stroke. */
function halfThickness(d: string, length: number): number {
  const mid = pathPoints(d).filter((p) => p.x > length / 3 && p.x < (2 * length) / 3);
  return Math.max(...mid.map((p) => Math.abs(p.y)));
}

test('ink: an outline is one closed path that starts and ends at the same point', () => {
  const d = inkPath(line(200, 5), 4);
  assert.match(d, /^M [-\d.]+ [-\d.]+( Q [-\d.]+ [-\d.]+ [-\d.]+ [-\d.]+)+ Z$/);
  assert.equal((d.match(/M/g) ?? []).length, 1, 'one subpath');
  const pts = pathPoints(d);
  assert.deepEqual(pts.at(-1), pts[0], 'the last segment ends where the path began');
});

test('ink: the width follows the speed: slow strokes are thicker than fast ones, and both stay near the nominal width', () => {
  const slow = halfThickness(inkPath(line(300, 1.5), 6), 300);
  const fast = halfThickness(inkPath(line(300, 30), 6), 300);
  assert.ok(slow > fast * 1.2, `slow ${slow} vs fast ${fast}`);
  for (const h of [slow, fast]) assert.ok(h > 6 * 0.12 && h < 6, `half thickness ${h} within (0.12 w, w)`);
  // A wider pen draws a wider line at the same speed.
  assert.ok(halfThickness(inkPath(line(300, 3), 12), 300) > halfThickness(inkPath(line(300, 3), 4), 300));
});

test('ink: both ends taper', () => {
  const d = inkPath(line(300, 3), 8);
  const pts = pathPoints(d);
  const nearEnd = pts.filter((p) => p.x > 296).map((p) => Math.abs(p.y));
  const nearStart = pts.filter((p) => p.x < 4).map((p) => Math.abs(p.y));
  assert.ok(Math.max(...nearEnd) < halfThickness(d, 300) * 0.7, `thinner at the end (${Math.max(...nearEnd)}) than in the middle`);
  assert.ok(Math.max(...nearStart) < halfThickness(d, 300) * 0.7, `and at the start (${Math.max(...nearStart)})`);
});

test('ink: degenerate strokes (none, one point, one point repeated) do not throw; one point is a dot', () => {
  assert.equal(inkPath([], 4), '');
  const dot = inkPath([{ x: 10, y: 20 }], 4);
  assert.match(dot, /^M [\d.]+ 20 a [\d.]+ [\d.]+ 0 1 0 [\d.]+ 0 a .* Z$/);
  const same = inkPath([{ x: 10, y: 20 }, { x: 10, y: 20 }, { x: 10, y: 20 }], 4);
  assert.equal(same, dot, 'repeated points are one dot');
  assert.doesNotMatch(inkPath([{ x: 0, y: 0 }, { x: 0.1, y: 0 }], 0.5), /NaN|Infinity/);
});

test('ink: any stroke gives finite numbers, and its outline covers its points', () => {
  const point = fc.record({ x: fc.double({ min: -1e4, max: 1e4, noNaN: true }), y: fc.double({ min: -1e4, max: 1e4, noNaN: true }) });
  fc.assert(
    fc.property(fc.array(point, { minLength: 1, maxLength: 60 }), fc.double({ min: 0.5, max: 64, noNaN: true }), (points, width) => {
      const d = inkPath(points, width);
      assert.doesNotMatch(d, /NaN|Infinity/);
      assert.ok(d.endsWith('Z'));
      if (d.startsWith('M') && d.includes('Q')) {
        const pts = pathPoints(d);
        const box = { x0: Math.min(...pts.map((p) => p.x)), x1: Math.max(...pts.map((p) => p.x)), y0: Math.min(...pts.map((p) => p.y)), y1: Math.max(...pts.map((p) => p.y)) };
        const first = points[0]!;
        assert.ok(first.x >= box.x0 - 0.01 && first.x <= box.x1 + 0.01 && first.y >= box.y0 - 0.01 && first.y <= box.y1 + 0.01, 'the first point is inside the outline box');
      }
    }),
    { numRuns: 200 },
  );
});

const obj = (kind: BoardObject['kind'], x: number, y: number, w: number, h: number, extra: Partial<BoardObject> = {}): BoardObject => ({
  key: `k/${kind}${x}${y}`,
  id: `${kind}${x}${y}`,
  by: 'a'.repeat(64),
  sender: 'p',
  kind,
  x,
  y,
  w,
  h,
  z: 0,
  color: '#112233',
  width: 2,
  v: 1,
  n: 0,
  createdAt: 0,
  ...extra,
});

test('hit test: a shape is found inside its box and not outside it (beyond the tolerance), whichever way it was drawn', () => {
  for (const r of [obj('rect', 10, 10, 100, 50), obj('rect', 110, 60, -100, -50), obj('ellipse', 10, 10, 100, 50), obj('note', 10, 10, 100, 50)]) {
    assert.deepEqual(normal(r), { x: 10, y: 10, w: 100, h: 50 });
    assert.equal(hits(r, { x: 60, y: 35 }, 2), true, `${r.kind} inside`);
    assert.equal(hits(r, { x: 111, y: 35 }, 2), true, 'within the tolerance');
    assert.equal(hits(r, { x: 115, y: 35 }, 2), false, `${r.kind} outside`);
    assert.equal(hits(r, { x: 60, y: -5 }, 2), false);
  }
});

test('hit test: an arrow and ink are hit near their lines only, not anywhere in their box', () => {
  const arrow = obj('arrow', 0, 0, 100, 100);
  assert.equal(hits(arrow, { x: 50, y: 50 }, 2), true);
  assert.equal(hits(arrow, { x: 90, y: 10 }, 2), false, 'in the box, far from the line');
  const ink = obj('ink', 0, 0, 100, 100, { points: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 100 }] });
  assert.equal(hits(ink, { x: 50, y: 1 }, 2), true);
  assert.equal(hits(ink, { x: 99, y: 60 }, 2), true);
  assert.equal(hits(ink, { x: 30, y: 70 }, 2), false, 'in the box, far from the stroke');
  const dot = obj('ink', 5, 5, 0, 0, { points: [{ x: 3, y: 3 }] });
  assert.equal(hits(dot, { x: 5, y: 5 }, 1), true, 'a one-point stroke is hit at its point');
  assert.equal(hits(dot, { x: 20, y: 20 }, 1), false);
  assert.doesNotThrow(() => objectNodes(dot, '#ffffff'));
});

test('topAt: the topmost object under the point, never an erase mark', () => {
  const below = obj('rect', 0, 0, 100, 100);
  const above = obj('ellipse', 50, 50, 100, 100);
  const erase = obj('erase', 0, 0, 200, 200, { points: [{ x: 0, y: 0 }, { x: 200, y: 200 }] });
  assert.equal(topAt([below, above, erase], { x: 75, y: 75 }, 2), above);
  assert.equal(topAt([below, above, erase], { x: 25, y: 25 }, 2), below, 'the erase mark over it is not picked');
  assert.equal(topAt([below, above], { x: 300, y: 300 }, 2), undefined);
});

test('bounds and export: the board box holds every object; text is escaped in the SVG; fill is drawn', () => {
  assert.equal(boardBounds([]), null);
  const objects = [obj('rect', -50, 10, 20, 20, { fill: '#ff0000' }), obj('arrow', 100, 100, -30, 60), obj('text', 0, 0, 80, 20, { text: '<script>alert(1)</script> & "q"' })];
  const b = boardBounds(objects)!;
  for (const o of objects) {
    const ob = objectBox(o);
    assert.ok(ob.x >= b.x && ob.y >= b.y && ob.x + ob.w <= b.x + b.w && ob.y + ob.h <= b.y + b.h, `${o.kind} inside the board box`);
  }
  const { svg, width, height } = boardSvg(objects, '#fafafa', 10);
  assert.equal(width, Math.ceil(b.w + 20));
  assert.equal(height, Math.ceil(b.h + 20));
  assert.ok(!svg.includes('<script>'), 'text is escaped');
  assert.match(svg, /&#60;script&#62;alert\(1\)&#60;\/script&#62; &#38; &#34;q&#34;/);
  assert.match(svg, /<rect [^>]*fill="#ff0000"/);
  assert.equal(objectNodes(obj('rect', 0, 0, 1, 1), '#fff')[0]!.attrs.fill, 'none', 'no fill: none');
  assert.equal(objectNodes(obj('note', 0, 0, 100, 100), '#fff')[0]!.attrs.fill, NOTE_FILL, 'a note without fill is yellow');
});

test('wrap: no line longer than its width unless one word is; no word lost', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z]{1,12}$/), { maxLength: 40 }), fc.integer({ min: 4, max: 30 }), (words, chars) => {
      const lines = wrap(words.join(' '), chars);
      for (const l of lines) assert.ok(l.length <= chars || !l.includes(' '), `"${l}" fits ${chars}`);
      assert.equal(lines.join(' ').split(' ').filter(Boolean).join(' '), words.join(' '));
    }),
  );
});

test('fill: the current colour for shapes, a pale tint of it for notes (readable text); a note’s default yellow is not a fill', () => {
  assert.equal(fillFor('rect', '#e11d48'), '#e11d48');
  assert.equal(fillFor('ellipse', '#16a34a'), '#16a34a');
  const tint = fillFor('note', '#1f2937');
  assert.match(tint, /^#[0-9a-f]{6}$/);
  const lum = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).reduce((a, b) => a + b, 0) / 3;
  assert.ok(lum(tint) > 180, `a note filled from a dark colour stays light (${tint})`);
  assert.equal(fillFor('note', '#ffffff'), '#ffffff');
  assert.equal(isFilled(obj('note', 0, 0, 1, 1, { fill: NOTE_FILL })), false);
  assert.equal(isFilled(obj('note', 0, 0, 1, 1, { fill: tint })), true);
  assert.equal(isFilled(obj('rect', 0, 0, 1, 1)), false);
  assert.equal(isFilled(obj('rect', 0, 0, 1, 1, { fill: '#e11d48' })), true);
  assert.equal(isFilled(obj('arrow', 0, 0, 1, 1, { fill: '#e11d48' })), false, 'arrows are never filled');
});

// XML 1.0's `Char` production: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF (as pairs).
const XML_CHARS = /^(?:[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

test('export: a member\'s board text with C0 controls or unpaired surrogates still makes a well-formed SVG', () => {
  // Review 31's suspicion: one such character (a member may put any in a text object) made the
  // exported document ill-formed, so the PNG export failed for every member.
  const hostile = obj('text', 0, 0, 80, 20, { text: 'a\u0001b\u0008c\u000Bd\u001Fe\uD800f\uDFFFg\uFFFEh\uFFFF i\u0000' });
  const { svg } = boardSvg([hostile]);
  assert.match(svg, XML_CHARS, 'every character of the document is one XML allows');
  assert.match(svg, /a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh\uFFFD i\uFFFD/, 'each is shown as U+FFFD, the rest kept');
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
      const doc = boardSvg([obj('text', 0, 0, 400, 20, { text })]).svg;
      assert.match(doc, XML_CHARS);
    }),
  );
  // Paired surrogates, tabs and ordinary text are kept as they are.
  assert.match(boardSvg([obj('text', 0, 0, 400, 20, { text: 'x 😀\ty' })]).svg, /x 😀\ty/);
});
