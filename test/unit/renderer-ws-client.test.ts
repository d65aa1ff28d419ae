// The renderer's browser-mode transport (renderer/src/ws-client.ts) against the
// real control-API server (app/api/server.ts + handler.ts). Behind the server is
// a small table of method implementations written here: the transport, not the
// peer, is under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { serveApi, type ApiServer } from '../../app/api/server.js';
import { ApiError, createApiHandler, type PeerMethods } from '../../app/api/handler.js';
import { ErrorCodes, type ChatMessage } from '../../app/api/contract.js';
import { wsClient } from '../../renderer/src/ws-client.js';
import { RpcError, type LinkState } from '../../renderer/src/client.js';

const G = '0123456789abcdef0123456789abcdef';
const TOKEN = 'test-token-123';

function methods(): PeerMethods {
  const notImplemented = () => {
    throw new ApiError(ErrorCodes.notAllowed, 'not in this test');
  };
  return new Proxy({} as PeerMethods, {
    get: (_t, name) => {
      if (name === 'status') return () => ({ peerId: '12D3KooWtest', name: 'Tess', groups: 0, version: '0.1.0' });
      if (name === 'chat.send')
        return ({ group, text }: { group: string; text: string }): ChatMessage => ({ id: 'm1', group, sender: '12D3KooWtest', senderName: 'Tess', text, sentAt: 1, receivedAt: 1 });
      return notImplemented;
    },
  });
}

async function withServer(fn: (server: ApiServer, emit: ReturnType<typeof createApiHandler>['emit']) => Promise<void>, port = 0, token = TOKEN) {
  const handler = createApiHandler(methods());
  const server = await serveApi(handler, { port, token });
  try {
    await fn(server, handler.emit.bind(handler));
  } finally {
    await server.close();
  }
}

const until = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('calls resolve with results, queued until the socket opens', async () => {
  await withServer(async (server) => {
    const client = wsClient({ url: `${server.url}?token=${TOKEN}`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      const status = await client.call('status', {});
      assert.equal(status.name, 'Tess');
      const sent = await client.call('chat.send', { group: G, text: 'hello' });
      assert.equal(sent.text, 'hello');
    } finally {
      client.close();
    }
  });
});

test('peer errors arrive as RpcError with the JSON-RPC code', async () => {
  await withServer(async (server) => {
    const client = wsClient({ url: `${server.url}?token=${TOKEN}`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      await assert.rejects(client.call('chat.send', { group: 'nope', text: 'x' }), (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.invalidParams);
      await assert.rejects(client.call('group.list', {}), (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.notAllowed);
    } finally {
      client.close();
    }
  });
});

test('a wrong token is refused', async () => {
  await withServer(async (server) => {
    const client = wsClient({ url: `${server.url}?token=wrong`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      await assert.rejects(client.call('status', {}), (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.unauthorized);
    } finally {
      client.close();
    }
  });
});

test('a wrong token makes the link refused, not "connecting" forever, and stops retrying', async () => {
  await withServer(async (server) => {
    const states: LinkState[] = [];
    const client = wsClient({ url: `${server.url}?token=wrong`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    client.onLinkState((s) => states.push(s));
    try {
      await until(() => states.at(-1) === 'refused');
      assert.ok(!states.includes('open'), `never open: ${states.join(' → ')}`);
      await assert.rejects(client.call('status', {}), (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.unauthorized && /refused this page's access token/.test(err.message));
      await new Promise((r) => setTimeout(r, 600)); // past the first retry delay
      assert.equal(states.at(-1), 'refused');
    } finally {
      client.close();
    }
  });
});

test('a tab left open across a peer restart (new token) ends refused, not "connected" with failing calls', async () => {
  let port = 0;
  const states: LinkState[] = [];
  let client: ReturnType<typeof wsClient> | undefined;
  try {
    await withServer(async (server) => {
      port = server.port;
      client = wsClient({ url: `${server.url}?token=${TOKEN}`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
      client.onLinkState((s) => states.push(s));
      await client.call('status', {});
    });
    await until(() => states.at(-1) === 'closed');
    await withServer(
      async () => {
        await until(() => states.at(-1) === 'refused');
        const afterRestart = states.slice(states.indexOf('closed'));
        assert.ok(!afterRestart.includes('open'), `not "connected" after the restart: ${afterRestart.join(' → ')}`);
        await assert.rejects(client!.call('status', {}), (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.unauthorized);
      },
      port,
      'the-new-token',
    );
  } finally {
    client?.close();
  }
});

test('pushed events reach their subscribers only', async () => {
  await withServer(async (server, emit) => {
    const client = wsClient({ url: `${server.url}?token=${TOKEN}`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      const got: string[] = [];
      client.on('group.excluded', (e) => got.push(`excluded by ${e.by}`));
      const off = client.on('keys.changed', (e) => got.push(`keys ${e.reason}`));
      await client.call('status', {}); // the socket is open and subscribed
      emit('keys.changed', { group: G, reason: 'join' });
      emit('group.excluded', { group: G, by: '12D3KooWadmin' });
      await until(() => got.length === 2);
      off();
      emit('keys.changed', { group: G, reason: 'exclude' });
      await client.call('status', {}); // a round trip after the last event
      assert.deepEqual(got, ['keys join', 'excluded by 12D3KooWadmin']);
    } finally {
      client.close();
    }
  });
});

test('when the peer goes away, calls in flight fail and the link reports it; it reconnects when the peer is back', async () => {
  let port = 0;
  const states: LinkState[] = [];
  let client: ReturnType<typeof wsClient> | undefined;
  try {
    await withServer(async (server) => {
      port = server.port;
      client = wsClient({ url: `${server.url}?token=${TOKEN}`, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
      client.onLinkState((s) => states.push(s));
      await client.call('status', {});
    });
    await until(() => states.at(-1) === 'closed');
    // Queued for the next connection attempt, which fails while the peer is down.
    await assert.rejects(client!.call('status', {}));
    await withServer(async () => {
      await until(() => states.at(-1) === 'open');
      assert.equal((await client!.call('status', {})).name, 'Tess');
    }, port);
  } finally {
    client?.close();
  }
});
