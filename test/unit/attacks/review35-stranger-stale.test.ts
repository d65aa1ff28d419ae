// Review 35 (key panel, "ignored, not refused"; outsider): a stranger's input reads grey.
// `expectedRefusal` marks every `stale` refusal `out-of-date` whoever sent it, as "one an honest
// group makes too". But an outsider who knows the group ID can subscribe to its data topic, copy
// one packet's clear header (TEK version and creators tag) and publish Data under its own key
// naming an earlier revision of that TEK: a member that joined after that revision keeps none
// before its own (data.ts `tooOld`), so the engine refuses it `stale` — and since the sender is in
// no roster, nothing else notes it (the transport's membership check adds a `not-member` line only
// for control messages; for data that opens under nothing it only answers gossipsub). The key
// panel then shows the outsider's whole flood as one grey "Ignored from 12D3…: out of date here",
// although docs/ui.md keeps red for strangers, and an honest group's out-of-date input comes only
// from its members (test/unit/honest-refusals.test.ts: every `stale` there is from a member).
// Secure: a refusal from a sender in no roster of the group is never marked expected.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import type { Message as GossipMessage } from '@libp2p/interface';
import { loopbackPeer, until } from '../loopback-peers.js';
import { topicsOf } from '../../../app/net/topics.js';
import { hexToBytes } from '../../../app/net/ids.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { decodeMessage, encodeMessage, type MsgType } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import type { KeysTable } from '../../../app/api/contract.js';

type DataMessage = Extract<ReturnType<typeof decodeMessage>, { type: typeof MsgType.Data }>;

const peer = loopbackPeer;

test('review35: an outsider\'s data flood under an earlier revision reads only as a grey "ignored" line', { timeout: 90_000 }, async () => {
  const alice = await peer('alice');
  const bob = await peer('bob');
  const outsider = await peer('outsider'); // a Conclave node in no group of theirs
  const { group } = (await alice.api.call('group.create', { name: 'quiet' })) as { group: string };
  const { invite } = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await bob.api.call('group.join', { invite });
  await until('bob can send', async () => bob.api.call('chat.send', { group, text: 'hi' }).then(() => true, () => false));

  // The outsider knows the group ID: it listens on the data topic at bob and copies one header.
  const topic = topicsOf(group).data;
  const overheard: GossipMessage[] = [];
  outsider.node.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.topic === topic) overheard.push(e.detail);
  });
  await outsider.node.dial(multiaddr(bob.addresses()[0]!));
  outsider.node.services.pubsub.subscribe(topic);
  await until('a data packet overheard', async () => {
    if (overheard.length === 0) await alice.api.call('chat.send', { group, text: 'hello' }).catch(() => {});
    return overheard.length > 0;
  });
  const groupBytes = hexToBytes(group);
  const header = decodeMessage(groupBytes, 'data', overheard[0]!.data) as DataMessage;
  assert.ok(header.revision >= 1, `the TEK stepped for bob's join (revision ${header.revision})`);
  const { W, V } = (await bob.api.call('keys.table', { group })) as KeysTable;

  // Its own packets, under the same TEK at revision 0: bob joined at a later revision and keeps none before it.
  const FLOOD = 40;
  for (let i = 0; i < FLOOD; i++) {
    const data = encodeMessage(groupBytes, {
      ...header,
      senderId: Uint8Array.from(participantId(nobleCrypto, hexToBytes(outsider.memberKey), W, V)),
      revision: 0,
      sentAt: Date.now(),
      nonce: new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(randomBytes(64)),
    });
    await outsider.node.services.pubsub.publish(topic, data).catch(() => {});
  }

  let fromOutsider: KeysTable['rejections'] = [];
  await until('bob refused the outsider\'s packets', async () => {
    fromOutsider = ((await bob.api.call('keys.table', { group })) as KeysTable).rejections.filter((r) => r.from === outsider.memberKey);
    return fromOutsider.reduce((n, r) => n + r.count, 0) >= FLOOD / 2;
  });
  const lines = fromOutsider.map((r) => `${r.expected ? `ignored (${r.expected})` : 'REFUSED'}: ${r.reason} ×${r.count}: ${r.detail}`);
  assert.ok(fromOutsider.every((r) => r.expected === undefined), `a stranger's input is marked as one an honest group makes: ${lines.join('; ')}`);
  assert.ok(fromOutsider.some((r) => r.expected === undefined), `no red line for the stranger at all: ${lines.join('; ')}`);
});
