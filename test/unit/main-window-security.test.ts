// The window's security settings (main/window-security.ts). The CSP and the file
// serving it shares with browser mode are tested in ui-serving.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_ENTRY, isExternalLinkAllowed, isNavigationAllowed, isPermissionAllowed, secureWebPreferences } from '../../main/window-security.js';

test('the window is isolated, sandboxed and has no Node integration', () => {
  const p = secureWebPreferences('/x/preload.cjs');
  assert.equal(p.contextIsolation, true);
  assert.equal(p.sandbox, true);
  assert.equal(p.nodeIntegration, false);
  assert.equal(p.nodeIntegrationInWorker, false);
  assert.equal(p.nodeIntegrationInSubFrames, false);
  assert.equal(p.webSecurity, true);
  assert.equal(p.webviewTag, false);
  assert.equal(p.preload, '/x/preload.cjs');
});

test('navigation stays on the app origin; external links only over https', () => {
  assert.equal(isNavigationAllowed(APP_ENTRY), true);
  assert.equal(isNavigationAllowed('app://conclave/index.html#x'), true);
  for (const u of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'conclave://join/x', 'garbage']) assert.equal(isNavigationAllowed(u), false, u);
  assert.equal(isExternalLinkAllowed('https://example.org/'), true);
  for (const u of ['http://example.org/', 'file:///x', 'app://conclave/', 'javascript:alert(1)']) assert.equal(isExternalLinkAllowed(u), false, u);
});

test('only the clipboard write permission is granted', () => {
  assert.equal(isPermissionAllowed('clipboard-sanitized-write'), true);
  for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) assert.equal(isPermissionAllowed(p), false, p);
});
