// electron-builder.yml checked against electron-builder's own configuration schema,
// plus the settings the app relies on (entry point, protocol, targets, fuses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const file = fileURLToPath(new URL('../../electron-builder.yml', import.meta.url));

test('electron-builder.yml is valid and packages what the app needs', async () => {
  const yaml = require('js-yaml') as { load(s: string): Record<string, unknown> };
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(cfg: unknown, log: { warn(m: string): void; info(m: string): void }): Promise<void>;
  };
  type Config = {
    files: string[];
    extraMetadata: { main: string };
    protocols: { schemes: string[] }[];
    linux: { target: string[] };
    mac: { target: string };
    win: { target: string };
    electronFuses: Record<string, boolean>;
  };
  const cfg = yaml.load(readFileSync(file, 'utf8')) as unknown as Config;
  await validateConfiguration(cfg, { warn: () => undefined, info: () => undefined });
  assert.equal(cfg.extraMetadata.main, 'dist/main/main/main.js');
  // main.js forks dist/main/main/peer-process.js (and it imports dist/main/app/...): all under dist/main.
  assert.ok(cfg.files.includes('dist/main/**/*'));
  assert.ok(cfg.files.includes('dist/renderer/**/*'));
  assert.deepEqual(cfg.protocols[0]?.schemes, ['conclave']);
  assert.deepEqual(cfg.linux.target, ['AppImage', 'deb']);
  assert.equal(cfg.mac.target, 'dmg');
  assert.equal(cfg.win.target, 'nsis');
  assert.equal(cfg.electronFuses.runAsNode, false);
  assert.equal(cfg.electronFuses.onlyLoadAppFromAsar, true);
});
