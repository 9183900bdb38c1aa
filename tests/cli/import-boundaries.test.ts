import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';
import { fileReader, importEdges, sourceFiles, staticClosure, type ImportEdge } from '../helpers/import-graph.ts';
import { COMMANDS } from '../../main/commands/registry.ts';

const REGISTRY = 'main/commands/registry.ts';
/** CLI modules the registry must never load: the CLI's entry, its full command list, and serve (which imports main/api). */
const CLI_ONLY = ['main/cli/main.ts', 'main/cli/commands/index.ts', 'main/cli/commands/serve.ts'];

/**
 * The rules of issue 16 (break the api ↔ cli cycle) and 17 (nothing below main/cli imports main/cli),
 * as one list of human-readable violations (empty = fine):
 * 1. nothing outside main/cli imports main/cli, except the registry's lazy import() of single
 *    command modules (main/cli/commands/<name>.ts, never the CLI's entry, its index or serve);
 * 2. what main/api, the library entry (main/index.ts) and the registry load statically reaches no main/cli module;
 * 3. command modules other than serve never import main/api.
 */
export function boundaryViolations(files: readonly string[], edges: readonly ImportEdge[]): string[] {
  const bad: string[] = [];
  const inCli = (p: string): boolean => p.startsWith('main/cli/');
  for (const e of edges) {
    if (!e.from.startsWith('main/') || inCli(e.from) || !inCli(e.to)) continue;
    const registryLazyCommand = e.from === REGISTRY && e.kind === 'dynamic' && /^main\/cli\/commands\/[^/]+\.ts$/.test(e.to) && !CLI_ONLY.includes(e.to);
    if (!registryLazyCommand) bad.push(`${e.from} imports ${e.to} (${e.kind}): nothing below main/cli may import main/cli`);
  }
  const roots = [...files.filter((f) => f.startsWith('main/api/')), 'main/index.ts', REGISTRY].filter((f) => files.includes(f));
  for (const root of roots) {
    for (const reached of staticClosure(root, edges)) {
      if (inCli(reached)) bad.push(`${root} statically loads ${reached}`);
    }
  }
  for (const e of edges) {
    if (e.from.startsWith('main/cli/commands/') && e.from !== 'main/cli/commands/serve.ts' && e.to.startsWith('main/api/')) {
      bad.push(`${e.from} imports ${e.to}: only serve may reach the app's API`);
    }
  }
  return [...new Set(bad)];
}

describe('import boundaries between main/api, main/commands and main/cli', () => {
  it('the sources keep the rules', () => {
    const files = sourceFiles(REPO_ROOT, ['main']);
    expect(files.length).toBeGreaterThan(100);
    const edges = importEdges(files, fileReader(REPO_ROOT));
    // Sanity: the graph is really read (the api does run commands through the registry).
    expect(edges.some((e) => e.from === 'main/api/command-worker.ts' && e.to === REGISTRY && e.kind === 'static')).toBe(true);
    expect(edges.filter((e) => e.from === REGISTRY && e.kind === 'dynamic').length).toBe(COMMANDS.length);
    expect(boundaryViolations(files, edges)).toEqual([]);
  });

  it('the registry lists no CLI-only command', () => {
    expect(COMMANDS.map((c) => c.name)).not.toContain('serve');
  });

  it('the check fails on each kind of violation (a synthetic source tree)', () => {
    const tree: Record<string, string> = {
      'main/cli/main.ts': "import { COMMANDS } from '../commands/registry.ts';",
      'main/cli/commands/info.ts': "import { readVector } from '../../io/vector.ts';",
      'main/cli/commands/train.ts': "import type { JobResult } from '../../api/contract.ts';", // rule 3
      'main/cli/commands/serve.ts': "import { startHost } from '../../api/browser-host.ts';", // allowed
      'main/cli/util.ts': "export const x = 1;",
      'main/commands/registry.ts':
        "export const C = [() => import('../cli/commands/info.ts'), () => import('../cli/commands/serve.ts')];", // serve: rule 1
      'main/api/handlers.ts': "import { helper } from './helper.ts';",
      'main/api/helper.ts': "export { x } from '../io/vector.ts';",
      'main/api/browser-host.ts': "import { x } from '../cli/util.ts';", // rule 1 and 2
      'main/io/vector.ts': "const lazy = () => import('../cli/main.ts'); // a comment: import('../cli/x.ts')", // rule 1 (dynamic counts)
      'main/api/contract.ts': "// import { x } from '../cli/util.ts' (a comment, not an import)",
      'main/index.ts': "export * from './io/vector.ts';",
    };
    const files = Object.keys(tree);
    const v = boundaryViolations(files, importEdges(files, (p) => tree[p]));
    expect(v).toEqual([
      'main/commands/registry.ts imports main/cli/commands/serve.ts (dynamic): nothing below main/cli may import main/cli',
      'main/api/browser-host.ts imports main/cli/util.ts (static): nothing below main/cli may import main/cli',
      'main/io/vector.ts imports main/cli/main.ts (dynamic): nothing below main/cli may import main/cli',
      'main/api/browser-host.ts statically loads main/cli/util.ts',
      "main/cli/commands/train.ts imports main/api/contract.ts: only serve may reach the app's API",
    ]);
  });
});
