/**
 * The profile storage key: 32 random bytes that encrypt the profile at rest,
 * kept on disk only wrapped by the OS keychain (Electron's `safeStorage`:
 * Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux). The wrapper
 * is injected, so this logic is tested without Electron.
 *
 * File format (versioned, STYLE §12): JSON `{ "v": 1, "wrapped": base64 }`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KeyWrapper {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(wrapped: Buffer): string;
}

export class ProfileKeyError extends Error {
  override readonly name = 'ProfileKeyError';
}

const KEY_BYTES = 32;

/** Reads and unwraps the key at `file`, or creates, wraps and stores a new one. */
export function loadOrCreateProfileKey(file: string, wrapper: KeyWrapper, random: (n: number) => Uint8Array): Uint8Array {
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
