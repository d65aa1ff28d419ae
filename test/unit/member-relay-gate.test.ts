// peer/reachability's member relay gate (issue 16 §5, docs/network.md "Members relay for each other"):
// who may reserve on a publicly reachable member and be relayed through it.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { memberKeyOfPeer } from '../../app/net/ids.js';
import { Reachability } from '../../app/peer/reachability.js';
import { PeerGuard } from '../../app/peer/peer-guard.js';
import type { PeerContext } from '../../app/peer/peer-context.js';
import type { GroupRuntime } from '../../app/peer/group.js';

async function newPeer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
}

test('member relay gate: closed behind a NAT; open to current members only, strangers joining within a budget', async () => {
  const [member, other, left, stranger] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()]);
  const roster = [
    { key: memberKeyOfPeer(member)!, state: 'member' },
    { key: memberKeyOfPeer(other)!, state: 'member' },
    { key: memberKeyOfPeer(left)!, state: 'left' },
  ];
  const rt = { group: 'g', engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member' } } as unknown as GroupRuntime;
  const ctx = { node: {}, groups: new Map([['g', rt]]), selfPeerId: 'self', stopped: () => false, log: () => {} } as unknown as PeerContext;
  const reach = new Reachability(ctx, [], () => {});
  const guard = new PeerGuard({ peerBurst: 2 });
  const gate = reach.relayGate(guard);

  assert.equal(gate.reserve(member), false, 'public address unknown: the gate is closed');
  assert.equal(gate.connect(other, member), false);

  // This host's own address observed from outside: publicly reachable.
  const own = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  if (!own) return; // no non-loopback IPv4 interface here: the open half cannot be shown
  (reach as unknown as { publicIp: string }).publicIp = own;
  assert.equal(reach.behindNat(), false);
  assert.equal(gate.reserve(member), true, 'a current member may reserve');
  assert.equal(gate.reserve(stranger), false, 'a stranger may not');
  assert.equal(gate.reserve(left), false, 'a member that left may not');
  assert.equal(gate.connect(other, member), true, 'member to member');
  assert.equal(gate.connect(member, stranger), false, 'never to a non-member');
  assert.equal(gate.connect(left, member), false, 'not from a peer the roster knows as left');
  assert.equal(gate.connect(stranger, member), true, 'a stranger joining, within its budget');
  assert.equal(gate.connect(stranger, member), true);
  assert.equal(gate.connect(stranger, member), false, 'beyond its burst');
});
