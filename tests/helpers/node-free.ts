import ts from 'typescript';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { REPO_ROOT } from './paths.ts';

/**
 * The non-relative modules (`node:fs`, packages) a source file loads through static imports,
 * transitively, each as "importing file → specifier". Type-only imports and exports (`import
 * type`, `export type … from`) are erased and not followed; `import()` calls load lazily and are
 * not followed either. Read from the TypeScript syntax tree (as tests/helpers/import-graph.ts
 * does), so comments and strings do not count. A file meant for the renderer (an option table,
 * a result type) is Node-free when its list is empty.
 */
export function runtimeImportsOutsideRepo(file: string): string[] {
  const seen = new Set<string>();
  const outside: string[] = [];
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    for (const node of sf.statements) {
      let spec: ts.Expression | undefined;
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) spec = node.moduleSpecifier;
      else if (ts.isExportDeclaration(node) && !node.isTypeOnly) spec = node.moduleSpecifier;
      if (!spec || !ts.isStringLiteralLike(spec)) continue;
      if (spec.text.startsWith('.')) visit(resolve(dirname(path), spec.text));
      else outside.push(`${relative(REPO_ROOT, path)} → ${spec.text}`);
    }
  };
  visit(resolve(REPO_ROOT, file));
  return outside;
}
