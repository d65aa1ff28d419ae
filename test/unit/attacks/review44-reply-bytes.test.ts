// Review 44: the catch-up asker bounded a reply by frame count and frame size only (501 frames of
// 128 KiB, readFrames keeping every frame until the stream ends), never by the 4 MiB of packets
// (`replyBytes`) an honest server sends at most. A hostile member answered with 66 MB per reply,
// two replies held at once per group. `request` now stops reading past what an honest reply can be.
// Drives the real `request` with a stand-in connection whose stream answers as such a server would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lp from 'it-length-prefixed';
import { request } from '../../../app/net/unicast.js';
import { LIMITS } from '../../../app/core/wire.js';
import { CATCHUP_BOUNDS, CATCHUP_REPLY_LIMITS } from '../../../app/peer/catch-up.js';

/** The frames `request` returns for a reply of a header and `packets` frames of `frameBytes` each (null: refused). */
async function reply(packets: number, frameBytes: number): Promise<Uint8Array[] | null> {
  const frame = new Uint8Array(frameBytes).fill(7);
  async function* source() {
    yield* lp.encode([new TextEncoder().encode(`{"v":2,"ok":true,"epoch":"0000000000000000","next":0,"total":${packets}}`)]);
    for (let i = 0; i < packets; i++) yield* lp.encode([frame]);
  }
  const stream = {
    sink: async (src: AsyncIterable<unknown>) => {
      for await (const _ of src) {
        /* the request */
      }
    },
    source: source(),
    abort: () => {},
  };
  const node = { getConnections: () => [{ status: 'open', limits: null, newStream: async () => stream }] };
  return request(node as never, {} as never, '/conclave/catchup', new Uint8Array([1]), CATCHUP_REPLY_LIMITS);
}

test('a catch-up reply of what an honest server sends at most is read whole', async () => {
  // replyItems packets filling replyBytes, each framed with its 32-byte author.
  const n = CATCHUP_BOUNDS.replyItems;
  const packetBytes = Math.floor(CATCHUP_BOUNDS.replyBytes / n);
  const frames = await reply(n, packetBytes + 32);
  assert.equal(frames?.length, n + 1);
});

test('a catch-up reply larger than an honest server sends is not taken whole into memory', async () => {
  const frames = await reply(CATCHUP_BOUNDS.replyItems, LIMITS.dataBytes + 32);
  const bytes = (frames ?? []).reduce((n, f) => n + f.length, 0);
  assert.ok(bytes <= CATCHUP_BOUNDS.replyBytes + 64 * 1024, `one reply held ${(bytes / 1e6).toFixed(1)} MB in memory (replyBytes: ${(CATCHUP_BOUNDS.replyBytes / 1e6).toFixed(1)} MB)`);
});
