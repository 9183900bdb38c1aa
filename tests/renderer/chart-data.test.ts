import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';
import {
  boxStats,
  CHART_METRICS,
  cvBoxSeries,
  quantileSorted,
  radarSeries,
  separabilitySeries,
  trainingRocLines,
  xrfRocLines,
  type RunMetricsEntry,
  type RunRocEntry,
} from '../../renderer/src/lib/chart-data.ts';

describe('box-plot statistics (numpy definitions)', () => {
  it('quartiles are numpy.quantile(v, q) with the default linear method', () => {
    // Reference: numpy 1.x, np.quantile([0.61,0.72,0.55,0.9,0.68,0.7,0.12], [.25,.5,.75]) = [0.58, 0.68, 0.71];
    // np.quantile([1,2,3,4], [.25,.5,.75]) = [1.75, 2.5, 3.25]. Tolerance 1e-12 (float rounding only).
    const b = boxStats([0.61, 0.72, 0.55, 0.9, 0.68, 0.7, 0.12]);
    expect(b.q1).toBeCloseTo(0.58, 12);
    expect(b.median).toBeCloseTo(0.68, 12);
    expect(b.q3).toBeCloseTo(0.71, 12);
    expect(b.mean).toBeCloseTo(0.6114285714285714, 12);
    // Tukey fences q1 − 1.5·IQR = 0.385, q3 + 1.5·IQR = 0.905 (matplotlib's whis=1.5): 0.12 is an outlier.
    expect(b.whiskerMin).toBe(0.55);
    expect(b.whiskerMax).toBe(0.9);
    expect(b.outliers).toEqual([0.12]);
    expect([b.min, b.max, b.count]).toEqual([0.12, 0.9, 7]);
    const c = boxStats([4, 1, 3, 2, Number.NaN]);
    expect([c.q1, c.median, c.q3]).toEqual([1.75, 2.5, 3.25]);
    expect(c.count).toBe(4);
    expect(quantileSorted([5], 0.25)).toBe(5);
    expect(() => boxStats([Number.NaN])).toThrow(/no finite values/);
  });
});

// A tiny training run (2 models, 2 folds × 2 repeats, 1 epoch) whose files the chart series must reproduce.
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const at = (r: number, c: number): number => r * grid.cols + c;
let dir = '';
let metrics: Record<string, RunMetricsEntry> = {};
let roc: Record<string, RunRocEntry> = {};

beforeAll(async () => {
  dir = tempDir('chart-data-');
  const rng = new Rng(9);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.5))));
  const deposits = [at(4, 4), at(4, 15), at(15, 4), at(15, 15)];
  for (const d of deposits) for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][d + dr * grid.cols + dc] *= 1.3;
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: [at(10, 2), at(2, 10), at(17, 10), at(10, 17)] } }).set);
  const out = join(dir, 'run');
  const code = await main(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn,dcn', '--epochs', '1', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--threads', '1', '--out', out]);
  if (code !== 0) throw new Error(`train exited ${code}`);
  metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  roc = JSON.parse(readFileSync(join(out, 'roc.json'), 'utf8'));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training chart series from a run folder', () => {
  it('radar: one series per model, the seven metric means of metrics.json (exact)', () => {
    const r = radarSeries(metrics);
    expect(r.labels).toEqual(['ACC', 'AUC', 'KAPPA', 'MCC', 'PRECISION', 'RECALL', 'F1']);
    expect(r.series.map((s) => s.name)).toEqual(['cnn', 'dcn']);
    for (const s of r.series) expect(s.data).toEqual(CHART_METRICS.map((k) => metrics[s.name].mean[k]));
    expect(new Set(r.series.map((s) => s.color)).size).toBe(2);
  });

  it('ROC: a mean line per model equal to roc.json, plus every fold’s points on demand', () => {
    const means = trainingRocLines(roc, false);
    expect(means.map((l) => l.role)).toEqual(['mean', 'mean']);
    for (const l of means) {
      const model = l.name.split(' ')[0];
      expect(l.points.map((p) => p.x)).toEqual(roc[model].mean.fpr);
      expect(l.points.map((p) => p.y)).toEqual(roc[model].mean.tpr);
      expect(l.auc).toBe(roc[model].mean.auc);
    }
    const all = trainingRocLines(roc, true);
    expect(all).toHaveLength(2 + 4 + 4);
    const cnnFolds = all.filter((l) => l.role === 'fold' && l.name.startsWith('cnn'));
    // Fold curves carry metrics.json's fold AUC (≤ 1e-12, the same number written twice).
    cnnFolds.forEach((l, i) => expect(Math.abs(l.auc - metrics.cnn.folds[i].auc)).toBeLessThanOrEqual(1e-12));
    cnnFolds.forEach((l, i) => expect(l.points.map((p) => p.y)).toEqual(roc.cnn.folds[i].tpr));
  });

  it('CV box plots: per model and metric the box of that metric over the 4 folds (numpy quartiles, 1e-12)', () => {
    const b = cvBoxSeries(metrics);
    expect(b.series.map((s) => s.name)).toEqual(['cnn', 'dcn']);
    for (const s of b.series) {
      expect(s.data).toHaveLength(7);
      CHART_METRICS.forEach((k, j) => {
        const v = metrics[s.name].folds.map((f) => f[k]).sort((x, y) => x - y);
        expect(v).toHaveLength(4);
        // numpy linear quantiles of 4 values: q1 = v0 + 0.75·(v1 − v0), median = (v1 + v2)/2, q3 = v2 + 0.25·(v3 − v2).
        expect(Math.abs(s.data[j].q1 - (v[0] + 0.75 * (v[1] - v[0])))).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(s.data[j].median - (v[1] + v[2]) / 2)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(s.data[j].q3 - (v[2] + 0.25 * (v[3] - v[2])))).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(s.data[j].mean - metrics[s.name].mean[k])).toBeLessThanOrEqual(1e-12);
      });
    }
  });
});

describe('micro-XRF chart series', () => {
  it('ROC lines carry the metrics.json AUC; separability boxes keep the command’s statistics', () => {
    const lines = xrfRocLines({ rx: { fpr: [0, 0.5, 1], tpr: [0, 1, 1] }, msfa: { fpr: [0, 1], tpr: [0, 1] } }, { rx: 0.75, msfa: undefined });
    expect(lines.map((l) => l.name)).toEqual(['rx (AUC 0.7500)', 'msfa (AUC –)']);
    expect(lines[0].points).toEqual([{ x: 0, y: 0 }, { x: 0.5, y: 1 }, { x: 1, y: 1 }]);
    const box = { count: 10, whiskerLow: 0, q1: 0.1, median: 0.2, q3: 0.3, whiskerHigh: 0.6 };
    const s = separabilitySeries([{ method: 'rx', background: box, anomaly: { ...box, median: 0.5 } }]);
    expect(s.labels).toEqual(['rx']);
    expect(s.series.map((x) => x.name)).toEqual(['background', 'anomaly']);
    expect(s.series[1].data[0].median).toBe(0.5);
    expect([s.series[0].data[0].whiskerMin, s.series[0].data[0].whiskerMax]).toEqual([0, 0.6]);
  });
});
