import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
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

// The files of a tiny training run (2 models, 2 folds × 2 repeats, 1 epoch), committed with their
// generator (fixtures/make-training-run.ts) so this unit test trains nothing: the chart series must reproduce them.
const FIXTURE = new URL('./fixtures/training-run/', import.meta.url);
const metrics = JSON.parse(readFileSync(new URL('metrics.json', FIXTURE), 'utf8')) as Record<string, RunMetricsEntry>;
const roc = JSON.parse(readFileSync(new URL('roc.json', FIXTURE), 'utf8')) as Record<string, RunRocEntry>;

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
