// What the desktop shell and browser mode share for serving the built UI
// (app/ui-serving/): the CSP and the mapping of request paths to files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DESKTOP_CSP, webCsp } from '../../app/ui-serving/csp.js';
import { contentTypeOf, resolveRendererFile } from '../../app/ui-serving/renderer-files.js';

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+(.*)/) as [string, string]));
}

test('the desktop CSP allows no inline script, no eval, no network', () => {
  const d = directives(DESKTOP_CSP);
  assert.equal(d.get('default-src'), "'none'");
  assert.equal(d.get('script-src'), "'self'");
  assert.equal(d.get('connect-src'), "'none'");
  assert.equal(d.get('object-src'), "'none'");
  assert.equal(d.get('frame-ancestors'), "'none'");
  assert.doesNotMatch(DESKTOP_CSP, /unsafe-inline|unsafe-eval|\*/);
});

test('the browser-mode CSP adds only its own WebSocket', () => {
  const d = directives(webCsp('127.0.0.1:4321'));
  assert.equal(d.get('connect-src'), 'ws://127.0.0.1:4321');
  assert.equal(d.get('script-src'), "'self'");
});

test('renderer files resolve inside the build only; routes fall back to index.html', () => {
  const root = mkdtempSync(join(tmpdir(), 'conclave-ui-'));
  try {
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    writeFileSync(join(root, 'assets', 'app.js'), '');
    writeFileSync(join(root, '..', `${root.split('/').pop()}-secret.txt`), 'secret');
    assert.equal(resolveRendererFile(root, '/'), join(root, 'index.html'));
    assert.equal(resolveRendererFile(root, '/assets/app.js?v=1'), join(root, 'assets', 'app.js'));
    assert.equal(resolveRendererFile(root, '/groups/abc'), join(root, 'index.html'));
    assert.equal(resolveRendererFile(root, '/assets/missing.js'), null);
    for (const evil of ['/../secret.txt', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/x.txt', `/../${root.split('/').pop()}-secret.txt`, '/assets/%00.js', '/%E0%A4%A']) {
      const r = resolveRendererFile(root, evil);
      assert.ok(r === null || r === join(root, 'index.html'), `${evil} -> ${r}`);
    }
    assert.equal(contentTypeOf('a.js'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('a.bin'), 'application/octet-stream');
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', `${root.split('/').pop()}-secret.txt`), { force: true });
  }
});
