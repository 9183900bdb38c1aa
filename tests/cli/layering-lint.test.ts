import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.ts';
import { importEdges, sourceFiles, fileReader } from '../helpers/import-graph.ts';

// eslint.config.js is plain JavaScript (no declaration file): its two exports, typed here.
const config = (await import(join(REPO_ROOT, 'eslint.config.js'))) as { LAYERS: string[][]; KNOWN_UPWARD_IMPORTS: Record<string, string[]> };
const { LAYERS, KNOWN_UPWARD_IMPORTS } = config;

/**
 * The layering rule of issue 17 as `npm run lint` applies it (the repository's eslint.config.js,
 * through ESLint's own API): each case is a one-line module at a path under main/, linted as if
 * it were that file (nothing is written).
 */
const eslint = new ESLint({ cwd: REPO_ROOT });

async function layeringErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path) });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('layering lint (eslint.config.js LAYERS, no upward imports)', () => {
  it.each([
    ['main/grid/new.ts', "import { readVector } from '../io/vector.ts';\nexport { readVector };", 'main/io/'],
    ['main/util/new.ts', "export { CrsError } from '../errors.ts';\nexport * from '../grid/crs.ts';", 'main/grid/'],
    ['main/models/kernels/new.ts', "import { predictMap } from '../../maps/predict-map.ts';\nexport { predictMap };", 'main/maps/'],
    ['main/maps/onnx/new.ts', "export const f = () => import('../../cli/main.ts');", 'main/cli/'], // dynamic import()
    ['main/api/new.ts', "import type { Command } from '../cli/command.ts';\nexport type C = Command;", 'main/cli/'], // type-only counts
    ['main/io/geopackage-write.ts', "import { crsToPrjWkt } from '../export/crs-wkt.ts';\nexport { crsToPrjWkt };", 'main/export/'], // its exception is gone (crs-wkt moved to grid/)
    ['main/models/onnx-train/train-graph.ts', "import { predictMap } from '../../maps/predict-map.ts';\nexport { predictMap };", 'main/maps/'], // models/ sits below maps/
    ['main/sites/new.ts', "import '../xrf/cube.ts';", 'main/xrf/'],
    ['main/io/new.ts', "import { x } from '../figures/canvas.ts';\nexport { x };", 'main/figures/'], // same layer, sibling folder
    ['main/eval/new.ts', "import x from '../../renderer/src/lib/x.ts';\nexport { x };", 'renderer/'],
    ['main/index.ts', "export * from './api/contract.ts';", 'main/api/'],
  ])('%s: an upward import is an error', async (path, code, target) => {
    const errors = await layeringErrors(path, code);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toContain('layering (LAYERS in eslint.config.js)');
    expect(errors[0]).toContain(target);
  });

  it.each([
    ['main/io/new.ts', "import { CrsError } from '../errors.ts';\nimport { crsFromEpsg } from '../grid/crs.ts';\nexport { CrsError, crsFromEpsg };"],
    ['main/models/onnx-train/new.ts', "import { trainModel } from '../train.ts';\nimport { rocAuc } from '../../eval/metrics.ts';\nexport { trainModel, rocAuc };"], // parent folder, lower layer
    ['main/cli/commands/new.ts', "import { readVector } from '../../io/vector.ts';\nimport type { Command } from '../command.ts';\nexport type C = Command;\nexport { readVector };"],
    ['main/cli/commands/new.ts', "export const f = () => import('../../api/browser-host.ts');"], // cli is above api
    ['main/models/kernels/new.ts', "import { buildTrainGraph } from '../onnx-train/train-graph.ts';\nexport { buildTrainGraph };"], // one module group
    ['main/io/geopackage-write.ts', "import { crsToPrjWkt } from '../grid/crs-wkt.ts';\nexport { crsToPrjWkt };"], // the WKT writer is below io/
    ['main/models/onnx-train/train-graph.ts', "import { LAYER_KINDS } from '../../nn/registry.ts';\nexport { LAYER_KINDS };"], // nn/ sits below models/ (no exception needed)
    ['main/commands/registry.ts', "export const load = () => import('../cli/commands/info.ts');"], // by design
    ['main/api/new.ts', "export const load = () => import('../commands/registry.ts');"],
    ['main/xrf/new.ts', "import tf from '@tensorflow/tfjs-core';\nexport { tf };"], // packages are not layers
  ])('%s: a downward or allowed import passes', async (path, code) => {
    expect(await layeringErrors(path, code)).toEqual([]);
  });

  it('every folder of main/ is placed in a layer, and each known exception still exists in the sources', () => {
    const placed = LAYERS.flat();
    const folders = [...new Set(sourceFiles(REPO_ROOT, ['main']).map((f) => f.split('/')[1]).filter((f) => !f.endsWith('.ts')))];
    for (const f of folders) expect(placed, `main/${f}`).toContain(f);
    // A stale exception would silently allow a future upward import: each must match a real import.
    const files = sourceFiles(REPO_ROOT, ['main']);
    const edges = importEdges(files, fileReader(REPO_ROOT));
    for (const [from, tos] of Object.entries(KNOWN_UPWARD_IMPORTS)) {
      // An entry may name a file that a branch not merged here yet adds; once the file exists, its import must too.
      if (!files.includes(`main/${from}`)) continue;
      for (const to of tos) {
        const hit = edges.some((e) => e.from === `main/${from}` && (to.endsWith('/*') ? e.to.startsWith(`main/${to.slice(0, -1)}`) : e.to === `main/${to}`));
        expect(hit, `KNOWN_UPWARD_IMPORTS: main/${from} → main/${to} no longer exists: remove the entry`).toBe(true);
      }
    }
  });
});
