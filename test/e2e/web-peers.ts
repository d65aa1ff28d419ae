// Support for the browser-mode e2e tests: real web-mode peers (`app/cli/web.ts`)
// as child processes on loopback, and Debian's Chromium driven by playwright-core.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const RESULTS = join(ROOT, 'test-results', 'e2e');
export const PEER_ENTRY = join(ROOT, 'app', 'peer', 'peer.ts');

export interface WebPeer {
  name: string;
  /** Its profile directory (on its own tmpfs with `tmpfsMB`). */
  profile: string;
  peerId: string;
  /** The first link the peer printed (single use: a page or `apiToken` spends it; see `nextLink`). */
  url: string;
  /** The oldest printed link not handed out yet, waiting for the peer to print one (each used link makes it print another). */
  nextLink(): Promise<string>;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

const LINK = /http:\/\/127\.0\.0\.1:\d+\/\?launch=[\w-]+/;

export interface WebPeerOptions {
  /** Free port for the UI and API (0: any). */
  port?: number;
  /**
   * The profile on a tmpfs of this many MiB of the peer's own mount namespace (`unshare -m`,
   * private propagation: nothing is mounted where other processes see it), so that a test can
   * fill its disk (`fillDisk`). Needs root; see `tmpfsProfileUsable`.
   */
  tmpfsMB?: number;
}

/** Starts `npm run web` for a fresh profile; resolves once it printed its URL. */
export async function startWebPeer(name: string, baseDir: string, options: WebPeerOptions = {}): Promise<WebPeer> {
  const profile = join(baseDir, name.toLowerCase());
  mkdirSync(profile, { recursive: true });
  const peerArgs = ['--import', 'tsx', join(ROOT, 'app', 'cli', 'web.ts'), '--profile', profile, '--port', String(options.port ?? 0), '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--verbose'];
  const [command, args] = options.tmpfsMB
    ? ['unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o "size=$1m" tmpfs "$2" && shift 2 && exec "$@"', 'sh', String(options.tmpfsMB), profile, process.execPath, ...peerArgs]]
    : [process.execPath, peerArgs];
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const started = await new Promise<{ url: string; peerId: string }>((resolveStart, reject) => {
    const check = () => {
      const url = LINK.exec(out)?.[0];
      const peerId = /Conclave peer (\S+)/.exec(out)?.[1];
      if (url && peerId) {
        child.stdout!.off('data', check);
        resolveStart({ url, peerId });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`web peer ${name} exited with ${code}:\n${out}`)));
  });
  let handedOut = 0;
  return {
    name,
    profile,
    ...started,
    async nextLink() {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const links = [...out.matchAll(new RegExp(LINK.source, 'g'))].map((m) => m[0]);
        if (links.length > handedOut) return links[handedOut++]!;
        if (Date.now() > deadline) throw new Error(`${name} printed no fresh link:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    process: child,
    output: () => out,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function prerequisites(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(PEER_ENTRY)) return `the headless peer (${PEER_ENTRY}) has not landed yet`;
  return null;
}

/**
 * Builds the UI as it is in the tree now (the peers serve dist/renderer): never a stale bundle.
 * Once per test run: the e2e files run two at a time, and a second file's rebuild removed the
 * bundle while the first file's peers served it. The build is made under a lock directory and
 * marked with the test runner's pid (the parent of every file's process), and a file of the
 * same run that finds the mark uses that build.
 */
export async function buildUiFresh(): Promise<void> {
  const { ensureBuilt } = await import('../../app/cli/web.js');
  const dist = join(ROOT, 'dist');
  const lock = join(dist, 'renderer-build.lock');
  const mark = join(dist, 'renderer-built-for');
  const run = String(process.ppid);
  mkdirSync(dist, { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a build that was killed is older than any build takes.
      if (Date.now() - statSync(lock).mtimeMs > 240_000 || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (existsSync(mark) && readFileSync(mark, 'utf8') === run && existsSync(join(dist, 'renderer', 'index.html'))) return;
    rmSync(mark, { force: true });
    rmSync(join(dist, 'renderer'), { recursive: true, force: true });
    await ensureBuilt(ROOT, () => undefined);
    writeFileSync(mark, run);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Whether a peer's profile can be put on a tmpfs of its own mount namespace here (root, and
 * util-linux's unshare): null if so, else why not.
 */
export function tmpfsProfileUsable(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-tmpfs-probe-'));
  try {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$0"', dir], { encoding: 'utf8' });
    return r.status === 0 ? null : `cannot mount a tmpfs in a private mount namespace (${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}): run as root`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the tmpfs under a peer started with `tmpfsMB` (every later write there fails with ENOSPC). */
export function fillDisk(peer: WebPeer): void {
  const r = spawnSync('nsenter', ['-t', String(peer.process.pid), '-m', '--', 'sh', '-c', 'cat /dev/zero > "$0/disk-filler" 2>/dev/null; df -k "$0" | tail -1', peer.profile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not fill ${peer.name}'s disk: ${r.error?.message ?? r.stderr}`);
}

/** Frees what `fillDisk` took. */
export function freeDisk(peer: WebPeer): void {
  const r = spawnSync('nsenter', ['-t', String(peer.process.pid), '-m', '--', 'rm', '-f', join(peer.profile, 'disk-filler')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not free ${peer.name}'s disk: ${r.error?.message ?? r.stderr}`);
}

/** Debian's Chromium, headless, with a profile of its own under `dir` (the same flags for every e2e test). */
export async function launchChromium(dir: string, options: { height?: number; acceptDownloads?: boolean } = {}): Promise<BrowserContext> {
  const flags = ['no-sandbox', 'disable-gpu', 'disable-background-networking', 'disable-component-update', 'disable-sync', 'no-first-run'].map((f) => `--${f}`);
  return chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
    viewport: { width: 1280, height: options.height ?? 800 },
    colorScheme: 'light',
    args: flags,
  });
}

/** One page per peer at its URL, its page errors on stderr. */
export async function openPeerPages(context: BrowserContext, peers: readonly WebPeer[], pages: Map<string, Page>): Promise<void> {
  for (const peer of peers) {
    const p = await context.newPage();
    p.on('pageerror', (err) => console.error(`[${peer.name} page] ${err.message}`));
    await p.goto(await peer.nextLink());
    pages.set(peer.name, p);
  }
}

/** Trades one of `peer`'s printed links for its API token, as its page does (`auth` with `launch`). */
export async function apiToken(peer: WebPeer): Promise<string> {
  const link = new URL(await peer.nextLink());
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://${link.host}/api`);
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth', params: { launch: link.searchParams.get('launch') } }));
    const token = (JSON.parse(await reply) as { result?: { token?: string } }).result?.token;
    if (!token) throw new Error(`${peer.name} refused its own printed link`);
    return token;
  } finally {
    ws.close();
  }
}
