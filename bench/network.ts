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
 * Every process and temp directory is removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { percentile } from './measure.js';
import type { NetworkResult } from './types.js';

interface Notification {
  method: string;
  params: Record<string, unknown>;
  at: number;
}

class Api {
  readonly events: Notification[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  listeners: ((n: Notification) => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = Date.now();
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown> };
      if (msg.id !== undefined && msg.id !== null) {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error.message));
        else w?.resolve(msg.result);
      } else if (msg.method) {
        const n = { method: msg.method, params: msg.params ?? {}, at };
        this.events.push(n);
        for (const l of this.listeners) l(n);
      }
    });
  }

  static async connect(url: string, token: string): Promise<Api> {
    const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new Api(ws);
  }

  call<T>(method: string, params?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

interface Peer {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  api: Api;
  peerId: string;
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function measureNetwork(root: string, peers = 10, rounds = 10, log: (s: string) => void = () => {}): Promise<NetworkResult> {
  const started: Peer[] = [];
  const bin = join(root, 'bin', 'conclave.js');
  const startPeer = async (name: string, extra: string[]): Promise<Peer> => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-'));
    const proc = spawn(process.execPath, [bin, 'peer', '--profile', dir, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* not a JSON line */
      }
    });
    createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
    const partial = { proc, lines, dir } as Peer;
    started.push(partial);
    const ready = await until(`${name} ready`, () => lines.find((l) => l.event === 'ready') ?? (proc.exitCode !== null ? Promise.reject(new Error(`${name} exited: ${stderr.slice(-3).join(' | ')}`)) : undefined), 60_000);
    partial.api = await Api.connect(String(ready.api), String(ready.token));
    partial.peerId = String(ready.peerId);
    return partial;
  };
  const isMember = async (p: Peer, group: string) => (await p.api.call<{ group: string; state: string }[]>('group.list')).some((g) => g.group === group && g.state === 'member');

  try {
    const creator = await startPeer('p0', ['--create', 'bench']);
    const inv = await until('invite', () => creator.lines.find((l) => l.event === 'invite'), 30_000);
    const invite = String(inv.invite);
    const group = String(inv.group);
    const members = [creator];
    const joining = await Promise.all(Array.from({ length: peers - 2 }, (_, i) => startPeer(`p${i + 1}`, ['--join', invite])));
    for (const p of joining) await until(`${p.peerId} member`, () => isMember(p, group), 90_000, 200);
    members.push(...joining);
    log(`network: ${members.length} peers are members`);

    // join → first decrypted message
    const joiner = await startPeer(`p${peers - 1}`, []);
    await sleep(1000);
    let ticking = true;
    let seq = 0;
    const ticker = (async () => {
      while (ticking) {
        await creator.api.call('chat.send', { group, text: `tick ${seq++}` }).catch(() => undefined);
        await sleep(100);
      }
    })();
    const firstMessage = new Promise<number>((resolve) => {
      joiner.api.listeners.push((n) => {
        if (n.method === 'chat.message' && n.params.sender !== joiner.peerId) resolve(n.at);
      });
    });
    const t0 = Date.now();
    await joiner.api.call('group.join', { invite });
    const firstAt = await Promise.race([firstMessage, sleep(60_000).then(() => Number.NaN)]);
    ticking = false;
    await ticker;
    const joinMs = firstAt - t0;
    await until('joiner member', () => isMember(joiner, group), 30_000, 200);
    members.push(joiner);
    log(`network: join to first decrypted message ${joinMs} ms`);

    // chat latency
    await sleep(1500);
    const latencies: number[] = [];
    const expected = new Set<string>();
    for (const p of members) {
      p.api.listeners.push((n) => {
        if (n.method !== 'chat.message' || n.params.sender === p.peerId) return;
        const text = String(n.params.text);
        if (!text.startsWith('bench ')) return;
        const key = `${p.peerId} ${text}`;
        if (!expected.delete(key)) return;
        latencies.push(Number(n.params.receivedAt) - Number(n.params.sentAt));
      });
    }
    for (let r = 0; r < rounds; r++) {
      for (const [i, p] of members.entries()) {
        const text = `bench ${r}:${i}`;
        for (const q of members) if (q !== p) expected.add(`${q.peerId} ${text}`);
        void p.api.call('chat.send', { group, text }).catch(() => undefined);
        await sleep(100);
      }
    }
    await until('chat deliveries', () => expected.size === 0, 15_000, 100).catch(() => undefined);
    const missing = expected.size;
    log(`network: ${latencies.length} chat deliveries measured, ${missing} missing`);

    // exclusion convergence
    const target = members[members.length - 1] as Peer;
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
      const agreed = tables.every((t) => t && t.tek && t.tek.fingerprint === fp && fp !== before.tek?.fingerprint && t.blocklist.length > before.blocklist.length);
      if (agreed) {
        exclusionMs = now - x0;
        break;
      }
      await sleep(30);
    }
    log(`network: exclusion converged in ${exclusionMs} ms`);
    return {
      peers: members.length,
      chatP50Ms: percentile(latencies, 50),
      chatP95Ms: percentile(latencies, 95),
      chatMaxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
      chatSamples: latencies.length,
      chatMissing: missing,
      joinMs,
      exclusionMs,
    };
  } finally {
    for (const p of started) {
      p.api?.close();
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
    }
    await sleep(500);
    for (const p of started) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      rmSync(p.dir, { recursive: true, force: true });
    }
  }
}
