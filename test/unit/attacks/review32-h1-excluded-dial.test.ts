// Review 32 (h1, peer layer): review 7 stopped a stranger from making a member dial hosts of its
// choosing (mesh.ts reachStranger: a peer in no roster is dialled only at its invite's addresses
// or as mDNS found it). An excluded former member is in the roster (state `excluded`), so it is no
// "stranger": mesh.reach dials it at whatever listen addresses it announced itself by identify(-push)
// (rememberAddresses keeps them in the address book and even writes them into the group record,
// persisted and restored into the peer store at every start). The engine unicasts an exclusion
// notice to an excluded member that still sends (exclusion.ts tellExcluded, once a heartbeat per
// sealed message it sends): the excluded member pushes addresses of hosts inside the victim's
// network (a LAN service, 127.0.0.1:port), sends one sealed control message and drops the
// connection, and the victim connects to those hosts, three tries per notice, every heartbeat.
// Secure: an excluded member is dialled like a stranger, never at addresses it announced itself.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection } from '@libp2p/interface';
import { memberKeyOfPeer } from '../../../app/net/ids.js';
import { Mesh } from '../../../app/peer/mesh.js';
import type { GroupRuntime } from '../../../app/peer/group.js';
import { contextOf, newNode } from './review8-fixtures.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** An identify-push message (listenAddrs = field 2), length-prefixed. */
function identifyPush(listenAddrs: string[]): Uint8Array {
  const body: number[] = [];
  for (const a of listenAddrs) {
    const bytes = multiaddr(a).bytes;
    body.push(0x12, ...varint(bytes.length), ...bytes);
  }
  return Uint8Array.from([...varint(body.length), ...body]);
}

async function push(conn: Connection, listenAddrs: string[]): Promise<void> {
  const stream = await conn.newStream('/ipfs/id/push/1.0.0', { signal: AbortSignal.timeout(3000) });
  await Promise.race([stream.sink([identifyPush(listenAddrs)]), new Promise((r) => setTimeout(r, 3000))]).catch(() => {});
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

test('review32-h1: an excluded member cannot make this peer dial hosts of its choosing by announcing them (a notice to it dials every address it pushed)', async () => {
  const touched: number[] = [];
  // A service inside the victim's network, never meant to be reached by a peer.
  const internal = createServer((socket) => {
    touched.push(socket.remotePort ?? 0);
    socket.destroy();
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as { port: number }).port;
  const [victim, excluded] = await Promise.all([newNode(), newNode()]);
  try {
    const roster = [
      { key: memberKeyOfPeer(victim.peerId)!, state: 'member' },
      { key: memberKeyOfPeer(excluded.peerId)!, state: 'excluded' },
    ];
    const rt = { group: 'g', record: {}, addContacts: () => {}, engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member', exclusionContestedUntil: () => null } } as unknown as GroupRuntime;
    const mesh = new Mesh(contextOf(victim, new Map([['g', rt]])), () => {});
    mesh.listen();
    let heard = false;
    let identified = false;
    victim.addEventListener('peer:identify', (evt) => {
      if (!evt.detail.peerId.equals(excluded.peerId)) return;
      identified = true;
      heard = evt.detail.listenAddrs.some((a) => a.toString().includes(`/tcp/${port}`));
    });
    const conn = await excluded.dial(victim.getMultiaddrs()[0]!);
    // The connection's own identify first (it names the excluded node's real address), then the push.
    await until(() => identified, 5000);
    for (let i = 0; i < 4 && !heard; i++) {
      await push(conn, [`/ip4/127.0.0.1/tcp/${port}`]);
      await until(() => heard, 3000);
    }
    assert.ok(heard, 'the push was heard');
    await conn.close();
    await excluded.stop();
    await until(() => victim.getConnections(excluded.peerId).length === 0);
    // The engine's exclusion notice to it (tellExcluded) goes out by unicast, which reaches it first.
    const reached = await mesh.reach('g', memberKeyOfPeer(excluded.peerId)!);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(reached, false);
    assert.deepEqual(touched, [], 'the internal service the excluded member announced was dialled');
  } finally {
    internal.close();
    await Promise.all([victim.stop(), excluded.stop()]).catch(() => {});
  }
});
