#!/usr/bin/env node
// Entry point of `npx conclave …`: there is no build step for Node code, so load
// tsx's ESM loader, then the TypeScript CLI (which installs the Node 20 shim first).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli/main.ts');
await main(process.argv.slice(2));
