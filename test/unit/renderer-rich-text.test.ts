// Message text with links and a little markdown (renderer/src/rich-text.tsx).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { richParts } from '../../renderer/src/rich-text.js';

test('http(s) links, trailing punctuation left out', () => {
  assert.deepEqual(richParts('see https://example.org/a?b=1. ok'), [
    { kind: 'text', text: 'see ' },
    { kind: 'link', href: 'https://example.org/a?b=1', text: 'https://example.org/a?b=1' },
    { kind: 'text', text: '. ok' },
  ]);
  const wiki = richParts('(https://en.wikipedia.org/wiki/Foo_(bar))');
  assert.deepEqual(wiki[1], { kind: 'link', href: 'https://en.wikipedia.org/wiki/Foo_(bar)', text: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
});

test('no javascript:, data: or file: links', () => {
  for (const bad of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'JaVaScRiPt:alert(1)']) {
    assert.ok(richParts(bad).every((p) => p.kind !== 'link'), bad);
  }
  // A javascript: URL hidden after http text is text, not a link.
  assert.ok(richParts('http://x.org/"onclick=alert(1)').every((p) => p.kind !== 'link' || !p.href.includes('"')));
});

test('code, bold, italic', () => {
  assert.deepEqual(richParts('run `npm start` **now**, _please_'), [
    { kind: 'text', text: 'run ' },
    { kind: 'code', text: 'npm start' },
    { kind: 'text', text: ' ' },
    { kind: 'bold', parts: [{ kind: 'text', text: 'now' }] },
    { kind: 'text', text: ', ' },
    { kind: 'italic', parts: [{ kind: 'text', text: 'please' }] },
  ]);
  assert.deepEqual(richParts('`**not bold** https://x.org`'), [{ kind: 'code', text: '**not bold** https://x.org' }]);
  assert.deepEqual(richParts('2 * 3 * 4 and snake_case_name'), [{ kind: 'text', text: '2 * 3 * 4 and snake_case_name' }]);
  assert.deepEqual(richParts('plain'), [{ kind: 'text', text: 'plain' }]);
});
