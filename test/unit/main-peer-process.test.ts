// The desktop peer process (main/peer-process.ts) run in this process with a
// stand-in for Electron's `process.parentPort` and the real peer (startPeer on
// loopback, no mDNS): the protocol of main/peer-protocol.ts end to end on the
// peer's side — hello, start, calls through the API handler, events, stop.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer } from '../../app/peer/peer.js';
import { servePeer } from '../../main/peer-process.js';
import type { FromPeer } from '../../main/peer-protocol.js';

class FakeParentPort extends EventEmitter {
  readonly received: FromPeer[] = [];
  private waiters: (() => void)[] = [];
  postMessage(message: FromPeer): void {
    this.received.push(structuredClone(message));
    for (const w of this.waiters.splice(0)) w();
  }
  /** What main sends: Electron delivers `{ data }`, cloned. */
  send(data: unknown): void {
    this.emit('message', { data: structuredClone(data) });
  }
  async next(kind: FromPeer['kind'], from = 0): Promise<FromPeer> {
    for (;;) {
      const found = this.received.slice(from).find((m) => m.kind === kind);
      if (found) return found;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

test('the peer process runs the headless peer behind the message protocol and stops it cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-peerproc-'));
  const port = new FakeParentPort();
  try {
    servePeer(port, (options) => startPeer({ ...options, name: 'desk', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }));
    assert.deepEqual(port.received, [{ kind: 'hello' }]);
    port.send({ kind: 'call', id: 1, method: 'status' });
    assert.deepEqual(await port.next('reply'), { kind: 'reply', id: 1, reply: { ok: false, code: -32603, message: 'the peer is not running' } });
    port.send({ kind: 'start', profile: join(dir, 'profile'), storageKey: new Uint8Array(5) });
    const storageKey = new Uint8Array(randomBytes(32));
    port.send({ kind: 'start', profile: join(dir, 'profile'), storageKey });
    const ready = (await port.next('ready')) as { peerId: string };
    assert.match(ready.peerId, /^12D3KooW/);

    const mark = port.received.length;
    port.send({ kind: 'call', id: 2, method: 'group.create', params: { name: 'desk group' } });
    const created = (await port.next('reply', mark)) as { id: number; reply: { ok: boolean; result: { group: string } } };
    assert.equal(created.id, 2);
    assert.equal(created.reply.ok, true);
    assert.ok(port.received.some((m) => m.kind === 'event'), 'API events are forwarded');

    const mark2 = port.received.length;
    port.send({ kind: 'call', id: 3, method: 'chat.send', params: { group: created.reply.result.group, text: '' } });
    assert.deepEqual(((await port.next('reply', mark2)) as { reply: unknown }).reply, { ok: false, code: -32602, message: 'invalid params for chat.send: text: String must contain at least 1 character(s)' });
    port.send({ kind: 'call', id: -1, method: 'status' });
    port.send('garbage');

    port.send({ kind: 'stop' });
    await port.next('stopped');
    // The profile was saved and released: a new peer opens it with the same key and finds the group.
    const again = await startPeer({ profile: join(dir, 'profile'), storageKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    try {
      assert.equal(again.peerId, ready.peerId);
      assert.deepEqual(((await again.api.call('group.list', {})) as { name: string }[]).map((g) => g.name), ['desk group']);
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
