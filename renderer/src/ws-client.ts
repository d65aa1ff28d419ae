/**
 * Browser-mode transport: JSON-RPC 2.0 over one WebSocket to the peer's
 * `/api?token=...` endpoint. Requests carry increasing ids; responses settle
 * them; notifications (no id) are the contract's pushed events. The socket is
 * reopened with backoff when it drops, and calls in flight fail rather than hang.
 *
 * Every socket first proves its token with an `auth` call; only then is the
 * link `open` and queued calls go out. A page opened from a launch link has no
 * token yet: its first `auth` trades the link's single-use code for the token,
 * which every later socket uses (`onToken` lets the page keep it for a reload). A refused token (a wrong one, or the
 * token of a peer that has since restarted: each start makes a new one) makes
 * the link `refused` for good: no retries, every call fails with the reason,
 * and the UI says how to recover (issue 18 §6). Without this the socket opened,
 * the link said "connected", and every call failed with "not authenticated".
 */
import type { EventName, MethodName, Params, Result } from '../../app/api/contract.js';
import { Listeners, RpcError, type ConclaveClient, type LinkState } from './client.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface WsClientOptions {
  /** Full ws:// or wss:// URL (a `token` in it is taken out and used as `token`). */
  url: string;
  /** The API token, proven by challenge-response, never sent. */
  token?: string;
  /** A single-use launch code to trade for the token on the first socket (browser mode's printed link). */
  launch?: string;
  /** Called with the token a launch code was traded for. */
  onToken?: (token: string) => void;
  /** Injected for tests running outside a browser; defaults to the global WebSocket. */
  WebSocketImpl?: typeof WebSocket;
  /** Give up reconnecting after this many consecutive failures (default: never). */
  maxRetries?: number;
}

/** `bytes` random bytes as hex (WebCrypto, in the browser and in Node). */
function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 of `text`, hex (how a tab names its launch code to the server). */
async function sha256Hex(text: string): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** HMAC-SHA-256 of `text` keyed by `secret`, hex (WebCrypto; the server's `authProof`). */
async function hmacHex(secret: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(text)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The API's address for a page served by the peer (no token: it never goes in a URL). */
export function apiUrlFromLocation(loc: { protocol: string; host: string }): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api`;
}

export function wsClient(options: WsClientOptions): ConclaveClient & { close(): void } {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const events = new Map<string, Listeners<unknown>>();
  const linkListeners = new Listeners<LinkState>();
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let state: LinkState = 'connecting';
  let failures = 0;
  let closedByUser = false;
  let refused: RpcError | null = null;
  let credential: { token: string } | { launch: string } = options.launch !== undefined ? { launch: options.launch } : { token: options.token ?? new URL(options.url).searchParams.get('token') ?? '' };
  // The token never goes on the socket: not in the URL, not in a frame (challenge-response below).
  const socketUrl = (() => {
    const u = new URL(options.url);
    u.searchParams.delete('token');
    return u.toString();
  })();
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: LinkState) => {
    if (next === state) return;
    state = next;
    linkListeners.emit(state);
  };

  const failPending = (why: string | Error) => {
    queue.length = 0;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(typeof why === 'string' ? new Error(why) : why);
    }
  };

  const refuse = (ws: WebSocket, err: RpcError) => {
    refused = new RpcError(err.code, `the peer refused this page's access token (${err.message})`);
    socket = null;
    clearTimeout(retryTimer);
    ws.close();
    failPending(refused);
    setState('refused');
  };

  /**
   * The first frames on every socket (review 31: a tab whose peer had stopped handed its token to
   * whoever took the port next and believed its answers). With a token: `auth {challenge}`, the
   * server answers a proof that it knows the token, checked here before this side answers with
   * its own proof; the token never crosses the socket. With a launch code: `auth {launch,
   * challenge}`, answered with the token and a proof that the server knew the code. A server that
   * cannot prove itself is not this tab's peer: the link is refused.
   */
  const AUTH_ID = 0;
  const authenticate = (ws: WebSocket) => {
    const challenge = randomHex(16);
    const opened = () => {
      failures = 0;
      setState('open');
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    const notOurPeer = () => refuse(ws, new RpcError(-32001, 'the server on this address could not prove it is your peer'));
    const ask = (params: unknown, then: (result: Record<string, unknown>) => Promise<void>) => {
      pending.set(AUTH_ID, {
        resolve: (result) => void then((result ?? {}) as Record<string, unknown>).catch(() => notOurPeer()),
        reject: (err) => {
          if (err instanceof RpcError) refuse(ws, err);
        },
      });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: AUTH_ID, method: 'auth', params }));
    };
    if ('launch' in credential) {
      // The code never crosses the socket either: named by its digest, proven both ways, and only
      // then traded (review 31's third pass: a proof keyed by a code sent in the clear proved nothing).
      const code = credential.launch;
      void sha256Hex(code).then((launchId) =>
        ask({ launchId, challenge }, async (result) => {
          const nonce = result.nonce;
          if (typeof nonce !== 'string' || result.proof !== (await hmacHex(code, `conclave/api-auth/launch-server\0${challenge}\0${nonce}`))) return notOurPeer();
          const response = await hmacHex(code, `conclave/api-auth/launch-client\0${challenge}\0${nonce}`);
          if (socket !== ws) return;
          ask({ response }, async (traded) => {
            const token = traded.token;
            if (typeof token !== 'string') return notOurPeer();
            if (socket !== ws) return;
            credential = { token };
            options.onToken?.(token);
            opened();
          });
        }),
      );
      return;
    }
    const token = credential.token;
    ask({ challenge }, async (result) => {
      const nonce = result.nonce;
      if (typeof nonce !== 'string' || result.proof !== (await hmacHex(token, `conclave/api-auth/server\0${challenge}\0${nonce}`))) return notOurPeer();
      const response = await hmacHex(token, `conclave/api-auth/client\0${challenge}\0${nonce}`);
      if (socket !== ws) return;
      ask({ response }, async () => opened());
    });
  };

  const onMessage = (data: unknown) => {
    if (typeof data !== 'string') return;
    let msg: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string } };
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg.id === 'number' && pending.has(msg.id)) {
      const p = pending.get(msg.id)!;
      pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    } else if (typeof msg.method === 'string' && msg.id === undefined && state === 'open') {
      // Events only once the server proved itself (a real peer sends none before).
      events.get(msg.method)?.emit(msg.params);
    }
  };

  const open = () => {
    setState('connecting');
    const ws = new Impl(socketUrl);
    socket = ws;
    ws.onopen = () => authenticate(ws);
    ws.onmessage = (ev: MessageEvent) => onMessage(ev.data);
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      pending.delete(AUTH_ID);
      failPending('connection to the peer was lost');
      setState('closed');
      if (closedByUser) return;
      failures += 1;
      if (options.maxRetries !== undefined && failures > options.maxRetries) return;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(failures, 6));
      retryTimer = setTimeout(open, delay);
    };
    ws.onerror = () => undefined; // onclose follows and handles it
  };
  open();

  return {
    transport: 'websocket',
    call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
      if (refused) return Promise.reject(refused);
      const id = nextId++;
      const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} });
      return new Promise<Result<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (socket && socket.readyState === Impl.OPEN && state === 'open') socket.send(frame);
        else queue.push(frame);
      });
    },
    on(event: EventName, listener: (payload: never) => void) {
      let set = events.get(event);
      if (!set) events.set(event, (set = new Listeners()));
      return set.add(listener as (v: unknown) => void);
    },
    onJoinLink: () => () => undefined,
    onLinkState(listener) {
      listener(state);
      return linkListeners.add(listener);
    },
    close() {
      closedByUser = true;
      clearTimeout(retryTimer);
      socket?.close();
      failPending('client closed');
    },
  } as ConclaveClient & { close(): void };
}
