// Review 29 (outsiders, red team): a subscriber that stops reading. An outsider subscribes to a
// group's data topic (its name is a hash of the group ID) and stops reading its socket; flood
// publishing sends every message to every subscriber, and gossipsub's outbound buffer was
// unbounded, so the member kept every message it published after the stall in memory (96 MiB of
// 100 MB published, for one stalled identity; 20 of them took a full peer from 160 to 308 MiB).
// Secure: each peer's outbound buffer holds at most OUTBOUND_BUFFER_MESSAGES largest messages
// (net/node.ts); over it that peer's sends are dropped, and it catches up later like any member
// that was away.
import '../../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { newNode, until } from './review8-fixtures.js';
import { topicsOf } from '../../../app/net/topics.js';
import { MAX_PUBSUB_MESSAGE_BYTES, OUTBOUND_BUFFER_MESSAGES } from '../../../app/net/node.js';


test('review29: a subscriber that stops reading holds a bounded part of what the member publishes', { timeout: 120_000 }, async () => {
  const member = await newNode();
  const stalled = await newNode();
  const topic = topicsOf('0123456789abcdef0123456789abcdef').data;
  member.services.pubsub.subscribe(topic);
  const port = Number(member.getMultiaddrs()[0]!.toString().split('/tcp/')[1]!.split('/')[0]);
  // The stalled subscriber's TCP path to the member goes through a pipe it can stop reading.
  let upstream: Socket | null = null;
  const proxy = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    upstream = up;
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => {});
    up.on('error', () => {});
  });
  after(() => proxy.close());
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const proxyPort = (proxy.address() as { port: number }).port;
  await stalled.dial(multiaddr(`/ip4/127.0.0.1/tcp/${proxyPort}/p2p/${member.peerId.toString()}`));
  stalled.services.pubsub.subscribe(topic);
  await until(() => member.services.pubsub.getSubscribers(topic).some((p) => p.equals(stalled.peerId)), 10_000, 'the member sees the subscription');
  upstream!.unpipe();
  upstream!.pause();

  const gossip = member.services.pubsub as unknown as { streamsOutbound: Map<string, { pushable: { readableLength: number } }> };
  const buffered = () => gossip.streamsOutbound.get(stalled.peerId.toString())?.pushable.readableLength ?? 0;
  const payload = new Uint8Array(1000 * 1024).fill(7);
  let most = 0;
  for (let i = 0; i < 40; i++) {
    payload[0] = i;
    await member.services.pubsub.publish(topic, payload.slice()).catch(() => undefined);
    most = Math.max(most, buffered());
    await new Promise((r) => setTimeout(r, 10));
  }
  const bound = (OUTBOUND_BUFFER_MESSAGES + 1) * (MAX_PUBSUB_MESSAGE_BYTES + 64 * 1024);
  assert.ok(most <= bound, `${(most / 2 ** 20).toFixed(1)} MiB held for the stalled subscriber (bound ${(bound / 2 ** 20).toFixed(1)} MiB)`);
  for (const c of member.getConnections(stalled.peerId)) c.abort(new Error('done'));
});

// The decode limits must not drop an honest hello: a peer in 300 groups lists 600 topics in one RPC
// (review 29's second pass: a limit of 512 subscriptions hid such a peer from every other).
test('review29: a peer in many groups is still heard subscribing to the one it shares', { timeout: 60_000 }, async () => {
  const busy = await newNode();
  const peer = await newNode();
  const shared = '/conclave/1/data/shared';
  for (let i = 0; i < 300; i++) {
    busy.services.pubsub.subscribe(`/conclave/1/control/g${i}`);
    busy.services.pubsub.subscribe(`/conclave/1/data/g${i}`);
  }
  busy.services.pubsub.subscribe(shared);
  peer.services.pubsub.subscribe(shared);
  await peer.dial(busy.getMultiaddrs()[0]!);
  await until(() => peer.services.pubsub.getSubscribers(shared).some((p) => p.equals(busy.peerId)), 10_000, 'the busy peer seen on the shared topic');
});
