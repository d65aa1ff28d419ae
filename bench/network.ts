/**
 * @module bench/network
 * The real-network section: `peers` headless Conclave peers (bin/conclave.js
 * `peer`), each its own process, on loopback TCP (no mDNS), driven through their
 * JSON-RPC WebSocket control API (docs/api.md).
 *
 * 1. Peer 0 creates the group; peers 1…peers−2 join with its invite and wait to be members.
 * 2. join: the last peer calls `group.join`; peer 0 sends a chat message every 100 ms;
 *    joinMs = from the call until the joiner's first `chat.message` from another peer.
 * 3. chat: every peer sends `rounds` messages, one message every 100 ms in all (peers interleaved);
 *    latency = receivedAt − sentAt of every delivery (same machine, same clock).
 * 4. exclusion: peer 0 excludes the last peer; exclusionMs = until every remaining
 *    peer's `keys.table` shows one new TEK (version and fingerprint) and the peer
 *    blocked (its blocklist one longer), polled every ~30 ms.
 * Processes, API clients and temp directories come from the integration-test
 * harness (test/integration/harness.ts), which removes them all at the end.
 *
 * Each peer runs in a session of its own, as separately started programs (or
 * separate machines) do. Started from this process's session they would all
 * share its one autogroup (Linux schedules sessions fairly against each other,
 * CONFIG_SCHED_AUTOGROUP): on a machine busy with other sessions, the ten peers
 * together got one session's share of the two cores, and chat p95 measured
 * 200–530 ms where the same code measured 26–114 ms with a session per peer
 * under the same load (and 23–28 ms with the ten peers' session favoured).
 * The CPU the peers and everything else used during the chat phase is
 * recorded with the result, so a reader can tell a busy machine from a slow peer.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { cleanup, startTestPeer, until, waitMember, type PeerSpec, type TestPeer } from '../test/integration/harness.js';
import { percentile } from './measure.js';
import type { NetworkResult } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ChatEvent {
  sender: string;
  text: string;
  sentAt: number;
  receivedAt: number;
}

/** Busy and total CPU time of the whole machine (all cores), in clock ticks (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** User + system CPU time of one process, in clock ticks (/proc/PID/stat). */
function processTicks(pid: number | undefined): number {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(rest[11]) + Number(rest[12]);
}

/**
 * Measures the CPU used from now until the returned function is called: by the
 * peers' processes and by everything else on the machine, in cores (1 = one core
 * busy all the time). Null where /proc is not there (not Linux).
 */
function cpuMeter(peers: TestPeer[]): () => { peersCores: number; otherCores: number; cores: number } | null {
  try {
    const m0 = machineTicks();
    const p0 = peers.map((p) => processTicks(p.spawned.proc.pid));
    return () => {
      try {
        const m1 = machineTicks();
        const used = peers.reduce((sum, p, i) => sum + processTicks(p.spawned.proc.pid) - (p0[i] as number), 0);
        const cores = cpus().length;
        const perTick = cores / Math.max(1, m1.total - m0.total); // cores per tick of machine time
        const round2 = (x: number) => Math.round(x * 100) / 100;
        return { peersCores: round2(used * perTick), otherCores: round2(Math.max(0, m1.busy - m0.busy - used) * perTick), cores };
      } catch {
        return null;
      }
    };
  } catch {
    return () => null;
  }
}

/** The chat messages a peer has been pushed so far (its API client records every event). */
function chats(peer: TestPeer): ChatEvent[] {
  return peer.api.events.filter((e) => e.method === 'chat.message').map((e) => e.params as unknown as ChatEvent);
}

export async function measureNetwork(peers = 10, rounds = 10, log: (s: string) => void = () => {}): Promise<NetworkResult> {
  // Peers in sessions of their own do not get a terminal's Ctrl-C: stop them here.
  const onSignal = (): void => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const start = (spec: PeerSpec): Promise<TestPeer> => startTestPeer({ ...spec, ownSession: true });
  try {
    const creator = await start({ name: 'p0', create: 'bench' });
    const invite = creator.invite as string;
    const group = creator.group as string;
    // One at a time: eight Node processes starting at once on two cores miss the harness's start timeout.
    const joining: TestPeer[] = [];
    for (let i = 1; i <= peers - 2; i++) joining.push(await start({ name: `p${i}`, join: invite }));
    for (const p of joining) await waitMember(p, group, 90_000);
    const members = [creator, ...joining];
    log(`network: ${members.length} peers are members`);

    // join → first decrypted message
    const joiner = await start({ name: `p${peers - 1}` });
    await sleep(1000);
    let ticking = true;
    let seq = 0;
    const ticker = (async () => {
      while (ticking) {
        await creator.api.call('chat.send', { group, text: `tick ${seq++}` }).catch(() => undefined);
        await sleep(100);
      }
    })();
    const t0 = Date.now();
    await joiner.api.call('group.join', { invite });
    const first = await until('the joiner to decrypt a message', () => chats(joiner).find((c) => c.sender !== joiner.peerId), 60_000, 20).catch(() => null);
    ticking = false;
    await ticker;
    const joinMs = first ? first.receivedAt - t0 : Number.NaN;
    await waitMember(joiner, group, 30_000);
    members.push(joiner);
    log(`network: join to first decrypted message ${joinMs} ms`);

    // chat latency: one message every 100 ms, senders interleaved
    await sleep(1500);
    const cpuDuringChat = cpuMeter(members);
    const texts: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [i, p] of members.entries()) {
        const text = `bench ${r}:${i}`;
        texts.push(text);
        void p.api.call('chat.send', { group, text }).catch(() => undefined);
        await sleep(100);
      }
    }
    const chatCpu = cpuDuringChat();
    if (chatCpu) log(`network: CPU during the chat phase: peers ${chatCpu.peersCores} cores, everything else ${chatCpu.otherCores} cores, of ${chatCpu.cores}`);
    const wanted = new Set(texts);
    const deliveries = () => members.flatMap((p) => chats(p).filter((c) => c.sender !== p.peerId && wanted.has(c.text)));
    const expected = texts.length * (members.length - 1);
    await until('chat deliveries', () => deliveries().length >= expected, 15_000, 100).catch(() => undefined);
    const latencies = deliveries().map((c) => c.receivedAt - c.sentAt);
    const missing = expected - latencies.length;
    log(`network: ${latencies.length} chat deliveries measured, ${missing} missing`);

    // exclusion convergence
    const target = members[members.length - 1] as TestPeer;
    const rest = members.slice(0, -1);
    type Table = { tek: { version: number; fingerprint: string | null } | null; blocklist: string[] };
    const before = await creator.api.call<Table>('keys.table', { group });
    const x0 = Date.now();
    await creator.api.call('group.exclude', { group, peers: [target.peerId] });
    let exclusionMs = Number.NaN;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const tables = await Promise.all(rest.map((p) => p.api.call<Table>('keys.table', { group }).catch(() => null)));
      const now = Date.now();
      const fp = tables[0]?.tek?.fingerprint;
      if (tables.every((t) => t && t.tek && t.tek.fingerprint === fp && fp !== before.tek?.fingerprint && t.blocklist.length > before.blocklist.length)) {
        exclusionMs = now - x0;
        break;
      }
      await sleep(30);
    }
    log(`network: exclusion converged in ${exclusionMs} ms`);
    for (const p of members) p.api.close();
    return {
      peers: members.length,
      chatP50Ms: percentile(latencies, 50),
      chatP95Ms: percentile(latencies, 95),
      chatMaxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
      chatSamples: latencies.length,
      chatMissing: missing,
      joinMs,
      exclusionMs,
      ...(chatCpu ? { chatCpu } : {}),
    };
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
