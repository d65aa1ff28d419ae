// Review 7 (network, red team): what a stranger or a member gains from identify-push, the relays a
// peer learns, and the addresses fellow members serve over /conclave/peers. Each test shows an
// attack that succeeded against main at 3afa694 (see the failing runs in the review's report).
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection, PeerId } from '@libp2p/interface';
import { RELAY_HOP_PROTOCOL, type ConclaveLibp2p } from '../../../app/net/node.js';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { PEERS_LIMITS, PROTOCOL_PEERS, serve } from '../../../app/net/unicast.js';
import { Reachability } from '../../../app/peer/reachability.js';
import { RelayChoice } from '../../../app/peer/relay-choice.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { PeerContext } from '../../../app/peer/peer-context.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode, push } from './review8-fixtures.js';

async function newPeer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
}

/** A group runtime as the network layer sees it: a roster and this peer's state. */
function runtime(members: PeerId[]): GroupRuntime {
  const roster = members.map((p) => ({ key: memberKeyOfPeer(p)!, state: 'member' }));
  return { group: 'g', record: {}, addContacts: () => {}, engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member' } } as unknown as GroupRuntime;
}

function context(node: ConclaveLibp2p, rt: GroupRuntime): PeerContext {
  return contextOf(node, new Map([['g', rt]]));
}

function knownRelays(reach: Reachability): string[] {
  return (reach as unknown as { relays: RelayChoice }).relays.all();
}


/**
 * Pushes until the victim has heard one more identify from `from` (a loaded machine can refuse or
 * drop a push while an earlier stream closes): the assertions after it are then about a push that
 * really arrived.
 */
async function pushHeard(victim: ConclaveLibp2p, from: PeerId, conn: Connection, listenAddrs: string[]): Promise<void> {
  let heard = 0;
  const count = (evt: CustomEvent<{ peerId: PeerId }>): void => {
    if (evt.detail.peerId.equals(from)) heard++;
  };
  victim.addEventListener('peer:identify', count as never);
  try {
    for (let i = 0; i < 4 && heard === 0; i++) {
      await push(conn, listenAddrs).catch(() => {});
      await until(() => heard > 0, 4000);
    }
  } finally {
    victim.removeEventListener('peer:identify', count as never);
  }
  assert.ok(heard > 0, 'the push was heard');
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

/** Relayed listen addresses through `count` relays that do not exist (documentation addresses). */
async function fakeRelayed(count: number, self: PeerId): Promise<string[]> {
  const relays = await Promise.all(Array.from({ length: count }, () => newPeer()));
  return relays.map((r, i) => `/ip4/203.0.113.${i + 1}/tcp/4001/p2p/${r.toString()}/p2p-circuit/p2p/${self.toString()}`);
}

test('review7: a stranger pushing identify cannot fill the relays this peer reserves on (it used to take all eight slots)', async () => {
  const [victim, stranger, member] = await Promise.all([newNode(), newNode(), newNode()]);
  const reach = new Reachability(context(victim, runtime([victim.peerId, member.peerId])), [], () => {});
  reach.listen();
  const conn = await stranger.dial(victim.getMultiaddrs()[0]!);
  const pushed = await fakeRelayed(16, stranger.peerId);
  // Any connected peer may push, unsigned and as often as it likes: each push is a peer:identify.
  for (let i = 0; i < 3; i++) await pushHeard(victim, stranger.peerId, conn, pushed);
  assert.deepEqual(knownRelays(reach), [], "a stranger's announced relays are not this peer's relays");

  // A current member's announced relays are learnt (its relayed address), but at most two of them:
  // one member cannot take every slot either.
  const mconn = await member.dial(victim.getMultiaddrs()[0]!);
  await pushHeard(victim, member.peerId, mconn, await fakeRelayed(16, member.peerId));
  assert.ok(await until(() => knownRelays(reach).length > 0), "a member's relayed address teaches its relay");
  await pushHeard(victim, member.peerId, mconn, await fakeRelayed(16, member.peerId));
  assert.equal(knownRelays(reach).length, 2, 'at most two relays from one member');
});

test('review7: strangers announcing the relay hop protocol cannot crowd out a member relay', async () => {
  const victim = await newNode();
  const memberRelay = await newPeer();
  const joiner = await newPeer();
  const rt = runtime([victim.peerId, memberRelay]);
  const reach = new Reachability(context(victim, rt), [], () => {});
  reach.listen();
  const identify = (peerId: PeerId, ip: string): void => {
    const detail = { peerId, protocols: [RELAY_HOP_PROTOCOL], listenAddrs: [multiaddr(`/ip4/${ip}/tcp/4001`)], connection: { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1') } };
    victim.safeDispatchEvent('peer:identify', { detail } as never);
  };
  // 64 peer IDs cost nothing: each connects once with a public address and the hop protocol.
  for (let i = 0; i < 64; i++) identify(await newPeer(), `198.51.100.${i + 1}`);
  identify(joiner, '198.51.100.200');
  identify(memberRelay, '198.51.100.201');
  (reach as unknown as { promoteMemberRelays(): void }).promoteMemberRelays();
  assert.deepEqual(knownRelays(reach), [`/ip4/198.51.100.201/tcp/4001/p2p/${memberRelay.toString()}`], 'the member relay is learnt');
  // The joiner heard just before is admitted: its relay is learnt too.
  (rt.engine.members() as { key: string; state: string }[]).push({ key: memberKeyOfPeer(joiner)!, state: 'member' });
  (reach as unknown as { promoteMemberRelays(): void }).promoteMemberRelays();
  assert.ok(knownRelays(reach).includes(`/ip4/198.51.100.200/tcp/4001/p2p/${joiner.toString()}`), 'a joiner heard recently is a relay once admitted');
});

test('review7: a relay that refuses for a while (its reservations exhausted by an outsider) is not forgotten while nothing needs its place', () => {
  const choice = new RelayChoice();
  choice.learn('/r/invite'); // the relay every member learnt from the invite (not pinned)
  let now = 0;
  // An outsider holds all the relay's reservations for a few minutes: every request fails.
  for (let i = 0; i < 6; i++) {
    choice.failed('/r/invite', now);
    now += 5 * 60_000;
  }
  assert.deepEqual(choice.all(), ['/r/invite'], 'still known: asked again once the outsider is gone');
  assert.deepEqual(choice.pick(now, [], 2), ['/r/invite']);
  for (let i = 0; i < 7; i++) choice.learn(`/r/other${i}`);
  assert.ok(choice.learn('/r/new'), 'a relay learnt when the list is full takes the place of one that keeps failing');
  assert.ok(!choice.all().includes('/r/invite'));
});

test("review7: a member serving /conclave/peers cannot replace the addresses a member announced itself (today's dial used only the served ones)", async () => {
  const [victim, liar] = await Promise.all([newNode(), newNode()]);
  const absent = await newPeer();
  const rt = runtime([victim.peerId, liar.peerId, absent]);
  const mesh = new Mesh(context(victim, rt), () => {});
  mesh.listen();
  const genuine = '/ip4/192.0.2.10/tcp/4001';
  // The absent member told the victim its address itself (identify on an earlier connection).
  const detail = { peerId: absent, protocols: [], listenAddrs: [multiaddr(genuine)], connection: { remoteAddr: multiaddr('/ip4/192.0.2.10/tcp/4001') } };
  victim.safeDispatchEvent('peer:identify', { detail } as never);
  // The liar serves black holes for it.
  const lies = Array.from({ length: 16 }, (_, i) => `/ip4/10.255.255.${i + 1}/tcp/9`);
  await serve(liar, PROTOCOL_PEERS, PEERS_LIMITS, () => [new TextEncoder().encode(JSON.stringify([{ peer: absent.toString(), addrs: lies }]))]);
  await victim.dial(liar.getMultiaddrs()[0]!);
  await (mesh as unknown as { exchangePeers(rt: GroupRuntime, min: number): Promise<void> }).exchangePeers(rt, 0);
  const dialled = (mesh as unknown as { addressesOf(rt: GroupRuntime, key: string): string[] }).addressesOf(rt, memberKeyOfPeer(absent)!);
  assert.ok(dialled.includes(genuine), `the member's own address is still dialled: ${dialled.join(' ')}`);
  assert.equal(dialled[0], genuine, 'and first');
});

test('review7: identify-push is rate-limited per connection (a stranger used to push as fast as it liked, each one parsed, stored and handled)', async () => {
  const [victim, stranger] = await Promise.all([newNode(), newNode()]);
  let heard = 0;
  victim.addEventListener('peer:identify', (evt) => {
    if (evt.detail.peerId.equals(stranger.peerId)) heard++;
  });
  const conn = await stranger.dial(victim.getMultiaddrs()[0]!);
  await until(() => heard === 1); // identify on connecting
  // 400 addresses a push: about 9 ms of the victim's CPU each (peer store, handlers), 4 kB of the attacker's bytes.
  const many = Array.from({ length: 400 }, (_, i) => `/ip4/10.0.${i >> 8}.${i & 255}/tcp/${1000 + i}`);
  const started = Date.now();
  for (let i = 0; i < 30; i++) await push(conn, many).catch(() => {});
  const earned = Math.ceil((Date.now() - started) / 2000); // one more every 2 s (a loaded machine pushes slowly)
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(heard - 1 <= 4 + earned + 1, `${heard - 1} pushes of 30 were taken in (budget ${4 + earned})`);
  // The budget comes back: a genuine change of address a few seconds later is heard.
  await new Promise((r) => setTimeout(r, 2500));
  const before = heard;
  // On a loaded machine the far side may still be closing an earlier refused stream: the push is
  // tried again (at most a few times, each refused one costs a token) until one is heard.
  for (let i = 0; i < 4 && heard === before; i++) {
    await push(conn, ['/ip4/192.0.2.7/tcp/4001']).catch(() => {});
    await until(() => heard > before, 2500);
  }
  assert.ok(heard > before, 'a push after the interval is heard');
});

test('review7: our public address is taken from what a member or a known relay observed, never from a stranger (whose push could name any)', async () => {
  const victim = await newNode();
  const [stranger, member, relay] = await Promise.all([newPeer(), newPeer(), newPeer()]);
  const relayAddress = `/ip4/198.51.100.9/tcp/4001/p2p/${relay.toString()}`;
  const reach = new Reachability(context(victim, runtime([victim.peerId, member])), [relayAddress], () => {});
  reach.listen();
  const publicIp = (): string | null => (reach as unknown as { publicIp: string | null }).publicIp;
  const observed = (peerId: PeerId, ip: string): void => {
    const detail = { peerId, protocols: [], listenAddrs: [], observedAddr: multiaddr(`/ip4/${ip}/tcp/5555`), connection: { remoteAddr: multiaddr('/ip4/198.51.100.50/tcp/4001') } };
    victim.safeDispatchEvent('peer:identify', { detail } as never);
    (reach as unknown as { adoptObserved?(): void }).adoptObserved?.();
  };
  observed(relay, '203.0.113.10');
  assert.equal(publicIp(), '203.0.113.10', 'the bootstrap relay saw us there');
  // A stranger on a public address pushes identify naming another address, as often as it likes:
  // it used to become this peer's public address (told to hole-punch partners; a wrong one makes every punch fail).
  observed(stranger, '203.0.113.66');
  assert.equal(publicIp(), '203.0.113.10', "a stranger's observation is not taken");
  observed(member, '203.0.113.11');
  assert.equal(publicIp(), '203.0.113.11', "a member's observation is");
});

test('review7: a stranger cannot make this peer dial hosts of its choosing by announcing them (a reply to it used to dial every address it pushed)', async () => {
  const { createServer } = await import('node:net');
  const touched: string[] = [];
  // A service inside the victim's network, never meant to be reached by a peer.
  const internal = createServer((socket) => {
    touched.push(String(socket.remotePort));
    socket.destroy();
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as { port: number }).port;
  try {
    const [victim, stranger] = await Promise.all([newNode(), newNode()]);
    const rt = runtime([victim.peerId]);
    const mesh = new Mesh(context(victim, rt), () => {});
    mesh.listen();
    const conn = await stranger.dial(victim.getMultiaddrs()[0]!);
    await push(conn, [`/ip4/127.0.0.1/tcp/${port}`]);
    await new Promise((r) => setTimeout(r, 300));
    // libp2p's peer:discovery fires for any new peer: a stranger that connects is no LAN peer (001's nearest first).
    assert.deepEqual(mesh.lanContacts('none'), [], 'a connected stranger counts as a peer found on the LAN');
    await conn.close();
    await stranger.stop();
    await until(() => victim.getConnections(stranger.peerId).length === 0);
    // The engine answers a stranger's request (a JoinRefused) by unicast, which reaches it first.
    const reached = await mesh.reach('g', memberKeyOfPeer(stranger.peerId)!);
    assert.equal(reached, false);
    assert.deepEqual(touched, [], 'the internal service was dialled');
  } finally {
    internal.close();
  }
});
