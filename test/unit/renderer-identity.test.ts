// Avatars and colours (renderer/src/identity.ts): initials are whole graphemes,
// members of one group never share a colour (issue 18 §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hueOf, initials, memberHues } from '../../renderer/src/identity.js';

const lone = /[\uD800-\uDFFF]/;
const wholePairs = (s: string) => !lone.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));

test('initials never cut an emoji in half', () => {
  for (const name of ['😀', '😀😃', '🦊 Fox', 'Ana 🌍', '👩‍💻 Dev', '🇫🇷🇩🇪', '𝒜da']) {
    const got = initials(name);
    assert.ok(wholePairs(got), `${name} → ${JSON.stringify(got)} has a lone surrogate`);
  }
  assert.equal(initials('😀'), '😀');
  assert.equal(initials('🦊 Fox'), '🦊F');
  assert.equal(initials('👩‍💻 Dev'), '👩‍💻D');
  assert.equal(initials('🇫🇷🇩🇪'), '🇫🇷🇩🇪');
  assert.equal(initials('élodie'), 'ÉL');
  assert.equal(initials('Ada Lovelace'), 'AL');
});

test('members of a group get different colours, the same on every screen', () => {
  // Find two IDs that hash to the same hue: the collision users saw.
  const ids: string[] = [];
  for (let i = 0; ids.length < 2; i++) {
    const id = `12D3KooWpeer${i}`;
    if (ids.length === 0 || hueOf(id) === hueOf(ids[0]!)) ids.push(id);
  }
  assert.equal(hueOf(ids[0]!), hueOf(ids[1]!));
  const hues = memberHues(ids);
  assert.notEqual(hues.get(ids[0]!), hues.get(ids[1]!));
  // Order of the roster on a screen does not matter.
  assert.deepEqual([...memberHues([...ids].reverse())].sort(), [...hues].sort());
  // Twelve members: twelve colours.
  const twelve = Array.from({ length: 12 }, (_, i) => `12D3KooWm${i}`);
  assert.equal(new Set(memberHues(twelve).values()).size, 12);
});

test('a heartbeat under a second reads "just now", never "now ago"', async () => {
  const { agoText } = await import('../../renderer/src/format.js');
  assert.equal(agoText(0), 'just now');
  assert.equal(agoText(400), 'just now');
  assert.equal(agoText(12_000), '12s ago');
});
