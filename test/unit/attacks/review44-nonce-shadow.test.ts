// Review 44a, insider catch-up server: "a forged copy cannot make the genuine packet a replay"
// holds only for forgeries that do not open. An insider M holds the TEK: it re-seals, under the
// current TEK, A's genuine header (A's participant ID, A's nonce) around a payload of its own
// choosing (an empty board re-share), and serves it in its catch-up reply naming A. The engine
// opens it, records (A, nonce) as delivered, and the host finds nothing to refuse (an empty
// re-share has no item to check): nothing is put on M or anyone. A's genuine packet, brought by
// any honest server (or A itself) for the rest of the grace window, is then a `replay`, dropped
// silently (catch-up replays are expected). Asserts the SECURE outcome: it fails on current code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { dataKey } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import type { MsgType} from '../../../app/core/wire.js';
import { dataAad, decodeMessage, encodeMessage, type Message } from '../../../app/core/wire.js';
import { encodePayload, type AppPayload } from '../../../app/peer/payload.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

/** What an insider holding the TEK makes of a genuine packet: its header, nonce included, around `payload`. */
export function reseal(g: ReturnType<typeof runtimeOfB>['g'], insider: string, genuine: Uint8Array, payload: AppPayload): Uint8Array {
  const h = decodeMessage(groupBytes, 'data', genuine) as DataMessage;
  const t = currentTek(g.e[insider]!)!;
  assert.equal(t.version, h.tekVersion);
  const forged: DataMessage = { ...h, ciphertext: new Uint8Array(0) };
  forged.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, t.key), h.nonce, encodePayload(payload), dataAad(groupBytes, forged));
  return encodeMessage(groupBytes, forged);
}

test('an insider catch-up server cannot shadow a genuine message by re-sealing its nonce', (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const M = f.g.ids.m!.key;
  // A's message 1, which b missed (offline); m holds it (it received it live) and serves b's catch-up.
  const m1 = f.sign('a', { t: 'chat', text: 'the acknowledged message', name: 'a' });
  const genuine = f.seal('a', { v: 2, t: 'msg', m: m1 });
  // M's reply: A's header and nonce, an empty board re-share inside, sealed under the TEK M holds.
  assert.equal(f.rt.receive(A, 'data', reseal(f.g, 'm', genuine, { v: 2, t: 'board', items: [] }), M), 'accept');
  assert.deepEqual(f.rt.rejections.list(), [], 'nothing refused, nothing put on M: the attack is silent');
  // The genuine packet, served by an honest member (here A itself) later in the grace window.
  f.rt.receive(A, 'data', genuine, A);
  // A's next message live: b now sees a gap at 1.
  f.send('a', { t: 'chat', text: 'second', name: 'a' });
  const gaps = f.rt.held.gaps();
  assert.ok(f.rt.held.message(m1.id) !== null, `A's genuine message reached b (gaps: ${JSON.stringify(gaps)}; rejections: ${JSON.stringify(f.rt.rejections.list())})`);
});

test('… nor lose it for good by re-sealing its nonce one revision ahead', async (t) => {
  const { decodeMessage: decode } = await import('../../../app/core/wire.js');
  // A group on a real clock that has lived past the grace window since its last join.
  const f = runtimeOfB({}, { start: 1_765_000_000_000, ageMs: 125_000 });
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const M = f.g.ids.m!.key;
  f.send('a', { t: 'chat', text: 'one', name: 'a' });
  // A's message 2, which b missed; m holds it.
  const m2 = f.sign('a', { t: 'chat', text: 'the acknowledged message', name: 'a' });
  const genuine = f.seal('a', { v: 2, t: 'msg', m: m2 });
  const h = decode(groupBytes, 'data', genuine) as DataMessage;
  // M's catch-up reply: A's nonce, at the next revision, an empty board re-share inside.
  const forged = f.seal('a', { v: 2, t: 'board', items: [] }, { insider: 'm', revision: h.revision + 1, nonce: h.nonce, sentAt: h.sentAt });
  assert.equal(f.rt.receive(A, 'data', forged, M), 'accept');
  f.send('a', { t: 'chat', text: 'three', name: 'a' });
  assert.deepEqual(f.rt.held.gaps(0 + 64, f.time.now).map((x) => x.missing), [[[2, 2]]], 'b knows it lacks A:2 and keeps asking');
  // Honest servers bring the genuine packet again and again, within the grace window and after it.
  for (let i = 0; i < 6; i++) {
    f.advance(30_000);
    f.rt.receive(A, 'data', genuine, A);
  }
  const onM = f.rt.rejections.list().filter((r) => r.from === M);
  assert.deepEqual(onM, [], 'nothing was ever put on M');
  assert.ok(f.rt.held.message(m2.id) !== null, `A:2 reached b (still missing: ${JSON.stringify(f.rt.held.gaps(64, f.time.now))})`);
});
