import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:fast`: the edit–test loop. The unit tests that need no Chromium, no GDAL tools,
 * no ../shared reference data, no Redis, Python or compiled dist/, and that train no full model.
 * Which files need what is read from their text (the helpers they import, the tools they start),
 * so a new test is classified without editing a list; SLOW names the few self-contained files
 * that are too slow for the loop. `npm test` still runs everything.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url));
const NEEDS = [
  /helpers\/gdal\.ts/, // gdalinfo / ogrinfo as the reference reader
  /helpers\/shared-data\.ts/, // ../shared/data
  /helpers\/redis-server\.ts/,
  /helpers\/dist-build\.ts/, // npm run build
  /playwright/,
  /['"`](gdal\w*|ogr\w+)['"`]/, // a GDAL command started directly
  /\/usr\/bin\/python3/,
];
const SLOW = [
  'tests/browser/', // Chromium
  'tests/cli/demo-pipeline.test.ts', // the whole demo, minutes
  'tests/cli/cancel.test.ts',
  'tests/app/kill-during-save.test.ts',
  'tests/app/server-survives.test.ts',
  'tests/app/contract-handlers.test.ts', // one worker per compute request
  // Full training runs (20–50 s each under load): tests/models and tests/maps keep their quick ones in the loop.
  'tests/models/geology-term-exercised.test.ts',
  'tests/models/data-parallel.test.ts',
  'tests/models/train-convergence-cli.test.ts',
  'tests/models/train-cli.test.ts',
  'tests/maps/onnx-shared-stem.test.ts',
  'tests/models/no-fallback.test.ts', // train + predict workflows at the default architecture
  'tests/models/model-onnx-at-training.test.ts', // a train workflow with folds and seeds, three predicts
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []));
}

export const fastExcluded = testFiles(join(ROOT, 'tests'))
  .map((f) => relative(ROOT, f))
  .filter((f) => SLOW.some((s) => f.startsWith(s)) || NEEDS.some((re) => re.test(readFileSync(join(ROOT, f), 'utf8'))));

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    exclude: ['**/node_modules/**', ...fastExcluded],
    // Files share a fork's module graph (tfjs, its wasm backend, the kernels we register) instead
    // of importing it again per file: measured 137 s → 87 s wall for the loop on the 2-core machine.
    // A test that mocks a module must therefore vi.resetModules() before importing what it tests
    // (tests/cli/output-paths-erofs.test.ts does). `npm test` keeps every file isolated.
    poolOptions: { forks: { ...base.test?.poolOptions?.forks, isolate: false } },
  },
});
