/**
 * Membership at the network layer (issue 15 §1), over real libp2p: a stranger
 * that knows a group's ID publishes well-formed, signed control messages the
 * authorization table (docs/protocol.md §12) forbids from a non-member, data
 * under keys it does not hold, and frames on the group stream. The peer drops
 * them before its engine, answers gossipsub Reject (the stranger's score sinks,
 * nothing is relayed), names the stranger in the key panel's rejection log, and
 * after repeated offences blocks it at the peer layer (shown by `net.info`).
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
import { GROUP_LIMITS, PROTOCOL_GROUP, sendFrames } from '../../app/net/unicast.js';
import { hexToBytes } from '../../app/net/ids.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { Attacker } from '../../app/sim/adversary.js';
import { SeededRandom } from '../../app/sim/random.js';
import { MsgType, WIRE_VERSION } from '../../app/core/wire.js';
import { TEK_SLOT } from '../../app/core/params.js';
import type { KeysTable } from '../../app/api/contract.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until<T>(what: string, fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a non-member is dropped before the engine, rejected by gossipsub, logged, and blocked after repeated offences', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-membership-'));
  const peer = await startPeer({ profile: dir, name: 'target', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(async () => {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { group } = (await peer.api.call('group.create', { name: 'target group' })) as { group: string };
  const table = async () => (await peer.api.call('keys.table', { group })) as KeysTable;
  const before = (await table()).tek!;

  const seed = randomBytes(32);
  const rogue = await createConclaveNode({ seed, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(() => rogue.stop());
  const attacker = new Attacker(nobleCrypto, hexToBytes(group), seed, new SeededRandom('membership'));
  const topics = topicsOf(group);
  rogue.services.pubsub.subscribe(topics.data);
  rogue.services.pubsub.subscribe(topics.control);
  await rogue.dial(multiaddr(peer.addresses()[0]!));
  await until('the rogue to see the peer on the topic', () => rogue.services.pubsub.getSubscribers(topics.control).some((p) => p.equals(peer.node.peerId)));

  // Well-formed, signed, and forbidden from a non-member (rows R1, M1, L1, T1).
  const tekInfo = { slot: TEK_SLOT, version: before.version, revision: before.revision + 3, creators: before.creators };
  const forged = [
    attacker.revision([tekInfo]),
    attacker.memberAdmitted([{ key: attacker.key, name: 'sybil', admittedAt: Date.now() }]),
    attacker.encode({ type: MsgType.Leave, sentAt: Date.now(), signature: new Uint8Array(64) }),
  ];
  for (const bytes of forged) await rogue.services.pubsub.publish(topics.control, bytes);

  const gossip = peer.node.services.pubsub as unknown as GossipSub;
  await until('the rogue to be scored down for forbidden messages', () => gossip.getScore(rogue.peerId.toString()) < 0);
  const rejections = await until('the rejection log to name the rogue', async () => {
    const list = (await table()).rejections.filter((r) => r.from === attacker.key);
    return list.length > 0 && list;
  });
  // M2 (roster catch-up, docs/protocol.md §12 row M3): a stranger's SealedControl now reaches the
  // engine, which tries to open it (under our current TEK it would be a member we missed); one
  // that does not open is then refused at the network layer, an offence as before.
  assert.ok(
    rejections.every((r) => r.detail.startsWith('network:') || r.reason === 'unopenable-control'),
    `non-member control messages are refused at the network layer: ${rejections.map((r) => r.detail).join('; ')}`,
  );

  // The group stream from a non-member serves only JoinRequest and KeyRequest (row A7).
  const frame = (bytes: Uint8Array) => {
    const out = new Uint8Array(16 + bytes.length);
    out.set(hexToBytes(group), 0);
    out.set(bytes, 16);
    return out;
  };
  await sendFrames(rogue, peer.node.peerId, PROTOCOL_GROUP, [frame(attacker.nestedFetchReply(1))], GROUP_LIMITS);
  await until('the unicast FetchReply to be dropped at the network layer', async () =>
    (await table()).rejections.some((r) => r.from === attacker.key && r.detail.startsWith('network:') && r.detail.includes('FetchReply')),
  );

  // Repeated offences: the rogue is blocked at the peer layer and disconnected.
  for (let i = 0; i < 12; i++) await rogue.services.pubsub.publish(topics.control, attacker.encode({ type: MsgType.Leave, sentAt: Date.now() + i, signature: new Uint8Array(64) }));
  const info = await until('the rogue to be listed as blocked', async () => {
    const r = (await peer.api.call('net.info', {})) as { blocked: { peerId: string; until: number; reason: string }[] };
    return r.blocked.some((b) => b.peerId === rogue.peerId.toString()) && r;
  });
  assert.ok(info.blocked[0]!.until > Date.now(), 'blocked for a while');
  await until('the rogue to be disconnected', () => peer.node.getConnections(rogue.peerId).length === 0);
  await rogue.dial(multiaddr(peer.addresses()[0]!)).catch(() => null);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(peer.node.getConnections(rogue.peerId).length, 0, 'a blocked peer cannot reconnect');

  assert.equal((await table()).tek!.fingerprint, before.fingerprint, 'key state unchanged');
});

test('a peer blocked while a stranger is heard again once admitted by another member (it spoke before we knew)', async () => {
  const start = async (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `conclave-membership-${name}-`));
    const p = await startPeer({ profile: dir, name, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    cleanups.push(async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    return p;
  };
  const alice = await start('alice');
  const carol = await start('carol');
  const bob = await start('bob');
  const { group } = (await alice.api.call('group.create', { name: 'g' })) as { group: string };
  const member = async (p: typeof alice) => ((await p.api.call('group.list', {})) as { group: string; state: string }[]).some((g) => g.group === group && g.state === 'member');
  const { invite: forCarol } = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await carol.api.call('group.join', { invite: forCarol });
  await until('carol to be a member', () => member(carol));

  // Bob, still a stranger to alice, sends her what the table forbids from a non-member
  // (as a newcomer does when it speaks before its admission has reached her): she blocks him.
  await bob.node.dial(multiaddr(alice.addresses()[0]!));
  const topics = topicsOf(group);
  await until('bob to see alice on the topic', () => bob.node.services.pubsub.getSubscribers(topics.control).some((p) => p.equals(alice.node.peerId)));
  for (let i = 0; i < 12; i++) await bob.node.services.pubsub.publish(topics.control, Uint8Array.of(0x43, WIRE_VERSION, MsgType.Leave, i));
  await until('alice to block bob', async () => ((await alice.api.call('net.info', {})) as { blocked: { peerId: string }[] }).blocked.some((b) => b.peerId === bob.peerId));

  // Carol admits bob. Once alice knows he is a member, she keeps a connection to him again.
  const { invite: forBob } = (await carol.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await bob.api.call('group.join', { invite: forBob });
  await until('bob to be a member', () => member(bob));
  await until('alice to list bob as a member', async () => ((await alice.api.call('group.members', { group })) as { peerId: string; state: string }[]).some((m) => m.peerId === bob.peerId && m.state === 'member'));
  await until('alice and bob to stay connected', async () => {
    if (alice.node.getConnections(bob.node.peerId).length === 0) return false;
    await new Promise((r) => setTimeout(r, 1500));
    return alice.node.getConnections(bob.node.peerId).length > 0;
  }, 30_000);
});
