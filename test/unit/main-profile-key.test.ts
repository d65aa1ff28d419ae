// The profile storage key wrapped by the OS keychain (main/profile-key.ts). The
// keychain is Electron's safeStorage in the app; here a reversible stand-in
// with the same interface, since the logic under test is the file handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadOrCreateProfileKey, ProfileKeyError, WeakKeychainError, type KeyWrapper } from '../../main/profile-key.js';

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

test("Linux: the 'basic_text' store (a fixed password) is refused before any key is made or read, with what to do instead", () => {
  withDir((dir) => {
    const file = join(dir, 'k.json');
    const basic = { ...wrapper(), getSelectedStorageBackend: () => 'basic_text' };
    const err = (() => {
      try {
        loadOrCreateProfileKey(file, basic, (n) => new Uint8Array(randomBytes(n)), 'linux');
      } catch (e) {
        return e;
      }
      assert.fail('a basic_text keychain was accepted');
    })();
    assert.ok(err instanceof WeakKeychainError && err instanceof ProfileKeyError);
    assert.equal(err.backend, 'basic_text');
    assert.match(err.message, /fixed password/);
    assert.match(err.message, /gnome-keyring/);
    assert.match(err.message, /KWallet/);
    assert.match(err.message, /--password-store=gnome-libsecret/);
    assert.match(err.message, /storage\.key.*0600/s);
    assert.equal(existsSync(file), false, 'no key file was written');
    // An existing key is not unwrapped through it either.
    loadOrCreateProfileKey(file, wrapper(), (n) => new Uint8Array(randomBytes(n)), 'linux');
    assert.throws(() => loadOrCreateProfileKey(file, basic, () => new Uint8Array(32), 'linux'), WeakKeychainError);
  });
});

test('Linux: only keyring backends are accepted; unknown and unheard-of stores are refused', () => {
  withDir((dir) => {
    for (const backend of ['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6']) {
      const key = loadOrCreateProfileKey(join(dir, `${backend}.json`), { ...wrapper(), getSelectedStorageBackend: () => backend }, (n) => new Uint8Array(randomBytes(n)), 'linux');
      assert.equal(key.length, 32, backend);
    }
    for (const backend of ['unknown', 'basic', 'plain', '']) {
      assert.throws(() => loadOrCreateProfileKey(join(dir, 'x.json'), { ...wrapper(), getSelectedStorageBackend: () => backend }, (n) => new Uint8Array(n), 'linux'), WeakKeychainError, backend);
    }
  });
});

test('macOS and Windows keychains (Keychain, DPAPI) are not asked for a Linux backend', () => {
  withDir((dir) => {
    const linuxOnly = { ...wrapper(), getSelectedStorageBackend: (): string => assert.fail('asked on a non-Linux platform') };
    for (const platform of ['darwin', 'win32'] as const) {
      assert.equal(loadOrCreateProfileKey(join(dir, `${platform}.json`), linuxOnly, (n) => new Uint8Array(randomBytes(n)), platform).length, 32);
    }
  });
});
