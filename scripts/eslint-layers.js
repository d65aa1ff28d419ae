// The layer rule (../shared/STYLE.md §3): which imports each folder may use.
// A rule is { under, allowPackages, allowFolders } or { under, denyFolders }:
// files under `under` may import packages whose name starts with one of
// allowPackages (any package when allowPackages is absent), and relative paths
// that resolve inside one of allowFolders (anywhere but denyFolders when
// allowFolders is absent). The first rule whose folder holds the file applies,
// so the narrow layers come before `app`. Folders with no rule are unrestricted.
// Arrows run one way: app/ never imports the Electron shell (main/) or the UI.
import { dirname, resolve, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const LAYERS = [
  { under: 'app/core', allowPackages: ['@noble/'], allowFolders: ['app/core'] },
  { under: 'app/fractional', allowPackages: ['@noble/'], allowFolders: ['app/fractional', 'app/core/types.ts', 'app/core/crypto-provider.ts', 'app/core/bytes.ts', 'app/core/errors.ts'] },
  { under: 'app/crypto', allowPackages: ['@noble/', 'node:crypto'], allowFolders: ['app/crypto', 'app/core'] },
  { under: 'renderer', allowPackages: ['react', 'react-dom', 'qrcode', 'vite', '@vitejs/'], allowFolders: ['renderer', 'app/api'] },
  { under: 'app', denyFolders: ['main', 'renderer'] },
];

function inside(folder, file) {
  const rel = relative(resolve(root, folder), file);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

export const layersPlugin = {
  rules: {
    imports: {
      meta: { type: 'problem', schema: [], messages: { banned: '{{file}} may not import "{{spec}}" (layer rule for {{under}})' } },
      create(context) {
        const file = resolve(context.filename);
        const layer = LAYERS.find((l) => inside(l.under, file));
        if (!layer || /\.test\.tsx?$/.test(file)) return {};
        function check(node, spec) {
          if (typeof spec !== 'string') return;
          let ok;
          if (spec.startsWith('.')) {
            // NodeNext imports name the compiled '.js'; the source is the '.ts' beside it.
            const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
            ok = layer.allowFolders ? layer.allowFolders.some((f) => inside(f, target)) : !layer.denyFolders.some((f) => inside(f, target));
          } else {
            ok = !layer.allowPackages || layer.allowPackages.some((p) => spec === p || spec.startsWith(p.endsWith('/') ? p : p + '/') || spec.startsWith(p));
          }
          if (!ok) context.report({ node, messageId: 'banned', data: { file: relative(root, file), spec, under: layer.under } });
        }
        return {
          ImportDeclaration: (n) => check(n, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
          ExportAllDeclaration: (n) => check(n, n.source.value),
          ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
        };
      },
    },
  },
};
