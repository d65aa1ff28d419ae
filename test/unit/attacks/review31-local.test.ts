// Review 31 (local surfaces): the browser mode printed `http://127.0.0.1:PORT/?token=…`, and a
// browser's history keeps every URL it opened. Anyone who could read that history (another
// person at the machine, a program reading the profile) drove the peer with the token for as long
// as it ran: read every group's history, sent as the user, excluded members (review 29 left this
// open). Secure: the printed link carries a single-use launch code that the page trades for the
// token; the URL in the history is spent, and the peer prints a fresh link for another tab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { serveWeb } from '../../../app/cli/web.js';
import { ApiError, createApiHandler, type PeerMethods } from '../../../app/api/handler.js';
import { ErrorCodes } from '../../../app/api/contract.js';
import { LAUNCH_CODES_KEPT, serveApi } from '../../../app/api/server.js';
import { wsClient } from '../../../renderer/src/ws-client.js';

function methods(): PeerMethods {
  return new Proxy({} as PeerMethods, {
    get: (_t, name) => {
      if (name === 'status') return () => ({ peerId: '12D3KooWtest', name: 'Tess', groups: 0, version: '0.1.0' });
      return () => {
        throw new ApiError(ErrorCodes.notAllowed, 'not in this test');
      };
    },
  });
}

/** One JSON-RPC exchange on a fresh socket: `auth` with `params`, then `status`; what each answered. */
async function authThenStatus(port: number, params: { token: string } | { launch: string }): Promise<{ auth: { result?: { token?: string }; error?: { code: number } }; status: { result?: unknown; error?: { code: number } } }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api`);
  const replies = new Map<number, unknown>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number };
    if (typeof msg.id === 'number') replies.set(msg.id, msg);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth', params }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'status', params: {} }));
  const deadline = Date.now() + 5000;
  while (replies.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  ws.close();
  return { auth: replies.get(1) as never, status: replies.get(2) as never };
}

const secretOf = (url: URL): string => url.searchParams.get('launch') ?? url.searchParams.get('token') ?? '';

test('review31: the link a browser opened, read later from its history, gives nobody the API', async () => {
  const printed: string[] = [];
  const { server, url } = await serveWeb(createApiHandler(methods()), { port: 0, root: mkdtempSync(join(tmpdir(), 'conclave-r31-ui-')), say: (line) => printed.push(line) });
  try {
    const opened = new URL(url);
    assert.equal(opened.searchParams.get('token'), null, `the printed link carries the API token: ${url}`);
    // The user's tab: what renderer/src/main.tsx does with a launch link.
    const tabTokens: string[] = [];
    const tab = wsClient({ url: `ws://127.0.0.1:${server.port}/api`, launch: secretOf(opened), onToken: (t) => tabTokens.push(t), WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      assert.equal((await tab.call('status', {})).name, 'Tess', 'the tab opened from the link works');
      assert.equal(tabTokens.length, 1, 'the tab received the token for its reloads');
      // Later, someone reads the URL from the browser's history and tries it every way.
      const secret = secretOf(opened);
      for (const params of [{ token: secret }, { launch: secret }]) {
        const { auth, status } = await authThenStatus(server.port, params);
        assert.equal(auth.error?.code, ErrorCodes.unauthorized, `auth ${JSON.stringify(Object.keys(params))} with the history's URL was accepted`);
        assert.equal(status.error?.code, ErrorCodes.unauthorized, 'a call after it was answered');
      }
      // The tab still works, and the peer printed a fresh link, good for one more tab.
      assert.equal((await tab.call('status', {})).name, 'Tess');
      const fresh = /http:\/\/127\.0\.0\.1:\d+\/\?launch=[\w-]+/.exec(printed.join('\n'))?.[0];
      assert.ok(fresh, `a fresh link was printed: ${printed.join('\n')}`);
      const second = await authThenStatus(server.port, { launch: secretOf(new URL(fresh)) });
      assert.equal(typeof second.auth.result?.token, 'string', 'the fresh link opens a second tab');
      assert.ok(second.status.result, 'the second tab can call');
      assert.equal((await authThenStatus(server.port, { launch: secretOf(new URL(fresh)) })).auth.error?.code, ErrorCodes.unauthorized, 'and only once');
    } finally {
      tab.close();
    }
  } finally {
    await server.close();
  }
});

test('review31: unused launch codes are bounded; the oldest is dropped first', async () => {
  const server = await serveApi(createApiHandler(methods()), { port: 0, token: 'the-token' });
  try {
    const codes = Array.from({ length: LAUNCH_CODES_KEPT + 2 }, () => server.issueLaunchCode());
    assert.equal((await authThenStatus(server.port, { launch: codes[0]! })).auth.error?.code, ErrorCodes.unauthorized, 'the oldest code was dropped');
    const newest = await authThenStatus(server.port, { launch: codes.at(-1)! });
    assert.equal(newest.auth.result?.token, 'the-token');
    assert.equal((await authThenStatus(server.port, { launch: 'made-up' })).auth.error?.code, ErrorCodes.unauthorized);
  } finally {
    await server.close();
  }
});
