// Lint with the project's layer rules (../shared/STYLE.md §3): each folder may
// import only what its layer allows, checked by the local `layers/imports` rule.
// TypeScript files are linted with type information (typescript-eslint's project
// service finds each file's project through the solution tsconfig.json), so a
// promise that nobody awaits or handles is an error. Import cycles are checked by
// scripts/check-cycles.mjs, which `npm run lint` runs after eslint.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import { layersPlugin } from './scripts/eslint-layers.js';

const TS = ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts'];

export default defineConfig(
  globalIgnores(['node_modules/**', 'dist/**', 'tmp/**', 'test-results/**', 'bench/results/**', '**/*.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { layers: layersPlugin },
    rules: {
      'layers/imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: TS,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise is awaited, returned, handled with .catch/.then(…, onRejected),
      // or marked `void` where dropping it is intended and its rejection is handled inside.
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      // No async function where a caller expects a plain callback (an event handler,
      // a forEach body) unless the caller ignores the result on purpose (JSX handlers).
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: { ...globals.browser } },
    // React's rules of hooks (hooks called unconditionally, complete effect dependencies).
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // The Vite config is build tooling that runs in Node (tsconfig.node.json), not
    // renderer code: the renderer's import layer does not apply to it.
    files: ['renderer/vite.config.ts'],
    rules: { 'layers/imports': 'off' },
  },
);
