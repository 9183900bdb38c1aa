import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { ensembleMembers, readManifest } from '../../main/models/run-store.ts';
import { predictRunToGeoTiff } from '../../main/maps/parallel-predict.ts';
import { initBackend } from '../../main/models/backend.ts';
import { Rng } from '../../main/util/rng.ts';

// A 20 × 20 survey of 3 elements; Au is raised around four deposit cells (as tests/models/train-cli).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const deposits = [4 * 20 + 4, 4 * 20 + 15, 15 * 20 + 4, 15 * 20 + 15];
const negatives = [10 * 20 + 2, 2 * 20 + 10, 17 * 20 + 10, 10 * 20 + 17];
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ensemble-'));
  const rng = new Rng(5);
  const n = grid.rows * grid.cols;
  const bands = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) {
    const r = Math.floor(d / 20);
    const c = d % 20;
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][(r + dr) * 20 + c + dc] *= 3 + rng.uniform();
  }
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
  const code = await main([
    'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn,logreg,index,pc', '--index-elements', 'Au,As',
    '--epochs', '2', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--seed', '3', '--threads', '1', '--engine', 'tfjs', '--out', join(dir, 'run'),
  ]);
  expect(code).toBe(0);
  await initBackend('auto');
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('predict ensembles', () => {
  it('writes p_<model> = mean and sd_<model> = sd (n − 1) of the members’ own predictions', async () => {
    const run = join(dir, 'run');
    const manifest = readManifest(run);
    // Fold models of both repeats are kept; 'folds' uses the final model + the first repeat's.
    expect(manifest.models.cnn.members).toHaveLength(4);
    expect(manifest.models.logreg.members).toHaveLength(4);
    expect(ensembleMembers(manifest, 'cnn', 'folds')).toEqual(['cnn', 'cnn/fold-r0-f0', 'cnn/fold-r0-f1']);
    const out = join(dir, 'ens.tif');
    const models = ['cnn', 'logreg', 'index', 'pc'];
    const r = await predictRunToGeoTiff(join(dir, 'stack.tif'), out, { runDir: run, models, threads: 1, engine: 'tfjs', ensemble: 'folds', difference: ['cnn', 'logreg'] });
    expect(r.bandNames).toEqual(['p_cnn', 'p_logreg', 'p_index', 'p_pc', 'diff_cnn_minus_logreg', 'sd_cnn', 'sd_logreg', 'sd_index', 'sd_pc', 'window_mask']);
    const ens = await readGeoTiff(out);
    for (const kind of models) {
      const names = ensembleMembers(manifest, kind, 'folds');
      const single: Float32Array[] = [];
      for (const [i, name] of names.entries()) {
        const p = join(dir, `${kind}-${i}.tif`);
        await predictRunToGeoTiff(join(dir, 'stack.tif'), p, { runDir: run, models: [name], threads: 1, engine: 'tfjs' });
        single.push((await readGeoTiff(p)).bands[0]);
      }
      const mean = ens.bands[ens.bandNames.indexOf(`p_${kind}`)];
      const sd = ens.bands[ens.bandNames.indexOf(`sd_${kind}`)];
      let maxSd = 0;
      for (let c = 0; c < mean.length; c++) {
        const v = single.map((s) => s[c]);
        const mu = v.reduce((a, b) => a + b, 0) / v.length;
        const s = Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1));
        // Reference: the members' float32 maps, averaged here in float64; tolerance 1e-6 (float32 rounding of the band).
        expect(Math.abs(mean[c] - mu)).toBeLessThan(1e-6);
        expect(Math.abs(sd[c] - s)).toBeLessThan(1e-6);
        maxSd = Math.max(maxSd, s);
      }
      // The members really differ (an ensemble of copies would test nothing).
      expect(maxSd, kind).toBeGreaterThan(1e-4);
    }
    // evaluate scores the mean band and compares map AUCs at the deposits pairwise.
    const labels = new Float32Array(grid.rows * grid.cols);
    for (const d of deposits) labels[d] = 1;
    writeGeoTiff(join(dir, 'labels.tif'), { grid, bandNames: ['deposit'], bands: [labels] });
    const evalPath = join(dir, 'eval.json');
    const code = await main(['evaluate', '--map', out, '--band', 'p_cnn', '--deposits', join(dir, 'labels.tif'), '--compare', 'p_cnn,p_logreg,p_index', '--out', evalPath]);
    expect(code).toBe(0);
    const ev = JSON.parse(readFileSync(evalPath, 'utf8')) as { auc: number; comparisons: { a: string; b: string; diff: number; ci95: [number, number]; method: string }[] };
    expect(ev.comparisons.map((c) => `${c.a}/${c.b}`)).toEqual(['p_cnn/p_logreg', 'p_cnn/p_index', 'p_logreg/p_index']);
    for (const c of ev.comparisons) {
      expect(c.method).toBe('deposit bootstrap');
      expect(c.ci95[0]).toBeLessThanOrEqual(c.diff);
      expect(c.ci95[1]).toBeGreaterThanOrEqual(c.diff);
    }
  }, 120_000);
});
