// `npm run typecheck` (tsc -b over the solution tsconfig.json) must reach every
// TypeScript file in the repository, and a type error in a renderer component
// must fail it (Vite strips types without checking them). The first test reads
// the project list the way tsc -b does; the second compiles a small component
// under the renderer's own compiler options, in process, in a couple of seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const SKIP = new Set(['node_modules', 'dist', 'tmp', 'test-results', '.git']);

function parseConfig(path: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(path, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(parsed, path);
  assert.deepEqual(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], path);
  return parsed;
}

function sourcesUnder(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourcesUnder(path, out);
    else if (/\.(ts|tsx|cts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

test('the solution tsconfig reaches every TypeScript file in the repository', () => {
  const solution = parseConfig(join(ROOT, 'tsconfig.json'));
  assert.deepEqual(solution.fileNames, [], 'the solution itself compiles nothing; its projects do');
  const covered = new Set<string>();
  const projects = (solution.projectReferences ?? []).map((r) => relative(ROOT, r.path));
  for (const ref of solution.projectReferences ?? []) {
    const configPath = ts.sys.fileExists(ref.path) ? ref.path : join(ref.path, 'tsconfig.json');
    for (const file of parseConfig(configPath).fileNames) covered.add(resolve(file));
  }
  for (const expected of ['app/core', 'renderer', 'main']) assert.ok(projects.includes(expected), `${expected} is a project of the solution`);
  const missing = sourcesUnder(ROOT).filter((f) => !covered.has(f)).map((f) => relative(ROOT, f));
  assert.deepEqual(missing, [], 'files that no project of the solution includes');
  assert.ok(covered.has(join(ROOT, 'main', 'preload.cts')));
  assert.ok(covered.has(join(ROOT, 'renderer', 'src', 'App.tsx')));
});

test('a type error in a .tsx component fails the renderer project', () => {
  const tmp = join(ROOT, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'typecheck-fixture-'));
  try {
    const rendererConfig = relative(dir, join(ROOT, 'renderer', 'tsconfig.json')).split('\\').join('/');
    const icon = relative(dir, join(ROOT, 'renderer', 'src', 'Icon.js')).split('\\').join('/');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: rendererConfig, files: ['Fixture.tsx'] }));
    writeFileSync(
      join(dir, 'Fixture.tsx'),
      [
        `import { Icon } from '${icon}';`,
        `export function Fine() { return <Icon name="chat" size={20} />; }`,
        `export function Broken() { return <Icon name="chat" size="large" />; }`,
        '',
      ].join('\n'),
    );
    const config = parseConfig(join(dir, 'tsconfig.json'));
    const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return { file: d.file ? relative(dirname(d.file.fileName), d.file.fileName) : '', line, code: d.code };
    });
    assert.deepEqual(errors, [{ file: 'Fixture.tsx', line: 3, code: 2322 }], 'exactly the wrong prop type is reported');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
