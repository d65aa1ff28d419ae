// Review 35 (key panel, "ignored, not refused"; a stranger that is later admitted): `expectedRefusal`
// marks a `not-member` count `before-admission` whenever its sender is a current member *now*,
// whatever the refused inputs were and however long before the admission they came. An outsider
// who knows the group ID probes a member as a stranger — here a flood of Data under a TEK the
// group never had, refused `not-member` ("data under an unknown key from a non-member"), which
// the panel duly shows red — and is invited later (a colluding member, a phished invite, a public
// invite link). From the moment its admission reaches the member, the whole red count turns grey,
// "Ignored from mallory: sent before their admission reached you", and the record of the probing
// is gone from the red lines. An honest newcomer's early inputs come after its admission was
// dated (it speaks once admitted; only the news is late): these came minutes, or days, before it.
// Secure: a refusal is `before-admission` only if it came after its sender's admission was dated
// (engine.rosterAdmittedAt, within the clock skew), so earlier attempts stay red.
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

test('review35: a stranger\'s red refusals turn grey "before admission" once it is invited later', { timeout: 120_000 }, async () => {
  const alice = await peer('alice');
  const bob = await peer('bob');
  const mallory = await peer('mallory');
  const { group } = (await alice.api.call('group.create', { name: 'club' })) as { group: string };
  const first = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await bob.api.call('group.join', { invite: first.invite });
  await until('bob can send', async () => bob.api.call('chat.send', { group, text: 'hi' }).then(() => true, () => false));
  const rejectionsFromMallory = async () => ((await bob.api.call('keys.table', { group })) as KeysTable).rejections.filter((r) => r.from === mallory.memberKey);

  // Mallory, a stranger, probes bob: Data under a TEK the group never had.
  const topic = topicsOf(group).data;
  const overheard: GossipMessage[] = [];
  mallory.node.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.topic === topic) overheard.push(e.detail);
  });
  await mallory.node.dial(multiaddr(bob.addresses()[0]!));
  mallory.node.services.pubsub.subscribe(topic);
  await until('a data packet overheard', async () => {
    if (overheard.length === 0) await alice.api.call('chat.send', { group, text: 'hello' }).catch(() => {});
    return overheard.length > 0;
  });
  const groupBytes = hexToBytes(group);
  const header = decodeMessage(groupBytes, 'data', overheard[0]!.data) as DataMessage;
  const { W, V } = (await bob.api.call('keys.table', { group })) as KeysTable;
  const PROBES = 30;
  for (let i = 0; i < PROBES; i++) {
    const data = encodeMessage(groupBytes, {
      ...header,
      senderId: Uint8Array.from(participantId(nobleCrypto, hexToBytes(mallory.memberKey), W, V)),
      tekVersion: header.tekVersion + 3,
      tekTag: new Uint8Array(randomBytes(header.tekTag.length)),
      sentAt: Date.now(),
      nonce: new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(randomBytes(64)),
    });
    await mallory.node.services.pubsub.publish(topic, data).catch(() => {});
  }
  await until('bob refused the probes', async () => (await rejectionsFromMallory()).reduce((n, r) => n + r.count, 0) >= PROBES / 2);
  const probed = await rejectionsFromMallory();
  assert.ok(probed.some((r) => r.reason === 'not-member' && r.expected === undefined), 'as a stranger, mallory\'s probes read red');
  const probedAt = Math.max(...probed.map((r) => r.lastAt));
  mallory.node.services.pubsub.unsubscribe(topic);

  // Later, mallory is invited and admitted.
  await new Promise((r) => setTimeout(r, 1500));
  const second = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await mallory.api.call('group.join', { invite: second.invite });
  await until('bob counts mallory as a member', async () => ((await bob.api.call('group.members', { group })) as { key: string }[]).some((m) => m.key === mallory.memberKey));

  const after = (await rejectionsFromMallory()).filter((r) => r.reason === 'not-member');
  const lines = after.map((r) => `${r.expected ? `ignored (${r.expected})` : 'REFUSED'}: ${r.reason} ×${r.count}, first ${r.firstAt - probedAt} ms from the probes: ${r.detail}`);
  assert.ok(after.length > 0, 'the probes are still counted');
  assert.ok(
    after.every((r) => r.firstAt > probedAt || r.expected === undefined),
    `probes made as a stranger, before any admission, now read as sent before its admission reached bob: ${lines.join('; ')}`,
  );
});
