/**
 * net/yamux-window: two real yamux muxers joined back to back. With the library's
 * rule every data frame read is answered by a WINDOW_UPDATE; with half-window
 * updates a stream of small messages gets next to none, and a transfer many
 * windows long still completes intact (the sender is never left waiting).
 */
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { ComponentLogger, Logger, Stream, StreamMuxer } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { installHalfWindowUpdates, updateCanWait } from '../../app/net/yamux-window.js';
import { StreamState } from '@chainsafe/libp2p-yamux/stream';

const WINDOW_UPDATE = 1;
const HEADER = 12;

const silent: Logger = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {}, newScope: () => silent });
const logger: ComponentLogger = { forComponent: () => silent };

/** Frames a muxer sends, by yamux frame type (header byte 1); data frames carry their body in the same chunk. */
interface Wire {
  sent: Map<number, number>;
}

/** Pipes `from`'s frames into `to`, counting them by type. */
async function pump(from: StreamMuxer, to: StreamMuxer, wire: Wire): Promise<void> {
  const counted = (async function* () {
    for await (const chunk of from.source) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
      for (let at = 0; at + HEADER <= bytes.length; ) {
        const type = bytes[at + 1] as number;
        const length = new DataView(bytes.buffer, bytes.byteOffset + at + 8, 4).getUint32(0);
        wire.sent.set(type, (wire.sent.get(type) ?? 0) + 1);
        at += HEADER + (type === 0 ? length : 0);
      }
      yield chunk;
    }
  })();
  await to.sink(counted);
}

/** A client and a server muxer joined back to back; `accepted` resolves with the server's first incoming stream. */
function pair(): { client: StreamMuxer; accepted: Promise<Stream>; fromServer: Wire; close(): void } {
  let accept: (s: Stream) => void = () => {};
  const accepted = new Promise<Stream>((r) => (accept = r));
  const factory = yamux()({ logger });
  const client = factory.createStreamMuxer({ direction: 'outbound' });
  const server = factory.createStreamMuxer({ direction: 'inbound', onIncomingStream: (s) => accept(s) });
  const fromServer: Wire = { sent: new Map() };
  void pump(client, server, { sent: new Map() }).catch(() => {});
  void pump(server, client, fromServer).catch(() => {});
  return {
    client,
    accepted,
    fromServer,
    close: () => {
      client.abort(new Error('done'));
      server.abort(new Error('done'));
    },
  };
}

/** Sends `messages` from client to server on one stream, the server reading each as it comes; returns what it read. */
async function transfer(messages: Uint8Array[]): Promise<{ read: Uint8Array; windowUpdates: number }> {
  const p = pair();
  const out = await p.client.newStream();
  const sending = out.sink(
    (async function* () {
      for (const m of messages) {
        yield m;
        await new Promise((r) => setImmediate(r));
      }
    })(),
  );
  const inbound = await p.accepted;
  const read = new Uint8ArrayList();
  for await (const chunk of inbound.source) read.append(chunk);
  await sending;
  const windowUpdates = p.fromServer.sent.get(WINDOW_UPDATE) ?? 0;
  p.close();
  return { read: read.subarray(), windowUpdates };
}

test('yamux window updates: one per frame read with the library rule, next to none at half a window; a long transfer completes intact', async () => {
  const small = Array.from({ length: 200 }, () => randomBytes(100));
  const library = await transfer(small);
  assert.deepEqual(Buffer.from(library.read), Buffer.concat(small));
  // The ACK of the stream's opening is a WINDOW_UPDATE too; every other is flow control.
  assert.ok(library.windowUpdates >= 150, `the library answers (nearly) every frame: ${library.windowUpdates}`);

  assert.equal(installHalfWindowUpdates(), 'half');
  assert.equal(installHalfWindowUpdates(), 'half', 'installing twice changes nothing');
  const half = await transfer(small);
  assert.deepEqual(Buffer.from(half.read), Buffer.concat(small));
  assert.ok(half.windowUpdates <= 2, `20 KB in a 256 KiB window: only the opening ACK (and at most one more): ${half.windowUpdates}`);

  // 4 MiB (16 initial windows) in 64 KiB messages: updates keep the sender going, nothing lost or reordered.
  const big = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
  const long = await transfer(big);
  assert.deepEqual(Buffer.from(long.read), Buffer.concat(big));
  // More than the first window went through, so at least one update beyond the ACK was sent (and read).
  assert.ok(long.windowUpdates >= 2, `a transfer many windows long is given window: ${long.windowUpdates} updates`);
});

test('an update waits only for an established stream with at least half its window free', () => {
  const established = { state: StreamState.Established, recvWindow: 256 * 1024 };
  assert.equal(updateCanWait({ ...established, recvWindowCapacity: 256 * 1024 }), true);
  assert.equal(updateCanWait({ ...established, recvWindowCapacity: 128 * 1024 }), true);
  assert.equal(updateCanWait({ ...established, recvWindowCapacity: 128 * 1024 - 1 }), false);
  assert.equal(updateCanWait({ state: StreamState.Init, recvWindow: 256 * 1024, recvWindowCapacity: 256 * 1024 }), false, 'its SYN is still to go');
  assert.equal(updateCanWait({ state: StreamState.SYNReceived, recvWindow: 256 * 1024, recvWindowCapacity: 256 * 1024 }), false, 'its ACK is still to go');
});
