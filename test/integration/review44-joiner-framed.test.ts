/**
 * Review 44 (HIGH): an outsider kept a newcomer out of a group. While bob joins, his engine keeps any
 * control message of the group (he holds no key to judge it by), and gossipsub accepted it and
 * forwarded it to his mesh peers, his inviter alice among them. At alice, bob was a stranger
 * relaying a non-member's message that does not open: a strike on bob (transport.ts strikeRelay).
 * Ten of those, and alice blocked bob for ten minutes. An outsider connected to bob that knew the
 * group ID (the invite) only had to send him one RPC of throwaway-signed messages when he
 * subscribed. A peer that is not a member now forwards nothing it keeps.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { RPC } from '@chainsafe/libp2p-gossipsub/message';
import { createConclaveNode, type ConclaveLibp2p } from '../../app/net/node.js';
import { topicsOf } from '../../app/net/topics.js';
import { hexToBytes } from '../../app/net/ids.js';
import { MsgType, encodeMessage } from '../../app/core/wire.js';
import { cleanup, startTestPeer, until } from './harness.js';

const nodes: ConclaveLibp2p[] = [];
after(async () => {
  for (const n of nodes) for (const c of n.getConnections()) c.abort(new Error('end'));
  await Promise.all(nodes.map((n) => Promise.resolve(n.stop()).catch(() => {})));
  await cleanup();
});

test('an outsider connected to a joiner cannot get it blocked by its inviter', { timeout: 240_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'g' });
  const group = alice.group!;
  const { invite } = await alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 });
  const bob = await startTestPeer({ name: 'bob' });
  const bobAddr = (await bob.api.call<{ addresses: string[] }>('net.info')).addresses.find((a) => a.includes('127.0.0.1'))!;

  // The outsider: connected to bob (it knows his peer ID and address), NOT subscribed to the group.
  const attacker = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(attacker);
  await attacker.dial(multiaddr(bobAddr));
  const topic = topicsOf(group).control;
  const groupBytes = hexToBytes(group);
  const messages: unknown[] = [];
  for (let s = 0; s < 3; s++) {
    const key = await generateKeyPair('Ed25519');
    const pid = peerIdFromPrivateKey(key);
    for (let i = 0; i < 10; i++) {
      const data = encodeMessage(groupBytes, { type: MsgType.SealedControl, tekVersion: 1, tekTag: new Uint8Array(randomBytes(8)), revision: 0, nonce: new Uint8Array(randomBytes(24)), ciphertext: new Uint8Array(randomBytes(64)) } as never);
      const raw = { from: pid.toMultihash().bytes, data, seqno: new Uint8Array(randomBytes(8)), topic };
      const signature = await key.sign(new Uint8Array([...new TextEncoder().encode('libp2p-pubsub:'), ...RPC.Message.encode(raw)]));
      messages.push({ ...raw, signature });
    }
  }
  const gossip = attacker.services.pubsub as unknown as { sendRpc(id: string, rpc: unknown): boolean };
  let fired = false;
  attacker.services.pubsub.addEventListener('subscription-change', (evt) => {
    if (fired || evt.detail.peerId.toString() !== bob.peerId) return;
    if (!evt.detail.subscriptions.some((s) => s.topic === topic && s.subscribe)) return;
    fired = gossip.sendRpc(bob.peerId, { subscriptions: [], messages });
  });

  await bob.api.call('group.join', { invite });
  await until('the attack fired', () => fired, 20_000, 50);
  // Bob gets in (a join takes about a second on loopback), and alice never blocked him.
  const member = await until(
    'bob to become a member',
    async () => (await bob.api.call<{ group: string; state: string }[]>('group.list')).find((g) => g.group === group && g.state === 'member'),
    30_000,
    300,
  ).then(
    () => true,
    () => false,
  );
  const blocked = ((await alice.api.call<{ blocked?: { peerId: string; reason: string }[] }>('net.info')).blocked ?? []).find((b) => b.peerId === bob.peerId);
  assert.equal(blocked, undefined, `alice blocked the newcomer bob: ${JSON.stringify(blocked)}`);
  assert.ok(member, 'bob became a member');
});
