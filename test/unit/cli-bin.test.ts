// bin/conclave.js picks how to run the CLI: the TypeScript sources through tsx
// in a checkout with its dev tools, the JavaScript of `npm run build:cli` in an
// install without them. Run as a real process from a copy of the bin in a
// directory with no node_modules (so no tsx), beside stand-in CLIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/conclave.js', import.meta.url));

function install(withBuild: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(BIN, join(dir, 'bin', 'conclave.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'app', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'app', 'cli', 'main.ts'), "export async function main(): Promise<void> { throw new Error('the sources ran without tsx'); }\n");
  if (withBuild) {
    mkdirSync(join(dir, 'dist', 'cli', 'app', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'app', 'cli', 'main.js'), "export async function main(argv) { process.stdout.write(JSON.stringify({ built: true, argv }) + '\\n'); }\n");
  }
  return dir;
}

test('without tsx the built JavaScript runs, with the arguments', () => {
  const dir = install(true);
  try {
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'conclave.js'), 'peer', '--profile', 'p'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { built: true, argv: ['peer', '--profile', 'p'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without tsx and without a build it says what to run, on one line', () => {
  const dir = install(false);
  try {
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'conclave.js'), 'peer'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^conclave: .*npm run build:cli.*\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
