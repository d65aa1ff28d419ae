// The layer rule (scripts/eslint-layers.js) run through ESLint's Node API on
// in-memory sources named as files of the tree: arrows run one way, so app/
// may not import the Electron shell (main/) or the UI, while main/ may import app/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { layersPlugin } from '../../scripts/eslint-layers.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Only the layer rule, so the test shows that rule and no other. */
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as never },
      plugins: { layers: layersPlugin },
      rules: { 'layers/imports': 'error' },
    },
  ],
});

async function problems(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

test('an import from main/ into app/ is refused, static, dynamic, type-only or re-exported', async () => {
  const cases = [
    "import { DESKTOP_CSP } from '../../main/window-security.js';\nexport const csp = DESKTOP_CSP;\n",
    "export async function load() { return import('../../main/profile-key.js'); }\n",
    "import type { KeyWrapper } from '../../main/profile-key.js';\nexport type W = KeyWrapper;\n",
    "export { parseJoinLink } from '../../main/join-link.js';\n",
  ];
  for (const source of cases) {
    const found = await problems('app/cli/example.ts', source);
    assert.equal(found.length, 1, source);
    assert.match(found[0]!, /^layers\/imports: app\/cli\/example\.ts may not import "\.\.\/\.\.\/main\/[a-z-]+\.js" \(layer rule for app\)$/);
  }
  assert.equal((await problems('app/peer/x.ts', "import { IPC } from '../../renderer/src/bridge-api.js';\nexport default IPC;\n")).length, 1, 'nor the UI');
});

test('app/ may import app/ and packages; main/ may import app/', async () => {
  assert.deepEqual(await problems('app/cli/example.ts', "import { webCsp } from '../ui-serving/csp.js';\nimport { WebSocketServer } from 'ws';\nexport { webCsp, WebSocketServer };\n"), []);
  assert.deepEqual(await problems('main/example.ts', "import { webCsp } from '../app/ui-serving/csp.js';\nexport { webCsp };\n"), []);
});
