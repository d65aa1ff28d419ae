/**
 * The profile storage key: 32 random bytes that encrypt the profile at rest,
 * kept on disk only wrapped by the OS keychain (Electron's `safeStorage`:
 * Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux). The wrapper
 * is injected, so this logic is tested without Electron.
 *
 * On Linux the keychain must be a real one: Chromium's `basic_text` backend
 * (chosen when no Secret Service or KWallet is found) wraps keys under a fixed,
 * public password, so the "wrapped" key would be as good as in the clear. Only
 * the backends that keep a random secret in the user's keyring are accepted
 * (gnome_libsecret, kwallet, kwallet5, kwallet6); `basic_text`, `unknown` and
 * any name this code does not know are refused with a WeakKeychainError that
 * says what to install or enable, and names the headless peer's key file
 * (PROFILE/storage.key, mode 0600) as the documented alternative.
 *
 * File format (versioned, STYLE §12): JSON `{ "v": 1, "wrapped": base64 }`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KeyWrapper {
  isEncryptionAvailable(): boolean;
  /** Linux only (Electron's safeStorage): which password store wraps the key. */
  getSelectedStorageBackend?(): string;
  encryptString(plain: string): Buffer;
  decryptString(wrapped: Buffer): string;
}

export class ProfileKeyError extends Error {
  override readonly name: string = 'ProfileKeyError';
}

/** The key is refused because the keychain would wrap it under a fixed password. */
export class WeakKeychainError extends ProfileKeyError {
  override readonly name = 'WeakKeychainError';
  constructor(readonly backend: string) {
    super(weakKeychainAdvice(backend));
  }
}

const KEY_BYTES = 32;

/** Linux password stores that keep a random per-user secret in a real keyring. */
const STRONG_LINUX_BACKENDS: readonly string[] = ['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6'];

function weakKeychainAdvice(backend: string): string {
  const why =
    backend === 'basic_text'
      ? "No system keyring was found, so Electron fell back to its 'basic_text' store, which encrypts with a fixed password built into every copy of Chromium: your profile key would be as readable as a plain file."
      : `Electron's key store is '${backend}', not a system keyring Conclave can trust to keep the profile key secret.`;
  return [
    why,
    'Install and unlock a Secret Service keyring and start Conclave from that desktop session: GNOME Keyring (packages gnome-keyring and libsecret-1-0) or KWallet (kwalletmanager). If one is installed but not picked, start Conclave with --password-store=gnome-libsecret or --password-store=kwallet6 (kwallet5 on KDE 5).',
    'Or run the headless peer instead (npx conclave peer, or npm run web for the same UI in a browser): it keeps its storage key in PROFILE/storage.key, readable only by you (mode 0600), which is the documented alternative on machines without a keyring.',
  ].join('\n\n');
}

/** Throws WeakKeychainError unless the keychain on `platform` wraps keys under a secret of its own. */
function assertStrongKeychain(wrapper: KeyWrapper, platform: NodeJS.Platform): void {
  if (platform !== 'linux' || !wrapper.getSelectedStorageBackend) return;
  const backend = wrapper.getSelectedStorageBackend();
  if (!STRONG_LINUX_BACKENDS.includes(backend)) throw new WeakKeychainError(backend);
}

/**
 * Reads and unwraps the key at `file`, or creates, wraps and stores a new one.
 * Refuses a weak keychain (assertStrongKeychain) before reading or writing anything.
 */
export function loadOrCreateProfileKey(file: string, wrapper: KeyWrapper, random: (n: number) => Uint8Array, platform: NodeJS.Platform = process.platform): Uint8Array {
  assertStrongKeychain(wrapper, platform);
  if (!wrapper.isEncryptionAvailable()) {
    throw new ProfileKeyError('the system keychain is not available, so the profile key cannot be protected');
  }
  if (existsSync(file)) {
    let stored: { v?: unknown; wrapped?: unknown };
    try {
      stored = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new ProfileKeyError(`profile key file ${file} is unreadable`);
    }
    if (stored.v !== 1 || typeof stored.wrapped !== 'string') throw new ProfileKeyError(`profile key file ${file} has an unknown format`);
    const hex = wrapper.decryptString(Buffer.from(stored.wrapped, 'base64'));
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProfileKeyError('the unwrapped profile key is malformed');
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  const key = random(KEY_BYTES);
  if (key.length !== KEY_BYTES) throw new ProfileKeyError('random source returned the wrong length');
  const wrapped = wrapper.encryptString(Buffer.from(key).toString('hex'));
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ v: 1, wrapped: wrapped.toString('base64') }), { mode: 0o600 });
  renameSync(tmp, file);
  return key;
}
