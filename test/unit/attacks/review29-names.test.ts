// Review 29 (UI and local surfaces, red team): names other members chose, as this peer shows them
// (app/peer/names.ts). Each test runs the attack through a real GroupRuntime of member b and
// asserts the secure outcome; each failed before the fix:
// - a member that joined with an empty name was shown under whatever name it put in each message
//   (another member's, or "Conclave · system");
// - a member could take another member's name outright;
// - a file named "invoice_2026<U+202E>fdp.exe" was shown as "invoice_2026exe.pdf".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { identity } from './forge.js';
import { runtimeOfB } from './review29-fixtures.js';
import { KEY_MARK_HEX, MemberNames, nameKey, shownText } from '../../../app/peer/names.js';

test('review29: a member that joined with an empty name cannot pass for another member', (t) => {
  const m = { ...identity('m'), name: '' };
  const { g, send, shown, done } = runtimeOfB({ m });
  t.after(done);
  // Another member's name, claimed by a member without one, is marked with the claimer's key.
  const id = send('m', { t: 'chat', text: 'hello from "a"', name: 'a' });
  assert.equal(shown(id)?.senderName, `a (${g.ids.m!.key.slice(0, KEY_MARK_HEX)})`);
  const none = send('m', { t: 'chat', text: 'hello from nobody', name: '' });
  assert.equal(shown(none)?.senderName, `member ${g.ids.m!.key.slice(0, KEY_MARK_HEX)}`, 'an unnamed member is shown by its key');
});

test('review29: a member that joined under another member\'s name is told apart from it', (t) => {
  const m = { ...identity('m'), name: 'A\u200b' }; // "a" to a reader: another case and a zero-width space
  const { g, send, shown, done } = runtimeOfB({ m });
  t.after(done);
  const fromM = shown(send('m', { t: 'chat', text: 'it is me, a', name: 'a' }))?.senderName;
  const fromA = shown(send('a', { t: 'chat', text: 'the real a', name: 'a' }))?.senderName;
  assert.equal(fromM, `A (${g.ids.m!.key.slice(0, KEY_MARK_HEX)})`);
  assert.equal(fromA, `a (${g.ids.a!.key.slice(0, KEY_MARK_HEX)})`);
});

test('review29: a file name cannot reverse its own extension on screen', (t) => {
  const { send, shown, done } = runtimeOfB();
  t.after(done);
  const content = Buffer.from('MZ not a pdf');
  const hashes = createHash('sha256').update(content).digest('base64');
  const id = send('m', {
    t: 'file',
    fid: randomBytes(16).toString('hex'),
    name: 'invoice_2026\u202efdp.exe',
    size: content.length,
    mime: 'application/pdf',
    sha256: createHash('sha256').update(content).digest('hex'),
    key: randomBytes(32).toString('hex'),
    chunk: 64 * 1024,
    count: 1,
    hashes,
  });
  const msg = shown(id);
  assert.equal(msg?.file?.name, 'invoice_2026fdp.exe', 'shown as it will be saved: no override');
  assert.equal(msg?.text, 'invoice_2026fdp.exe');
});

test('names: what is stripped, what two names compare as, and the labels', () => {
  assert.equal(shownText('\u202eevil\u2066 \t name\u0007\u200b'), 'evil name');
  assert.equal(shownText('👨\u200d👩\u200d👧'), '👨\u200d👩\u200d👧', 'joiners inside an emoji stay');
  assert.equal(nameKey('Ａlice'), nameKey('alice'), 'full-width letters fold (NFKC)');
  assert.equal(nameKey('al ice'), nameKey('Alice'));
  assert.notEqual(nameKey('alice'), nameKey('alicf'));
  const [x, y, z, me] = ['aa', 'bb', 'cc', 'dd'].map((c) => c.repeat(32));
  const names = new MemberNames(
    [
      { key: x!, name: 'Sam' },
      { key: y!, name: 'sam' },
      { key: z!, name: '\u200b\u202e' },
    ],
    me!,
    'Dee',
  );
  assert.equal(names.label(x!), 'Sam (aaaaaaaaaaaa)');
  assert.equal(names.label(y!), 'sam (bbbbbbbbbbbb)');
  assert.equal(names.label(z!), 'member cccccccccccc', 'a name of invisible characters only is no name');
  // Review 29, second pass: invisible characters that are not spaces.
  assert.equal(nameKey('Ali\u00adce'), nameKey('Alice'), 'a soft hyphen');
  assert.equal(nameKey('Alice\ufe0f'), nameKey('Alice'), 'a variation selector');
  assert.equal(nameKey('Al\u034fice\u{e0041}'), nameKey('Alice'), 'a grapheme joiner, a tag character');
  assert.equal(new MemberNames([{ key: z!, name: '\u3164\u3164' }], me!, 'Dee').label(z!), 'member cccccccccccc', 'Hangul fillers alone are no name');
  // A newcomer the roster does not list yet goes by the name its message claims, marked when taken.
  const newcomer = 'ee'.repeat(32);
  assert.equal(names.labelUnlisted(newcomer, 'Carol'), 'Carol');
  assert.equal(names.labelUnlisted(newcomer, 'SAM'), 'SAM (eeeeeeeeeeee)');
  assert.equal(names.labelUnlisted(newcomer, 'dee'), 'dee (eeeeeeeeeeee)');
  assert.equal(names.labelUnlisted(newcomer, ''), 'member eeeeeeeeeeee');
  assert.equal(new MemberNames([{ key: x!, name: 'Dee' }], me!, 'Dee').label(x!), 'Dee (aaaaaaaaaaaa)', 'nobody takes this member\'s own name');
});
