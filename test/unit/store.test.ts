/** Profile store (store/profile.ts, files.ts, seal.ts): sealed, atomic, versioned, locked. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, statSync, chmodSync, readdirSync, appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile, ProfileError, ProfileLockedError, MIGRATIONS, migrate, PROFILE_FORMAT_VERSION } from '../../app/store/profile.js';
import { Sealer, fromBase64, toBase64 } from '../../app/store/seal.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { AppendLog, writeFileAtomic } from '../../app/store/files.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'conclave-store-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const G = '00112233445566778899aabbccddeeff';

function record(snapshot: string | null = 'AAEC') {
  return { group: G, name: 'g', joinedAt: 1, lastReadAt: 0, inviteUses: {}, admittedAt: {}, lastDataAt: 0, blocklist: [], snapshot };
}

test('identity persists, the key file is 0600, and no secret is written in the clear', () => {
  const d = dir();
  const p = Profile.open(d);
  const id = p.identity('alice');
  p.saveGroup(record('c2VjcmV0LXNuYXBzaG90'));
  p.append(G, 'history', { kind: 'chat', message: { text: 'very private words' } });
  p.close();
  assert.equal(statSync(join(d, 'storage.key')).mode & 0o777, 0o600);
  const seedHex = Buffer.from(id.seed).toString('hex');
  const files = [join(d, 'profile.json'), join(d, 'groups', G, 'state.json'), join(d, 'groups', G, 'history.log')];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.ok(!text.includes(seedHex) && !text.includes('very private') && !text.includes('c2VjcmV0LXNuYXBzaG90') && !text.includes('alice'), `${f} is sealed`);
  }
  const again = Profile.open(d);
  assert.deepEqual(again.identity('ignored'), id);
  assert.deepEqual(again.loadGroup(G)?.snapshot, 'c2VjcmV0LXNuYXBzaG90');
  assert.deepEqual(again.groupIds(), [G]);
  again.close();
});

test('a second open of a live profile is refused; a lock left by a dead process is taken over', async () => {
  const d = dir();
  const p = Profile.open(d);
  assert.throws(() => Profile.open(d), ProfileLockedError);
  p.close();
  // A lock naming a live process (not us) refuses; one naming a dead process is stale.
  const sleeper = spawn('sleep', ['30']);
  writeFileSync(join(d, 'profile.lock'), `${sleeper.pid}\n`);
  assert.throws(() => Profile.open(d), (err: Error) => err instanceof ProfileLockedError && /in use by another process/.test(err.message));
  sleeper.kill('SIGKILL');
  await new Promise((r) => sleeper.once('exit', r));
  const q = Profile.open(d);
  q.close();
});

test('tampering, a wrong storage key and a loose key file are refused with ProfileError', () => {
  const d = dir();
  const p = Profile.open(d);
  p.identity('bob');
  p.saveGroup(record());
  p.close();
  const state = join(d, 'groups', G, 'state.json');
  const outer = JSON.parse(readFileSync(state, 'utf8'));
  outer.box.c = outer.box.c.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
  writeFileSync(state, JSON.stringify(outer));
  const q = Profile.open(d);
  assert.throws(() => q.loadGroup(G), (err: Error) => err instanceof ProfileError && /cannot be decrypted/.test(err.message));
  q.close();
  const wrong = Profile.open(d, { storageKey: new Uint8Array(32).fill(9) });
  assert.throws(() => wrong.identity('x'), ProfileError);
  wrong.close();
  chmodSync(join(d, 'storage.key'), 0o644);
  assert.throws(() => Profile.open(d), /readable by other users/);
});

test('a sealed file cannot be moved to another purpose (group state swapped between groups)', () => {
  const s = new Sealer(new Uint8Array(32).fill(1));
  const box = s.sealJson('group/a', { x: 1 });
  assert.deepEqual(s.openJson('group/a', box), { x: 1 });
  assert.equal(s.openJson('group/b', box), null);
  assert.equal(s.openJson('group/a', { n: '!!', c: 'x' }), null);
  assert.equal(s.openJson('group/a', null), null);
});

test('records sealed by earlier builds (the @noble cipher) open, and new seals open with it: one format on disk', () => {
  const key = new Uint8Array(32).fill(7);
  const s = new Sealer(key);
  const aad = new TextEncoder().encode('group/a');
  const nonce = new Uint8Array(24).fill(3);
  const old = { n: toBase64(nonce), c: toBase64(nobleCrypto.seal(key, nonce, new TextEncoder().encode('{"x":1}'), aad)) };
  assert.deepEqual(s.openJson('group/a', old), { x: 1 });
  const box = s.sealJson('group/a', { y: 2 });
  const opened = nobleCrypto.open(key, fromBase64(box.n)!, fromBase64(box.c)!, aad);
  assert.equal(new TextDecoder().decode(opened!), '{"y":2}');
  const tampered = fromBase64(box.c)!;
  tampered[0]! ^= 1;
  assert.equal(s.openJson('group/a', { n: box.n, c: toBase64(tampered) }), null);
});

test('history is append-only and a torn last line is skipped, not fatal', () => {
  const d = dir();
  const p = Profile.open(d);
  for (let i = 0; i < 5; i++) p.append(G, 'history', { kind: 'chat', i });
  p.close();
  appendFileSync(join(d, 'groups', G, 'history.log'), '{"n":"abc","c":"tor');
  const q = Profile.open(d);
  const read = q.read(G, 'history', (v) => v as { i: number });
  assert.deepEqual(read.records.map((r) => r.i), [0, 1, 2, 3, 4]);
  assert.equal(read.skipped, 1);
  q.close();
});

test('atomic writes leave no temporary files and replace the whole file', () => {
  const d = dir();
  const f = join(d, 'x.json');
  writeFileAtomic(f, 'one');
  writeFileAtomic(f, 'two');
  assert.equal(readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(readdirSync(d), ['x.json']);
  const log = new AppendLog(join(d, 'l.log'));
  log.append({ a: 1 });
  log.rewrite([{ b: 2 }]);
  log.append({ c: 3 });
  assert.deepEqual(log.read((v) => v).records, [{ b: 2 }, { c: 3 }]);
  log.close();
});

test('versioned format: migrations run in order, newer formats are refused', () => {
  assert.equal(PROFILE_FORMAT_VERSION, 1);
  MIGRATIONS[0] = (r) => ({ ...r, name: `${String(r.legacyName)} (migrated)` });
  try {
    assert.deepEqual(migrate({ version: 0, legacyName: 'old' }, 'test'), { version: 1, legacyName: 'old', name: 'old (migrated)' });
  } finally {
    delete MIGRATIONS[0];
  }
  assert.throws(() => migrate({ version: 0 }, 'test'), /no migration/);
  assert.throws(() => migrate({ version: 2 }, 'test'), /newer than this build/);
});
