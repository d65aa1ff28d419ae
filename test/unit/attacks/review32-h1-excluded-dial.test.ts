// Review 32 (h1, peer layer): review 7 stopped a stranger from making a member dial hosts of its
// choosing (mesh.ts reachStranger: a peer in no roster is dialled only at its invite's addresses
// or as mDNS found it). An excluded former member is in the roster (state `excluded`), so it was no
// "stranger": mesh.reach dialled it at whatever listen addresses it announced itself by
// identify(-push) (rememberAddresses kept them in the address book and in the group record,
// persisted and restored into the peer store at every start). The engine unicasts an exclusion
// notice to an excluded member that still sends (exclusion.ts tellExcluded, once a heartbeat): the
// excluded member pushes addresses of hosts inside the victim's network (a LAN service,
// 127.0.0.1:port), sends one sealed control message and drops the connection, and the victim
// connected to those hosts, three tries per notice, every heartbeat. The first fix sent it the
// stranger's way (reachStranger), which reads the group record: the second pass announced the hosts
// while still a member, then was excluded, and they were dialled as before.
// Secure: a peer that left or was excluded everywhere is not dialled at all; hosts it announced,
// before or after its exclusion, are never dialled.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode, push } from './review8-fixtures.js';

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

/**
 * The announcer pushes the address of a service inside the victim's network while it is `pushedAs`
 * in the victim's roster, is then excluded, drops its connection, and the victim's mesh reaches it
 * (as the engine's exclusion notice does). Returns what that reach did.
 */
async function announceThenReach(pushedAs: 'member' | 'excluded'): Promise<{ reached: boolean; touched: number; record: string }> {
  const touched: number[] = [];
  const internal = createServer((socket) => {
    touched.push(socket.remotePort ?? 0);
    socket.destroy();
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as { port: number }).port;
  const [victim, announcer] = await Promise.all([newNode(), newNode()]);
  try {
    const roster = [
      { key: memberKeyOfPeer(victim.peerId)!, state: 'member' },
      { key: memberKeyOfPeer(announcer.peerId)!, state: pushedAs },
    ];
    const record: { addresses?: Record<string, string[]> } = {};
    const rt = { group: 'g', record, addContacts: () => {}, engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member', exclusionContestedUntil: () => null } } as unknown as GroupRuntime;
    const mesh = new Mesh(contextOf(victim, new Map([['g', rt]])), () => {});
    mesh.listen();
    let heard = false;
    let identified = false;
    victim.addEventListener('peer:identify', (evt) => {
      if (!evt.detail.peerId.equals(announcer.peerId)) return;
      identified = true;
      heard = evt.detail.listenAddrs.some((a) => a.toString().includes(`/tcp/${port}`));
    });
    const conn = await announcer.dial(victim.getMultiaddrs()[0]!);
    // The connection's own identify first (it names the announcer's real address), then the push.
    await until(() => identified, 5000);
    for (let i = 0; i < 4 && !heard; i++) {
      await push(conn, [`/ip4/127.0.0.1/tcp/${port}`]).catch(() => {});
      await until(() => heard, 3000);
    }
    assert.ok(heard, 'the push was heard');
    if (pushedAs === 'member') await until(() => (record.addresses?.[memberKeyOfPeer(announcer.peerId)!] ?? []).some((a) => a.includes(`/tcp/${port}`)), 2000);
    roster[1]!.state = 'excluded';
    await conn.close();
    await announcer.stop();
    await until(() => victim.getConnections(announcer.peerId).length === 0);
    const reached = await mesh.reach('g', memberKeyOfPeer(announcer.peerId)!);
    await new Promise((r) => setTimeout(r, 300));
    return { reached, touched: touched.length, record: JSON.stringify(record.addresses ?? {}) };
  } finally {
    internal.close();
    await Promise.all([victim.stop(), announcer.stop()]).catch(() => {});
  }
}

test('review32-h1: an excluded member cannot make this peer dial hosts of its choosing by announcing them', async () => {
  const r = await announceThenReach('excluded');
  assert.deepEqual({ reached: r.reached, touched: r.touched }, { reached: false, touched: 0 }, 'the internal service the excluded member announced was dialled');
});

test('review32-pass2: hosts a member announced before its exclusion are not dialled for its exclusion notice', async () => {
  const r = await announceThenReach('member');
  assert.deepEqual({ reached: r.reached, touched: r.touched }, { reached: false, touched: 0 }, `the excluded member's notice dialled the internal service it announced while a member (group record: ${r.record})`);
});
