/**
 * A hostile real peer (issue 15 §8; STYLE §15 "a hostile twin"): four honest
 * headless peers (real processes, real libp2p on loopback) chat in a group; a
 * hostile libp2p node in this process, built with createConclaveNode and the
 * simulator's crafting kit (app/sim/adversary.ts), knows the group ID from an old
 * invite. It subscribes to the group's topics, captures what it hears, publishes
 * forged heartbeats, a forged table and forged chat (under no key, and under a
 * real TEK version's tag at a revision too old to open), republishes and replays
 * captured messages, sends unsolicited KeyGrant/FetchReply/Admit frames and
 * garbage on every protocol, serves a forged catch-up in a member's name and asks
 * for the group's catch-up. A passive observer subscribed to the topics and
 * connected only to honest peers shows what they relay.
 *
 * Then: the honest peers keep chatting both ways; none changes its TEK or lists a
 * key of the hostile's; none shows its messages; the observer never receives one
 * of its messages (nobody relayed them); every honest peer's key panel names it in
 * its rejection log.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import type { GossipSub } from '@chainsafe/libp2p-gossipsub';
import type { Message } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';
import { cleanup, history, startTestPeer, until, waitMember, type TestPeer } from './harness.js';
import { createConclaveNode, type ConclaveLibp2p } from '../../app/net/node.js';
import { topicsOf } from '../../app/net/topics.js';
import { CATCHUP_RESPONSE_LIMITS, GROUP_LIMITS, PEERS_LIMITS, PROTOCOL_CATCHUP, PROTOCOL_GROUP, PROTOCOL_PEERS, request, sendFrames } from '../../app/net/unicast.js';
import { bytesToHex, hexToBytes, peerOfMemberKey } from '../../app/net/ids.js';
import { parseInvite } from '../../app/peer/invite.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { Attacker } from '../../app/sim/adversary.js';
import { SeededRandom } from '../../app/sim/random.js';
import { MsgType } from '../../app/core/wire.js';
import { TEK_SLOT, participantId } from '../../app/core/params.js';
import { creatorsTag } from '../../app/core/keys.js';
import type { KeysTable } from '../../app/api/contract.js';

const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const s of stops) await s().catch(() => {});
  await cleanup();
});

const keysOf = (p: TestPeer, group: string) => p.api.call<KeysTable>('keys.table', { group });
const tekOf = async (p: TestPeer, group: string) => {
  const t = (await keysOf(p, group)).tek!;
  return `${t.version}/${t.creators.join(',')}/${t.fingerprint}`;
};
const quietly = <T>(p: Promise<T>) => p.catch(() => null);

async function sees(p: TestPeer, group: string, text: string): Promise<void> {
  await until(`${p.name} to see "${text}"`, async () => (await history(p, group)).some((m) => m.text === text), 30_000);
}

test('a hostile peer that knows the group ID changes nothing, shows nothing, and is relayed by nobody', { timeout: 240_000 }, async () => {
  // ── four honest peers ─────────────────────────────────────────────────────
  const alice = await startTestPeer({ name: 'alice', create: 'hostile' });
  const group = alice.group!;
  const invites = await Promise.all([1, 2, 3].map(() => alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
  const others = await Promise.all(['bob', 'carol', 'dave'].map((name, i) => startTestPeer({ name, join: invites[i]!.invite })));
  const honest = [alice, ...others];
  for (const p of honest) await waitMember(p, group);
  for (const p of honest) await until(`${p.name} to know 4 members`, async () => (await p.api.call<{ state: string }[]>('group.members', { group })).filter((m) => m.state === 'member').length === 4, 30_000);
  await alice.api.call('chat.send', { group, text: 'before the attack' });
  for (const p of honest) await sees(p, group, 'before the attack');
  const tekBefore = await Promise.all(honest.map((p) => tekOf(p, group)));
  const table = await keysOf(alice, group);
  const tek = table.tek!;
  const memberKeys = Object.keys(table.peerIds).filter((k) => k !== table.self).concat(table.self);

  // ── the hostile node and a passive observer ───────────────────────────────
  const old = parseInvite(invites[0]!.invite, Date.now()); // "an old invite": the group ID is all it needs
  assert.equal(old.group, group);
  const topics = topicsOf(group);
  const seed = randomBytes(32);
  const hostile = await createConclaveNode({ seed, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const observer = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  stops.push(async () => hostile.stop(), async () => observer.stop());
  const attacker = new Attacker(nobleCrypto, hexToBytes(group), seed, new SeededRandom('hostile'));
  const hostileId = hostile.peerId.toString();
  const captured: Message[] = [];
  hostile.services.pubsub.addEventListener('message', (e) => captured.push(e.detail));
  const relayed: Message[] = [];
  observer.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.type === 'signed' && e.detail.from.equals(hostile.peerId)) relayed.push(e.detail);
  });
  // A forged catch-up in a member's name, for anyone who asks the hostile.
  await hostile.handle(PROTOCOL_CATCHUP, ({ stream }) => {
    const frame = new Uint8Array(32 + 64);
    frame.set(hexToBytes(table.self), 0);
    frame.set(attacker.data(participantId(nobleCrypto, hexToBytes(attacker.key), table.W, table.V), tek.version, Date.now()), 32);
    void stream.sink(lp.encode([frame])).catch(() => {});
  });
  const addressOf = async (p: TestPeer) => (await p.api.call<{ addresses: string[] }>('net.info')).addresses[0]!;
  for (const p of honest) await hostile.dial(multiaddr(await addressOf(p)));
  for (const p of [others[0]!, others[1]!]) await observer.dial(multiaddr(await addressOf(p)));
  for (const node of [hostile, observer]) {
    node.services.pubsub.subscribe(topics.control);
    node.services.pubsub.subscribe(topics.data);
  }
  await until('the hostile to see the honest peers on the topics', () => honest.every((p) => hostile.services.pubsub.getSubscribers(topics.control).some((s) => s.toString() === p.peerId)), 20_000);
  await until('the observer to be in the honest mesh', () => (observer.services.pubsub as unknown as GossipSub).getMeshPeers(topics.data).length > 0, 20_000);
  // Chat until the hostile has overheard some: a fresh subscriber may miss the first
  // publication while the honest peers' gossipsub still learns its subscription.
  let overheard = 0;
  await until(
    'the hostile to capture group traffic',
    async () => {
      if (!captured.some((m) => m.topic === topics.data)) await alice.api.call('chat.send', { group, text: `overheard ${overheard++}` });
      return captured.some((m) => m.topic === topics.data) && captured.some((m) => m.topic === topics.control);
    },
    30_000,
    1000,
  );

  // ── the attack ────────────────────────────────────────────────────────────
  const now = Date.now();
  const pid = participantId(nobleCrypto, hexToBytes(attacker.key), table.W, table.V);
  const publish = (topic: string, bytes: Uint8Array) => quietly(hostile.services.pubsub.publish(topic, bytes));
  const fakeTek = { slot: TEK_SLOT, version: tek.version + 1, revision: 0, creators: [attacker.key] };
  // Forged heartbeats: a newer TEK of its own, and the real TEK far ahead.
  await publish(topics.control, attacker.heartbeat(now, [fakeTek], 1, 5));
  await publish(topics.control, attacker.heartbeat(now + 1, [{ slot: TEK_SLOT, version: tek.version, revision: tek.revision + 50, creators: tek.creators }]));
  // A forged refresh table, signed by the hostile, TEK' sealed for every member.
  await publish(topics.control, attacker.table({ kind: 'refresh', targets: [], base: { version: tek.version, creators: tek.creators }, blocklist: [], recipients: memberKeys, createdAt: now, signature: 'valid' }));
  // A forged exclusion of alice, and a forged admission of a sybil.
  await publish(topics.control, attacker.table({ kind: 'exclude', targets: [table.self], base: { version: tek.version, creators: tek.creators }, blocklist: [], recipients: memberKeys, createdAt: now, signature: 'valid' }));
  await publish(topics.control, attacker.memberAdmitted([{ key: bytesToHex(randomBytes(32)), name: 'sybil', admittedAt: now }]));
  // Forged chat: under no key, and under the real TEK's tag at a revision too old to open.
  await publish(topics.data, attacker.data(pid, tek.version, now));
  await publish(
    topics.data,
    attacker.encode({ type: MsgType.Data, senderId: Uint8Array.from(pid), tekVersion: tek.version, tekTag: creatorsTag(nobleCrypto, tek.creators), revision: 0, sentAt: now, nonce: randomBytes(24), ciphertext: randomBytes(48) }),
  );
  // Captured messages: republished under its own name, and replayed verbatim (signed by their authors).
  for (const m of captured.slice(0, 6)) await publish(m.topic, m.data);
  // gossipsub's sendRpc is private: the replay goes around the publishing API, as an attacker's own code would.
  const gossip = hostile.services.pubsub as unknown as { sendRpc(id: string, rpc: unknown): boolean };
  for (const m of captured.filter((c) => c.type === 'signed').slice(0, 6)) {
    if (m.type !== 'signed') continue;
    const seqno = new Uint8Array(8);
    new DataView(seqno.buffer).setBigUint64(0, m.sequenceNumber);
    const raw = { from: m.from.toMultihash().bytes, data: m.data, seqno, topic: m.topic, signature: m.signature };
    for (const p of honest) gossip.sendRpc(p.peerId, { subscriptions: [], messages: [raw] });
  }
  // Unsolicited key replies, an Admit into a group of its own, garbage: on every protocol, to every peer.
  const unicast = (to: ConclaveLibp2p['peerId'], bytes: Uint8Array) => {
    const frame = new Uint8Array(16 + bytes.length);
    frame.set(hexToBytes(group), 0);
    frame.set(bytes, 16);
    return quietly(sendFrames(hostile, to, PROTOCOL_GROUP, [frame], GROUP_LIMITS));
  };
  for (const p of honest) {
    const to = peerOfMemberKey(Object.entries(table.peerIds).find(([, id]) => id === p.peerId)![0])!;
    const victim = bytesToHex(to.publicKey!.raw);
    const key = attacker.newKey(TEK_SLOT, fakeTek.version, fakeTek.creators);
    await unicast(to, attacker.keyGrant([attacker.sealFor(victim, 'grant', fakeTek, key)]));
    await unicast(to, attacker.fetchReply(attacker.sealFor(victim, 'fetch', fakeTek, key)));
    await unicast(to, attacker.admit({ victim, params: { ...old.params }, roster: [{ key: attacker.key, name: 'hostile', admittedAt: now }], grants: [attacker.sealFor(victim, 'grant', fakeTek, key)], admittedAt: now }));
    await unicast(to, randomBytes(200));
    await quietly(sendFrames(hostile, to, PROTOCOL_GROUP, [randomBytes(300)], GROUP_LIMITS));
    // Catch-up in a member's name: the hostile asks as if it were one (its Noise identity says otherwise).
    const got = await quietly(request(hostile, to, PROTOCOL_CATCHUP, new TextEncoder().encode(JSON.stringify({ group, since: 0 })), CATCHUP_RESPONSE_LIMITS));
    assert.ok(!got || got.length === 0, `${p.name} served its catch-up to a non-member`);
    await quietly(request(hostile, to, PROTOCOL_CATCHUP, randomBytes(100), CATCHUP_RESPONSE_LIMITS));
    const peers = await quietly(request(hostile, to, PROTOCOL_PEERS, new TextEncoder().encode(JSON.stringify({ group })), PEERS_LIMITS));
    assert.ok(!peers || peers.length === 0, `${p.name} told a non-member where members are`);
  }
  await publish(topics.control, randomBytes(80));
  await publish(topics.data, randomBytes(80));

  // ── the honest peers keep chatting, both ways ─────────────────────────────
  await alice.api.call('chat.send', { group, text: 'after, from alice' });
  await others[2]!.api.call('chat.send', { group, text: 'after, from dave' });
  for (const p of honest) {
    await sees(p, group, 'after, from alice');
    await sees(p, group, 'after, from dave');
  }

  for (const [i, p] of honest.entries()) {
    assert.equal(await tekOf(p, group), tekBefore[i], `${p.name} kept its TEK`);
    const t = await keysOf(p, group);
    const named = [t.tek!, ...t.slots].some((e) => e.owner === attacker.key || e.creators.includes(attacker.key));
    assert.ok(!named, `${p.name} lists no key of the hostile's`);
    assert.ok(!t.blocklist.length, `${p.name} excluded nobody`);
    assert.ok(!(await history(p, group)).some((m) => m.sender === hostileId), `${p.name} shows none of the hostile's messages`);
    assert.ok(t.rejections.some((r) => r.from === attacker.key), `${p.name}'s key panel names the hostile: ${JSON.stringify(t.rejections.map((r) => [r.reason, r.from.slice(0, 8)]))}`);
    const members = await p.api.call<{ peerId: string; state: string }[]>('group.members', { group });
    assert.equal(members.filter((m) => m.state === 'member').length, 4, `${p.name} still has four members`);
  }
  assert.deepEqual(
    relayed.map((m) => m.topic),
    [],
    'no honest peer relayed a message of the hostile to the observer',
  );
  const blockedSomewhere = await Promise.all(honest.map(async (p) => (await p.api.call<{ blocked?: { peerId: string }[] }>('net.info')).blocked?.some((b) => b.peerId === hostileId)));
  assert.ok(blockedSomewhere.some(Boolean), 'the hostile got itself blocked at the peer layer');
});
