/**
 * @module api/server
 * The control API over WebSocket: JSON-RPC 2.0 on `ws://127.0.0.1:PORT/api`,
 * authenticated by a token given as `?token=` or by a first `auth` call. The same
 * HTTP server hands every non-/api request to an optional `staticHandler` (the
 * browser mode serves the built UI that way).
 *
 * Invariants:
 * - Binds loopback only; a non-loopback host is refused at start.
 * - Launch codes (browser mode): `issueLaunchCode()` makes a code that one `auth`
 *   call may trade for the token, once. The URL a browser opens carries only such a
 *   code, so the URL its history keeps is spent (review 29 left the token there).
 *   At most LAUNCH_CODES_KEPT unused codes are kept; the oldest goes first. A spent
 *   code presented again means two parties had it: the token is replaced and every
 *   socket closed, so whoever won the race is out too (review 31's second pass).
 * - Until a socket is authenticated it may call only `auth`; everything else is
 *   answered `unauthorized`, and it receives no events.
 * - Frames are bounded (1 MiB); a frame that is not a single JSON-RPC request is
 *   answered with the matching JSON-RPC error, never a crash.
 * - A WebSocket upgrade is refused before any frame unless its `Host` names
 *   this loopback port (127.0.0.1, localhost or [::1], the port it listens
 *   on: 421, the DNS-rebinding guard) and its `Origin` is absent (a program,
 *   not a browser page) or this server's own page, http://127.0.0.1:PORT or
 *   http://localhost:PORT (403). A page on any other origin cannot even try
 *   a token.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual, createHash, createHmac, randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCodes, type EventName } from './contract.js';
import { ApiError, type ApiHandler } from './handler.js';

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  /** Called after a launch code was traded for the token (browser mode prints a fresh link for another tab). */
  onLaunchCodeUsed?: () => void;
  /**
   * Called after a spent launch code came back: someone else may have traded it first (a link the
   * browser got on its command line, which every local user can read). The token was replaced and
   * every socket closed before this is called.
   */
  onLaunchCodeReplayed?: () => void;
  staticHandler?: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface ApiServer {
  port: number;
  url: string;
  http: Server;
  /** A fresh single-use code that an `auth` call trades for the token (for a URL a browser opens). */
  issueLaunchCode(): string;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is already in use`);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_FRAME = 1024 * 1024;
/** Unused launch codes kept at once: each use issues one more, so one is normally outstanding. */
export const LAUNCH_CODES_KEPT = 8;
/** Spent launch codes remembered, to notice one presented again. */
const SPENT_CODES_KEPT = 64;

/**
 * The `host:port` a browser or client may name for this server: the address it is bound to, and
 * only that (review 31's third pass: bound to 127.0.0.1, it also took `localhost` and `[::1]`,
 * and another local user could bind [::1] on the same port and relay a tab's handshake).
 */
function loopbackHosts(host: string, port: number): Set<string> {
  return new Set([`${host.includes(':') ? `[${host}]` : host}:${port}`]);
}

/** Why an upgrade is refused, or null: Host must be this loopback port; Origin absent or our own page. */
function upgradeRefusal(headers: { host?: string | undefined; origin?: string | undefined }, host: string, port: number): { status: 403 | 421; reason: string } | null {
  const hosts = loopbackHosts(host, port);
  if (!headers.host || !hosts.has(headers.host.toLowerCase())) return { status: 421, reason: 'Host is not this loopback address and port' };
  if (headers.origin === undefined) return null;
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  if (!origins.has(headers.origin.toLowerCase())) return { status: 403, reason: 'Origin is not this peer\'s own web UI' };
  return null;
}

function refuseUpgrade(socket: Duplex, status: 403 | 421, reason: string): void {
  const text = status === 403 ? 'Forbidden' : 'Misdirected Request';
  socket.once('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\n\r\n${reason}\n`);
}

function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

type Id = string | number | null;

/**
 * The proofs of the challenge-response `auth` (both sides know the secret; it never crosses the
 * socket): HMAC-SHA-256 keyed by the token (or, for a launch, the launch code) over a label and
 * the two nonces, hex. `renderer/src/ws-client.ts` computes the same with WebCrypto.
 */
export function authProof(secret: string, label: 'server' | 'client' | 'launch-server' | 'launch-client', challenge: string, nonce: string): string {
  return createHmac('sha256', secret).update(`conclave/api-auth/${label}\0${challenge}\0${nonce}`).digest('hex');
}

/** Why a launch code is refused (unknown, or spent). */
const LINK_REFUSED = 'this link was used already (each opens one tab) or is not this peer\'s';

/** A client's challenge: 16 to 128 base64url or hex characters. */
const CHALLENGE = /^[\w-]{16,128}$/;

function reply(ws: WebSocket, id: Id, body: { result: unknown } | { error: { code: number; message: string } }): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(JSON.stringify({ jsonrpc: '2.0', id, ...body }));
}

/**
 * Starts the API server. Over 80 lines on purpose: the HTTP routes, the WebSocket upgrade
 * checks (Host, Origin, token) and the connection handlers share one closure over the
 * server's state, and read in the order a request meets them.
 */
export async function serveApi(handler: ApiHandler, options: ServeOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the control API listens on loopback only (got ${host})`);
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api' || path?.startsWith('/api/')) {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
      return;
    }
    if (options.staticHandler) {
      options.staticHandler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  /** Unused launch codes by the SHA-256 of the code (the tab names a code by its digest, which leaks nothing about it). */
  const launchCodes = new Map<string, string>();
  const digestOf = (code: string): string => createHash('sha256').update(code).digest('hex');
  /** Digests of spent codes, to know one when it comes back (the last SPENT_CODES_KEPT). */
  const spentCodes = new Set<string>();
  let token = options.token;
  /** Spends `code` if it is an unused launch code of this server (`spent`, at most once per code); `replayed` if it was spent before. */
  const spendLaunchCode = (code: unknown): 'spent' | 'replayed' | 'unknown' => {
    if (typeof code !== 'string') return 'unknown';
    return spendByDigest(digestOf(code));
  };
  const spendByDigest = (digest: string): 'spent' | 'replayed' | 'unknown' => {
    if (!launchCodes.delete(digest)) return spentCodes.has(digest) ? 'replayed' : 'unknown';
    spentCodes.add(digest);
    for (const oldest of spentCodes) {
      if (spentCodes.size <= SPENT_CODES_KEPT) break;
      spentCodes.delete(oldest);
    }
    return 'spent';
  };
  /** Two parties held one code: a new token, every socket closed (each tab must open a fresh link). */
  const replaceToken = (asking: WebSocket): void => {
    token = randomBytes(24).toString('base64url');
    // One leaked link costs one sign-out, not one per new link (the third pass: the same old code,
    // sent again after each fresh link, signed the user out each time).
    spentCodes.clear();
    // The asking socket gets its answer first (a close waits for what was sent); the rest go now.
    for (const client of wss.clients) if (client === asking) client.close(1008, 'signed out'); else client.terminate();
    options.onLaunchCodeReplayed?.();
  };

  http.on('upgrade', (req, socket, head) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      socket.destroy();
      return;
    }
    if (url.pathname !== '/api') {
      socket.destroy();
      return;
    }
    const address = http.address();
    const refusal = upgradeRefusal(req.headers, host, typeof address === 'object' && address ? address.port : options.port);
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.reason);
      return;
    }
    const preAuthed = tokenMatches(token, url.searchParams.get('token'));
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, preAuthed));
  });

  function attach(ws: WebSocket, preAuthed: boolean): void {
    let authed = preAuthed;
    /** A challenge this socket sent and the nonce we answered with, until its response comes; for a launch, the code's digest. */
    let handshake: { challenge: string; nonce: string; launch?: string } | null = null;
    let unsubscribe: (() => void) | null = null;
    const startEvents = (): void => {
      unsubscribe ??= handler.subscribe((event: EventName, payload: unknown) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', method: event, params: payload }));
      });
    };
    if (authed) startEvents();
    ws.on('close', () => unsubscribe?.());
    ws.on('error', () => unsubscribe?.());
    ws.on('message', (data, isBinary) => {
      void (async () => {
        let msg: unknown;
        try {
          msg = isBinary ? undefined : JSON.parse(data.toString());
        } catch {
          reply(ws, null, { error: { code: ErrorCodes.parse, message: 'parse error' } });
          return;
        }
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
          reply(ws, null, { error: { code: ErrorCodes.invalidRequest, message: 'expected one JSON-RPC 2.0 request object' } });
          return;
        }
        const req = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
        const id: Id = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null;
        const notification = !('id' in req);
        if (req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
          reply(ws, id, { error: { code: ErrorCodes.invalidRequest, message: 'invalid JSON-RPC 2.0 request' } });
          return;
        }
        if (req.method === 'auth') {
          const params = req.params as { token?: unknown; launch?: unknown; launchId?: unknown; challenge?: unknown; response?: unknown } | undefined;
          const challenge = typeof params?.challenge === 'string' && CHALLENGE.test(params.challenge) ? params.challenge : null;
          /** This socket is authenticated: events start, and the answer says so. */
          const accept = (result: object): void => {
            authed = true;
            startEvents();
            if (!notification) reply(ws, id, { result });
          };
          /** A launch code was spent here: the token goes back, and browser mode prints a fresh link. */
          const acceptLaunch = (): void => {
            accept({ ok: true, token });
            options.onLaunchCodeUsed?.();
          };
          // The tab's launch: it names the code by its digest, and both sides prove they hold the
          // code before the code is spent and the token sent (the third pass: a proof keyed by a
          // code the tab had just sent proved nothing to it).
          if (typeof params?.launchId === 'string' && challenge && params.response === undefined) {
            const code = launchCodes.get(params.launchId);
            if (code === undefined) {
              if (!notification) reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: LINK_REFUSED } });
              if (spentCodes.has(params.launchId)) replaceToken(ws);
              return;
            }
            handshake = { challenge, nonce: randomBytes(16).toString('base64url'), launch: params.launchId };
            if (!notification) reply(ws, id, { result: { nonce: handshake.nonce, proof: authProof(code, 'launch-server', challenge, handshake.nonce) } });
            return;
          }
          if (params?.launch !== undefined) {
            const code = params.launch;
            const spent = spendLaunchCode(code);
            if (spent === 'spent') return acceptLaunch();
            if (!notification) reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: LINK_REFUSED } });
            if (spent === 'replayed') replaceToken(ws);
            return;
          }
          // Challenge-response (review 31: a tab whose peer had stopped sent its token to whoever
          // took the port next and took its answers): we prove we know the token first, then the
          // client proves it does; the token itself never crosses the socket.
          if (challenge && params?.response === undefined) {
            handshake = { challenge, nonce: randomBytes(16).toString('base64url') };
            if (!notification) reply(ws, id, { result: { nonce: handshake.nonce, proof: authProof(token, 'server', challenge, handshake.nonce) } });
            return;
          }
          if (params?.response !== undefined && handshake?.launch !== undefined) {
            const code = launchCodes.get(handshake.launch);
            const expected = code === undefined ? null : authProof(code, 'launch-client', handshake.challenge, handshake.nonce);
            const digest = handshake.launch;
            handshake = null;
            if (expected !== null && tokenMatches(expected, params.response) && spendByDigest(digest) === 'spent') {
              acceptLaunch();
            } else if (!notification) {
              reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: LINK_REFUSED } });
            }
            return;
          }
          if (params?.response !== undefined) {
            const expected = handshake ? authProof(token, 'client', handshake.challenge, handshake.nonce) : null;
            handshake = null;
            if (expected !== null && tokenMatches(expected, params.response)) {
              accept({ ok: true });
            } else if (!notification) {
              reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: 'bad token' } });
            }
            return;
          }
          if (tokenMatches(token, params?.token)) {
            accept({ ok: true });
          } else {
            if (!notification) reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: 'bad token' } });
          }
          return;
        }
        if (!authed) {
          if (!notification) reply(ws, id, { error: { code: ErrorCodes.unauthorized, message: 'not authenticated: pass ?token= or call auth first' } });
          return;
        }
        try {
          const result = await handler.call(req.method, req.params);
          if (!notification) reply(ws, id, { result });
        } catch (err) {
          const error = err instanceof ApiError ? { code: err.code, message: err.message } : { code: ErrorCodes.internal, message: 'internal error' };
          if (!notification) reply(ws, id, { error });
        }
      })();
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(options.port) : err);
    };
    http.once('error', onError);
    http.listen(options.port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `ws://${shownHost}:${port}/api`,
    http,
    issueLaunchCode() {
      const code = randomBytes(24).toString('base64url');
      launchCodes.set(digestOf(code), code);
      for (const oldest of launchCodes.keys()) {
        if (launchCodes.size <= LAUNCH_CODES_KEPT) break;
        launchCodes.delete(oldest);
      }
      return code;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
