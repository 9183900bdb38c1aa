import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';
import { fileReader, importEdges, sourceFiles } from '../helpers/import-graph.ts';
import { REGISTRY, boundaryViolations } from '../helpers/import-boundaries.ts';
import { COMMANDS } from '../../main/commands/registry.ts';

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
