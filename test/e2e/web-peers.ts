// Support for the browser-mode e2e tests: real web-mode peers (`app/cli/web.ts`)
// as child processes on loopback, and Debian's Chromium driven by playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  peerId: string;
  url: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `npm run web` for a fresh profile; resolves once it printed its URL. `port` 0 picks a free one. */
export async function startWebPeer(name: string, baseDir: string, port = 0): Promise<WebPeer> {
  const profile = join(baseDir, name.toLowerCase());
  mkdirSync(profile, { recursive: true });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'app', 'cli', 'web.ts'), '--profile', profile, '--port', String(port), '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--verbose'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const started = await new Promise<{ url: string; peerId: string }>((resolveStart, reject) => {
    const check = () => {
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out)?.[0];
      const peerId = /Conclave peer (\S+)/.exec(out)?.[1];
      if (url && peerId) {
        child.stdout!.off('data', check);
        resolveStart({ url, peerId });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`web peer ${name} exited with ${code}:\n${out}`)));
  });
  return {
    name,
    ...started,
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

/** Builds the UI as it is in the tree now (the peers serve dist/renderer): never a stale bundle. */
export async function buildUiFresh(): Promise<void> {
  const { ensureBuilt } = await import('../../app/cli/web.js');
  rmSync(join(ROOT, 'dist', 'renderer'), { recursive: true, force: true });
  await ensureBuilt(ROOT, () => undefined);
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
    await p.goto(peer.url);
    pages.set(peer.name, p);
  }
}
