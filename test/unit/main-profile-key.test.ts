// The profile storage key wrapped by the OS keychain (main/profile-key.ts). The
// keychain is Electron's safeStorage in the app; here a reversible stand-in
// with the same interface, since the logic under test is the file handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { loadOrCreateProfileKey, ProfileKeyError, type KeyWrapper } from '../../main/profile-key.js';

const wrapper = (available = true): KeyWrapper => ({
  isEncryptionAvailable: () => available,
  encryptString: (s) => Buffer.from(`wrapped:${Buffer.from(s).toString('base64')}`),
  decryptString: (b) => {
    const text = b.toString();
    if (!text.startsWith('wrapped:')) throw new Error('cannot unwrap');
    return Buffer.from(text.slice('wrapped:'.length), 'base64').toString();
  },
});

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-key-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a new key is created once, stored only wrapped, and read back the same', () => {
  withDir((dir) => {
    const file = join(dir, 'sub', 'profile-key.json');
    const key = loadOrCreateProfileKey(file, wrapper(), (n) => new Uint8Array(randomBytes(n)));
    assert.equal(key.length, 32);
    const stored = readFileSync(file, 'utf8');
    assert.equal(stored.includes(Buffer.from(key).toString('hex')), false, 'the raw key is not on disk');
    assert.equal(JSON.parse(stored).v, 1);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o077, 0, 'owner-only file');
    const again = loadOrCreateProfileKey(file, wrapper(), () => {
      throw new Error('must not create a second key');
    });
    assert.deepEqual(again, key);
  });
});

test('without a keychain no key is made', () => {
  withDir((dir) => {
    assert.throws(() => loadOrCreateProfileKey(join(dir, 'k.json'), wrapper(false), (n) => new Uint8Array(n)), ProfileKeyError);
  });
});

test('a corrupt or foreign key file is an error, never a silently new key', () => {
  withDir((dir) => {
    const file = join(dir, 'k.json');
    for (const content of ['not json', JSON.stringify({ v: 2, wrapped: 'x' }), JSON.stringify({ v: 1, wrapped: Buffer.from('wrapped:' + Buffer.from('short').toString('base64')).toString('base64') })]) {
      writeFileSync(file, content);
      assert.throws(() => loadOrCreateProfileKey(file, wrapper(), (n) => new Uint8Array(n)), ProfileKeyError);
    }
  });
});
