// conclave://join/... links handed to the app by the OS (main/join-link.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findJoinLink, parseJoinLink } from '../../main/join-link.js';

const LINK = 'conclave://join/AbC-123_xyz';

test('a join link is passed on whole as the invite', () => {
  assert.equal(parseJoinLink(LINK), LINK);
  assert.equal(parseJoinLink(`  ${LINK}\n`), LINK);
});

test('other schemes, other actions and empty payloads are not join links', () => {
  for (const raw of ['https://join/abc', 'conclave://settings/x', 'conclave://join/', 'conclave://join', 'conclave:', 'not a url', '', 'javascript:alert(1)', 'file:///etc/passwd']) {
    assert.equal(parseJoinLink(raw), null, raw);
  }
});

test('over-long links are refused', () => {
  assert.equal(parseJoinLink(`conclave://join/${'a'.repeat(9000)}`), null);
});

test('the join link is found among a second instance argv, flags and all', () => {
  const argv = ['/opt/Conclave/conclave', '--no-sandbox', '/some/path', LINK];
  assert.equal(findJoinLink(argv), LINK);
  assert.equal(findJoinLink(['/usr/bin/electron', 'dist/main/main/main.js']), null);
  assert.equal(findJoinLink(['x', 'CONCLAVE://join/abc']), 'CONCLAVE://join/abc');
});
