/** Control API: handler validation and dispatch (api/handler.ts), WebSocket transport and auth (api/server.ts). */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiError, createApiHandler, type PeerMethods } from '../../app/api/handler.js';
import { serveApi, PortInUseError } from '../../app/api/server.js';
import { ErrorCodes } from '../../app/api/contract.js';
import { startPeer } from '../../app/peer/peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const peerId = '12D3KooWJFqZnCFzr3x3EEoKnswLCria9aqeygxG4hxuJ4WtmLtK';
const group = '0123456789abcdef0123456789abcdef';

function stubMethods(): PeerMethods {
  const notImplemented = () => {
    throw new ApiError(ErrorCodes.notAllowed, 'not in this stub');
  };
  return {
    status: () => ({ peerId, name: 'stub', groups: 0, version: 'test' }),
    'profile.setName': () => ({ ok: true as const }),
    'group.create': () => {
      throw new Error('secret internal detail');
    },
    'group.list': () => [],
    'group.invite': notImplemented,
    'invite.list': () => [],
    'invite.revoke': notImplemented,
    'group.join': notImplemented,
    'group.leave': notImplemented,
    'group.exclude': notImplemented,
    'group.members': () => [{ peerId, key: 'ab'.repeat(32), name: 'x', participantId: [1], role: 'member', online: true, self: true, state: 'member' }],
    'group.read': () => ({ ok: true as const }),
    'chat.send': notImplemented,
    'chat.react': notImplemented,
    'chat.edit': notImplemented,
    'chat.delete': notImplemented,
    'chat.history': () => ({ not: 'an array' }) as never,
    'chat.search': () => [],
    'file.begin': notImplemented,
    'file.chunk': notImplemented,
    'file.finish': notImplemented,
    'file.cancel': notImplemented,
    'file.status': notImplemented,
    'file.read': notImplemented,
    'board.draw': notImplemented,
    'board.state': () => [],
    'board.shape': notImplemented,
    'board.entries': () => [],
    'keys.table': notImplemented,
    'net.info': () => ({ peerId, addresses: [], connections: [] }),
  };
}

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err.code;
  }
  return 0;
}

test('handler: params are validated, unknown methods refused, internal errors hidden, results checked', async () => {
  const internal: string[] = [];
  const api = createApiHandler(stubMethods(), (m) => internal.push(m));
  assert.deepEqual(await api.call('status', undefined), { peerId, name: 'stub', groups: 0, version: 'test' });
  assert.equal(await codeOf(api.call('nope', {})), ErrorCodes.methodNotFound);
  assert.equal(await codeOf(api.call('auth', { token: 'x' })), ErrorCodes.methodNotFound);
  assert.equal(await codeOf(api.call('__proto__', {})), ErrorCodes.methodNotFound);
  assert.equal(await codeOf(api.call('group.members', { group: 'NOT-HEX' })), ErrorCodes.invalidParams);
  assert.equal(await codeOf(api.call('chat.send', { group, text: '' })), ErrorCodes.invalidParams);
  assert.equal(await codeOf(api.call('board.draw', { group, stroke: { id: 'a', color: 'red', width: 1, tool: 'pen', points: [] } })), ErrorCodes.invalidParams);
  assert.equal(await codeOf(api.call('chat.send', { group, text: 'hi' })), ErrorCodes.notAllowed);
  await assert.rejects(api.call('group.create', { name: 'g' }), (err: ApiError) => err.code === ErrorCodes.internal && !err.message.includes('secret'));
  assert.equal(await codeOf(api.call('chat.history', { group })), ErrorCodes.internal);
  assert.deepEqual(internal, ['group.create', 'chat.history']);
});

test('handler: a write the disk refused is a storage error naming its code, never its path', async () => {
  const failing = (code: string) => () => {
    throw Object.assign(new Error(`${code}: failed, write '/home/someone/.config/conclave/groups/abc/history.log'`), { code, syscall: 'write' });
  };
  for (const code of ['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']) {
    const api = createApiHandler({ ...stubMethods(), 'chat.send': failing(code) }, () => {});
    await assert.rejects(api.call('chat.send', { group, text: 'hi' }), (err: ApiError) => err.code === ErrorCodes.storage && err.message.includes(code) && !err.message.includes('/home'));
  }
  const other = createApiHandler({ ...stubMethods(), 'chat.send': failing('ECONNRESET') }, () => {});
  assert.equal(await codeOf(other.call('chat.send', { group, text: 'hi' })), ErrorCodes.internal, 'other system errors stay internal');
});

test('handler: events are validated before they reach subscribers', () => {
  const api = createApiHandler(stubMethods(), () => {});
  const got: string[] = [];
  const off = api.subscribe((e) => got.push(e));
  api.emit('keys.changed', { group, reason: 'test' });
  api.emit('keys.changed', { group: 'bad', reason: 'test' } as never);
  off();
  api.emit('keys.changed', { group, reason: 'after unsubscribe' });
  assert.deepEqual(got, ['keys.changed']);
});

function open(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const queue: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.once('open', () => resolve({ ws, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))) }));
    ws.once('error', reject);
  });
}

test('server: loopback only, token by query or auth call, unauthenticated calls refused, JSON-RPC errors', async () => {
  const api = createApiHandler(stubMethods(), () => {});
  await assert.rejects(serveApi(api, { host: '0.0.0.0', port: 0, token: 't' }), /loopback only/);
  const server = await serveApi(api, {
    port: 0,
    token: 'sesame',
    staticHandler: (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ui'),
  });
  cleanups.push(() => server.close());
  assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/api$/);
  assert.equal(await (await fetch(`http://127.0.0.1:${server.port}/index.html`)).text(), 'ui');
  assert.equal((await fetch(`http://127.0.0.1:${server.port}/api`)).status, 426);

  const anon = await open(server.url);
  anon.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status' }));
  assert.deepEqual((await anon.next()).error, { code: ErrorCodes.unauthorized, message: 'not authenticated: pass ?token= or call auth first' });
  api.emit('keys.changed', { group, reason: 'not for strangers' });
  anon.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'auth', params: { token: 'wrong' } }));
  assert.equal(((await anon.next()).error as { code: number }).code, ErrorCodes.unauthorized);
  anon.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'auth', params: { token: 'sesame' } }));
  assert.deepEqual(await anon.next(), { jsonrpc: '2.0', id: 3, result: { ok: true } });
  anon.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'status' }));
  assert.equal(((await anon.next()).result as { name: string }).name, 'stub');
  anon.ws.close();

  const client = await open(`${server.url}?token=sesame`);
  client.ws.send('{not json');
  assert.equal(((await client.next()).error as { code: number }).code, ErrorCodes.parse);
  client.ws.send('[1,2]');
  assert.equal(((await client.next()).error as { code: number }).code, ErrorCodes.invalidRequest);
  client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'group.members', params: { group: 'zz' } }));
  const bad = await client.next();
  assert.equal(bad.id, 'x');
  assert.equal((bad.error as { code: number }).code, ErrorCodes.invalidParams);
  api.emit('keys.changed', { group, reason: 'pushed' });
  assert.deepEqual(await client.next(), { jsonrpc: '2.0', method: 'keys.changed', params: { group, reason: 'pushed' } });
  client.ws.close();
});

/** The status a WebSocket upgrade gets with these headers: 101 when it opens. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

test('server: an upgrade from another Origin or to another Host is refused (cross-site page, DNS rebinding)', async () => {
  const server = await serveApi(createApiHandler(stubMethods()), { port: 0, token: 'sesame' });
  cleanups.push(() => server.close());
  const port = server.port;
  const url = `${server.url}?token=sesame`;
  // A program (no Origin) and the peer's own web UI may connect.
  assert.equal(await upgradeStatus(url, {}), 101);
  assert.equal(await upgradeStatus(url, { Origin: `http://127.0.0.1:${port}` }), 101);
  // Only the address it is bound to: `localhost` and `[::1]` may name another user's server bound
  // to ::1 on the same port (review 31's third pass).
  assert.equal(await upgradeStatus(url, { Origin: `http://localhost:${port}`, Host: `localhost:${port}` }), 421);
  assert.equal(await upgradeStatus(url, { Host: `[::1]:${port}` }), 421);
  assert.equal(await upgradeStatus(url, { Origin: `http://localhost:${port}` }), 403);
  // Any other page, even on loopback at another port, or with an opaque origin, may not.
  for (const origin of ['https://evil.example', `http://evil.example:${port}`, 'http://127.0.0.1:1', `https://127.0.0.1:${port}`, 'null', 'file://']) {
    assert.equal(await upgradeStatus(url, { Origin: origin }), 403, origin);
  }
  // A name that resolves to 127.0.0.1 (DNS rebinding) or another port: the Host is not ours.
  for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}`, '127.0.0.1', `127.0.0.1.nip.io:${port}`]) {
    assert.equal(await upgradeStatus(url, { Host: host }), 421, host);
  }
  assert.equal(await upgradeStatus(url, { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }), 421);
  // The refused sockets never reached the API: an accepted one still works.
  const client = await open(url);
  client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status' }));
  assert.equal(((await client.next()).result as { name: string }).name, 'stub');
  client.ws.close();
});

test('server: a port in use is a PortInUseError', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as { port: number }).port;
  await assert.rejects(serveApi(createApiHandler(stubMethods()), { port, token: 't' }), (err: Error) => err instanceof PortInUseError && err.message === `port ${port} is already in use`);
});

test('a real peer through its API: bad input is refused and changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-api-'));
  const peer = await startPeer({ profile: dir, name: 'unit', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  cleanups.push(async () => {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = peer.api;
  assert.equal(await codeOf(api.call('group.join', { invite: 'conclave://join/AAAA' })), ErrorCodes.badInvite);
  assert.equal(await codeOf(api.call('chat.send', { group, text: 'x' })), ErrorCodes.notFound);
  assert.deepEqual(await api.call('group.list', undefined), []);
  const created = (await api.call('group.create', { name: 'solo' })) as { group: string; invite: string };
  assert.match(created.invite, /^conclave:\/\/join\//);
  assert.equal(await codeOf(api.call('group.exclude', { group: created.group, peers: ['not a peer id'] })), ErrorCodes.invalidParams);
  assert.equal(await codeOf(api.call('group.exclude', { group: created.group, peers: [peerId] })), ErrorCodes.notFound);
  const sent = (await api.call('chat.send', { group: created.group, text: 'note to self' })) as { id: string; sender: string };
  assert.equal(sent.sender, peer.peerId);
  await api.call('board.draw', { group: created.group, stroke: { id: 's1', color: '#000000', width: 2, tool: 'pen', points: [{ x: 0, y: 0 }] } });
  await api.call('board.draw', { group: created.group, stroke: { id: 's2', color: '#000000', width: 2, tool: 'pen', points: [{ x: 1, y: 1 }] } });
  await api.call('board.draw', { group: created.group, stroke: { id: 'u1', color: '#000000', width: 1, tool: 'undo', points: [], target: 's1' } });
  const board = (await api.call('board.state', { group: created.group })) as { stroke: { id: string } }[];
  assert.deepEqual(board.map((b) => b.stroke.id), ['s2']);
  const table = (await api.call('keys.table', { group: created.group })) as { W: number; V: number; tek: { version: number } };
  assert.equal(table.W, 16);
  assert.equal(table.tek.version, 1);
  const second = (await api.call('group.create', { name: 'another', policy: { exclude: 'admins', admins: [peer.peerId] } })) as { group: string };
  const list = (await api.call('group.list', undefined)) as { group: string; name: string; state: string; members: number; canExclude: boolean }[];
  assert.deepEqual(
    list.map((g) => [g.name, g.state, g.members, g.canExclude]).sort(),
    [['another', 'member', 1, true], ['solo', 'member', 1, true]],
    'one profile holds several groups, each with its own engine',
  );
  assert.notEqual(second.group, created.group);
  assert.deepEqual(await api.call('chat.history', { group: second.group }), []);
});
