/**
 * The topic validator over real libp2p: a stranger that publishes garbage on a
 * group's topics changes nothing in the peer, reaches no client, and sinks in
 * the peer's gossipsub score (Reject → P4 penalty on group topics).
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import { startPeer } from '../../app/peer/peer.js';
import { createConclaveNode } from '../../app/net/node.js';
import { topicsOf } from '../../app/net/topics.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until<T>(what: string, fn: () => T | undefined | false | null, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('garbage on a group topic is rejected, reaches no client and lowers the sender score', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-validator-'));
  const peer = await startPeer({ profile: dir, name: 'target', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(async () => {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const events: string[] = [];
  peer.api.subscribe((e) => events.push(e));
  const { group } = (await peer.api.call('group.create', { name: 'target group' })) as { group: string };
  const tekOf = async () => {
    const { tek } = (await peer.api.call('keys.table', { group })) as { tek: { version: number; revision: number; fingerprint: string } };
    return `${tek.version}/${tek.revision}/${tek.fingerprint}`;
  };
  const tableBefore = await tekOf();

  const rogue = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(() => rogue.stop());
  const topics = topicsOf(group);
  rogue.services.pubsub.subscribe(topics.data);
  rogue.services.pubsub.subscribe(topics.control);
  await rogue.dial(multiaddr(peer.addresses()[0]!));
  await until('the rogue to see the peer on the topic', () => rogue.services.pubsub.getSubscribers(topics.data).some((p) => p.equals(peer.node.peerId)));

  for (let i = 0; i < 5; i++) {
    await rogue.services.pubsub.publish(i % 2 ? topics.control : topics.data, randomBytes(64 + i));
  }
  const gossip = peer.node.services.pubsub as unknown as GossipSub;
  await until('the rogue to be scored down', () => gossip.getScore(rogue.peerId.toString()) < 0);
  assert.ok(gossip.getScore(rogue.peerId.toString()) < -80, 'below the graylist threshold after five garbage messages');

  assert.equal(await tekOf(), tableBefore, 'key state unchanged');
  assert.ok(!events.includes('chat.message') && !events.includes('chat.undecryptable'), 'nothing reached clients');
  const status = (await peer.api.call('status', {})) as { groups: number };
  assert.equal(status.groups, 1);
});
