// Review 30 (insiders): look-alike letters (review 29 left them open). A member that joined as
// "Аlice" with a Cyrillic А, or "AIice" with a capital I, was shown beside the real Alice with
// nothing to tell them apart but the avatar colour. Secure (peer/names.ts `nameKey`): look-alike
// letters of other scripts and digits fold to the Latin letter they read as, so both names carry
// their key's first 4 hex digits, through a real GroupRuntime of member b.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identity } from './forge.js';
import { runtimeOfB } from './review29-fixtures.js';
import { KEY_MARK_HEX, nameKey } from '../../../app/peer/names.js';

for (const lookAlike of ['\u0410lice', 'AIice', 'A1ice', 'Al\u0456ce', '\u0391lice']) {
  test(`review30: a member named ${JSON.stringify(lookAlike)} is told apart from Alice`, (t) => {
    const a = { ...identity('a'), name: 'Alice' };
    const m = { ...identity('m'), name: lookAlike };
    const { g, send, shown, done } = runtimeOfB({ a, m });
    t.after(done);
    const fromM = shown(send('m', { t: 'chat', text: 'it is me, Alice', name: lookAlike }))?.senderName;
    const fromA = shown(send('a', { t: 'chat', text: 'the real Alice', name: 'Alice' }))?.senderName;
    assert.equal(fromM, `${lookAlike} (${g.ids.m!.key.slice(0, KEY_MARK_HEX)})`);
    assert.equal(fromA, `Alice (${g.ids.a!.key.slice(0, KEY_MARK_HEX)})`);
  });
}

test('review30: names that read differently keep apart', () => {
  for (const [x, y] of [['Alice', 'Alina'], ['Bob', 'Rob'], ['Мария', 'Maria'], ['李', '季']] as const) assert.notEqual(nameKey(x), nameKey(y), `${x} / ${y}`);
});
