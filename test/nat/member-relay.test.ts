/**
 * Issue 16 §5 "done when": a group in which one member has a public address and
 * no `conclave relay` exists. In the NAT testbed (test/nat/testbed.ts):
 * - pat runs on the "internet" segment (198.51.100.2, nothing else there) and
 *   creates the group; bob (home 1, behind NAT 1) joins with pat's invite, learns
 *   from identify that pat, a member, relays on a public address, and reserves
 *   on it (no relay typed anywhere);
 * - carol (home 2, behind NAT 2) joins with bob's invite, whose only reachable
 *   address is bob's relayed one through pat;
 * - bob and carol read each other through pat while the routers drop each
 *   other's packets (witness: router 1 forwards bytes from pat's address), then
 *   go direct once a direct path is possible.
 * Skipped when namespaces cannot be built (not root, no iproute2/iptables).
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, until } from '../integration/harness.js';
import { canBuildTestbed, NatTestbed, RELAY_IP } from './testbed.js';
import { chatBothWays, holdsReservation, pathKinds, peerIn, waitMember } from './peers.js';

const bed = new NatTestbed();

after(async () => {
  await cleanup();
  bed.teardown();
});

test('a publicly reachable member relays for two NATed members (no conclave relay)', { timeout: 240_000 }, async (t) => {
  if (!canBuildTestbed()) {
    t.skip('needs root, iproute2 and iptables to build network namespaces');
    return;
  }
  bed.build(2, 2);
  const pat = await peerIn(bed, bed.internet, 'pat', { listen: [`/ip4/${RELAY_IP}/tcp/0`] });
  const { group, invite } = await pat.api.call<{ group: string; invite: string }>('group.create', { name: 'one public member' });

  bed.separate(1, 2, true); // bob and carol can meet only through pat
  const bob = await peerIn(bed, bed.home(1), 'bob', { join: invite });
  await waitMember(bob, group);
  await until('bob to hold a reservation on pat', async () => (await holdsReservation(bob)) && (await pathKinds(bob, pat)).includes('direct'), 30_000);

  const { invite: bobsInvite } = await bob.api.call<{ invite: string }>('group.invite', { group });
  const start = Date.now();
  const carol = await peerIn(bed, bed.home(2), 'carol', { join: bobsInvite });
  await waitMember(carol, group);
  const before = bed.counters(1).relay ?? 0;
  const readMs = await chatBothWays(bob, carol, group, 'through pat', 30_000);
  const throughPat = (bed.counters(1).relay ?? 0) - before;
  const kinds = await pathKinds(carol, bob);
  t.diagnostic(`carol joined with bob's invite and they read each other ${Date.now() - start} ms after carol started (${readMs} ms of chat); carol–bob: ${kinds.join(',')}; router 1 forwarded ${throughPat} bytes from pat's address`);
  assert.ok(kinds.includes('relayed'), 'carol reaches bob through a relay');
  assert.ok(kinds.every((k) => k === 'relayed'), 'and only through it (the routers drop each other)');
  assert.ok(throughPat > 0, 'router 1 forwarded bytes from pat');
  await until('carol to hold a reservation too', () => holdsReservation(carol), 20_000);

  bed.separate(1, 2, false);
  const opened = Date.now();
  await until('a direct bob–carol connection', async () => (await pathKinds(carol, bob)).includes('direct'), 30_000, 500);
  t.diagnostic(`bob–carol direct ${Date.now() - opened} ms after a direct path became possible`);
  await chatBothWays(bob, carol, group, 'direct', 20_000);
});
