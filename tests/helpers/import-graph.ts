import ts from 'typescript';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One relative import of a module: static (`import`, `import type`, `export … from`) or dynamic (`import('…')`). */
export interface ImportEdge {
  readonly from: string; // repository-relative path of the importing file
  readonly to: string; // repository-relative path it resolves to
  readonly specifier: string;
  readonly kind: 'static' | 'dynamic';
}

/** Repository-relative paths of the .ts / .mts / .mjs sources under `dirs` (declaration files excluded). */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(relative(root, p));
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return out.sort();
}

/**
 * The relative imports of each file, read from the TypeScript compiler's syntax tree rather than
 * a regex, so comments and strings that merely mention a path do not count.
 * `read` maps a repository-relative path to its text (the file system, or a synthetic set in tests).
 */
export function importEdges(files: readonly string[], read: (path: string) => string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const sf = ts.createSourceFile(from, read(from), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const add = (spec: ts.Expression | undefined, kind: ImportEdge['kind']): void => {
      if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return; // packages, node: builtins
      edges.push({ from, to: relative('/', resolve('/', dirname(from), spec.text)), specifier: spec.text, kind });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier, 'static');
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], 'dynamic');
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return edges;
}

/** Reads a repository-relative path under `root`. */
export const fileReader = (root: string) => (path: string): string => readFileSync(join(root, path), 'utf8');

/** Every file reachable from `start` through static imports (import() calls load lazily and are not followed). */
export function staticClosure(start: string, edges: readonly ImportEdge[]): Set<string> {
  const out = new Map<string, string[]>();
  for (const e of edges) if (e.kind === 'static') out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    for (const to of out.get(queue.pop() as string) ?? []) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}
