/**
 * `geoanomaly train --engine`: onnx and tfjs both run and the manifest records which engine ran
 * (run-level and per final model); an unknown engine is a usage error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { Rng } from '../../main/util/rng.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const deposits = [4 * 20 + 4, 4 * 20 + 15, 15 * 20 + 4, 15 * 20 + 15];
const negatives = [10 * 20 + 2, 2 * 20 + 10, 17 * 20 + 10, 10 * 20 + 17];
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnx-train-cli-'));
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  const w = Float32Array.from({ length: n }, (_, i) => (deposits.includes(i) ? 0.9 : 0.1 + 0.1 * rng.uniform()));
  writeGeoTiff(join(dir, 'w.tif'), { grid, bandNames: ['fault_weight'], bands: [w] });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const args = (engine: string, out: string): string[] => [
  'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'w.tif'),
  '--model', 'gk-dcn', '--epochs', '1', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--threads', '1', '--engine', engine, '--out', out,
];

describe('geoanomaly train --engine', () => {
  for (const engine of ['onnx', 'tfjs'] as const) {
    it(`--engine ${engine}: trains and records the engine in the manifest`, async () => {
      const out = join(dir, `run-${engine}`);
      expect(await main(args(engine, out))).toBe(0);
      const manifest = readManifest(out);
      expect(manifest.engine?.requested).toBe(engine);
      expect(manifest.engine?.name).toBe(engine);
      expect(manifest.engine?.detail).toMatch(engine === 'onnx' ? /^onnx \(onnxruntime-node \d/ : /^tfjs/);
      expect(manifest.models['gk-dcn'].engine).toBe(engine);
    });
  }
  it('an unknown engine is refused', async () => {
    expect(await main(args('cuda', join(dir, 'run-bad')))).not.toBe(0);
  });
});
