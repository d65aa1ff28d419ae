/**
 * @module ui-serving/csp
 * The Content-Security-Policy of the built UI, in one place for both ways it is
 * served: the desktop app's `app://` scheme (no network at all: the page talks
 * to its peer through the preload) and the browser mode's loopback HTTP server
 * (the only network allowance is that server's own WebSocket).
 *
 * Invariants: no inline script or style, no eval, no plugins, no framing, no
 * form targets; `connect-src` is `'none'` or exactly one `ws://host`.
 */

/** The desktop page talks to its peer only through the preload: no network at all. */
export const DESKTOP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The browser-mode page reaches its peer over a WebSocket on the same host and port. */
export function webCsp(host: string): string {
  return DESKTOP_CSP.replace("connect-src 'none'", `connect-src ws://${host}`);
}
