/**
 * Review 32 (h3, crash safety): what this member publishes must be in its own
 * history before a kill -9 can separate the two.
 *
 * group.ts `sendChat` (and `sendFile`, `sendChatAction`, `draw`, `drawShape`):
 * `sendSigned` hands the signed message to the engine and `drive` publishes it at
 * once; the history record is appended only later, in `afterPublish`'s setImmediate
 * job (after gossipsub's promise continuations wrote the bytes to the sockets). A
 * kill -9 in between leaves a message on the wire that every receiving member keeps,
 * fsyncs and shows (`chat.message`: acknowledged), and that its author's restarted
 * profile does not hold. Nor does it ever come back: after the restart the author
 * declares the reserved numbers unused (`skip`), so its own number is never a gap
 * here (history.ts `gaps`, `hint` skip this member), and reconciliation never asks.
 *
 * The crash is real: a child process runs one member's GroupRuntime; its host's
 * `publish` reports the data packet on stdout and then blocks (as the event loop
 * would be busy elsewhere), and the test kills it with SIGKILL on that report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Profile } from '../../app/store/profile.js';
import { GroupHistory } from '../../app/peer/history.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CHILD = `
import { writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Profile } from '${ROOT}app/store/profile.ts';
import { GroupRuntime, newGroupRecord } from '${ROOT}app/peer/group.ts';
import { GroupEngine } from '${ROOT}app/core/engine.ts';
import { defaultParams } from '${ROOT}app/peer/params.ts';
import { nobleCrypto } from '${ROOT}app/crypto/noble.ts';
import { bytesToHex } from '${ROOT}app/net/ids.ts';
import { offlineHost } from '${ROOT}test/unit/solo-runtime.ts';
const dir = process.env.H3_DIR;
const seed = new Uint8Array(randomBytes(32));
const key = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
const profile = Profile.open(dir);
let armed = false;
const host = { ...offlineHost({ selfKey: key, profile, seed, now: () => Date.now() }),
  publish: (group, channel) => {
    if (!armed || channel !== 'data') return;
    writeSync(1, 'published ' + group + ' ' + key + '\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // on the wire; killed before the next turn
  },
};
const now = Date.now();
const rt = new GroupRuntime(host, newGroupRecord('', 'g', now), (deps) => GroupEngine.create(deps, { seed, name: 'me' }, { name: 'g', params: defaultParams({ exclude: 'any-member' }), now }), 100);
rt.drive();
rt.save();
const first = await rt.sendChat('sent and acknowledged before');
writeSync(1, 'sent ' + first.id + '\\n');
armed = true;
void rt.sendChat('published, then kill -9');
`;

test('kill -9 after an own chat message was published: the restarted profile holds it (or asks for it)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-h3-pub-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env: { ...process.env, H3_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (/published \S+ \S+\n/.test(text)) {
          child.kill('SIGKILL');
          resolve(text);
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before publishing: ${text}`)));
    });
    await new Promise((r) => child.once('close', r));
    const [, group, self] = /published (\S+) (\S+)/.exec(out)!;
    const firstId = /sent (\S+)/.exec(out)![1]!;
    const profile = Profile.open(dir);
    const h = new GroupHistory(profile, group!, self!, { emit: () => undefined });
    const texts = h.chatHistory(10).map((m) => m.text);
    const ownGaps = h.gaps().filter((g) => g.author === self);
    const next = h.takeOwnSeq();
    profile.close();
    assert.ok(texts.includes('sent and acknowledged before') && h.message(firstId) !== null, 'the first (answered) send is held');
    assert.ok(
      texts.includes('published, then kill -9') || ownGaps.some((g) => g.missing.some(([lo, hi]) => lo <= 2 && 2 <= hi)),
      `own message number 2 went out on the wire (every receiver keeps and shows it), yet the restarted author neither holds it (${JSON.stringify(texts)}) nor asks for it (own gaps ${JSON.stringify(ownGaps)}); its next send declares it unused: ${JSON.stringify(next)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
