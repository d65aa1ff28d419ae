// Review 29 (outsiders, red team): a connected stranger sends gossipsub RPCs that only subscribe
// to made-up topics. gossipsub keeps an entry per topic name it ever heard, for good (a peer's
// leaving only empties its sets): 40 RPCs of 10,000 left 400,000 entries and 104 MiB after the
// stranger disconnected. Secure (net/node.ts boundForeignSubscriptions, installed by the
// transport with our groups' topics): a peer keeps at most FOREIGN_TOPICS_PER_PEER subscriptions
// to topics that are not ours, and a topic that is not ours goes once nobody is left in it.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newNode, until } from './review8-fixtures.js';
import { boundForeignSubscriptions, FOREIGN_TOPICS_PER_PEER } from '../../../app/net/node.js';

test('review29: a stranger\'s subscriptions to made-up topics stay bounded, and go with it', { timeout: 120_000 }, async (t) => {
  const member = await newNode();
  const ours = '/conclave/1/data/ours';
  member.services.pubsub.subscribe(ours);
  t.after(boundForeignSubscriptions(member, (topic) => topic === ours));
  const stranger = await newNode();
  await stranger.dial(member.getMultiaddrs()[0]!);
  const table = (member.services.pubsub as unknown as { topics: Map<string, Set<string>> }).topics;
  const gossip = stranger.services.pubsub as unknown as { sendRpc(id: string, rpc: unknown): boolean; streamsOutbound: Map<string, unknown> };
  await until(() => gossip.streamsOutbound.has(member.peerId.toString()), 10_000, 'a gossipsub stream');
  const rpcs = 10;
  const per = 500;
  for (let i = 0; i < rpcs; i++) {
    gossip.sendRpc(member.peerId.toString(), { subscriptions: Array.from({ length: per }, () => ({ subscribe: true, topic: randomBytes(30).toString('hex') })), messages: [] });
    await new Promise((r) => setTimeout(r, 50));
  }
  // The last RPC processed: its last topic is either kept or dropped, never more than the bound.
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(table.size <= 1 + FOREIGN_TOPICS_PER_PEER, `${table.size} topics known after ${rpcs * per} made-up subscriptions`);
  for (const c of stranger.getConnections()) await c.close();
  await until(() => member.getConnections(stranger.peerId).length === 0, 10_000, 'the stranger gone');
  await until(() => [...table.keys()].every((topic) => topic === ours), 10_000, `the stranger's topics gone (${table.size} left)`);
});
