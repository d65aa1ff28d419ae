// Review 29 (outsiders, red team), the engine's half: a Data packet from a key the roster does not
// list, naming the group's TEK 10,000 revisions ahead, made the engine step the TEK 10,000 times
// (about 14 ms) before its AEAD failed; one gossipsub RPC of 3,000 such packets, each signed by a
// throwaway key, froze a member for 47 s (the transport's half: test/integration/review29-outsider).
// Secure (D1, S1): a non-member's data costs at most NON_MEMBER_REVISION_JUMP steps, as its sealed
// control messages already did; a member's packet far ahead still opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { currentTek, drain, groupBytes, honestGroup, identity } from './forge.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { advanceRevision, creatorsTag, dataKey } from '../../../app/core/keys.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex } from '../../../app/core/bytes.js';
import { NON_MEMBER_REVISION_JUMP } from '../../../app/core/engine/control-seal.js';
import type { GroupEngine } from '../../../app/core/engine.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

/** A data packet from `sender` under `e`'s current TEK at its revision + `ahead`, sealed right (`sealed`) or garbage. */
function packet(e: GroupEngine, sender: string, ahead: number, sealed: boolean, W: number, V: number): Uint8Array {
  const t = currentTek(e)!;
  const h: DataMessage = {
    type: MsgType.Data,
    senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(sender), W, V)),
    tekVersion: t.version,
    tekTag: creatorsTag(nodeCrypto, t.creators),
    revision: t.revision + ahead,
    sentAt: 0,
    nonce: new Uint8Array(randomBytes(24)),
    ciphertext: new Uint8Array(randomBytes(48)),
  };
  if (sealed) h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, advanceRevision(nodeCrypto, t.key, t.revision, t.revision + ahead)), h.nonce, new TextEncoder().encode('far ahead'), dataAad(groupBytes, h));
  return encodeMessage(groupBytes, h);
}

/** SHA-256 computations (one per revision step) while `run` runs. */
function hashesDuring(run: () => void): number {
  const real = nodeCrypto.sha256;
  let n = 0;
  nodeCrypto.sha256 = (d) => {
    n++;
    return real(d);
  };
  try {
    run();
  } finally {
    nodeCrypto.sha256 = real;
  }
  return n;
}

test('review29: a stranger\'s data packet 10,000 revisions ahead costs no more than NON_MEMBER_REVISION_JUMP steps', () => {
  const g = honestGroup(['a', 'b']);
  const b = g.e.b!;
  drain(b);
  const stranger = identity('sybil');
  const bytes = packet(g.e.a!, stranger.key, 10_000, false, g.params.W, g.params.V);
  const hashes = hashesDuring(() => b.receive(stranger.key, 'data', bytes, g.net.now));
  assert.ok(drain(b).events.some((e) => e.type === 'rejected' && e.reason === 'decrypt-failed'), 'refused as not opening');
  assert.ok(hashes <= NON_MEMBER_REVISION_JUMP + 8, `${hashes} hashes for one packet`);
});

test('review29: a member\'s data packet far ahead still opens', () => {
  const g = honestGroup(['a', 'b']);
  const b = g.e.b!;
  drain(b);
  b.receive(g.ids.a!.key, 'data', packet(g.e.a!, g.ids.a!.key, 2 * NON_MEMBER_REVISION_JUMP, true, g.params.W, g.params.V), g.net.now);
  const events = drain(b).events;
  assert.ok(events.some((e) => e.type === 'data'), JSON.stringify(events.filter((e) => e.type === 'rejected')));
});
