/**
 * The NAT matrix (issue 16 §2), in one testbed (test/nat/testbed.ts): six homes,
 * each behind its own router, routers 1–3 of the kinds eim, symmetric, strict
 * (side A) and routers 4–6 the same (side B); `conclave relay` on the
 * "internet". Six peers form one group (a-eim creates it with `--relay`, the
 * others join with its invite), so every A–B pair is one cell of the matrix, and
 * every pair first meets through the relay.
 *
 * Asserted: every pair is connected (relayed at least); every cell where our
 * TCP hole punch can succeed (neither side symmetric, not both strict) goes
 * direct; a line sent by a peer behind a symmetric NAT reaches every other.
 * Printed: the path of every cell (docs/network.md "NAT kinds" records it).
 * Skipped when namespaces cannot be built (not root, no iproute2/iptables).
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, spawnConclave, until, type TestPeer } from '../integration/harness.js';
import { canBuildTestbed, NatTestbed, RELAY_IP, type NatKind } from './testbed.js';
import { has, pathKinds, peerIn, waitMember } from './peers.js';

const bed = new NatTestbed();
const KINDS: readonly NatKind[] = ['eim', 'symmetric', 'strict'];
/** Settled: this long after the last join, every pair has had several punch attempts (1, 3, 7, 15 s). */
const SETTLE_MS = 20_000;

after(async () => {
  await cleanup();
  bed.teardown();
});

/** Whether Conclave's TCP punch can open a direct path between these two NAT kinds. */
export function punchable(a: NatKind, b: NatKind): boolean {
  return a !== 'symmetric' && b !== 'symmetric' && !(a === 'strict' && b === 'strict');
}

function verdict(kinds: string[]): string {
  if (kinds.includes('direct')) return 'direct';
  if (kinds.includes('relayed')) return 'relayed';
  return kinds.length === 0 ? 'none' : kinds.join('+');
}

test('NAT matrix: every pair of NAT kinds meets through the relay, and goes direct where a TCP punch can', { timeout: 300_000 }, async (t) => {
  if (!canBuildTestbed()) {
    t.skip('needs root, iproute2 and iptables to build network namespaces');
    return;
  }
  bed.build(6, 6, [...KINDS, ...KINDS]);
  const relay = spawnConclave(['relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], ['ip', 'netns', 'exec', bed.internet], true);
  const relayReady = await until('relay ready', () => relay.lines.find((l) => l.event === 'ready'), 30_000);
  const relayAddr = (relayReady.addresses as string[]).find((a) => a.includes(RELAY_IP))!;

  const creator = await peerIn(bed, bed.home(1), 'a-eim', {}, ['--relay', relayAddr]);
  await until('a-eim to hold a relay reservation', async () => (await creator.api.call<{ addresses: string[] }>('net.info')).addresses.some((a) => a.includes('/p2p-circuit')), 30_000);
  const { group } = await creator.api.call<{ group: string }>('group.create', { name: 'matrix' });
  const { invite } = await creator.api.call<{ invite: string }>('group.invite', { group, uses: 10 });
  const others = await Promise.all(
    [2, 3, 4, 5, 6].map((k) => peerIn(bed, bed.home(k), `${k <= 3 ? 'a' : 'b'}-${KINDS[(k - 1) % 3]}`, { join: invite })),
  );
  for (const p of others) await waitMember(p, group, 120_000);
  const joined = Date.now();
  const peers = [creator, ...others];
  const sideA = peers.slice(0, 3);
  const sideB = peers.slice(3);
  const cells = sideA.flatMap((a, i) => sideB.map((b, j) => ({ a, b, ka: KINDS[i]!, kb: KINDS[j]! })));

  const cellPaths = async (): Promise<string[]> => Promise.all(cells.map(async ({ a, b }) => verdict(await pathKinds(a, b))));
  await until('every pair connected, the punchable cells direct', async () => {
    const paths = await cellPaths();
    return cells.every((c, i) => paths[i] !== 'none' && (!punchable(c.ka, c.kb) || paths[i] === 'direct'));
  }, 90_000, 1000).catch(() => undefined); // the assertions below say which cell missed
  const settle = SETTLE_MS - (Date.now() - joined);
  if (settle > 0) await new Promise((r) => setTimeout(r, settle));
  const paths = await cellPaths();
  t.diagnostic(`A↓ B→     | ${KINDS.map((k) => k.padEnd(9)).join(' | ')}`);
  for (const [i, ka] of KINDS.entries()) t.diagnostic(`${ka.padEnd(9)} | ${KINDS.map((_, j) => paths[i * 3 + j]!.padEnd(9)).join(' | ')}`);

  for (const [i, c] of cells.entries()) {
    assert.notEqual(paths[i], 'none', `${c.a.name}–${c.b.name} connected`);
    if (punchable(c.ka, c.kb)) assert.equal(paths[i], 'direct', `${c.a.name}–${c.b.name} direct`);
  }
  const sender: TestPeer = sideB[1]!; // b-symmetric
  await sender.api.call('chat.send', { group, text: 'from behind a symmetric NAT' });
  for (const p of peers) if (p !== sender) await until(`${p.name} reads b-symmetric`, () => has(p, group, 'from behind a symmetric NAT'), 30_000);
});
