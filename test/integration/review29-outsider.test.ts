// Review 29 (outsiders, red team): an outsider that knows a group's ID (an old invite) and saw one
// data packet's clear header sends a member ONE gossipsub RPC of Data packets, each signed by a
// throwaway key of its own making and each naming the group's TEK 10,000 revisions ahead. Before
// the fix each packet reached the engine (D1 lets a non-member's data in, to be opened), which
// stepped the TEK 10,000 times before the AEAD failed: 3,000 packets held the member's event loop
// for 47 s, and nobody was struck, since no packet came from its own author.
// Secure: a non-member's data may cost at most NON_MEMBER_REVISION_JUMP steps (core/engine/data.ts;
// its unit test counts the hashes: test/unit/attacks/review29-outsider.test.ts), and a relay that
// passes on a non-member's packets that do not open is struck (a stranger) and scored (gossipsub
// Reject): blocked after a few, the rest of its RPC is dropped unread (peer/transport.ts).
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { RPC } from '@chainsafe/libp2p-gossipsub/message';
import type { Message } from '@libp2p/interface';
import { createConclaveNode, type ConclaveLibp2p } from '../../app/net/node.js';
import { topicsOf } from '../../app/net/topics.js';
import { hexToBytes, memberKeyOfPeer } from '../../app/net/ids.js';
import { parseInvite } from '../../app/peer/invite.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { decodeMessage, encodeMessage, type MsgType } from '../../app/core/wire.js';
import { participantId } from '../../app/core/params.js';
import { cleanup, startTestPeer, until } from './harness.js';
import type { KeysTable } from '../../app/api/contract.js';

const nodes: ConclaveLibp2p[] = [];
after(async () => {
  for (const n of nodes) for (const c of n.getConnections()) c.abort(new Error('end'));
  await Promise.all(nodes.map((n) => Promise.resolve(n.stop()).catch(() => {})));
  await cleanup();
});

const SYBILS = 200;

test('review29: one RPC of throwaway-signed Data packets far ahead of the TEK: the relay is blocked after a few', { timeout: 180_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'flood' });
  const group = alice.group!;
  const { invite } = await alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 });
  const params = parseInvite(invite, Date.now()).params;
  const addr = multiaddr((await alice.api.call<{ addresses: string[] }>('net.info')).addresses[0]!);
  const topic = topicsOf(group).data;
  const groupBytes = hexToBytes(group);

  const attacker = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(attacker);
  const overheard: Message[] = [];
  attacker.services.pubsub.addEventListener('message', (e) => overheard.push(e.detail));
  await attacker.dial(addr);
  attacker.services.pubsub.subscribe(topic);
  await until('a data packet overheard', async () => {
    if (overheard.length === 0) await alice.api.call('chat.send', { group, text: 'hello' });
    return overheard.length > 0;
  }, 30_000, 1000);
  const header = decodeMessage(groupBytes, 'data', overheard[0]!.data) as Extract<ReturnType<typeof decodeMessage>, { type: typeof MsgType.Data }>;

  const messages = [];
  for (let i = 0; i < SYBILS; i++) {
    const key = await generateKeyPair('Ed25519');
    const pid = peerIdFromPrivateKey(key);
    const data = encodeMessage(groupBytes, {
      ...header,
      senderId: Uint8Array.from(participantId(nobleCrypto, hexToBytes(memberKeyOfPeer(pid)!), params.W, params.V)),
      revision: header.revision + 10_000,
      nonce: new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(randomBytes(32)),
    });
    const raw = { from: pid.toMultihash().bytes, data, seqno: new Uint8Array(randomBytes(8)), topic };
    const signature = await key.sign(new Uint8Array([...new TextEncoder().encode('libp2p-pubsub:'), ...RPC.Message.encode(raw)]));
    messages.push({ ...raw, signature });
  }
  const gossip = attacker.services.pubsub as unknown as { sendRpc(id: string, rpc: unknown): boolean };
  assert.ok(gossip.sendRpc(alice.peerId, { subscriptions: [], messages }), 'the RPC went out');

  // Alice blocks the relay after a few of them (a stranger that passed on packets that do not
  // open), and drops the rest of its RPC unread: her engine saw only those few.
  const relay = attacker.peerId.toString();
  await until('alice to block the relay', async () => ((await alice.api.call<{ blocked?: { peerId: string }[] }>('net.info')).blocked ?? []).some((b) => b.peerId === relay), 60_000, 500);
  await new Promise((r) => setTimeout(r, 2000)); // the rest of the RPC, if it were still read
  const judged = (await alice.api.call<KeysTable>('keys.table', { group })).rejections.filter((r) => r.from !== memberKeyOfPeer(attacker.peerId));
  assert.ok(judged.length <= 16, `${judged.length} of the ${SYBILS} packets reached alice's engine`);
  // Alice is still answering, and still a member of her group.
  assert.equal((await alice.api.call<{ group: string; state: string }[]>('group.list')).find((g) => g.group === group)?.state, 'member');
});
