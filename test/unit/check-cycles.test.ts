// scripts/check-cycles.mjs (run by `npm run lint`): a runtime import cycle fails
// it; imports that vanish at run time (`import type`, `export type … from`) and
// dynamic import() do not make a cycle. Run on small fixture folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-cycles.mjs');

function withFixture(files: Record<string, string>, run: (dir: string) => void): void {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'tmp', 'cycles-fixture-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function check(dir: string) {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a runtime import cycle fails, named module by module', () => {
  withFixture(
    {
      'a.ts': "import { b } from './sub/b.js';\nexport const a = () => b;\n",
      'sub/b.ts': "import { c } from '../c.js';\nexport const b = c;\n",
      'c.ts': "import { a } from './a.js';\nexport const c = 1;\nexport const d = a;\n",
      'ok.tsx': "import { a } from './a';\nexport const x = a;\n",
    },
    (dir) => {
      const r = check(dir);
      assert.equal(r.status, 1, r.out);
      const cycles = r.out.split('\n').filter((l) => l.startsWith('import cycle: '));
      assert.equal(cycles.length, 1, r.out);
      assert.match(cycles[0]!, /a\.ts → .*sub\/b\.ts → .*c\.ts → .*a\.ts$/);
    },
  );
});

test('type-only imports and dynamic import() do not make a cycle; an inline `type` specifier still loads the module', () => {
  const typeOnly = {
    'a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\nexport const a = 1;\n",
    'b.ts': "import { a } from './a.js';\nexport type { A } from './a.js';\nexport type B = number;\nexport const b = a;\n",
    'lazy.ts': "import { b } from './b.js';\nexport const lazy = () => import('./later.js');\nexport const l = b;\n",
    'later.ts': "import { lazy } from './lazy.js';\nexport const later = lazy;\n",
  };
  withFixture(typeOnly, (dir) => {
    const r = check(dir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /no import cycles among 4 modules/);
  });
  withFixture({ ...typeOnly, 'a.ts': "import { type B } from './b.js';\nexport type A = { b?: B };\nexport const a = 1;\n" }, (dir) => {
    assert.equal(check(dir).status, 1);
  });
});
