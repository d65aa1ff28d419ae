/**
 * Group commit (store/files.ts `appendDurable`, peer/history.ts): records kept
 * together share one fsync, and nothing a client was told of is lost to a
 * kill -9. The crash is real: a child process keeps messages and reports each
 * one its client sees; the test kills it with SIGKILL the moment the first
 * report arrives, reopens the profile and looks for what was reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppendLog } from '../../app/store/files.js';
import { Profile } from '../../app/store/profile.js';
import { GroupHistory } from '../../app/peer/history.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { signMessage } from '../../app/peer/payload.js';

const G = '22'.repeat(16);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('records appended together share one fsync; each promise resolves after it, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-gc-'));
  const log = new AppendLog(join(dir, 'l.log'));
  const order: number[] = [];
  const all = Array.from({ length: 40 }, (_, i) => log.appendDurable({ i }).then(() => order.push(i)));
  assert.equal(log.fsyncs, 0, 'no fsync has finished yet: nothing resolved synchronously');
  await Promise.all(all);
  assert.deepEqual(order, [...Array(40).keys()]);
  assert.ok(log.fsyncs >= 1 && log.fsyncs <= 2, `40 records, ${log.fsyncs} fsyncs`);
  // Appended while an fsync runs: they wait for the next one, which follows at once.
  const first = log.appendDurable({ i: 40 });
  const second = log.appendDurable({ i: 41 });
  await Promise.all([first, second]);
  assert.equal(log.read((v) => v as { i: number }).records.length, 42);
  // close() fsyncs what is still waiting and settles it.
  const pending = log.appendDurable({ i: 42 });
  log.close();
  await pending;
  assert.equal(new AppendLog(join(dir, 'l.log')).read((v) => v).records.length, 43);
  rmSync(dir, { recursive: true, force: true });
});

/** The child: keeps `count` signed chat messages in one turn and prints `shown ID` as its client is told of each. */
const CHILD = `
import { Profile } from '${ROOT}app/store/profile.ts';
import { GroupHistory } from '${ROOT}app/peer/history.ts';
import { nodeCrypto } from '${ROOT}app/crypto/node.ts';
import { signMessage } from '${ROOT}app/peer/payload.ts';
const [dir, count] = [process.env.DUR_DIR, Number(process.env.DUR_COUNT)];
const seed = new Uint8Array(32).fill(7);
const author = { key: Buffer.from(nodeCrypto.ed25519PublicKey(seed)).toString('hex'), sign: (m) => nodeCrypto.ed25519Sign(seed, m) };
const profile = Profile.open(dir);
const history = new GroupHistory(profile, '${G}', author.key, { emit: (event, p) => { if (event === 'chat.message') process.stdout.write('shown ' + p.id + '\\n'); } });
for (let s = 1; s <= count; s++) {
  const m = signMessage('${G}', author, { s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, '0') }, { t: 'chat', text: 'm' + s, name: 'a' });
  history.keep(m, 'peer-a', 'A', 2000 + s);
}
setInterval(() => undefined, 1000); // stays alive until killed
`;

test('kill -9 right after a client was told of a message: the reopened history holds it', async () => {
  for (const count of [1, 25]) {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env: { ...process.env, DUR_DIR: dir, DUR_COUNT: String(count) }, stdio: ['ignore', 'pipe', 'inherit'] });
    const shown = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) {
          child.kill('SIGKILL'); // the moment the first acknowledgement is seen
          resolve(out.split('\n').filter((l) => l.startsWith('shown ')).map((l) => l.slice(6)));
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before acknowledging`)));
    });
    await new Promise((r) => child.once('close', r));
    assert.ok(shown.length >= 1);
    const profile = Profile.open(dir); // the dead child's lock is taken over
    const held = new Set(new GroupHistory(profile, G, 'ff'.repeat(32), { emit: () => undefined }).chatHistory(100).map((m) => m.id));
    for (const id of shown) assert.ok(held.has(id), `message ${id} was shown, then lost`);
    profile.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message reaches clients only after its fsync; durable() waits for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-dur-'));
  const profile = Profile.open(dir);
  const seen: string[] = [];
  const seed = new Uint8Array(32).fill(9);
  const author = { key: Buffer.from(nodeCrypto.ed25519PublicKey(seed)).toString('hex'), sign: (m: Uint8Array) => nodeCrypto.ed25519Sign(seed, m) };
  const h = new GroupHistory(profile, G, author.key, { emit: (event) => void seen.push(event) });
  const m = signMessage(G, author, { s: 1, k: 1, at: 1000, id: '1'.padStart(32, '0') }, { t: 'chat', text: 'x', name: 'a' });
  assert.equal(h.keep(m, 'peer-a', 'A', 1001), 'kept');
  assert.equal(h.keep(m, 'peer-a', 'A', 1002), 'duplicate', 'indexed at once: a second copy meanwhile is a duplicate');
  assert.deepEqual(seen, [], 'not shown before the fsync');
  assert.deepEqual(h.chatHistory(10), [], 'not listed before the fsync either');
  await h.durable();
  assert.deepEqual(seen, ['chat.message']);
  assert.deepEqual(h.chatHistory(10).map((x) => x.text), ['x'], 'listed once on disk');
  profile.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a received stroke or shape is listed on the board (and re-shared) only after its fsync, like chat', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-dur-board-'));
  const profile = Profile.open(dir);
  const seen: string[] = [];
  const seed = new Uint8Array(32).fill(11);
  const author = { key: Buffer.from(nodeCrypto.ed25519PublicKey(seed)).toString('hex'), sign: (m: Uint8Array) => nodeCrypto.ed25519Sign(seed, m) };
  const h = new GroupHistory(profile, G, 'ee'.repeat(32), { emit: (event) => void seen.push(event) });
  const stroke = { id: 's1', color: '#112233', width: 2, tool: 'pen' as const, points: [{ x: 1, y: 2 }] };
  const shape = { id: 'o1', by: author.key, v: 1, n: 0, kind: 'rect' as const, x: 0, y: 0, w: 10, h: 10, z: 1, color: '#000000', width: 1 };
  const m1 = signMessage(G, author, { s: 1, k: 1, at: 1000, id: '1'.padStart(32, '0') }, { t: 'stroke', stroke });
  const m2 = signMessage(G, author, { s: 2, k: 1, at: 1001, id: '2'.padStart(32, '0') }, { t: 'shape', op: shape });
  assert.equal(h.keep(m1, 'peer-a', 'A', 1001), 'kept');
  assert.equal(h.keep(m2, 'peer-a', 'A', 1002), 'kept');
  assert.equal(h.keep(m1, 'peer-a', 'A', 1003), 'duplicate', 'indexed at once: a second copy meanwhile is a duplicate');
  assert.deepEqual(seen, [], 'no board event before the fsync');
  assert.deepEqual(h.board(), [], 'board.state lists nothing before the fsync');
  assert.deepEqual(h.boardEntries(), [], 'board.entries lists nothing before the fsync');
  assert.deepEqual(h.boardStrokes(), [], 'nothing re-shared to a newcomer before the fsync');
  await h.durable();
  assert.deepEqual(seen, ['board.stroke', 'board.entry', 'board.entry']);
  assert.equal(h.board().length, 1);
  assert.equal(h.boardEntries().length, 2);
  assert.equal(h.boardStrokes().length, 2);
  profile.close();
  rmSync(dir, { recursive: true, force: true });
});
