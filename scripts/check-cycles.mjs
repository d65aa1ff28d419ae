#!/usr/bin/env node
// Fails when the modules under app/, main/ and renderer/ import each other in a
// cycle (run by `npm run lint`). Only imports that exist at run time count:
// `import type …` and `export type … from` vanish when TypeScript is stripped,
// so they cannot make a cycle; `import { type A } from …` still loads the module
// (verbatimModuleSyntax keeps it), so it counts. Dynamic `import()` is loaded
// later, on demand, and does not count. Packages are not followed.
//
// Usage: node scripts/check-cycles.mjs [folder ...]   (default: app main renderer)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(ts|tsx|cts|mts)$/;

function sourcesUnder(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') sourcesUnder(path, out);
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

/** The source file a relative specifier names: NodeNext writes './x.js' for x.ts; the renderer (Bundler) may omit the extension. */
function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(c|m)?jsx?$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.cts`, `${stem}.mts`, join(base, 'index.ts'), join(base, 'index.tsx')];
  return candidates.find((c) => SOURCE.test(c) && existsSync(c) && statSync(c).isFile()) ?? null;
}

/** Relative specifiers this file loads at run time. */
export function runtimeImports(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const specs = [];
  for (const stmt of source.statements) {
    if (ts.isImportDeclaration(stmt)) {
      if (stmt.importClause?.isTypeOnly) continue;
      specs.push(stmt.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(stmt) && stmt.moduleSpecifier) {
      if (stmt.isTypeOnly) continue;
      specs.push(stmt.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(stmt) && !stmt.isTypeOnly && ts.isExternalModuleReference(stmt.moduleReference)) {
      specs.push(stmt.moduleReference.expression.text);
    }
  }
  return specs.filter((s) => s.startsWith('.'));
}

export function importGraph(folders) {
  const graph = new Map();
  const files = folders.flatMap((f) => (existsSync(resolve(ROOT, f)) ? sourcesUnder(resolve(ROOT, f)) : []));
  for (const file of files) {
    const targets = runtimeImports(file, readFileSync(file, 'utf8'))
      .map((spec) => resolveSpecifier(file, spec))
      .filter((t) => t !== null);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself), each as one cycle path. */
export function findCycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  // Iterative Tarjan: the import graph can be deep enough to matter for recursion.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [{ node: start, next: 0 }];
    index.set(start, counter); low.set(start, counter); counter++;
    stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++];
        if (!index.has(to)) {
          index.set(to, counter); low.set(to, counter); counter++;
          stack.push(to); onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(to)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const members = [];
        let m;
        do { m = stack.pop(); onStack.delete(m); members.push(m); } while (m !== frame.node);
        const selfLoop = members.length === 1 && (graph.get(members[0]) ?? []).includes(members[0]);
        if (members.length > 1 || selfLoop) components.push(cyclePath(graph, new Set(members)));
      }
    }
  }
  return components;
}

/** One concrete cycle inside a component, for the message: breadth-first from its first member back to itself. */
function cyclePath(graph, members) {
  const first = [...members].sort()[0];
  const previous = new Map();
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === first) {
        const path = [first];
        for (let n = node; n !== first; n = previous.get(n)) path.splice(1, 0, n);
        return [...path, first];
      }
      if (!previous.has(to)) { previous.set(to, node); queue.push(to); }
    }
  }
  return [first, first];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const folders = process.argv.slice(2);
  const graph = importGraph(folders.length > 0 ? folders : ['app', 'main', 'renderer']);
  const cycles = findCycles(graph);
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(ROOT, f)).join(' → ')}`);
  if (cycles.length > 0) {
    console.error(`${cycles.length} import cycle(s) among ${graph.size} modules (use \`import type\` where only types cross, or move the shared part into a module both import)`);
    process.exit(1);
  }
  console.log(`no import cycles among ${graph.size} modules`);
}
