// How browser mode serves the built UI (app/cli/web.ts createStaticHandler) over
// a real HTTP server on loopback: only for its own Host, only GET/HEAD, only
// files inside the build, always under the CSP that allows just its WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createStaticHandler, parseWebArgs } from '../../app/cli/web.js';

function get(port: number, path: string, opts: { host?: string; method?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withUi(fn: (port: number) => Promise<void>) {
  const root = mkdtempSync(join(tmpdir(), 'conclave-web-'));
  const build = join(root, 'renderer');
  mkdirSync(join(build, 'assets'), { recursive: true });
  writeFileSync(join(build, 'index.html'), '<!doctype html><title>Conclave</title>');
  writeFileSync(join(build, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'do not serve');
  let port = 0;
  const server: Server = createServer(createStaticHandler(build, () => port));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  try {
    await fn(port);
  } finally {
    await new Promise((r) => server.close(r));
    rmSync(root, { recursive: true, force: true });
  }
}

test('the UI is served with a CSP that allows only its own WebSocket', async () => {
  await withUi(async (port) => {
    const res = await get(port, '/');
    assert.equal(res.status, 200);
    assert.match(res.body, /<title>Conclave/);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(res.headers['content-security-policy']), new RegExp(`connect-src ws://127\\.0\\.0\\.1:${port};`));
    assert.match(String(res.headers['content-security-policy']), /script-src 'self';/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cache-control'], 'no-store');
    const js = await get(port, '/assets/index-abc.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['cache-control']), /immutable/);
    assert.equal((await get(port, '/?token=abc')).status, 200);
  });
});

test('another Host (DNS rebinding) is refused, localhost and [::1] too: only the bound 127.0.0.1', async () => {
  await withUi(async (port) => {
    assert.equal((await get(port, '/', { host: `evil.example:${port}` })).status, 421);
    assert.equal((await get(port, '/', { host: '127.0.0.1:1' })).status, 421);
    // Review 31's third pass: those names may reach another local user's server bound to ::1.
    assert.equal((await get(port, '/', { host: `localhost:${port}` })).status, 421);
    assert.equal((await get(port, '/', { host: `[::1]:${port}` })).status, 421);
    const own = await get(port, '/', { host: `127.0.0.1:${port}` });
    assert.equal(own.status, 200);
    assert.match(String(own.headers['content-security-policy']), new RegExp(`connect-src ws://127.0.0.1:${port};`));
  });
});

test('only GET and HEAD; nothing outside the build', async () => {
  await withUi(async (port) => {
    assert.equal((await get(port, '/', { method: 'POST' })).status, 405);
    const head = await get(port, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/missing.js']) {
      const res = await get(port, path);
      assert.ok(res.status === 404 || (res.status === 200 && res.body.includes('<title>Conclave')), `${path}: ${res.status}`);
      assert.doesNotMatch(res.body, /do not serve/);
    }
  });
});

test('web mode arguments: profile required, port checked, listen repeatable', () => {
  const a = parseWebArgs(['--profile', 'p', '--port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/1', '--no-mdns']);
  assert.equal(a.port, 0);
  assert.deepEqual(a.listen, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/1']);
  assert.equal(a.mdns, false);
  assert.equal(parseWebArgs(['--profile', 'p']).port, 7420);
  assert.throws(() => parseWebArgs([]), /--profile is required/);
  assert.throws(() => parseWebArgs(['--profile', 'p', '--port', '70000']), /--port/);
  assert.throws(() => parseWebArgs(['--profile', 'p', '--bogus']));
});
