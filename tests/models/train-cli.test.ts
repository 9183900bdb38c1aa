import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { loadModel, readManifest } from '../../main/models/run-store.ts';
import { METRIC_NAMES } from '../../main/models/cross-validate.ts';
import { Rng } from '../../main/util/rng.ts';

// A 24 × 24 survey of 3 elements on 1 km cells; Au is raised around four deposit cells.
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 24, cols: 24, crs: crsFromEpsg(32645) };
const deposits = [5 * 24 + 5, 5 * 24 + 18, 18 * 24 + 5, 18 * 24 + 18];
const negatives = [11 * 24 + 2, 2 * 24 + 11, 21 * 24 + 11, 11 * 24 + 21];
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
  const rng = new Rng(2);
  const n = grid.rows * grid.cols;
  const bands = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) {
    const r = Math.floor(d / 24);
    const c = d % 24;
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][(r + dr) * 24 + c + dc] *= 4;
  }
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  const w = Float32Array.from({ length: n }, (_, i) => (deposits.includes(i) ? 0.9 : 0.1 + 0.1 * rng.uniform()));
  writeGeoTiff(join(dir, 'w.tif'), { grid, bandNames: ['fault_weight'], bands: [w] });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('geoanomaly train', () => {
  it('cross-validates, writes metrics.json in the issue’s shape, the manifest and loadable models', async () => {
    const out = join(dir, 'run');
    const code = await main([
      'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'w.tif'),
      '--model', 'cnn,gk-dcn', '--epochs', '2', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--seed', '3', '--out', out,
    ]);
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<string, { folds: Record<string, number>[]; mean: Record<string, number>; sd: Record<string, number> }>;
    const { comparisons, ...models } = metrics as Record<string, unknown>;
    expect(Object.keys(models)).toEqual(['cnn', 'gk-dcn']);
    // One paired comparison (gk-dcn − cnn) in the shape.
    expect(comparisons).toEqual([expect.objectContaining({ a: 'gk-dcn', b: 'cnn', metric: 'auc', method: 'site bootstrap' })]);
    for (const m of Object.values(models) as { folds: Record<string, number>[]; mean: Record<string, number>; sd: Record<string, number> }[]) {
      expect(m.folds).toHaveLength(2);
      for (const f of m.folds) expect(Object.keys(f).sort()).toEqual([...METRIC_NAMES].sort());
      for (const k of METRIC_NAMES) {
        expect(Number.isFinite(m.mean[k])).toBe(true);
        expect(m.mean[k]).toBeCloseTo((m.folds[0][k] + m.folds[1][k]) / 2, 12);
      }
    }
    const manifest = readManifest(out);
    expect(manifest.bandNames).toEqual(['Au', 'Cu', 'As']);
    expect(manifest.seed).toBe(3);
    expect(manifest.backend.name).toBe('wasm');
    const stackHash = execFileSync('sha256sum', [join(dir, 'stack.tif')], { encoding: 'utf8' }).split(' ')[0];
    expect(manifest.inputs.find((i) => i.role === 'stack')?.sha256).toBe(stackHash);
    expect(manifest.inputs.map((i) => i.role)).toEqual(['stack', 'sites', 'knowledge']);
    expect(manifest.models['gk-dcn'].geology?.a).toHaveLength(1);
    expect((manifest.patch as { stats: { means: number[] } }).stats.means).toHaveLength(3);
    const model = await loadModel(out, 'gk-dcn');
    expect(model.inputs[0].shape).toEqual([null, 5, 5, 3]);
    model.dispose();
  });

  it('refuses a GK model without a knowledge raster (usage error, exit 2)', async () => {
    const code = await main(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'gk-cnn', '--out', join(dir, 'run2')]);
    expect(code).toBe(2);
  });

  it('refuses a knowledge raster on another grid unless paired by index explicitly', async () => {
    const other: GridSpec = { ...grid, originX: grid.originX - 67_000 };
    writeGeoTiff(join(dir, 'w-shifted.tif'), { grid: other, bandNames: ['w'], bands: [new Float32Array(24 * 24).fill(0.5)] });
    const args = ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'w-shifted.tif'), '--model', 'gk-cnn', '--epochs', '1', '--folds', '2', '--repeats', '1', '--patch-size', '3'];
    expect(await main([...args, '--out', join(dir, 'run3')])).toBe(1);
    expect(await main([...args, '--align-by-index', '0,0', '--out', join(dir, 'run4')])).toBe(0);
  });
});
