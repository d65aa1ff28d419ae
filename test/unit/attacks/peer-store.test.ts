// A stranger's peer IDs cost it nothing: one host that connects to a member under fresh IDs
// left an entry per ID in the member's libp2p peer store, for good (noticed in review 7, round
// five). The mesh's sweep (peer/peer-store-trim) drops disconnected strangers and keeps members,
// connected peers and known relays.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerId } from '@libp2p/interface';
import type { ConclaveLibp2p } from '../../../app/net/node.js';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode } from './review8-fixtures.js';

function runtime(members: PeerId[]): GroupRuntime {
  const roster = members.map((p) => ({ key: memberKeyOfPeer(p)!, state: 'member' }));
  return { group: 'g', record: {}, addContacts: () => {}, engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member' } } as unknown as GroupRuntime;
}

async function storeHas(node: ConclaveLibp2p, peer: PeerId): Promise<boolean> {
  return (await node.peerStore.all()).some((p) => p.id.equals(peer));
}

/** `from` connects to `to` and stays until `to` has identified it (what an attacker waits for). */
async function connectAndIdentify(from: ConclaveLibp2p, to: ConclaveLibp2p): Promise<void> {
  await from.dial(to.getMultiaddrs()[0]!);
  const until = Date.now() + 10_000;
  while (!(await storeHas(to, from.peerId))) {
    assert.ok(Date.now() < until, 'identified within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('strangers that connected and left under fresh peer IDs are swept from the peer store; members and connected peers stay', { timeout: 120_000 }, async () => {
  const victim = await newNode();
  const member = await newNode();
  const mesh = new Mesh(contextOf(victim, new Map([['g', runtime([victim.peerId, member.peerId])]])), () => {});

  // A member that went offline: its entry (addresses for the redial) must stay.
  await connectAndIdentify(member, victim);
  await member.stop();

  // The attack: 20 fresh identities connect, identify, and hang up.
  const strangers: PeerId[] = [];
  for (let i = 0; i < 20; i++) {
    const s = await newNode();
    await connectAndIdentify(s, victim);
    strangers.push(s.peerId);
    await s.stop();
  }
  // One stranger is still connected.
  const present = await newNode();
  await connectAndIdentify(present, victim);

  for (const s of strangers) assert.ok(await storeHas(victim, s), 'every stranger that connected left an entry');
  assert.ok((await victim.peerStore.all()).length >= 22);

  const deleted = await mesh.sweepPeerStore();
  assert.equal(deleted, 20, 'the twenty departed strangers went');
  for (const s of strangers) assert.equal(await storeHas(victim, s), false);
  assert.ok(await storeHas(victim, member.peerId), "a member's entry stays for its redial");
  assert.ok(await storeHas(victim, present.peerId), 'a connected stranger stays');
  assert.equal(await mesh.sweepPeerStore(), 0, 'a second sweep finds nothing more');
});
