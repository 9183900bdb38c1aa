import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { meanRoc, tprAt, trapezoidArea, type ModelRoc } from '../../main/models/run-roc.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

// 20 × 20 cells, 2 elements; Au weakly raised around four deposits (so fold AUCs stay below 1 and curves have corners) (the set-up of train-cli.test.ts, smaller).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const at = (r: number, c: number): number => r * grid.cols + c;
const deposits = [at(4, 4), at(4, 15), at(15, 4), at(15, 15)];
const negatives = [at(10, 2), at(2, 10), at(17, 10), at(10, 17)];
let dir = '';

beforeAll(() => {
  dir = tempDir('train-roc-');
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.5))));
  for (const d of deposits) {
    const r = Math.floor(d / grid.cols);
    const c = d % grid.cols;
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][at(r + dr, c + dc)] *= 1.3;
  }
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run ROC summary (main/models/run-roc.ts)', () => {
  it('averages curves vertically: a perfect and a diagonal curve give TPR (1 + f)/2 and AUC 0.75', () => {
    // Reference: by hand. At f = 0 the perfect curve's vertical step counts at its upper end (1).
    const m = meanRoc([{ fpr: [0, 0, 1], tpr: [0, 1, 1] }, { fpr: [0, 1], tpr: [0, 1] }], 11);
    expect(m.fpr).toEqual([0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    m.fpr.slice(1).forEach((f, i) => expect(m.tpr[i + 1]).toBeCloseTo((1 + f) / 2, 12));
    expect(m.tpr[0]).toBe(0);
    expect(m.auc).toBeCloseTo(0.75, 12);
  });

  it('reads TPR between points linearly and at the upper end of a vertical step', () => {
    const fpr = [0, 0.2, 0.2, 1];
    const tpr = [0, 0.4, 0.8, 1];
    expect(tprAt(fpr, tpr, 0.1)).toBeCloseTo(0.2, 12);
    expect(tprAt(fpr, tpr, 0.2)).toBe(0.8);
    expect(tprAt(fpr, tpr, 0.6)).toBeCloseTo(0.9, 12);
    expect(tprAt(fpr, tpr, 1)).toBe(1);
    expect(trapezoidArea(fpr, tpr)).toBeCloseTo(0.04 + 0.8 * 0.9, 12);
  });
});

describe('geoanomaly train writes roc.json', () => {
  it('holds every fold’s ROC points; their trapezoid AUC equals metrics.json’s fold AUC (≤ 1e-12)', async () => {
    const out = join(dir, 'run');
    const code = await main([
      'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn',
      '--epochs', '1', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--seed', '2', '--threads', '1', '--out', out,
    ]);
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<string, { folds: { auc: number }[] }>;
    const roc = JSON.parse(readFileSync(join(out, 'roc.json'), 'utf8')) as Record<string, ModelRoc>;
    expect(Object.keys(roc)).toEqual(Object.keys(metrics));
    const r = roc.cnn;
    expect(r.folds).toHaveLength(4); // 2 folds × 2 repeats, in metrics.json's order
    r.folds.forEach((f, i) => {
      expect(f.fpr[0]).toBe(0);
      expect(f.tpr[0]).toBe(0);
      expect(f.fpr.at(-1)).toBe(1);
      expect(f.tpr.at(-1)).toBe(1);
      for (let k = 1; k < f.fpr.length; k++) expect(f.fpr[k]).toBeGreaterThanOrEqual(f.fpr[k - 1]);
      expect(Math.abs(f.auc - metrics.cnn.folds[i].auc)).toBeLessThanOrEqual(1e-12);
      // sklearn: auc(roc_curve(y, s)) == roc_auc_score(y, s); here both come from our metrics module.
      expect(Math.abs(trapezoidArea(f.fpr, f.tpr) - metrics.cnn.folds[i].auc)).toBeLessThanOrEqual(1e-12);
    });
    expect(r.folds.map((f) => [f.repeat, f.fold])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
    expect(r.mean.fpr).toHaveLength(102);
    const aucs = r.folds.map((f) => f.auc);
    expect(Math.min(...aucs)).toBeLessThan(1); // a non-trivial curve is checked
    // The vertical average lies between the folds' curves, so its area lies between their AUCs.
    expect(r.mean.auc).toBeGreaterThanOrEqual(Math.min(...aucs) - 1e-12);
    expect(r.mean.auc).toBeLessThanOrEqual(Math.max(...aucs) + 1e-12);
    expect(Math.abs(r.mean.auc - trapezoidArea(r.mean.fpr, r.mean.tpr))).toBeLessThanOrEqual(1e-12);
  }, 120_000);

  it('writes the same roc.json when folds train in parallel on 2 worker threads (exact: bit-identical fits)', async () => {
    const args = ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '1', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--seed', '2'];
    expect(await main([...args, '--threads', '2', '--out', join(dir, 'run-2')])).toBe(0);
    const one = readFileSync(join(dir, 'run', 'roc.json'), 'utf8');
    expect(readFileSync(join(dir, 'run-2', 'roc.json'), 'utf8')).toBe(one);
  }, 120_000);
});
