/**
 * @module ui-serving/renderer-files
 * Where the built UI lives and how a request path maps to a file in it, shared
 * by the desktop `app://` protocol handler (main/) and the browser mode's HTTP
 * server (cli/web.ts): both import it from here, so no arrow runs from app/
 * into the Electron shell.
 *
 * Invariants:
 * - Paths are resolved inside the root only (no `..`, no absolute escapes, no NUL).
 * - Unknown paths without an extension fall back to index.html (client routes).
 * - Every served file carries COMMON_HEADERS besides its CSP (ui-serving/csp.ts).
 * Pure Node (fs and path only).
 */
import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers every served file carries, besides its CSP. */
export const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/** The built UI inside a checkout or a packaged app: `<root>/dist/renderer`. */
export function rendererDir(appRoot: string): string {
  return join(appRoot, 'dist', 'renderer');
}

export function hasBuild(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/**
 * The file to serve for a URL path, or null when it would leave `root` or does
 * not exist. `/` and extension-less paths (client-side routes) give index.html.
 */
export function resolveRendererFile(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split(/[?#]/)[0] ?? '/');
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const base = resolve(root);
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  const candidate = resolve(base, rel === '' ? 'index.html' : rel);
  if (candidate !== base && !candidate.startsWith(base + sep)) return null;
  if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  if (extname(candidate) === '') {
    const index = join(base, 'index.html');
    return existsSync(index) ? index : null;
  }
  return null;
}

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}
