#!/usr/bin/env node
// Entry point of `npx conclave …`, two ways:
// - In a checkout with its dev tools (tsx is installed): the TypeScript sources
//   of app/cli through tsx's loader, so what runs is always what app/ holds — a
//   build left over from an older checkout is never picked up by mistake.
// - In an install without dev tools (`npm install --omit=dev`): the JavaScript
//   that `npm run build:cli` emitted into dist/cli/.
// Either way the CLI installs the Node 20 shim before anything else.
import { existsSync } from 'node:fs';

const SOURCE = new URL('../app/cli/main.ts', import.meta.url);
const BUILT = new URL('../dist/cli/app/cli/main.js', import.meta.url);

async function loadTsx() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}

const register = existsSync(SOURCE) ? await loadTsx() : null;
let cli;
if (register) {
  register();
  cli = await import(SOURCE.href);
} else if (existsSync(BUILT)) {
  cli = await import(BUILT.href);
} else {
  process.stderr.write('conclave: the CLI is not built and tsx is not installed: run npm run build:cli (or npm install for the dev tools)\n');
  process.exit(1);
}
await cli.main(process.argv.slice(2));
