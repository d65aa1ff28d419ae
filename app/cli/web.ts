/**
 * @module cli/web
 * Browser mode: `npm run web -- --profile DIR [--port PORT]` starts a headless
 * peer and serves the built UI (dist/renderer) on http://127.0.0.1:PORT/, the
 * control API on ws://127.0.0.1:PORT/api on the same server. The page's URL
 * carries a single-use launch code (`?launch=`), never the API token: the page
 * trades the code for the token over its WebSocket, keeps the token in the tab's
 * sessionStorage and takes the code out of the address bar. Once a link is used the
 * peer prints a fresh one for another tab, so the URL a browser's history keeps is
 * spent. The UI is built first if no build is present.
 *
 * Invariants:
 * - Loopback only (serveApi refuses other hosts); requests whose Host header is
 *   not this loopback address and port are refused (DNS-rebinding guard).
 * - Files are served from inside dist/renderer only, under a strict CSP whose
 *   only network allowance is this server's own WebSocket.
 * - No secret but launch links is printed (the token itself never is); a link is
 *   worth one tab, once.
 *   `--open` (what `npm start` passes when Electron cannot run, scripts/start.mjs)
 *   hands the desktop's opener (xdg-open, open, start), only where one exists and,
 *   on Linux, a display is set, the path of a 0600 page in the profile that
 *   redirects to the URL (`writeLauncher`), never the URL itself (a command line
 *   is readable by every local user); otherwise the printed URL is all.
 * - A profile already in use by another process ends in one line naming that
 *   process, never a stack trace (issue 18 §6).
 */
import '../net/shim.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMON_HEADERS, contentTypeOf, hasBuild, rendererDir, resolveRendererFile } from '../ui-serving/renderer-files.js';
import { webCsp } from '../ui-serving/csp.js';
import type { ApiHandler } from '../api/handler.js';
import type { ApiServer } from '../api/server.js';

const APP_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export const WEB_USAGE = `usage: npm run web -- --profile DIR [--port PORT] [--name NAME] [--listen MULTIADDR ...] [--no-mdns] [--verbose]
  --profile DIR      the peer's profile directory (created if missing)
  --port PORT        HTTP port on 127.0.0.1 for the UI and its API (default 7420; 0 picks a free one)
  --name NAME        display name (you can also choose it in the UI)
  --listen MULTIADDR libp2p listen address, repeatable (default: the TCP port this profile used last, on every IPv4 interface)
  --no-mdns          do not look for peers on the LAN
  --open             open the URL in the desktop's browser, where there is one
  --verbose          print the peer's diagnostic lines`;

export interface WebArgs {
  profile: string;
  port: number;
  name?: string;
  listen?: string[];
  mdns: boolean;
  open: boolean;
  verbose: boolean;
}

export function parseWebArgs(argv: string[]): WebArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      profile: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      listen: { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean' },
      open: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error(WEB_USAGE);
  if (!values.profile) throw new Error(`--profile is required\n${WEB_USAGE}`);
  const port = values.port === undefined ? 7420 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535\n${WEB_USAGE}`);
  return {
    profile: resolve(values.profile),
    port,
    ...(values.name ? { name: values.name } : {}),
    ...(values.listen ? { listen: values.listen } : {}),
    mdns: !values['no-mdns'],
    open: values.open ?? false,
    verbose: values.verbose ?? false,
  };
}

/**
 * The command that opens a URL in the desktop's browser, or null where there is
 * none: Linux needs xdg-open on the PATH and a display; macOS has `open`;
 * Windows `cmd /c start`.
 */
export function browserOpener(
  platform: string,
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean = existsSync,
): { cmd: string; args: string[] } | null {
  if (platform === 'darwin') return { cmd: 'open', args: [] };
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  const dir = (env.PATH ?? '').split(':').find((d) => d && exists(`${d}/xdg-open`));
  return dir ? { cmd: `${dir}/xdg-open`, args: [] } : null;
}

/** How long a launcher page stays on disk: time for a browser that was not running to start and read it. */
const LAUNCHER_LIFETIME_MS = 120_000;

/**
 * A page in `dir` that sends the browser on to `url`, readable by this user only (0600; the
 * profile directory is 0700). The opener is given this file's path, never the URL: a command
 * line is readable by every local user (`ps`, /proc/PID/cmdline), the browser's for as long as
 * it runs, and the URL carries a launch code worth the API token until used (review 29: another
 * user read the token there and drove the peer). `url` is this server's own (127.0.0.1, a port,
 * a base64url code): nothing in it needs escaping.
 */
export function writeLauncher(dir: string, url: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `open-${randomBytes(8).toString('hex')}.html`);
  const page = `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${url}"><title>Conclave</title><p><a href="${url}">Open Conclave</a></p>\n`;
  writeFileSync(path, page, { mode: 0o600, flag: 'wx' });
  return path;
}

/** Hands the desktop's opener a launcher page for `url` (see writeLauncher); `run` starts it (spawn, detached). */
export function openInBrowser(url: string, dir: string, say: (line: string) => void, run: (cmd: string, args: string[]) => { on(event: 'error', f: () => void): unknown; unref(): void } = (cmd, args) => spawn(cmd, args, { stdio: 'ignore', detached: true }), env: Record<string, string | undefined> = process.env): void {
  const opener = browserOpener(process.platform, env);
  if (!opener) {
    say('No desktop browser was found here: open the URL above in a browser on this machine.');
    return;
  }
  try {
    const launcher = writeLauncher(dir, url);
    setTimeout(() => rmSync(launcher, { force: true }), LAUNCHER_LIFETIME_MS).unref();
    process.once('exit', () => rmSync(launcher, { force: true }));
    const child = run(opener.cmd, [...opener.args, launcher]);
    child.on('error', () => say('Could not open a browser: open the URL above yourself.'));
    child.unref();
  } catch {
    say('Could not open a browser: open the URL above yourself.');
  }
}

/** Hosts a browser may legitimately use to reach this server. */
function allowedHosts(port: number): Set<string> {
  // Only the address the server is bound to (review 31's third pass: `localhost` and `[::1]` may
  // name another local user's server on the same port, bound to ::1).
  return new Set([`127.0.0.1:${port}`]);
}

/** Serves the built UI from `root` to requests for this server's own loopback host. */
export function createStaticHandler(root: string, portOf: () => number): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const host = req.headers.host ?? '';
    if (!allowedHosts(portOf()).has(host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const file = resolveRendererFile(root, req.url ?? '/');
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const hashed = file.includes(`${root}/assets/`);
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-security-policy': webCsp(host),
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-store',
      ...COMMON_HEADERS,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

/** Builds the renderer with Vite when dist/renderer has no index.html. */
export async function ensureBuilt(appRoot: string, say: (line: string) => void): Promise<string> {
  const dir = rendererDir(appRoot);
  if (hasBuild(dir)) return dir;
  say('No UI build found: building it (vite build) …');
  const vite = await import('vite');
  await vite.build({ configFile: resolve(appRoot, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
  if (!hasBuild(dir)) throw new Error(`the UI build did not produce ${dir}/index.html`);
  return dir;
}

/**
 * The browser mode's server for `api`: the built UI from `root` and the control API, under a
 * fresh token that no URL carries. Returns the first launch link; after each link is used,
 * `say` prints a fresh one for another tab (a link is worth one tab, once: the URL a browser's
 * history keeps is spent).
 */
export async function serveWeb(api: ApiHandler, options: { port: number; root: string; say: (line: string) => void }): Promise<{ server: ApiServer; url: string }> {
  const { serveApi } = await import('../api/server.js');
  const token = randomBytes(24).toString('base64url');
  let port = options.port;
  const launchUrl = (): string => `http://127.0.0.1:${port}/?launch=${server.issueLaunchCode()}`;
  const onLaunchCodeUsed = (): void => options.say(`That link is now used: each opens one tab, once. For another tab:\n\n  ${launchUrl()}\n`);
  const onLaunchCodeReplayed = (): void =>
    options.say(
      `Warning: a link that was used already was opened again. If you did not open it twice, someone else had it (a browser's command line is readable by every user of this machine). Every tab was signed out, and the old access is void. Open this new link:\n\n  ${launchUrl()}\n`,
    );
  const server: ApiServer = await serveApi(api, { host: '127.0.0.1', port, token, onLaunchCodeUsed, onLaunchCodeReplayed, staticHandler: createStaticHandler(options.root, () => port) });
  port = server.port;
  return { server, url: launchUrl() };
}

async function main(argv: string[]): Promise<void> {
  let args: WebArgs;
  try {
    args = parseWebArgs(argv);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
    return;
  }
  const say = (line: string) => console.log(line);
  const root = await ensureBuilt(APP_ROOT, say);
  const { startPeer } = await import('../peer/peer.js');
  const { PortInUseError } = await import('../api/server.js');
  const { ProfileLockedError } = await import('../store/profile.js');
  let peer: Awaited<ReturnType<typeof startPeer>>;
  try {
    peer = await startPeer({
      profile: args.profile,
      ...(args.name ? { name: args.name } : {}),
      ...(args.listen ? { listen: args.listen } : {}),
      mdns: args.mdns,
      ...(args.verbose ? { log: (line: string) => console.error(`[peer] ${line}`) } : {}),
    });
  } catch (err) {
    if (!(err instanceof ProfileLockedError)) throw err;
    console.error(`Profile ${err.dir} is already open in another Conclave process (pid ${err.pid}): use that one, stop it, or choose another --profile.`);
    process.exitCode = 1;
    return;
  }
  let served: Awaited<ReturnType<typeof serveWeb>>;
  try {
    served = await serveWeb(peer.api, { port: args.port, root, say });
  } catch (err) {
    await peer.stop();
    if (err instanceof PortInUseError) {
      console.error(`Port ${err.port} is in use. Choose another with --port (0 picks a free one).`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  const { server, url } = served;
  say(`Conclave peer ${peer.peerId}`);
  say(`Open the app in your browser (the link works once):\n\n  ${url}\n`);
  if (args.open) openInBrowser(url, args.profile, say);
  say('Press Ctrl+C to stop.');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close().catch(() => undefined);
    await peer.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
