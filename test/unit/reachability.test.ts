// peer/reachability: which relay a relayed address goes through; a ping on one connection (probe).
import '../../app/net/shim.js';
import { test } from 'node:test';
import { RelayChoice } from '../../app/peer/relay-choice.js';
import assert from 'node:assert/strict';
import { memberRelayAddress, pingOnKeptStream, probe, relayOf, type KeptPings } from '../../app/peer/reachability.js';

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

/** Two libp2p nodes on loopback, the first dialled to the second. */
async function twoNodes() {
  const { randomBytes } = await import('node:crypto');
  const { createConclaveNode } = await import('../../app/net/node.js');
  const a = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const b = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  return { a, b, conn: await a.dial(b.getMultiaddrs()[0]!) };
}

test('probe: a ping on one connection is answered, or silent when the far side does not echo within the deadline', async () => {
  const { a, b, conn } = await twoNodes();
  try {
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

test('liveness pings reuse one stream per connection, open a fresh one when the far side closed it, and are silent when nothing echoes', async () => {
  const { a, b, conn } = await twoNodes();
  try {
    let opened = 0;
    const newStream = conn.newStream.bind(conn);
    conn.newStream = ((...args: Parameters<typeof newStream>) => {
      if (String(args[0]) === '/ipfs/ping/1.0.0') opened++; // identify and gossipsub open theirs too
      return newStream(...args);
    }) as typeof conn.newStream;
    const kept: KeptPings = new WeakMap();
    const before = Date.now();
    for (let i = 0; i < 5; i++) assert.equal(await pingOnKeptStream(conn, kept, AbortSignal.timeout(5000)), 'answered', `ping ${i + 1}`);
    assert.equal(opened, 1, 'five pings, one stream');
    const farSide = b.getConnections(a.peerId)[0]!; // registered there once the dial completed on both sides
    assert.ok((b.services.ping.answeredAt(farSide) ?? 0) >= before, 'the answering side remembers when it answered on that connection');
    assert.equal(a.services.ping.answeredAt(conn), undefined, 'the asking side answered nothing');
    // The answering side closes the stream between pings (it does after PING_STREAM_IDLE_MS idle):
    // the next ping is still answered, on a fresh stream, and is no strike against the path.
    for (const st of farSide.streams.filter((x) => x.protocol === '/ipfs/ping/1.0.0')) await st.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await pingOnKeptStream(conn, kept, AbortSignal.timeout(5000)), 'answered', 'after the far side closed the stream');
    assert.equal(opened, 2);
    // The far side's host is stuck: a fresh stream opens but nothing comes back.
    await b.unhandle('/ipfs/ping/1.0.0');
    await b.handle('/ipfs/ping/1.0.0', () => {}, { maxInboundStreams: 4 });
    for (const st of farSide.streams.filter((x) => x.protocol === '/ipfs/ping/1.0.0')) st.abort(new Error('test'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await pingOnKeptStream(conn, kept, AbortSignal.timeout(500)), 'silent');
    await conn.close();
    assert.equal(await pingOnKeptStream(conn, kept, AbortSignal.timeout(500)), 'silent', 'a closed connection');
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('the ping answerer echoes at most five pings a stream in ten seconds and then aborts the stream', async () => {
  const { byteStream } = await import('it-byte-stream');
  const { a, b, conn } = await twoNodes();
  try {
    const stream = await conn.newStream('/ipfs/ping/1.0.0');
    const bytes = byteStream(stream);
    let echoed = 0;
    try {
      for (let i = 0; i < 8; i++) {
        const ping = Uint8Array.from({ length: 32 }, (_, j) => (i * 32 + j) % 256);
        await bytes.write(ping, { signal: AbortSignal.timeout(2000) });
        const echo = await bytes.read({ bytes: 32, signal: AbortSignal.timeout(2000) });
        assert.deepEqual(Uint8Array.from(echo.subarray()), ping);
        echoed++;
      }
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err; // else the answerer aborted the stream
    }
    assert.equal(echoed, 5, 'five echoes, then the stream is gone');
    assert.ok(b.services.ping.answeredAt(b.getConnections(a.peerId)[0]!) !== undefined);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('relay choice: a refusing relay is backed off and does not shadow the relays after it', () => {
  const choice = new RelayChoice({ max: 3, retryMs: 1000, maxBackoffMs: 8000, evictAfter: 4 });
  for (const r of ['/r/dead1', '/r/dead2', '/r/good']) assert.ok(choice.learn(r));
  assert.equal(choice.learn('/r/fourth'), false, 'the list is full');
  assert.deepEqual(choice.pick(0, [], 2), ['/r/dead1', '/r/dead2']);
  choice.failed('/r/dead1', 0);
  choice.failed('/r/dead2', 0);
  assert.deepEqual(choice.pick(10, [], 2), ['/r/good'], 'the third relay is asked while the first two wait');
  assert.deepEqual(choice.pick(10, ['/r/good'], 1), [], 'nothing else to ask during the back-off');
  assert.deepEqual(choice.pick(1000, ['/r/good'], 1), ['/r/dead1'], 'asked again once the back-off is over');
  // Back-off doubles per failure in a row: 1, 2, 4 s; capped at maxBackoffMs.
  choice.failed('/r/dead1', 1000);
  assert.deepEqual(choice.pick(2999, ['/r/good'], 2), ['/r/dead2']);
  assert.deepEqual(choice.pick(3000, ['/r/good'], 2), ['/r/dead1', '/r/dead2']);
  choice.succeeded('/r/dead2');
  choice.failed('/r/dead2', 3000);
  assert.deepEqual(choice.pick(4000, ['/r/good'], 2), ['/r/dead1', '/r/dead2'], 'a success cleared its run of failures');
});

test('relay choice: a relay that keeps failing is forgotten to make room; a bootstrap relay is only backed off', () => {
  const choice = new RelayChoice({ max: 2, retryMs: 1000, maxBackoffMs: 4000, evictAfter: 3 });
  choice.learn('/r/bootstrap', true);
  choice.learn('/r/stale-invite');
  for (let i = 0; i < 3; i++) {
    choice.failed('/r/bootstrap', i * 10_000);
    choice.failed('/r/stale-invite', i * 10_000);
  }
  assert.ok(choice.learn('/r/new'), 'room for a relay learnt later');
  // Review 7: forgotten when the place is needed (above), not before (review7-relays.test.ts).
  assert.deepEqual(choice.all(), ['/r/bootstrap', '/r/new'], 'the stale relay is forgotten, the pinned one kept');
  assert.deepEqual(choice.pick(20_000, [], 2), ['/r/new'], 'the bootstrap relay is still backed off (capped at 4 s after its third failure)');
  assert.deepEqual(choice.pick(24_000, [], 2), ['/r/bootstrap', '/r/new']);
  choice.failed('/r/unknown', 0); // a relay never learnt: nothing to do
  assert.equal(choice.size, 2);
});
