/**
 * What a send resolves with is in this member's history on disk (group.ts,
 * docs/architecture.md "Durability"): `sendChat` and `sendFile` resolve only once
 * the message's record is fsynced, when its client has been told of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '../../app/net/ids.js';
import type { GroupRuntime } from '../../app/peer/group.js';
import type { FileBody } from '../../app/peer/payload.js';
import { soloRuntime } from './solo-runtime.js';

/** A group of one, created now, over a fresh profile; `shown`: the IDs of the messages its client was told of. */
function soloGroup(): { rt: GroupRuntime; shown: string[]; done: () => void } {
  const shown: string[] = [];
  const { rt, done } = soloRuntime({ now: () => Date.now(), emit: (event, p) => void (event === 'chat.message' && shown.push((p as { id: string }).id)) });
  return { rt, shown, done };
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
