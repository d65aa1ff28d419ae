/**
 * @module bench/peers-in-process
 * Many real Conclave peers per Node process, for the network benchmark
 * (bench/network.ts, issue 17 item 5). Fifty peers as fifty Node processes
 * would each carry a whole runtime (tens of MB, a JIT, a GC); here a *host*
 * process runs several peers, each started by `startPeer` (app/peer/peer.ts)
 * with its own profile directory, identity, libp2p node, TCP listener on
 * 127.0.0.1, engines and store. Nothing is shared between them but the event
 * loop and the heap: no mDNS (it would bind the one UDP port 5353), and
 * gossipsub, the engine and the profile keep their state per instance.
 *
 * Two halves in one file:
 * - the host (run as `node <build>/bench/peers-in-process.js --peer-host`, with
 *   an IPC channel): starts peers on request, runs API calls on them, forwards
 *   the events the benchmark needs, and reports its own CPU and RSS;
 * - `PeerHost`, the benchmark's handle on one host process.
 *
 * Each host is started in a session of its own (see bench/network.ts on
 * Linux's autogroup scheduler), as separately started programs are.
 *
 * Each host runs JavaScript, as an installed peer does (bin/conclave.js on
 * dist/cli, the Electron app on its build): the first launch emits this file
 * and the app/ code it imports with tsc (bench/tsconfig.host.json) into a
 * fresh directory under dist/ (inside the checkout, so that node_modules
 * resolves), removed when the bench process exits (and by the next bench, if a
 * signal ended this one first). Under tsx's loader an idle
 * Node process uses about 0.3 % of a core (its hook thread; 0.002 % without),
 * which the idle window would count as the peers'. BENCH_HOST_TSX=1 runs the
 * TypeScript through tsx as before.
 *
 * Protocol (JSON over the Node IPC channel):
 *   parent → host  `{ id, op: 'start', name, profile }` → `{ id, ok: { index, peerId } }`
 *                  `{ id, op: 'call', peer, method, params }` → `{ id, ok }` or `{ id, err }`
 *                  `{ id, op: 'keys', peer, group }` → `{ id, ok }` (and a `keys` event)
 *                  `{ id, op: 'stats' }` → `{ id, ok: HostStats }` (event-loop delay since the last `stats`)
 *                  `{ id, op: 'profile-start' }`, `{ id, op: 'profile-stop', file }` → `{ id, ok }`
 *                  (a V8 CPU profile of the host between the two, written to `file`)
 *                  `{ id, op: 'stop' }` → `{ id, ok }` (every peer stopped)
 *   host → parent  `{ ev: 'chat', peer, sender, text, sentAt, receivedAt, shownAt }`
 *                  `{ ev: 'keys', peer, at, fingerprint, version, blocked }`
 *                  (after each `keys.changed` of a peer: its `keys.table`, stamped)
 *                  `{ ev: 'progress', peer, stage, at }` (each `group.joinProgress`)
 * Invariant: the host holds no secret it sends; events carry only what the
 * benchmark measures (plaintext of bench messages it wrote itself).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** One chat delivery as a peer reported it. */
export interface ChatEvent {
  peer: number;
  sender: string;
  text: string;
  sentAt: number;
  receivedAt: number;
  /** When the host saw the peer's `chat.message` event (after the message's history fsync). */
  shownAt: number;
}

/** A peer's key state, read right after it changed (or when asked). */
export interface KeysEvent {
  peer: number;
  at: number;
  fingerprint: string | null;
  version: number | null;
  blocked: number;
}

export interface HostStats {
  /** User + system CPU of the whole host process since it started, µs. */
  cpuUs: number;
  rssBytes: number;
  peers: number;
  /** Connections its peers hold now, and opened since the host started (both ends count). */
  connections: number;
  connectionsOpened: number;
  /** Gossipsub messages its peers accepted from others since the host started (each once). */
  pubsubMessages: number;
  /** Gossipsub mesh peers its peers hold, summed over their topics (each copy of a message is forwarded to these). */
  meshPeers: number;
  /** How late the host's event loop ran since the previous `stats` (99th percentile and worst), ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

type Reply = { id: number; ok?: unknown; err?: string };
/** A `group.joinProgress` of a peer, stamped when it fired (join tracing, bench/network.ts). */
export interface ProgressEvent {
  peer: number;
  stage: string;
  at: number;
}
type HostEvent = ({ ev: 'chat' } & ChatEvent) | ({ ev: 'keys' } & KeysEvent) | ({ ev: 'progress' } & ProgressEvent);
type KeysTable = { tek: { version: number; fingerprint: string | null } | null; blocklist: string[] };

// ── the parent's side ────────────────────────────────────────────────────────

/** The benchmark's handle on one host process; `chats` and `keys` collect its peers' events. */
export class PeerHost {
  readonly chats: ChatEvent[] = [];
  readonly keys: KeysEvent[] = [];
  readonly progress: ProgressEvent[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: Reply | HostEvent) => {
      if ('ev' in m) {
        const { ev, ...rest } = m;
        if (ev === 'chat') this.chats.push(rest as ChatEvent);
        else if (ev === 'progress') this.progress.push(rest as ProgressEvent);
        else this.keys.push(rest as KeysEvent);
        return;
      }
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!w) return;
      if (m.err !== undefined) w.reject(new Error(m.err));
      else w.resolve(m.ok);
    });
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    void this.exited.then(() => {
      for (const w of this.waiting.values()) w.reject(new Error('peer host exited'));
      this.waiting.clear();
    });
  }

  /** Starts a host process in a session of its own; resolves once it answers. */
  static async launch(): Promise<PeerHost> {
    const file = process.env.BENCH_HOST_TSX ? fileURLToPath(import.meta.url) : builtHost();
    const loader = process.env.BENCH_HOST_TSX ? ['--import', 'tsx'] : [];
    // BENCH_HOST_CPU_PROF=DIR: each host writes a V8 CPU profile into DIR when it stops.
    const prof = process.env.BENCH_HOST_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_HOST_CPU_PROF}`] : [];
    // BENCH_HOST_NODE_FLAGS="--flag …": more Node/V8 flags for every host (those NODE_OPTIONS refuses, e.g. GC flags).
    const extra = (process.env.BENCH_HOST_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const proc = spawn(process.execPath, [...extra, ...prof, ...loader, file, '--peer-host'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true, serialization: 'json' });
    const host = new PeerHost(proc);
    await host.request({ op: 'stats' });
    return host;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  request<T = unknown>(msg: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, ...msg }, (err) => {
        if (err) {
          this.waiting.delete(id);
          reject(err);
        }
      });
    });
  }

  startPeer(name: string, profile: string): Promise<{ index: number; peerId: string }> {
    return this.request({ op: 'start', name, profile });
  }

  call<T = unknown>(peer: number, method: string, params?: unknown): Promise<T> {
    return this.request<T>({ op: 'call', peer, method, params });
  }

  /** Reads a peer's key state now; it also arrives as a `keys` event. */
  readKeys(peer: number, group: string): Promise<void> {
    return this.request({ op: 'keys', peer, group });
  }

  /** Starts a V8 CPU profile of the host (node:inspector); `profileStop` writes it to `file` (.cpuprofile). */
  profileStart(): Promise<void> {
    return this.request({ op: 'profile-start' });
  }

  profileStop(file: string): Promise<void> {
    return this.request({ op: 'profile-stop', file });
  }

  stats(): Promise<HostStats> {
    return this.request<HostStats>({ op: 'stats' });
  }

  /** Stops every peer (each saves its state), then the process; kills it after `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.request({ op: 'stop' }).catch(() => undefined);
    this.proc.disconnect?.();
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

let hostBuild: string | null = null;

/**
 * The host as JavaScript: emitted once per bench process (tsc, about 5 s) into a
 * fresh directory under dist/, removed at exit. Returns the built copy of this file.
 */
function builtHost(): string {
  if (hostBuild) return hostBuild;
  const source = fileURLToPath(import.meta.url);
  const root = join(dirname(source), '..');
  const dist = join(root, 'dist');
  mkdirSync(dist, { recursive: true });
  // A build left by a bench that did not exit normally (SIGINT outside the network section, SIGKILL): its pid is in the name.
  for (const name of readdirSync(dist)) {
    const pid = /^bench-host-(\d+)-/.exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) rmSync(join(dist, name), { recursive: true, force: true });
  }
  const outDir = mkdtempSync(join(dist, `bench-host-${process.pid}-`));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'bench', 'tsconfig.host.json'), '--outDir', outDir], { encoding: 'utf8' });
  hostBuild = join(outDir, relative(root, source).replace(/\.ts$/, '.js'));
  // Exit 2: type errors, every file emitted anyway (type-checking is npm run typecheck's job).
  if ((r.status !== 0 && r.status !== 2) || !existsSync(hostBuild)) throw new Error(`building the bench's peer host failed (tsc exit ${r.status}): ${(r.stdout + r.stderr).slice(0, 2000)}`);
  return hostBuild;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ── the host's side ──────────────────────────────────────────────────────────

/**
 * With BENCH_PEER_LOG: which code of this peer closes or aborts a connection (the
 * first frames of the call's stack outside node's internals), so a log tells a
 * connection this side dropped — and why — from one the far side closed.
 */
function traceCloser(conn: { close: (...a: never[]) => Promise<void>; abort: (err: Error) => void; remotePeer: { toString(): string } }, log: (line: string) => void): void {
  const where = (): string =>
    (new Error().stack ?? '')
      .split('\n')
      .slice(3)
      .filter((l) => !l.includes('node:internal') && !l.includes('traceCloser'))
      .slice(0, 4)
      .map((l) => l.trim().replace(/^at /, '').replace(/\(?(file:\/\/)?\/[^)]*\/(node_modules|app|bench)\//, '($2/'))
      .join(' < ');
  const peer = conn.remotePeer.toString().slice(-8);
  const { close, abort } = conn;
  conn.close = (...a: never[]) => {
    log(`[bench] closing ${peer} from ${where()}`);
    return close.apply(conn, a);
  };
  conn.abort = (err: Error) => {
    log(`[bench] aborting ${peer} (${err?.message?.slice(0, 60)}) from ${where()}`);
    abort.call(conn, err);
  };
}

async function runHost(): Promise<void> {
  const { startPeer } = await import('../app/peer/peer.js');
  type Running = Awaited<ReturnType<typeof startPeer>>;
  const peers: Running[] = [];
  const traffic = { connectionsOpened: 0, pubsubMessages: 0 };
  let profiler: Session | null = null;
  // How late the host's event loop runs, sampled every 100 ms: at 10 ms the monitor's own timer
  // cost an empty Node process 0.5 % of a core (0.05 % at 100 ms), which the idle window counted
  // as the peers' (0.25 % per peer with two peers a host). A stall still shows: the next sample is late.
  const loopDelay = monitorEventLoopDelay({ resolution: 100 });
  loopDelay.enable();
  const send = (m: Reply | HostEvent): void => {
    if (process.connected) process.send?.(m);
  };
  // A stray rejection inside a networking library must not take every peer of the host down.
  process.on('unhandledRejection', () => undefined);

  /**
   * `at`: when the state was current. A `keys.changed` is emitted synchronously as the engine
   * changes the key, so its table is stamped with the event's time, not after the table call
   * returns: on a host whose five peers are busy that call came back up to a second later, and
   * the exclusion looked that much slower (docs/performance.md "Round eleven").
   */
  const readKeys = async (index: number, group: string, at = Date.now()): Promise<void> => {
    const peer = peers[index];
    if (!peer) throw new Error(`no peer ${index}`);
    const t = (await peer.api.call('keys.table', { group })) as KeysTable;
    send({ ev: 'keys', peer: index, at, fingerprint: t.tek?.fingerprint ?? null, version: t.tek?.version ?? null, blocked: t.blocklist.length });
  };

  const handle = async (m: Record<string, unknown>): Promise<unknown> => {
    switch (m.op) {
      case 'start': {
        // BENCH_PEER_LOG=DIR: each peer's diagnostic lines (never secrets) into DIR/NAME.log.
        const logDir = process.env.BENCH_PEER_LOG;
        const logFile = logDir ? join(logDir, `${String(m.name)}.log`) : null;
        const log = logFile ? (line: string) => appendFileSync(logFile, `${new Date().toISOString().slice(11, 23)} ${line}\n`) : undefined;
        const peer = await startPeer({ profile: String(m.profile), name: String(m.name), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, ...(log ? { log } : {}) });
        const index = peers.push(peer) - 1;
        peer.node.addEventListener('connection:open', (e) => {
          traffic.connectionsOpened++;
          log?.(`[bench] connection open ${e.detail.direction} ${e.detail.remotePeer.toString().slice(-8)} ${e.detail.remoteAddr.toString()}`);
          if (log) traceCloser(e.detail, log);
        });
        peer.node.addEventListener('connection:close', (e) => log?.(`[bench] connection close ${e.detail.direction} ${e.detail.remotePeer.toString().slice(-8)} after ${Date.now() - e.detail.timeline.open} ms`));
        peer.node.services.pubsub.addEventListener('gossipsub:message', () => traffic.pubsubMessages++);
        peer.api.subscribe((event, payload) => {
          if (event === 'chat.message') {
            const c = payload as { sender: string; text: string; sentAt: number; receivedAt: number };
            send({ ev: 'chat', peer: index, sender: c.sender, text: c.text, sentAt: c.sentAt, receivedAt: c.receivedAt, shownAt: Date.now() });
          } else if (event === 'group.joinProgress') {
            send({ ev: 'progress', peer: index, stage: (payload as { stage: string }).stage, at: Date.now() });
          } else if (event === 'keys.changed') {
            void readKeys(index, (payload as { group: string }).group, Date.now()).catch(() => undefined);
          }
        });
        return { index, peerId: peer.peerId };
      }
      case 'call': {
        const peer = peers[Number(m.peer)];
        if (!peer) throw new Error(`no peer ${String(m.peer)}`);
        return await peer.api.call(String(m.method), m.params);
      }
      case 'keys':
        return await readKeys(Number(m.peer), String(m.group));
      case 'stats': {
        const u = process.cpuUsage();
        const connections = peers.reduce((n, p) => n + p.node.getConnections().length, 0);
        const meshPeers = peers.reduce((n, p) => n + p.node.services.pubsub.getTopics().reduce((m, t) => m + (p.node.services.pubsub as unknown as { getMeshPeers(t: string): string[] }).getMeshPeers(t).length, 0), 0);
        const loop = { loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6), loopDelayMaxMs: Math.round(loopDelay.max / 1e6) };
        loopDelay.reset();
        return { cpuUs: u.user + u.system, rssBytes: process.memoryUsage().rss, peers: peers.length, connections, meshPeers, ...traffic, ...loop };
      }
      case 'profile-start':
        profiler ??= new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        return null;
      case 'profile-stop': {
        if (!profiler) throw new Error('no profile running');
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        writeFileSync(String(m.file), JSON.stringify(profile));
        return null;
      }
      case 'stop':
        await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
        setImmediate(() => process.exit(0));
        return null;
      default:
        throw new Error(`unknown op ${String(m.op)}`);
    }
  };

  process.on('message', (m: Record<string, unknown>) => {
    const id = Number(m.id);
    handle(m).then(
      (ok) => send({ id, ok: ok ?? null }),
      (err: unknown) => send({ id, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
  });
  // The parent went away (crash, Ctrl-C): nothing should outlive it.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--peer-host')) await runHost();
