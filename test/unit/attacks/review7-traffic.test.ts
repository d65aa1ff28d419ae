// Red-team review 7 of the catch-up traffic log (app/peer/traffic.ts, group.ts; docs/
// architecture.md "Reconciliation"; issue 19: "a peer that lies can waste only a bounded
// amount of work"). A catch-up server names each packet's author itself, so it can credit a
// forged packet to any member under a TEK version nobody here holds yet: the engine buffers
// it, unopened. Such a packet must never be kept for catch-up and served on to others; a
// genuine one buffered the same way is kept once it opens. Each test asserts the SECURE outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../../app/core/types.js';
import { decodeMessage, encodeMessage, type Message, type MsgType } from '../../../app/core/wire.js';
import { encodePayload, signMessage } from '../../../app/peer/payload.js';
import { soloRuntime } from '../solo-runtime.js';
import { TrafficLog } from '../../../app/peer/traffic.js';
import { Profile } from '../../../app/store/profile.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const G = '33'.repeat(16);

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

test('a packet buffered under a key not held is served on only once it opened here, never a forgery', async () => {
  const clock = { now: 1_700_000_000_000 };
  const { rt, key, sign, done } = soloRuntime({ now: () => clock.now, emit: () => undefined });
  try {
    await rt.sendChat('own');
    await new Promise((r) => setImmediate(r));
    assert.equal(rt.trafficKept(), 1, 'its own packet');
    const groupBytes = Buffer.from(rt.group, 'hex');
    const own = decodeMessage(groupBytes, 'data', rt.trafficLog.select({}, 0, 0, 10, 1e9).items[0]!.bytes) as DataMessage;
    const future = own.tekVersion + 5;
    const header = (fill: number): DataMessage => ({ ...own, tekVersion: future, sentAt: own.sentAt + fill, nonce: new Uint8Array(24).fill(fill), ciphertext: new Uint8Array(64).fill(fill) });
    // A lying catch-up server credits two packets to this group's member under a TEK version not held here.
    const forged = encodeMessage(groupBytes, header(1));
    const genuine = encodeMessage(groupBytes, header(2));
    assert.equal(rt.receive(key, 'data', forged, true), 'accept', 'buffered by the engine: its key is unknown');
    assert.equal(rt.receive(key, 'data', genuine, true), 'accept');
    assert.equal(rt.trafficKept(), 1, `nothing unopened is kept for catch-up (kept: ${rt.trafficKept()})`);
    // The key comes; `genuine` opens (the engine's event, as tek-records.ts retryPendingData emits it), the forgery never does.
    const m = signMessage(rt.group, { key, sign }, { s: 50, k: future, at: clock.now, id: 'ab'.repeat(16) }, { t: 'chat', text: 'late', name: 'me' });
    const queued: EngineEvent[] = [{ type: 'data', from: key, payload: encodePayload({ v: 2, t: 'msg', m }), sentAt: header(2).sentAt, tekVersion: future, at: clock.now, packet: decodeMessage(groupBytes, 'data', genuine) as DataMessage }];
    const poll = rt.engine.pollEvent.bind(rt.engine);
    rt.engine.pollEvent = () => queued.shift() ?? poll();
    rt.drive();
    const served = rt.trafficLog.select({}, 0, 0, 10, 1e9, 'cd'.repeat(32)).items;
    assert.equal(served.length, 2, 'its own packet and the one that opened');
    assert.ok(served.some((t) => Buffer.from(t.bytes).equals(genuine) && t.tag?.a === key && t.tag.s === 50), 'the opened packet, tagged');
    assert.ok(!served.some((t) => Buffer.from(t.bytes).equals(forged)), 'the forgery is never served');
  } finally {
    done();
  }
});

test('untagged packets of others kept by an older version are dropped when the log is opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-traffic-legacy-'));
  const self = 'aa'.repeat(32);
  const other = 'bb'.repeat(32);
  let p = Profile.open(dir);
  const old = new TrafficLog(p, G, 100);
  old.keep({ from: other, bytes: new Uint8Array([1]), at: 1, tag: null }); // never opened there: maybe forged
  old.keep({ from: other, bytes: new Uint8Array([2]), at: 2, tag: { a: other, s: 1, k: 1 } });
  old.keep({ from: self, bytes: new Uint8Array([3]), at: 3, tag: null });
  p.close();
  p = Profile.open(dir);
  const reopened = new TrafficLog(p, G, 100, self);
  assert.deepEqual(reopened.select({}, 0, 0, 10, 1e9).items.map((t) => t.bytes[0]), [2, 3]);
  p.close();
  rmSync(dir, { recursive: true, force: true });
});
