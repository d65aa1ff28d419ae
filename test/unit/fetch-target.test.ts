// Whom a fetch asks first (docs/protocol.md §7.4; issue 17 item 3). A member that gets a
// packet under a TEK whose table it never saw (a fetch by tag alone, D1/S1) asks the
// member that sent it, who holds that very key, before any other possible holder. Before,
// it skipped the sender and asked the lowest roster key first: after a 4-partition heal at
// N = 128 every member asked the same few members, most of whom held another sibling of
// that version (889 requests for 124 members; now 398, one per foreign sibling).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../app/core/wire.js';
import { drain, honestGroup, identity, identitySorted, tekOf } from './attacks/forge.js';

/**
 * a, x, b and v; v is cut off while a excludes x, then b (sorting above every other member,
 * so "the lowest other holder" is never b) sends one packet under the new TEK, and the
 * cut-off v receives it: v must fetch that TEK by its tag alone.
 */
function victimWithPacketUnderNewTek(prefix: string) {
  const a = identity(`${prefix}-a`);
  const x = identity(`${prefix}-x`);
  const v = identity(`${prefix}-v`);
  const b = identitySorted(`${prefix}-b`, [a.key, x.key, v.key].sort().at(-1)!, false);
  const g = honestGroup(['a', 'x', 'b', 'v'], { ids: { a, x, b, v } });
  const victim = g.e.v!;
  g.net.offline.add(v.key);
  g.e.a!.exclude([x.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 10 * g.params.heartbeatMs);
  const base = tekOf(victim).version;
  assert.equal(tekOf(g.e.b!).version, base + 1, 'precondition: b holds the new TEK');
  drain(g.e.b!);
  g.e.b!.send(new Uint8Array([1, 2, 3]), g.net.now);
  const packets = drain(g.e.b!).out.filter((o) => o.kind === 'publish' && o.topic === 'data');
  assert.equal(packets.length, 1, 'precondition: b sent one packet under the new TEK');
  drain(victim);
  victim.receive(b.key, 'data', packets[0]!.bytes, g.net.now);
  return { g, victim, b, base };
}

test('a fetch by tag alone asks the member whose packet named the key first', () => {
  const { g, victim, b, base } = victimWithPacketUnderNewTek('ft');
  for (let now = g.net.now + 10; now < g.net.now + 60_000; now += 10) {
    victim.tick(now);
    const asked = drain(victim).out.flatMap((o) => (o.kind === 'unicast' && o.bytes[2] === MsgType.FetchRequest ? [o.to] : []));
    if (asked.length === 0) continue;
    assert.deepEqual(asked, [b.key], 'the first FetchRequest goes to the packet\'s sender');
    assert.equal(tekOf(victim).version, base);
    return;
  }
  assert.fail('no FetchRequest');
});

// §7.4: a fetch stops after at most 9 tries. Once every possible holder had been asked, a
// fetch asked the member that named the key again and again: its tried set stopped growing,
// so the stop never came, and a key nobody could give was asked for every fetchAfterMs for
// as long as the member ran (55 such fetches in the N = 128 partition heal).
test('a fetch nobody answers stops after at most 9 requests, even with fewer than 9 possible holders', () => {
  const { g, victim } = victimWithPacketUnderNewTek('fs');
  // No reply ever reaches the victim (it is cut off): count what it asks over five minutes.
  let requests = 0;
  for (let now = g.net.now + 10; now < g.net.now + 300_000; now += 100) {
    victim.tick(now);
    requests += drain(victim).out.filter((o) => o.kind === 'unicast' && o.bytes[2] === MsgType.FetchRequest).length;
  }
  assert.ok(requests >= 1, 'precondition: the victim fetched');
  assert.ok(requests <= 9, `${requests} FetchRequests for one key nobody answered (at most 9)`);
});
