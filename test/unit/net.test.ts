/** libp2p adapter pieces: identity conversion, topic names, address kinds, bounded unicast streams over real nodes. */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, memberKeyOfPeer, peerOfMemberKey, libp2pKeyFromSeed } from '../../app/net/ids.js';
import { topicOf, topicsOf } from '../../app/net/topics.js';
import { classifyAddress, createConclaveNode, fastMessageId, type ConclaveLibp2p } from '../../app/net/node.js';
import { request, sendFrames, serve, type StreamLimits } from '../../app/net/unicast.js';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';

const nodes: ConclaveLibp2p[] = [];
after(async () => {
  for (const n of nodes) await n.stop();
});

test('the identity seed is the libp2p key: peer ID and MemberKey convert both ways', async () => {
  const seed = randomBytes(32);
  const memberKey = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
  const key = await libp2pKeyFromSeed(seed);
  assert.equal(bytesToHex(key.publicKey.raw), memberKey);
  const pid = peerOfMemberKey(memberKey)!;
  assert.equal(memberKeyOfPeer(pid), memberKey);
  assert.equal(memberKeyOfPeer(pid.toString()), memberKey);
  assert.equal(memberKeyOfPeer('garbage'), null);
  assert.equal(memberKeyOfPeer('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), null, 'an RSA/sha256 peer ID is not a member');
  assert.equal(peerOfMemberKey('00'), null);
  assert.equal(peerOfMemberKey('zz'.repeat(32)), null);
  await assert.rejects(libp2pKeyFromSeed(new Uint8Array(31)), RangeError);
});

test('topics derive from a hash of the group ID, never from the name or the ID itself', () => {
  const g = 'aa'.repeat(16);
  const t = topicsOf(g);
  assert.notEqual(t.control, t.data);
  assert.equal(topicOf(g, 'data'), t.data);
  assert.ok(!t.control.includes(g) && !t.data.includes(g));
  assert.notEqual(topicsOf('bb'.repeat(16)).data, t.data);
  assert.match(t.data, /^\/conclave\/1\/data\/[0-9a-f]{40}$/);
});

test('the fast message ID (duplicates dropped before their signature is checked) is author and seqno', () => {
  const from = randomBytes(38);
  const seqno = randomBytes(8);
  const id = fastMessageId({ from, seqno });
  assert.equal(fastMessageId({ from: Uint8Array.from(from), seqno: Uint8Array.from(seqno) }), id, 'the same message from another mesh peer');
  assert.notEqual(fastMessageId({ from, seqno: randomBytes(8) }), id, 'the next message of the same author');
  assert.notEqual(fastMessageId({ from: randomBytes(38), seqno }), id, 'another author, same seqno');
  assert.notEqual(fastMessageId({ from: from.subarray(0, 37), seqno: Buffer.concat([from.subarray(37), seqno]) }), id, 'the boundary is part of the ID');
  assert.equal(fastMessageId({ seqno }), 'unsigned');
});

test('address kinds: relayed, LAN (private and loopback) and direct', () => {
  assert.equal(classifyAddress('/ip4/1.2.3.4/tcp/1/p2p/X/p2p-circuit/p2p/Y'), 'relayed');
  for (const a of ['/ip4/127.0.0.1/tcp/1', '/ip4/10.1.2.3/tcp/1', '/ip4/192.168.1.2/tcp/1', '/ip4/172.20.0.1/tcp/1', '/ip6/::1/tcp/1', '/ip6/fe80::1/tcp/1']) {
    assert.equal(classifyAddress(a), 'lan', a);
  }
  for (const a of ['/ip4/8.8.8.8/tcp/1', '/ip4/172.32.0.1/tcp/1', '/ip6/2001:db8::1/tcp/1']) assert.equal(classifyAddress(a), 'direct', a);
});

test('address kinds: link-local, unique local, IPv4-mapped private, localhost names and range edges', () => {
  for (const a of ['/ip4/169.254.3.3/tcp/1', '/ip6/fd12:3456::1/tcp/1', '/ip6/::ffff:10.0.0.1/tcp/1', '/dns4/localhost/tcp/1', '/ip4/192.168.1.2/tcp/1/ws', '/ip4/172.31.255.1/tcp/1']) {
    assert.equal(classifyAddress(a), 'lan', a);
  }
  for (const a of ['/ip4/172.15.0.1/tcp/1', '/ip4/100.64.0.1/tcp/1', '/dns4/example.com/tcp/1', 'not a multiaddr']) assert.equal(classifyAddress(a), 'direct', a);
});

test('unicast streams over real libp2p: frames arrive with the authenticated sender; oversize and extra frames are dropped', async () => {
  const a = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const b = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(a, b);
  const limits: StreamLimits = { maxFrameBytes: 1024, maxFrames: 2, timeoutMs: 5000 };
  const received: { from: string; sizes: number[] }[] = [];
  await serve(b, '/conclave/test/1.0.0', limits, (remote, frames) => {
    received.push({ from: remote.toString(), sizes: frames.map((f) => f.length) });
    return [new TextEncoder().encode(`got ${frames.length}`)];
  });
  await a.dial(multiaddr(b.getMultiaddrs()[0]!.toString()));
  const reply = await request(a, b.peerId, '/conclave/test/1.0.0', new Uint8Array(10), limits);
  assert.deepEqual(reply?.map((f) => new TextDecoder().decode(f)), ['got 1']);
  assert.deepEqual(received, [{ from: a.peerId.toString(), sizes: [10] }]);

  assert.equal(await sendFrames(a, b.peerId, '/conclave/test/1.0.0', [new Uint8Array(2048)], limits), true, 'the sender cannot tell');
  assert.equal(await sendFrames(a, b.peerId, '/conclave/test/1.0.0', [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)], limits), true);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received.length, 1, 'an oversize frame or too many frames never reach the handler');
  assert.equal(await request(a, b.peerId, '/conclave/unknown/1.0.0', new Uint8Array(1), limits), null, 'an unsupported protocol is null, not a throw');
});

test('many members behind one address (a NAT, a relay, one host) are not graylisted by gossipsub', async () => {
  const node = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(node);
  const gossip = node.services.pubsub as unknown as GossipSub;
  // gossipsub's default IP colocation penalty is -5 × (peers on one IP − 10)²: fifteen peers on one
  // address scored −125, below the graylist (−80), and every RPC of theirs was ignored.
  const ids = Array.from({ length: 49 }, (_, i) => `peer-${i}`);
  for (const id of ids) {
    gossip.score.addPeer(id);
    gossip.score.addIP(id, '127.0.0.1');
  }
  for (const id of ids) assert.ok(gossip.score.score(id) >= 0, `${id} scores ${gossip.score.score(id)}`);
});

test('a relayed address a peer gains after connecting reaches the peers already connected to it (identify-push)', async () => {
  const make = (relayServer = false) => createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, relayServer });
  const [relay, a, b] = await Promise.all([make(true), make(), make()]);
  nodes.push(relay, a, b);
  await a.dial(b.getMultiaddrs()[0]!);
  await a.dial(relay.getMultiaddrs()[0]!);
  await b.dial(relay.getMultiaddrs()[0]!);
  const learnt = new Promise<string[]>((resolve) => {
    a.addEventListener('peer:identify', (evt) => {
      const addrs = evt.detail.listenAddrs.map((x) => x.toString());
      if (evt.detail.peerId.equals(b.peerId) && addrs.some((x) => x.includes('/p2p-circuit'))) resolve(addrs);
    });
  });
  // b takes a reservation after a already identified it: before identify-push, a kept b's
  // pre-reservation addresses for good and served them to fellow members.
  await b.services.nat.transportManager.listen([multiaddr(`${relay.getMultiaddrs()[0]!.toString()}/p2p-circuit`)]);
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000).unref());
  const addrs = await Promise.race([learnt, timeout]);
  assert.ok(addrs, 'a never heard of the relayed address b gained');
  assert.ok(addrs.some((x) => x.startsWith(relay.getMultiaddrs()[0]!.toString())), 'the relayed address names the relay');
});
