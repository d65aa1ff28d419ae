/**
 * @module bench/nat
 * NAT traversal in the testbed (issue 16 "done when"; docs/network.md): three
 * figures from network namespaces built as in test/nat/testbed.ts — two homes
 * behind their own MASQUERADE routers, a third router to move to, `conclave
 * relay` on the "internet", the links delayed as in libp2p's hole-punch interop
 * tests (100 ms per router, 25 ms at the relay) when the kernel has netem.
 *
 * - natJoinMs: from starting bob's process with alice's invite (alice behind
 *   NAT 1 holds a relay reservation, bob behind NAT 2) until bob is a member
 *   and each has read a line of the other's.
 * - directAfterMs: from the same start until bob's connection to alice is
 *   direct (a hole punch through both NATs).
 * - roamMs: from moving bob's home to NAT 3 (same process, new address) until
 *   each reads a line the other sent after the move.
 *
 * Needs root, iproute2 and iptables (`canBuildTestbed`); otherwise the section
 * is skipped and the reason recorded. `node --import tsx bench/nat.ts` runs it
 * alone and prints the figures.
 */
import { fileURLToPath } from 'node:url';
import { cleanup, spawnConclave, until } from '../test/integration/harness.js';
import { canBuildTestbed, NatTestbed, RELAY_IP } from '../test/nat/testbed.js';
import { chatBothWays, holdsReservation, pathKinds, peerIn, waitMember } from '../test/nat/peers.js';

export interface NatBenchResult {
  natJoinMs: number;
  directAfterMs: number;
  roamMs: number;
}

export interface NatSection {
  result: NatBenchResult | null;
  note: string;
}

async function measure(bed: NatTestbed, log: (s: string) => void): Promise<NatBenchResult> {
  bed.build(3, 2);
  const relay = spawnConclave(['relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], ['ip', 'netns', 'exec', bed.internet], true);
  const relayReady = await until('relay ready', () => relay.lines.find((l) => l.event === 'ready'), 30_000);
  const relayAddr = (relayReady.addresses as string[]).find((a) => a.includes(RELAY_IP))!;
  const alice = await peerIn(bed, bed.home(1), 'alice', {}, ['--relay', relayAddr]);
  await until('alice to hold a relay reservation', () => holdsReservation(alice), 30_000);
  const { group, invite } = await alice.api.call<{ group: string; invite: string }>('group.create', { name: 'nat bench' });

  const start = Date.now();
  const bob = await peerIn(bed, bed.home(2), 'bob', { join: invite });
  let directAt = 0;
  const watchDirect = until('a direct alice–bob connection', async () => (await pathKinds(bob, alice)).includes('direct'), 60_000, 200).then(() => {
    directAt = Date.now();
  });
  await waitMember(bob, group);
  await chatBothWays(alice, bob, group, 'hello', 30_000);
  const natJoinMs = Date.now() - start;
  log(`nat: join across two NATs ${natJoinMs} ms`);
  await watchDirect;
  const directAfterMs = directAt - start;
  log(`nat: direct ${directAfterMs} ms after bob started`);

  bed.move(2, 3);
  const roamMs = await chatBothWays(alice, bob, group, 'after the move', 30_000);
  log(`nat: roaming recovered in ${roamMs} ms`);
  return { natJoinMs, directAfterMs, roamMs };
}

/** The NAT section of the bench: its figures, or null and why not. */
export async function natSection(log: (s: string) => void = () => {}): Promise<NatSection> {
  if (!canBuildTestbed()) return { result: null, note: 'network: NAT figures (natJoinMs, directAfterMs, roamMs) not measured — the testbed needs root, iproute2 and iptables to build network namespaces.' };
  const bed = new NatTestbed();
  try {
    const result = await measure(bed, log);
    const delays = bed.netem ? 'links delayed 100 ms per router and 25 ms at the relay (netem)' : 'no link delays (netem unavailable)';
    return {
      result,
      note: `network: NAT testbed (bench/nat.ts): alice and bob each behind a MASQUERADE router, conclave relay on the internet segment, ${delays}; join across two NATs until both read each other ${result.natJoinMs} ms; direct ${result.directAfterMs} ms after bob started; bob moved to a third NAT, both read again after ${result.roamMs} ms.`,
    };
  } catch (err) {
    return { result: null, note: `network: NAT figures not measured — ${(err as Error).message}.` };
  } finally {
    await cleanup();
    bed.teardown();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = await natSection((s) => console.log(s));
  console.log(JSON.stringify(section, null, 2));
  process.exit(0);
}
