// Review 8: what a stranger's fresh peer IDs still cost after the peer-store sweep
// (peer/peer-store-trim). gossipsub adds every peer that speaks its protocol to its score
// table, and on disconnect keeps the stats of any peer whose score is not positive for
// `retainScore` (the library's default: one hour) - a stranger that did nothing scores 0.
// With libp2p's inbound threshold of 64 connections a second per host, one host connecting
// under fresh IDs leaves up to 230,000 entries (peer stats, IP sets) behind, none of them
// reached by the sweep.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerId } from '@libp2p/interface';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode, until } from './review8-fixtures.js';

test("strangers that connected and left do not stay in gossipsub's score table; a member's retained score stays", { timeout: 120_000 }, async () => {
  const victim = await newNode();
  const member = await newNode();
  const roster = [victim, member].map((n) => ({ key: memberKeyOfPeer(n.peerId)!, state: 'member' }));
  const rt = {
    group: 'g',
    record: {},
    addContacts: () => {},
    engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member' },
  } as unknown as GroupRuntime;
  const mesh = new Mesh(contextOf(victim, new Map([['g', rt]])), () => {});
  const scored = (p: PeerId): boolean => (victim.services.pubsub as unknown as { score: { peerStats: Map<string, unknown> } }).score.peerStats.has(p.toString());

  await member.dial(victim.getMultiaddrs()[0]!);
  await until(() => scored(member.peerId), 10_000, 'gossipsub scored the member');
  await member.stop();

  const strangers: PeerId[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await newNode();
    await s.dial(victim.getMultiaddrs()[0]!);
    await until(() => scored(s.peerId), 10_000, 'gossipsub scored the stranger');
    strangers.push(s.peerId);
    await s.stop();
  }
  await until(() => victim.getConnections().length === 0, 10_000, 'every stranger gone');
  await mesh.sweepPeerStore();

  // gossipsub purges expired entries at its next score refresh (every second).
  await until(() => strangers.every((p) => !scored(p)), 5000, 'gossipsub forgot the departed strangers').catch(() => {});
  const kept = strangers.filter(scored).length;
  assert.equal(kept, 0, `${kept} of ${strangers.length} departed strangers are still in gossipsub's score table`);
  assert.ok(scored(member.peerId), "a departed member's score is retained as gossipsub decides");
});
