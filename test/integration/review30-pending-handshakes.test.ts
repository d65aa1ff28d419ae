// Review 30 (outsiders): pending handshakes, left open by review 29 ("slowloris"). Raw TCP
// sockets that never start the handshake each held one of libp2p's pending-upgrade slots for its
// 10 s upgrade timeout, and libp2p refuses every inbound connection while the slots are full,
// before its per-address rate limit or any hook of ours: an attacker holding them (here 100
// sockets from one address, renewed as they close) kept every new peer out, a newcomer with a
// valid invite included. Secure (net/node.ts `evictStalledHandshakes`): past PENDING_HANDSHAKES
// in their handshake, a new inbound connection aborts the oldest of the source (address) holding
// the most: the attacker's sockets evict each other however fast it renews them, and a peer from
// another address finishes its handshake.
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createConclaveNode, type ConclaveLibp2p } from '../../app/net/node.js';

const nodes: ConclaveLibp2p[] = [];
const sockets = new Set<Socket>();
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(nodes.map((n) => Promise.resolve(n.stop()).catch(() => {})));
});

test('review30: sockets that never start the handshake do not keep a new peer out', { timeout: 120_000 }, async () => {
  const victim = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(victim);
  const addr = victim.getMultiaddrs().find((a) => a.toString().includes('/tcp/'))!;
  const port = Number(addr.toString().split('/tcp/')[1]!.split('/')[0]);
  // The attacker keeps 100 silent sockets open, opening a new one as soon as one is closed.
  let attacking = true;
  let opened = 0;
  let closedByVictim = 0;
  const open = (): void => {
    if (!attacking) return;
    const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }); // another host than the new peer's
    opened++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (attacking) closedByVictim++;
      setTimeout(open, 20);
    });
  };
  for (let i = 0; i < 100; i++) open();
  await new Promise((r) => setTimeout(r, 1000)); // all of them pending at the victim
  const honest = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(honest);
  let connected = false;
  for (let attempt = 0; attempt < 5 && !connected; attempt++) {
    connected = await honest.dial(addr, { signal: AbortSignal.timeout(5000) }).then(
      () => true,
      (err: unknown) => {
        console.log('dial failed:', err instanceof Error ? `${err.name}: ${err.message}` : err);
        return false;
      },
    );
    if (!connected) await new Promise((r) => setTimeout(r, 500));
  }
  // The victim's side of the handshake ends a moment after the dialler's.
  for (let i = 0; i < 50 && connected && !victim.getConnections().some((c) => c.remotePeer.equals(honest.peerId)); i++) await new Promise((r) => setTimeout(r, 100));
  const held = victim.getConnections().some((c) => c.remotePeer.equals(honest.peerId));
  attacking = false;
  assert.ok(connected, `a new peer connected while ${sockets.size} silent sockets were open (${opened} opened, ${closedByVictim} closed by the victim)`);
  assert.ok(held, 'the victim holds the new peer’s connection');
});
