/**
 * Integration harness: real `conclave` processes (bin/conclave.js) driven through
 * their real WebSocket control API. No mocks. Every process and temp dir a test
 * creates is registered here and removed by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'conclave.js');

const procs = new Set<ChildProcess>();
const dirs = new Set<string>();

export function tempDir(prefix = 'conclave-it-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export async function cleanup(): Promise<void> {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  await Promise.all([...procs].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : null)));
  procs.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export interface Spawned {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exit: Promise<number | null>;
}

/**
 * Spawn `conclave ...args` (optionally through a wrapper like `ip netns exec NS`).
 * `ownSession`: the child gets a session of its own (setsid), so Linux's autogroup
 * scheduler gives it its own share of the CPU, as a separately started program
 * has; without it every child shares the one share of this process's session.
 * `cleanup()` still kills it; a terminal's Ctrl-C no longer reaches it.
 */
export function spawnConclave(args: string[], wrapper: string[] = [], ownSession = false): Spawned {
  const cmd = wrapper.length > 0 ? wrapper[0]! : process.execPath;
  const argv = wrapper.length > 0 ? [...wrapper.slice(1), process.execPath, BIN, ...args] : [BIN, ...args];
  const proc = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: ownSession });
  procs.add(proc);
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      lines.push({ event: 'non-json', text: l });
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (process.env.CONCLAVE_IT_VERBOSE) process.stderr.write(`[child ${proc.pid}] ${l}\n`);
  });
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, stderr, exit };
}

export interface Notification {
  method: string;
  params: Record<string, unknown>;
}

export class ApiClient {
  readonly events: Notification[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { code: number; message: string }; method?: string; params?: Record<string, unknown> };
      if (msg.id !== undefined && msg.id !== null) {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (!w) return;
        if (msg.error) w.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
        else w.resolve(msg.result);
      } else if (msg.method) {
        this.events.push({ method: msg.method, params: msg.params ?? {} });
      }
    });
  }

  static async connect(url: string, token?: string): Promise<ApiClient> {
    const ws = new WebSocket(token ? `${url}?token=${encodeURIComponent(token)}` : url);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new ApiClient(ws);
  }

  /**
   * Connects through a Unix socket that forwards to a peer's loopback API (see
   * test/nat/testbed.ts `exposeApi`); the Host header names that loopback port.
   */
  static async connectUnix(socketPath: string, apiUrl: string, token: string): Promise<ApiClient> {
    const { port, pathname } = new URL(apiUrl);
    const ws = new WebSocket(`ws+unix://${socketPath}:${pathname}?token=${encodeURIComponent(token)}`, { headers: { host: `127.0.0.1:${port}` } });
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new ApiClient(ws);
  }

  call<T = unknown>(method: string, params?: unknown): Promise<T> {
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

export interface TestPeer {
  name: string;
  profile: string;
  spawned: Spawned;
  api: ApiClient;
  peerId: string;
  invite?: string;
  group?: string;
}

export interface PeerSpec {
  name: string;
  profile?: string;
  create?: string;
  join?: string;
  /** null: no --listen (the peer's default: every IPv4 interface, the port its profile used last). */
  listen?: string[] | null;
  mdns?: boolean;
  wrapper?: string[];
  inviteAddresses?: 'all' | 'none';
  /** Skip connecting a WebSocket client (the API is unreachable, e.g. inside a namespace). */
  noApi?: boolean;
  /** Run the peer in a session of its own (see spawnConclave). */
  ownSession?: boolean;
  /** More command-line arguments for `conclave peer`. */
  extraArgs?: string[];
}

export async function startTestPeer(spec: PeerSpec): Promise<TestPeer> {
  const profile = spec.profile ?? tempDir();
  const args = ['peer', '--profile', profile, '--name', spec.name, ...(spec.listen === null ? [] : ['--listen', ...(spec.listen ?? ['/ip4/127.0.0.1/tcp/0'])])];
  if (spec.mdns !== true) args.push('--no-mdns');
  if (spec.create) args.push('--create', spec.create);
  if (spec.join) args.push('--join', spec.join);
  if (spec.inviteAddresses) args.push('--invite-addrs', spec.inviteAddresses);
  if (spec.extraArgs) args.push(...spec.extraArgs);
  if (process.env.CONCLAVE_IT_VERBOSE) args.push('--verbose');
  const spawned = spawnConclave(args, spec.wrapper, spec.ownSession);
  const ready = await until(`${spec.name} ready`, () => spawned.lines.find((l) => l.event === 'ready') ?? (spawned.proc.exitCode !== null ? Promise.reject(new Error(`${spec.name} exited: ${spawned.stderr.join(' | ')}`)) : undefined), 60_000); // a loaded machine starts Node slowly
  const api = spec.noApi || spec.wrapper ? (null as unknown as ApiClient) : await ApiClient.connect(String(ready.api), String(ready.token));
  const peer: TestPeer = { name: spec.name, profile, spawned, api, peerId: String(ready.peerId) };
  if (spec.create) {
    const inv = await until(`${spec.name} invite`, () => spawned.lines.find((l) => l.event === 'invite'), 20_000);
    peer.invite = String(inv.invite);
    peer.group = String(inv.group);
  }
  if (spec.join) {
    const j = await until(`${spec.name} joining`, () => spawned.lines.find((l) => l.event === 'joining'), 20_000);
    peer.group = String(j.group);
  }
  return peer;
}

export interface ChatMsg {
  id: string;
  sender: string;
  text: string;
}

export async function history(peer: TestPeer, group: string): Promise<ChatMsg[]> {
  return peer.api.call<ChatMsg[]>('chat.history', { group, limit: 10000 });
}

export async function waitMember(peer: TestPeer, group: string, timeoutMs = 40_000): Promise<void> {
  await until(`${peer.name} to become a member`, async () => {
    const list = await peer.api.call<{ group: string; state: string }[]>('group.list');
    return list.find((g) => g.group === group && g.state === 'member');
  }, timeoutMs);
}
