/**
 * @module bench/network
 * The real-network section (issue 17 item 5): `peers` real Conclave peers on
 * loopback TCP (no mDNS), several to a Node process (bench/peers-in-process.ts:
 * each peer its own `startPeer` with its own profile, identity, libp2p node,
 * sockets, engines and store), spread round-robin over `hosts` processes, each
 * in a session of its own. Driven through each peer's API handler (the same
 * `api.call` the WebSocket server wraps, docs/api.md).
 *
 * 1. Peer 0 creates the group; peers 1…peers−2 join a batch at a time, each with
 *    an invite of its own from a member (round-robin over the members), and wait
 *    to be members.
 * 2. join: the last peer calls `group.join`; peer 0 sends a chat message every
 *    100 ms; joinMs = from the call until the joiner's first decrypted
 *    `chat.message` from another peer.
 * 3. idle: after a pause, the CPU of every host process over `idleMs`, per peer
 *    (idleCpuPct, % of one core), and the hosts' resident memory per peer (rssMB;
 *    rssPerExtraPeerMB leaves out the empty host's runtime); gossipsub messages
 *    per peer per second and connections opened in the window say what the CPU
 *    went on. BENCH_IDLE_PROF=DIR writes a V8 CPU profile of each host over the
 *    window; BENCH_PEER_LOG=DIR each peer's diagnostic lines
 *    (bench/peers-in-process.ts).
 * 4. chat: every peer sends `rounds` messages, one message every 100 ms in all
 *    (peers interleaved); latency = shownAt − sentAt of every delivery to every
 *    other peer (same machine, same clock; shownAt: the `chat.message` event,
 *    raised once the message is fsynced in the receiver's history, where the
 *    payload's receivedAt is its arrival): p50, p95, max over all pairs.
 * 5. exclusion: peer 0 excludes the last peer; exclusionMs = until every
 *    remaining peer holds one new TEK (same fingerprint, not the old one) and
 *    has the peer blocked (its blocklist one longer). Each peer's key table is
 *    read the moment it raises `keys.changed`, and every 250 ms besides.
 *
 * Why sessions of their own: started from this process's session, every host
 * would share its one autogroup (Linux schedules sessions fairly against each
 * other, CONFIG_SCHED_AUTOGROUP); on a machine busy with other sessions, ten
 * peers together got one session's share of the two cores, and chat p95
 * measured 200–530 ms where the same code measured 26–114 ms with a session per
 * peer under the same load. The CPU the peers and everything else used during
 * the chat phase is recorded with the result, so a reader can tell a busy
 * machine from a slow peer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './measure.js';
import { PeerHost, type ChatEvent, type HostStats } from './peers-in-process.js';
import type { NetworkResult } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;

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
 * host processes and by everything else on the machine, in cores (1 = one core
 * busy all the time). Null where /proc is not there (not Linux).
 */
function cpuMeter(pids: (number | undefined)[]): () => { peersCores: number; otherCores: number; cores: number } | null {
  try {
    const m0 = machineTicks();
    const p0 = pids.map(processTicks);
    return () => {
      try {
        const m1 = machineTicks();
        const used = pids.reduce<number>((sum, pid, i) => sum + processTicks(pid) - (p0[i] as number), 0);
        const cores = cpus().length;
        const perTick = cores / Math.max(1, m1.total - m0.total); // cores per tick of machine time
        return { peersCores: round2(used * perTick), otherCores: round2(Math.max(0, m1.busy - m0.busy - used) * perTick), cores };
      } catch {
        return null;
      }
    };
  } catch {
    return () => null;
  }
}

/** One peer: the host it runs in, its index there, its peer ID. */
interface Peer {
  host: PeerHost;
  index: number;
  peerId: string;
}

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await Promise.resolve(fn()).catch(() => undefined);
    if (v) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function isMember(p: Peer, group: string): Promise<boolean> {
  const list = await p.host.call<{ group: string; state: string }[]>(p.index, 'group.list', {});
  return list.some((g) => g.group === group && g.state === 'member');
}

export interface NetworkOptions {
  /** Host processes the peers are spread over (default: min(peers, 5)). */
  hosts?: number;
  /** Length of the idle CPU window, ms (default 20 s). */
  idleMs?: number;
  /** Joins started at once while the group forms (default 8). */
  joinBatch?: number;
  /**
   * Pause between the last join and the idle window, ms (default 3 s). The group is
   * still settling then (revision steps for the newcomer, their heartbeats, catch-up
   * with it); a longer pause measures a settled group.
   */
  idleAfterMs?: number;
}

export async function measureNetwork(peers = 10, rounds = 10, log: (s: string) => void = () => {}, options: NetworkOptions = {}): Promise<NetworkResult> {
  const hostCount = Math.max(1, Math.min(peers, options.hosts ?? 5));
  const idleMs = options.idleMs ?? 20_000;
  const batch = options.joinBatch ?? 8;
  const root = mkdtempSync(join(tmpdir(), 'conclave-bench-net-'));
  const hosts: PeerHost[] = [];
  const killAll = (): void => hosts.forEach((h) => h.kill());
  // Hosts in sessions of their own do not get a terminal's Ctrl-C: stop them here.
  const onSignal = (): void => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let h = 0; h < hostCount; h++) hosts.push(await PeerHost.launch());
    const base = await Promise.all(hosts.map((h) => h.stats()));
    const start = async (i: number): Promise<Peer> => {
      const host = hosts[i % hostCount] as PeerHost;
      const { index, peerId } = await host.startPeer(`p${i}`, mkdtempSync(join(root, `p${i}-`)));
      return { host, index, peerId };
    };
    const t = Date.now();
    const creator = await start(0);
    const { group } = await creator.host.call<{ group: string; invite: string }>(creator.index, 'group.create', { name: 'bench' });
    // The invite group.create returns admits 10 (api-methods DEFAULT_INVITE_USES): one with a use for every peer.
    const { invite } = await creator.host.call<{ invite: string }>(creator.index, 'group.invite', { group, uses: peers });
    const members: Peer[] = [creator];
    for (let first = 1; first <= peers - 2; first += batch) {
      const ids = Array.from({ length: Math.min(batch, peers - 1 - first) }, (_, k) => first + k);
      const started = await Promise.all(ids.map(start));
      // Each joiner gets an invite of its own from a different member (round-robin): with one
      // inviter for all, that member admitted every newcomer and its host fell behind.
      const inviters = started.map((_, k) => members[(first + k) % members.length] as Peer);
      const invites = await Promise.all(inviters.map((m) => m.host.call<{ invite: string }>(m.index, 'group.invite', { group, uses: 1 })));
      await Promise.all(started.map((p, k) => p.host.call(p.index, 'group.join', { invite: invites[k]?.invite })));
      await Promise.all(started.map((p, k) => until(`p${ids[k]} to become a member`, () => isMember(p, group), 120_000, 300)));
      members.push(...started);
      const st = await Promise.all(hosts.map((h) => h.stats()));
      const conns = st.reduce((a, x) => a + x.connections, 0);
      log(`network: ${members.length} members after ${((Date.now() - t) / 1000).toFixed(1)} s; ${conns} connections, ${st.reduce((a, x) => a + x.connectionsOpened, 0)} opened so far; event loops late by up to ${Math.max(...st.map((x) => x.loopDelayMaxMs))} ms`);
    }
    const formMs = Date.now() - t;
    log(`network: ${members.length} peers are members (${(formMs / 1000).toFixed(1)} s, ${hostCount} host processes)`);

    // join → first decrypted message
    const joiner = await start(peers - 1);
    await sleep(1000);
    let ticking = true;
    let seq = 0;
    const ticker = (async () => {
      while (ticking) {
        await creator.host.call(creator.index, 'chat.send', { group, text: `tick ${seq++}` }).catch(() => undefined);
        await sleep(100);
      }
    })();
    const joinerChats = (): ChatEvent[] => joiner.host.chats.filter((c) => c.peer === joiner.index && c.sender !== joiner.peerId);
    const t0 = Date.now();
    await joiner.host.call(joiner.index, 'group.join', { invite });
    const first = await until('the joiner to decrypt a message', () => joinerChats()[0], 60_000, 20).catch(() => null);
    ticking = false;
    await ticker;
    const joinMs = first ? first.shownAt - t0 : Number.NaN;
    await until('the joiner to become a member', () => isMember(joiner, group), 30_000, 300);
    members.push(joiner);
    log(`network: join to first decrypted message ${joinMs} ms`);
    // BENCH_JOIN_TRACE=1: when the joiner reached each stage of its join, ms after the call.
    if (process.env.BENCH_JOIN_TRACE) {
      const stages = joiner.host.progress.filter((x) => x.peer === joiner.index && x.at >= t0).map((x) => `${x.stage} +${x.at - t0}`);
      const firstKeys = joiner.host.keys.find((k) => k.peer === joiner.index && k.at >= t0 && k.fingerprint !== null);
      log(`network: join stages: ${stages.join(', ')}; first key state +${firstKeys ? firstKeys.at - t0 : '?'}; first message shown +${joinMs} (sent ${first ? first.sentAt - t0 : '?'})`);
    }

    // idle CPU and memory, every peer a member
    await sleep(options.idleAfterMs ?? 3000);
    // BENCH_IDLE_PROF=DIR: a V8 CPU profile of each host over the idle window, into DIR.
    const profDir = process.env.BENCH_IDLE_PROF;
    if (profDir) await Promise.all(hosts.map((h) => h.profileStart()));
    const idle0 = await Promise.all(hosts.map((h) => h.stats()));
    const w0 = Date.now();
    await sleep(idleMs);
    const idle1 = await Promise.all(hosts.map((h) => h.stats()));
    if (profDir) await Promise.all(hosts.map((h, i) => h.profileStop(join(profDir, `idle-${peers}-host${i}.cpuprofile`))));
    const wall = Date.now() - w0;
    const idleCpuUs = idle1.reduce((s, x, i) => s + x.cpuUs - (idle0[i]?.cpuUs ?? 0), 0);
    const idleCpuPct = round2((idleCpuUs / 1000 / wall / members.length) * 100);
    const rssTotal = idle1.reduce((s, x) => s + x.rssBytes, 0);
    const rssBase = base.reduce((s, x) => s + x.rssBytes, 0);
    const rssMB = round2(rssTotal / 2 ** 20 / members.length);
    const rssPerExtraPeerMB = round2((rssTotal - rssBase) / 2 ** 20 / members.length);
    const rssHostBaseMB = round2(rssBase / 2 ** 20 / hostCount);
    const sum = (xs: HostStats[], f: (x: HostStats) => number): number => xs.reduce((a, x) => a + f(x), 0);
    const idleMsgsPerPeerSec = round2((sum(idle1, (x) => x.pubsubMessages) - sum(idle0, (x) => x.pubsubMessages)) / members.length / (wall / 1000));
    const idleDials = sum(idle1, (x) => x.connectionsOpened) - sum(idle0, (x) => x.connectionsOpened);
    const connectionsPerPeer = round2(sum(idle1, (x) => x.connections) / members.length);
    const meshPeersPerPeer = round2(sum(idle1, (x) => x.meshPeers) / members.length);
    log(`network: idle ${idleCpuPct} % of a core per peer over ${(wall / 1000).toFixed(0)} s; ${rssMB} MB resident per peer (${rssPerExtraPeerMB} MB beyond the empty hosts); ${idleMsgsPerPeerSec} gossipsub messages/s per peer, ${connectionsPerPeer} connections per peer, ${meshPeersPerPeer} gossipsub mesh peers per peer (both topics), ${idleDials} opened while idle; event loops late by up to ${Math.max(...idle1.map((x) => x.loopDelayMaxMs))} ms`);

    // chat latency: one message every 100 ms, senders interleaved
    await sleep(1000);
    const cpuDuringChat = cpuMeter(hosts.map((h) => h.pid));
    // BENCH_CHAT_PROF=DIR: a V8 CPU profile of each host over the chat phase, into DIR.
    const chatProfDir = process.env.BENCH_CHAT_PROF;
    if (chatProfDir) await Promise.all(hosts.map((h) => h.profileStart()));
    const texts: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [i, p] of members.entries()) {
        const text = `bench ${r}:${i}`;
        texts.push(text);
        void p.host.call(p.index, 'chat.send', { group, text }).catch(() => undefined);
        await sleep(100);
      }
    }
    const chatCpu = cpuDuringChat();
    if (chatProfDir) await Promise.all(hosts.map((h, i) => h.profileStop(join(chatProfDir, `chat-${peers}-host${i}.cpuprofile`))));
    if (chatCpu) log(`network: CPU during the chat phase: peers ${chatCpu.peersCores} cores, everything else ${chatCpu.otherCores} cores, of ${chatCpu.cores}`);
    const wanted = new Set(texts);
    const ids = new Map(members.map((p) => [p.host, new Map<number, string>()]));
    for (const p of members) ids.get(p.host)?.set(p.index, p.peerId);
    const deliveries = () => hosts.flatMap((h) => h.chats.filter((c) => wanted.has(c.text) && c.sender !== ids.get(h)?.get(c.peer)));
    const expected = texts.length * (members.length - 1);
    await until('chat deliveries', () => deliveries().length >= expected, 15_000, 100).catch(() => undefined);
    // As a client sees it: from the send until the event that shows the message (after its history fsync).
    const latencies = deliveries().map((c) => c.shownAt - c.sentAt);
    const missing = expected - latencies.length;
    log(`network: ${latencies.length} chat deliveries measured, ${missing} missing`);

    // exclusion convergence
    const target = members[members.length - 1] as Peer;
    const rest = members.slice(0, -1);
    type Table = { tek: { version: number; fingerprint: string | null } | null; blocklist: string[] };
    const before = await creator.host.call<Table>(creator.index, 'keys.table', { group });
    const x0 = Date.now();
    await creator.host.call(creator.index, 'group.exclude', { group, peers: [target.peerId] });
    /** The time each remaining peer first showed `fp` with the peer blocked, or null. */
    const reached = (p: Peer, fp: string): number | null => p.host.keys.find((k) => k.peer === p.index && k.at >= x0 && k.fingerprint === fp && k.blocked > before.blocklist.length)?.at ?? null;
    const latest = (p: Peer) => p.host.keys.filter((k) => k.peer === p.index && k.at >= x0).at(-1);
    let exclusionMs = Number.NaN;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const fp = latest(creator)?.fingerprint;
      if (fp && fp !== before.tek?.fingerprint && rest.every((p) => latest(p)?.fingerprint === fp)) {
        const at = rest.map((p) => reached(p, fp));
        if (at.every((x) => x !== null)) {
          exclusionMs = Math.max(...(at as number[])) - x0;
          break;
        }
      }
      await Promise.all(rest.map((p) => p.host.readKeys(p.index, group).catch(() => undefined)));
      await sleep(250);
    }
    log(`network: exclusion converged in ${exclusionMs} ms`);
    // BENCH_EXCL_TRACE=1: when each peer reached the new TEK, and the key log of the slowest three.
    if (process.env.BENCH_EXCL_TRACE && !Number.isNaN(exclusionMs)) {
      const fp = latest(creator)?.fingerprint ?? '';
      const times = rest.map((p) => ({ p, ms: (reached(p, fp) ?? Number.NaN) - x0 })).sort((a, b) => a.ms - b.ms);
      log(`network: exclusion reached, ms after the call: ${times.map((x) => x.ms).join(' ')}`);
      type KeyLog = { log: { at: number; kind: string; text: string }[] };
      for (const p of [creator, ...times.slice(-3).map((x) => x.p)]) {
        const seen = p.host.keys.filter((k) => k.peer === p.index && k.at >= x0).map((k) => `+${k.at - x0} v${k.version} ${k.fingerprint?.slice(0, 6)} blocked ${k.blocked}`);
        log(`network:   peer ${p.index} key states: ${seen.join(', ')}`);
      }
      for (const { p, ms } of times.slice(-3)) {
        const t = await p.host.call<KeyLog>(p.index, 'keys.table', { group }).catch(() => null);
        for (const e of t?.log.filter((x) => x.at >= x0) ?? []) log(`network:   peer ${p.index} (${ms} ms): +${e.at - x0} ms ${e.kind}: ${e.text}`);
      }
    }
    return {
      peers: members.length,
      chatP50Ms: percentile(latencies, 50),
      chatP95Ms: percentile(latencies, 95),
      chatMaxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
      chatSamples: latencies.length,
      chatMissing: missing,
      joinMs,
      exclusionMs,
      idleCpuPct,
      rssMB,
      rssPerExtraPeerMB,
      rssHostBaseMB,
      hosts: hostCount,
      idleWindowMs: wall,
      idleMsgsPerPeerSec,
      connectionsPerPeer,
      idleConnectionsOpened: idleDials,
      formMs,
      ...(chatCpu ? { chatCpu } : {}),
    };
  } finally {
    await Promise.all(hosts.map((h) => h.close().catch(() => h.kill())));
    rmSync(root, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The real-network runs of one bench: sizes, chat rounds and idle window (issue 17: 10 and 50 peers).
 * Fifty peers go in ten host processes (five each: on a shared machine every session gets its
 * share of the cores) and join four at a time (eight at once left hosts seconds behind).
 */
/**
 * The idle window starts this long after the last join. A join's own work goes on for
 * seconds after the joiner reads its first message (owners step their KEK revisions for
 * it and announce them, catch-up and receipts with the newcomer, its first heartbeats),
 * and V8 runs two or three full "memory reducer" collections 10–30 s after a process
 * stops allocating. Ten peers, 30 s windows: 2.0–2.4 % of a core each 3 s after the
 * join, 1.2–1.6 % 20 s after, 1.0–1.2 % 45 s after, 0.9–1.05 % 60 s after (single
 * runs, load 2–7, 5 Dec). That work belongs to the join; idle is a group where nothing
 * has happened for a while but its upkeep.
 */
const IDLE_AFTER_JOIN_MS = 45_000;

export const NETWORK_RUNS = {
  quick: [
    { peers: 10, rounds: 5, idleMs: 10_000, idleAfterMs: IDLE_AFTER_JOIN_MS },
    { peers: 50, rounds: 2, idleMs: 10_000, hosts: 10, joinBatch: 4, idleAfterMs: IDLE_AFTER_JOIN_MS },
  ],
  full: [
    { peers: 10, rounds: 20, idleMs: 30_000, idleAfterMs: IDLE_AFTER_JOIN_MS },
    { peers: 50, rounds: 6, idleMs: 30_000, hosts: 10, joinBatch: 4, idleAfterMs: IDLE_AFTER_JOIN_MS },
  ],
};

/**
 * Every real-network run of a bench, one after the other, with the notes that say
 * how each was measured and what it missed. `network` is the largest size measured.
 */
export async function networkSection(quick: boolean, log: (s: string) => void): Promise<{ network: NetworkResult | null; networkSizes: NetworkResult[]; notes: string[] }> {
  const notes: string[] = [];
  const sizes: NetworkResult[] = [];
  for (const run of quick ? NETWORK_RUNS.quick : NETWORK_RUNS.full) {
    try {
      const n = await measureNetwork(run.peers, run.rounds, log, { idleMs: run.idleMs, idleAfterMs: run.idleAfterMs, ...('hosts' in run ? { hosts: run.hosts, joinBatch: run.joinBatch } : {}) });
      sizes.push(n);
      const load = ` load average ${loadAverage()} (1, 5, 15 min) on ${cpus().length} cores at its end`;
      notes.push(
        `network ${n.peers} peers: real peers (startPeer, each with its own profile, libp2p node, TCP socket and engines) in ${n.hosts} Node processes (bench/peers-in-process.ts, each in a session of its own) on 127.0.0.1 TCP without mDNS, driven through their API handlers; ${n.chatSamples} chat deliveries over ${run.rounds} rounds${n.chatMissing ? `, ${n.chatMissing} expected deliveries not seen within 15 s` : ''}; exclusion convergence from each peer's key table read on \`keys.changed\` and every 250 ms${Number.isNaN(n.exclusionMs) ? ' — did not converge within 30 s' : ''}; idle CPU over ${Math.round((n.idleWindowMs ?? 0) / 1000)} s beginning ${Math.round(run.idleAfterMs / 1000)} s after the last join;${load}.`,
      );
      if (n.chatCpu) notes.push(`network ${n.peers} peers: CPU while the chat messages were sent: the peers ${n.chatCpu.peersCores} cores, other processes ${n.chatCpu.otherCores} cores, of ${n.chatCpu.cores} (other work on the machine delays every hop of a message).`);
    } catch (err) {
      notes.push(`network ${run.peers} peers: not measured — ${(err as Error).message}.`);
      log(`network ${run.peers} peers: ${(err as Error).message}`);
    }
  }
  return { network: sizes.at(-1) ?? null, networkSizes: sizes, notes };
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
}
