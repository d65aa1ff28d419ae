// Review 29 (local surfaces, red team): `--open` (what `npm start` passes when Electron cannot
// run) handed the desktop's opener the UI's URL, API token included, as a command-line argument:
// every local user can read a command line (`ps`, /proc/PID/cmdline), the browser's for as long as
// it runs, and with the token another user on the machine drove the peer (read history, sent,
// renamed). Secure: the opener gets the path of a page only this user can read, which redirects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInBrowser } from '../../../app/cli/web.js';

test('review29: the browser opener never sees the API token on its command line', { skip: process.platform === 'win32' }, () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'conclave-r29-open-')), 'profile');
  const token = 'T0k3n_abcdefghijklmnopqrstuvwxyz0123';
  const url = `http://127.0.0.1:7420/?token=${token}`;
  const runs: { cmd: string; args: string[] }[] = [];
  const said: string[] = [];
  const bin = mkdtempSync(join(tmpdir(), 'conclave-r29-bin-'));
  writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\n', { mode: 0o755 }); // never run: `run` below records the call
  const env = { PATH: bin, DISPLAY: ':0' };
  openInBrowser(url, dir, (line) => said.push(line), (cmd, args) => {
    runs.push({ cmd, args });
    return { on: () => undefined, unref: () => undefined };
  }, env);
  assert.equal(runs.length, 1, said.join('\n'));
  const { args } = runs[0]!;
  assert.ok(!args.join(' ').includes(token), `the opener's arguments carry the token: ${args.join(' ')}`);
  const page = args.at(-1)!;
  assert.equal(statSync(page).mode & 0o777, 0o600, 'the launcher page is readable by this user only');
  assert.equal(statSync(dir).mode & 0o077, 0, 'in a directory of this user only');
  assert.ok(readFileSync(page, 'utf8').includes(`url=${url}`), 'it sends the browser on to the URL');
});
