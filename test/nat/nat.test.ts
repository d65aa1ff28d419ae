/**
 * Issue 16 "done when", in the NAT testbed (test/nat/testbed.ts): every peer
 * behind its own NAT router, `conclave relay` on the "internet".
 * - A (home 1) reserves a relay slot from its bootstrap list and invites; B
 *   (home 2) joins through the relayed address in the invite, and reserves on
 *   the relay it learnt from the invite (no relay typed for B).
 * - More than 128 KiB crosses the relayed path intact (the routers drop
 *   each other's packets meanwhile, so the relay is the only path).
 * - The A–B connection becomes direct within 30 s of the join; witness: a 60 KB
 *   message reaches router 1 from router 2's public address, not the relay's.
 * - B moves to a third NAT with the same process and within 10 s reads and is
 *   read again, with the TEK version unchanged and a relay reservation in place.
 * Skipped when namespaces cannot be built (not root, no iproute2/iptables).
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, spawnConclave, until, type startTestPeer, type TestPeer } from '../integration/harness.js';
import { has, peerIn, tekVersion, type NetInfo } from './peers.js';
import { canBuildTestbed, NatTestbed, RELAY_IP } from './testbed.js';

const bed = new NatTestbed();

after(async () => {
  await cleanup();
  bed.teardown();
});

async function natPeer(name: string, home: number, extra: Partial<Parameters<typeof startTestPeer>[0]>, args: string[] = []): Promise<TestPeer> {
  return peerIn(bed, bed.home(home), name, extra, args);
}

test('NAT testbed: join through the relay, go direct, roam to a third NAT', { timeout: 240_000 }, async (t) => {
  if (!canBuildTestbed()) {
    t.skip('needs root, iproute2 and iptables to build network namespaces');
    return;
  }
  bed.build(3, 2);
  assert.ok(!bed.ping(1, '192.168.2.2'), 'home 1 cannot reach home 2 directly (NAT, no port forwards)');
  assert.ok(bed.ping(1, RELAY_IP), 'home 1 reaches the internet');

  const relay = spawnConclave(['relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], ['ip', 'netns', 'exec', bed.internet], true);
  const relayReady = await until('relay ready', () => relay.lines.find((l) => l.event === 'ready'), 30_000);
  const relayAddr = (relayReady.addresses as string[]).find((a) => a.includes(RELAY_IP))!;

  const alice = await natPeer('alice', 1, {}, ['--relay', relayAddr]);
  await until('alice to hold a relay reservation', async () => (await alice.api.call<NetInfo>('net.info')).addresses.some((a) => a.includes('/p2p-circuit')), 30_000);
  const { group, invite } = await alice.api.call<{ group: string; invite: string }>('group.create', { name: 'over the internet' });

  // Until the relayed path has carried its bulk, no direct path is possible.
  bed.separate(1, 2, true);
  const joinStart = Date.now();
  const bob = await natPeer('bob', 2, { join: invite });
  await until('bob to become a member', async () => (await bob.api.call<{ group: string; state: string }[]>('group.list')).some((g) => g.group === group && g.state === 'member'), 60_000);
  await alice.api.call('chat.send', { group, text: 'hello bob' });
  await bob.api.call('chat.send', { group, text: 'hello alice' });
  await until('bob reads alice', () => has(bob, group, 'hello bob'), 20_000);
  await until('alice reads bob', () => has(alice, group, 'hello alice'), 20_000);
  const joinMs = Date.now() - joinStart;
  const bobInfo = await bob.api.call<NetInfo>('net.info');
  const viaRelay = bobInfo.connections.some((c) => c.peerId === alice.peerId && c.kind === 'relayed');

  // > 128 KiB while the path is (still) relayed.
  const relayBytesBefore = bed.counters(1).relay ?? 0;
  const chunk = 'r'.repeat(8000);
  const bulk: string[] = [];
  for (let i = 0; i < 20; i++) {
    const text = `bulk ${i} ${chunk}`;
    bulk.push(text);
    await bob.api.call('chat.send', { group, text });
  }
  await until('alice reads the bulk intact', async () => {
    const h = await alice.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 });
    return bulk.every((b) => h.some((m) => m.text === b));
  }, 60_000);
  const relayBytes = (bed.counters(1).relay ?? 0) - relayBytesBefore;
  t.diagnostic(`join+first reads ${joinMs} ms; relayed at join: ${viaRelay}; relay → router 1 during the bulk: ${relayBytes} bytes`);
  assert.ok(viaRelay, 'bob reached alice through the relay');
  assert.ok(bob.spawned.lines.some((l) => l.event === 'join-path' && l.path === 'relayed'), 'bob\'s join progress said: through a relay');
  assert.ok(relayBytes > 128 * 1024, `more than 128 KiB came through the relay (${relayBytes})`);

  // Direct within 30 s of the join, once a direct path is possible.
  bed.separate(1, 2, false);
  const opened = Date.now();
  const direct = await until('a direct A–B connection', async () => {
    const info = await bob.api.call<NetInfo>('net.info');
    return info.connections.find((c) => c.peerId === alice.peerId && c.kind === 'direct');
  }, Math.max(1000, 30_000 - (Date.now() - joinStart)), 500);
  t.diagnostic(`direct ${Date.now() - joinStart} ms after the join started, ${Date.now() - opened} ms after a direct path became possible, via ${direct.address}`);
  const before = bed.counters(1);
  const directTexts = [0, 1, 2, 3, 4].map((i) => `direct ${i} ${'d'.repeat(12_000)}`);
  for (const text of directTexts) await bob.api.call('chat.send', { group, text });
  for (const text of directTexts) await until('alice reads the direct messages', () => has(alice, group, text), 20_000);
  const afterDirect = bed.counters(1);
  const fromRouter2 = (afterDirect.router2 ?? 0) - (before.router2 ?? 0);
  const fromRelay = (afterDirect.relay ?? 0) - (before.relay ?? 0);
  t.diagnostic(`60 KB of messages: router 1 forwarded ${fromRouter2} bytes from router 2, ${fromRelay} from the relay`);
  assert.ok(fromRouter2 > 60_000, 'the messages came straight from router 2');
  assert.ok(fromRelay < 30_000, 'not through the relay');

  // Roaming: bob moves to NAT 3 with the same process.
  const tek = await tekVersion(bob, group);
  bed.move(2, 3);
  const moved = Date.now();
  await until('bob reads and is read again after moving', async () => {
    const stamp = `after move ${Math.floor((Date.now() - moved) / 1000)}`;
    await bob.api.call('chat.send', { group, text: `bob ${stamp}` });
    await alice.api.call('chat.send', { group, text: `alice ${stamp}` });
    const [a, b] = await Promise.all([
      alice.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 }),
      bob.api.call<{ text: string }[]>('chat.history', { group, limit: 10000 }),
    ]);
    return a.some((m) => m.text.startsWith('bob after move')) && b.some((m) => m.text.startsWith('alice after move'));
  }, 10_000, 1000);
  const roamMs = Date.now() - moved;
  t.diagnostic(`roaming: reads both ways again after ${roamMs} ms`);
  assert.equal(await tekVersion(bob, group), tek, 'TEK version unchanged');
  assert.equal(await tekVersion(alice, group), tek, 'TEK version unchanged at alice');
  await until('bob holds a relay reservation again', async () => (await bob.api.call<NetInfo>('net.info')).addresses.some((a) => a.includes('/p2p-circuit')), 10_000);
});
