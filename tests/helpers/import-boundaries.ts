import { staticClosure, type ImportEdge } from './import-graph.ts';

export const REGISTRY = 'main/commands/registry.ts';
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

