// Review 31 (names and file names). 1. Two members of one name were told apart by the first 4 hex
// digits of their keys, 16 bits: an insider ground a key with the real Alice's 4 digits (about
// 65,000 key generations, seconds) and joined as "Alice": both were shown "Alice (1f2e)". Now 12
// digits, 48 bits. 2. The blank Braille pattern U+2800 was not stripped: a name of it alone was
// shown blank, and a file "Q3 report.pdf" + 200 of them + ".exe" showed as "Q3 report.pdf⠀⠀…" and
// was saved as .exe. Now it is stripped (with tag characters), and a file card never cuts a name's
// extension off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identity } from './forge.js';
import { runtimeOfB } from './review29-fixtures.js';
import { KEY_MARK_HEX, MemberNames, shownText, unnamedLabel } from '../../../app/peer/names.js';
import { extensionOf } from '../../../renderer/src/file-name.js';

test('review31: a key ground to share the first 4 hex digits of Alice\'s no longer carries her mark', (t) => {
  const a = { ...identity('a'), name: 'Alice' };
  const m = identity('m30844'); // found by trying m0, m1, … (its key starts like a's)
  assert.equal(m.key.slice(0, 4), a.key.slice(0, 4), 'the ground key shares the old 4-digit mark');
  const { send, shown, done } = runtimeOfB({ a, m: { ...m, name: 'Alice' } });
  t.after(done);
  const fromA = shown(send('a', { t: 'chat', text: 'the real Alice', name: 'Alice' }))?.senderName;
  const fromM = shown(send('m', { t: 'chat', text: 'it is me, Alice: a new invite link', name: 'Alice' }))?.senderName;
  assert.equal(fromA, `Alice (${a.key.slice(0, KEY_MARK_HEX)})`);
  assert.notEqual(fromM, fromA, 'two members, one label');
});

test('review31: blank Braille patterns and tag characters are stripped from names and file names', () => {
  const blank = '\u2800'.repeat(5);
  assert.equal(shownText(blank), '');
  const key = 'ab'.repeat(32);
  assert.equal(new MemberNames([{ key, name: blank }], 'cd'.repeat(32), 'Dee').label(key), unnamedLabel(key), 'a blank name is no name');
  const file = `Q3 report.pdf${'\u2800'.repeat(200)}.exe`;
  assert.equal(shownText(file), 'Q3 report.pdf.exe');
  assert.equal(shownText('invoice\u{e0020}\u{e0041}.pdf'), 'invoice.pdf');
  // The card shows the extension apart from the rest of the name, which alone is cut.
  assert.equal(extensionOf(`Q3 report.pdf${'_'.repeat(200)}.exe`), '.exe');
  assert.equal(extensionOf('notes'), '');
  assert.equal(extensionOf('archive.tar.gz'), '.gz');
});
