// net/pending-handshakes.ts: whom an inbound handshake counts against, and which one goes when
// too many are in progress (review 30; the integration test plays the attacker on real sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import type { CreateListenerOptions, Listener, MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface';
import { evictStalledHandshakes, sourceKey, type PendingHandshakes } from '../../app/net/pending-handshakes.js';

test('a source is an IPv4 address or an IPv6 /64', () => {
  const key = (a: string) => sourceKey({ remoteAddr: multiaddr(a) });
  assert.equal(key('/ip4/203.0.113.7/tcp/4001'), '203.0.113.7');
  assert.equal(key('/ip6/2001:db8:1:2:aaaa::1/tcp/4001'), '2001:db8:1:2::/64');
  assert.equal(key('/ip6/2001:db8:1:2:bbbb:cccc:dddd:eeee/tcp/1'), '2001:db8:1:2::/64', 'one /64, any interface ID');
  assert.equal(key('/ip6/2001:0db8:0001:0003::9/tcp/1'), '2001:db8:1:3::/64');
  assert.equal(key('/ip6/::1/tcp/1'), '0:0:0:0::/64');
  assert.equal(key('/ip6/::ffff:203.0.113.7/tcp/1'), '203.0.113.7', 'an IPv4-mapped address is its IPv4 host');
  assert.equal(key('/ip4/198.51.100.1/tcp/1/p2p/12D3KooWGRUVh7BzBx9tkGe2pxKXeWdMfyTsSW5RmmcuFw3JA5Ps/p2p-circuit/p2p/12D3KooWGRUVh7BzBx9tkGe2pxKXeWdMfyTsSW5RmmcuFw3JA5Ps'), '198.51.100.1', 'a relayed connection counts against its relay');
});

test('past the limit, the oldest handshake of the source holding the most is aborted, never the newest', async () => {
  const aborted: string[] = [];
  const ends = new Map<string, () => void>();
  const upgrader = {
    upgradeInbound: (maConn: MultiaddrConnection) => new Promise<void>((resolve) => ends.set(maConn.remoteAddr.toString(), resolve)),
  } as unknown as Upgrader;
  let listenerOptions: CreateListenerOptions | null = null;
  const transport = { createListener: (o: CreateListenerOptions) => ((listenerOptions = o), {} as Listener) } as unknown as Transport;
  const pending: PendingHandshakes = new Map();
  evictStalledHandshakes(() => transport, 3, pending)({}).createListener({ upgrader } as CreateListenerOptions);
  const counted = listenerOptions!.upgrader;
  const conn = (a: string) => ({ remoteAddr: multiaddr(a), abort: () => aborted.push(a) }) as unknown as MultiaddrConnection;
  const run = (a: string) => counted.upgradeInbound(conn(a)).catch(() => undefined);
  void run('/ip4/10.0.0.1/tcp/1'); // the attacker's
  void run('/ip4/10.0.0.1/tcp/2');
  void run('/ip4/10.0.0.2/tcp/1'); // an honest peer's
  void run('/ip4/10.0.0.1/tcp/3'); // a fourth: the attacker's oldest goes
  assert.deepEqual(aborted, ['/ip4/10.0.0.1/tcp/1']);
  void run('/ip4/10.0.0.3/tcp/1'); // another honest peer: still the attacker's oldest
  assert.deepEqual(aborted, ['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.1/tcp/2']);
  assert.deepEqual([...pending.keys()].map((c) => c.remoteAddr.toString()), ['/ip4/10.0.0.2/tcp/1', '/ip4/10.0.0.1/tcp/3', '/ip4/10.0.0.3/tcp/1']);
  ends.get('/ip4/10.0.0.2/tcp/1')!(); // a handshake that ends leaves the count
  await new Promise((r) => setImmediate(r));
  assert.equal(pending.size, 2);
});
