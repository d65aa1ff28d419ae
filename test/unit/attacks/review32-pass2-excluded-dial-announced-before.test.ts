// Review 32 pass 2 (8443f64): reach() now dials a peer that is a current member nowhere only
// through reachStranger, "where an invite or mDNS put it". But reachStranger reads the group
// record's addresses (rt.record.addresses[key]), and rememberAddresses wrote there whatever the
// peer announced while it WAS a current member; exclusion never clears it. So an insider announces
// hosts inside the victim's network (identify-push) while still a member, gets excluded (or is
// excluded later), sends sealed control messages, and each exclusion notice (tellExcluded) dials
// those hosts, as before the fix. The entry is persisted and restored at every start, too.
// Secure: after its exclusion, the hosts it announced itself are never dialled.
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

test('review32-pass2: hosts a member announced before its exclusion are not dialled for its exclusion notice', async () => {
  const touched: number[] = [];
  const internal = createServer((socket) => {
    touched.push(socket.remotePort ?? 0);
    socket.destroy();
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const port = (internal.address() as { port: number }).port;
  const [victim, insider] = await Promise.all([newNode(), newNode()]);
  try {
    const roster = [
      { key: memberKeyOfPeer(victim.peerId)!, state: 'member' },
      { key: memberKeyOfPeer(insider.peerId)!, state: 'member' }, // a current member, for now
    ];
    const record: { addresses?: Record<string, string[]> } = {};
    const rt = { group: 'g', record, addContacts: () => {}, engine: { members: () => roster, rosterState: (k: string) => roster.find((m) => m.key === k)?.state ?? null, state: () => 'member', exclusionContestedUntil: () => null } } as unknown as GroupRuntime;
    const mesh = new Mesh(contextOf(victim, new Map([['g', rt]])), () => {});
    mesh.listen();
    let heard = false;
    let identified = false;
    victim.addEventListener('peer:identify', (evt) => {
      if (!evt.detail.peerId.equals(insider.peerId)) return;
      identified = true;
      heard = evt.detail.listenAddrs.some((a) => a.toString().includes(`/tcp/${port}`));
    });
    const conn = await insider.dial(victim.getMultiaddrs()[0]!);
    await until(() => identified, 5000);
    for (let i = 0; i < 4 && !heard; i++) {
      await push(conn, [`/ip4/127.0.0.1/tcp/${port}`]);
      await until(() => heard, 3000);
    }
    assert.ok(heard, 'the push was heard');
    await until(() => (record.addresses?.[memberKeyOfPeer(insider.peerId)!] ?? []).some((a) => a.includes(`/tcp/${port}`)), 2000);
    const kept = JSON.stringify(record.addresses ?? {});
    // Then it is excluded (and keeps sending sealed control messages, each answered by a notice).
    roster[1]!.state = 'excluded';
    await conn.close();
    await insider.stop();
    await until(() => victim.getConnections(insider.peerId).length === 0);
    const reached = await mesh.reach('g', memberKeyOfPeer(insider.peerId)!);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      { reached, touched: touched.length },
      { reached: false, touched: 0 },
      `the excluded member's notice dialled the internal service it announced while a member (group record: ${kept})`,
    );
  } finally {
    internal.close();
    await Promise.all([victim.stop(), insider.stop()]).catch(() => {});
  }
});
