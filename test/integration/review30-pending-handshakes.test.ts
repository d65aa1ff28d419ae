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

// The attacker review of the first version: relayed connections. Any peer connected to this node
// may ask it, over that one connection, to accept relayed connections (circuit relay v2 STOP
// requests, hundreds per connection), each upgraded by the node's own upgrader, which the
// listeners' count did not see: 150 such connections that never started their handshake filled
// libp2p's 128 slots. Secure: they are counted too, against the relay's address.
test('review30: relayed connections that never start the handshake do not keep a new peer out', { timeout: 120_000 }, async () => {
  const victim = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const attacker = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(victim, attacker);
  const addr = victim.getMultiaddrs().find((a) => a.toString().includes('/tcp/'))!;
  const id = attacker.peerId.toMultihash().bytes;
  const peer = Uint8Array.from([0x0a, id.length, ...id]); // Peer { id }
  const connect = Uint8Array.from([0x08, 0x00, 0x12, peer.length, ...peer]); // StopMessage { type: CONNECT, peer }
  const framed = Uint8Array.from([connect.length, ...connect]);
  let hold: () => void = () => {};
  const held = new Promise<void>((resolve) => (hold = resolve));
  let accepted = 0;
  await Promise.all(
    Array.from({ length: 150 }, async () => {
      const stream = await attacker.dialProtocol(addr, '/libp2p/circuit/relay/0.2.0/stop');
      void stream.sink(
        (async function* () {
          yield framed;
          await held; // never a byte of the relayed connection's handshake
        })(),
      ).catch(() => {});
      for await (const chunk of stream.source) {
        if (chunk.byteLength > 0) accepted++;
        break;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  const honest = await createConclaveNode({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  nodes.push(honest);
  let connected = false;
  for (let attempt = 0; attempt < 3 && !connected; attempt++) {
    connected = await honest.dial(addr, { signal: AbortSignal.timeout(5000) }).then(
      () => true,
      () => false,
    );
  }
  hold();
  assert.ok(accepted > 128, `the victim accepted ${accepted} relayed connections`);
  assert.ok(connected, 'a new peer connected while the relayed connections sat in their handshake');
});
