// peer/reachability: which relay a relayed address goes through; a ping on one connection (probe).
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memberRelayAddress, probe, relayOf } from '../../app/peer/reachability.js';

const RELAY = '/ip4/198.51.100.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const PEER = '12D3KooWSfAfFFyHr98LoRmZ5GeYh6CpoPMC3CZKBJy6Vznc5ntM';

test('relayOf: the relay part of a relayed address, null for any other', () => {
  assert.equal(relayOf(`${RELAY}/p2p-circuit/p2p/${PEER}`), RELAY);
  assert.equal(relayOf(`${RELAY}/p2p-circuit`), RELAY);
  assert.equal(relayOf(`/ip4/198.51.100.11/tcp/1/p2p/${PEER}`), null);
  assert.equal(relayOf('/p2p-circuit/p2p/x'), null, 'no relay address before the circuit');
  assert.equal(relayOf('/ip4/198.51.100.2/tcp/4001/p2p-circuit'), null, 'a relay must be named by its peer ID');
});

test('memberRelayAddress: a peer serving the relay hop protocol on a public TCP address is a member relay', async () => {
  const { peerIdFromString } = await import('@libp2p/peer-id');
  const peerId = peerIdFromString(PEER);
  const hop = '/libp2p/circuit/relay/0.2.0/hop';
  const addrs = (...a: string[]) => a.map((s) => ({ toString: () => s }));
  assert.equal(memberRelayAddress({ peerId, protocols: [hop], listenAddrs: addrs('/ip4/192.168.1.2/tcp/4001', '/ip4/198.51.100.3/tcp/4001') }), `/ip4/198.51.100.3/tcp/4001/p2p/${PEER}`);
  assert.equal(memberRelayAddress({ peerId, protocols: [hop], listenAddrs: addrs(`/ip4/198.51.100.3/tcp/4001/p2p/${PEER}`) }), `/ip4/198.51.100.3/tcp/4001/p2p/${PEER}`);
  assert.equal(memberRelayAddress({ peerId, protocols: ['/ipfs/id/1.0.0'], listenAddrs: addrs('/ip4/198.51.100.3/tcp/4001') }), null, 'no hop protocol');
  assert.equal(memberRelayAddress({ peerId, protocols: [hop], listenAddrs: addrs('/ip4/192.168.1.2/tcp/4001', `${RELAY}/p2p-circuit`) }), null, 'behind a NAT: only private and relayed addresses');
});

test('probe: a ping on one connection is answered, or silent when the far side does not echo within the deadline', async () => {
  const { randomBytes } = await import('node:crypto');
  const { createConclaveNode } = await import('../../app/net/node.js');
  const a = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const b = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  try {
    const conn = await a.dial(b.getMultiaddrs()[0]!);
    assert.equal(await probe(conn, AbortSignal.timeout(5000)), 'answered');
    // The far side's host is stuck: the ping stream opens but nothing comes back.
    await b.unhandle('/ipfs/ping/1.0.0');
    await b.handle('/ipfs/ping/1.0.0', () => {}, { maxInboundStreams: 4 });
    assert.equal(await probe(conn, AbortSignal.timeout(500)), 'silent');
    await b.unhandle('/ipfs/ping/1.0.0');
    assert.equal(await probe(conn, AbortSignal.timeout(5000)), 'answered', 'a refusal of the protocol is an answer: the path is alive');
    await conn.close();
    assert.equal(await probe(conn, AbortSignal.timeout(500)), 'silent', 'a closed connection');
  } finally {
    await a.stop();
    await b.stop();
  }
});
