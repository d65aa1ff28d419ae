/**
 * What a send resolves with is in this member's history on disk (group.ts,
 * docs/architecture.md "Durability"): `sendChat` and `sendFile` resolve only once
 * the message's record is fsynced, when its client has been told of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../app/net/ids.js';
import { GroupEngine } from '../../app/core/engine.js';
import { Profile } from '../../app/store/profile.js';
import { GroupRuntime, newGroupRecord } from '../../app/peer/group.js';
import { defaultParams } from '../../app/peer/params.js';
import type { FileBody } from '../../app/peer/payload.js';

/** A group of one, created now, over a fresh profile; `shown`: the IDs of the messages its client was told of. */
function soloGroup(): { rt: GroupRuntime; shown: string[]; done: () => void } {
  const seed = new Uint8Array(randomBytes(32));
  const key = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
  const dir = mkdtempSync(join(tmpdir(), 'conclave-send-'));
  const profile = Profile.open(dir);
  const shown: string[] = [];
  const now = Date.now();
  const rt = new GroupRuntime(
    {
      selfKey: key,
      profile,
      sign: (message) => nobleCrypto.ed25519Sign(seed, message),
      events: { emit: (event, p) => void (event === 'chat.message' && shown.push((p as { id: string }).id)) },
      now: () => Date.now(),
      displayName: () => 'me',
      publish: () => {},
      unicast: () => {},
      peerIdOf: (k) => peerIdStringOfMemberKey(k) ?? k,
      allowlisted: () => false,
      onMember: () => {},
      log: () => {},
    },
    newGroupRecord('', 'solo', now),
    (deps) => GroupEngine.create(deps, { seed, name: 'me' }, { name: 'solo', params: defaultParams({ exclude: 'any-member' }), now }),
    100,
  );
  rt.drive();
  return {
    rt,
    shown,
    done: () => {
      rt.stop();
      profile.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('sendChat and sendFile resolve once the message is in history on disk (its client was told of it)', async () => {
  const { rt, shown, done } = soloGroup();
  try {
    await sends(rt, shown);
  } finally {
    done();
  }
});

async function sends(rt: GroupRuntime, shown: string[]): Promise<void> {
  assert.equal(rt.engine.state(), 'member');
  const chat = await rt.sendChat('hello');
  assert.deepEqual(shown, [chat.id], 'chat: told of before the send resolved');
  const body: FileBody = { t: 'file', fid: bytesToHex(randomBytes(16)), name: 'a.txt', size: 1, mime: 'text/plain', sha256: '00'.repeat(32), key: bytesToHex(randomBytes(32)), chunk: 1 << 18, count: 1, hashes: Buffer.alloc(32).toString('base64') };
  const file = await rt.sendFile(body);
  assert.deepEqual(shown, [chat.id, file.id], 'file: told of before the send resolved');
  assert.deepEqual(rt.chatHistory(10).map((m) => m.id), [chat.id, file.id], 'both listed');
}
