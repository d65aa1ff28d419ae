// `npm start` (scripts/start.mjs): Electron where it can run, the browser mode
// with one line of reason where it cannot. The probes are injected: nothing is
// launched and nothing is downloaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { electronCheck as check, startPlan as plan } from '../../scripts/start.mjs';
import { browserOpener, parseWebArgs } from '../../app/cli/web.js';


const PKG = '/app/node_modules/electron/package.json';
const files = (paths: Record<string, string>) => ({
  resolvePackage: () => PKG,
  exists: (p: string) => p in paths,
  readFile: (p: string) => paths[p] ?? '',
});

test('no electron package: not ok, and says so', () => {
  const c = check({ resolvePackage: () => { throw new Error('Cannot find module'); }, env: { DISPLAY: ':0' }, platform: 'linux' });
  assert.equal(c.ok, false);
  assert.match((c as { reason: string }).reason, /not installed/);
});

test('binary never downloaded (no path.txt): not ok, without requiring electron', () => {
  const c = check({ ...files({}), env: { DISPLAY: ':0' }, platform: 'linux' });
  assert.equal(c.ok, false);
  assert.match((c as { reason: string }).reason, /never downloaded/);
});

test('path.txt names a binary that is not there: not ok', () => {
  const c = check({ ...files({ '/app/node_modules/electron/path.txt': 'electron' }), env: { DISPLAY: ':0' }, platform: 'linux' });
  assert.equal(c.ok, false);
  assert.match((c as { reason: string }).reason, /binary is missing/);
});

test('binary present but no display on Linux: not ok', () => {
  const c = check({ ...files({ '/app/node_modules/electron/path.txt': 'electron', '/app/node_modules/electron/dist/electron': '' }), env: {}, platform: 'linux' });
  assert.equal(c.ok, false);
  assert.match((c as { reason: string }).reason, /no display/);
});

test('binary present and a display: Electron runs after the two builds', () => {
  const c = check({ ...files({ '/app/node_modules/electron/path.txt': 'electron\n', '/app/node_modules/electron/dist/electron': '' }), env: { WAYLAND_DISPLAY: 'wayland-0' }, platform: 'linux' });
  assert.deepEqual(c, { ok: true, binary: '/app/node_modules/electron/dist/electron' });
  const p = plan(c, [], {});
  assert.equal(p.notice, null);
  assert.equal(p.commands.length, 3);
  assert.equal(p.commands[2]!.cmd, '/app/node_modules/electron/dist/electron');
  assert.deepEqual(p.commands[2]!.args, ['dist/main/main/main.js']);
});

test('ELECTRON_OVERRIDE_DIST_PATH is honoured', () => {
  const c = check({ ...files({ '/opt/electron/electron': '' }), env: { ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron', DISPLAY: ':0' }, platform: 'linux' });
  assert.deepEqual(c, { ok: true, binary: '/opt/electron/electron' });
});

test('without Electron: one line of reason, then the browser mode with --open and a default profile', () => {
  const p = plan({ ok: false, reason: 'the Electron binary was never downloaded' }, [], { CONCLAVE_PROFILE: '/home/u/p' });
  assert.equal(p.notice, 'Electron cannot run here: the Electron binary was never downloaded. Starting the browser mode instead.');
  assert.equal(p.notice!.split('\n').length, 1);
  assert.equal(p.commands.length, 1);
  const args = p.commands[0]!.args;
  assert.deepEqual(args.slice(0, 3), ['--import', 'tsx', 'app/cli/web.ts']);
  assert.ok(args.includes('--open'));
  assert.deepEqual(args.slice(args.indexOf('--profile'), args.indexOf('--profile') + 2), ['--profile', '/home/u/p']);
  // and the web CLI accepts what the plan passes
  const parsed = parseWebArgs(args.slice(3));
  assert.equal(parsed.open, true);
  assert.equal(parsed.profile, '/home/u/p');
});

test('arguments after -- reach the browser mode; a given --profile wins', () => {
  const p = plan({ ok: false, reason: 'x' }, ['--profile', '/tmp/mine', '--port', '0'], {});
  const args = p.commands[0]!.args;
  assert.equal(args.filter((a) => a === '--profile').length, 1);
  assert.equal(parseWebArgs(args.slice(3)).profile, '/tmp/mine');
  assert.equal(parseWebArgs(args.slice(3)).port, 0);
});

test('the real machine: the check answers without throwing or downloading', () => {
  const c = check({});
  assert.equal(typeof c.ok, 'boolean');
});

test('browser opener: xdg-open only with a display; open on macOS', () => {
  const has = (p: string) => p === join('/usr/bin', 'xdg-open');
  assert.equal(browserOpener('linux', { PATH: '/usr/bin' }, has), null);
  assert.deepEqual(browserOpener('linux', { PATH: '/bin:/usr/bin', DISPLAY: ':0' }, has), { cmd: '/usr/bin/xdg-open', args: [] });
  assert.equal(browserOpener('linux', { PATH: '/bin', DISPLAY: ':0' }, has), null);
  assert.deepEqual(browserOpener('darwin', {}, has), { cmd: 'open', args: [] });
  assert.equal(parseWebArgs(['--profile', '/tmp/p']).open, false);
});
