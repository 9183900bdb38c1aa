import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  chooseThreshold,
  classificationMetrics,
  confusion,
  MetricInputError,
  rocAuc,
  rocCurve,
  UndefinedMetricError,
} from '../../main/eval/metrics.ts';
import { Rng } from '../../main/util/rng.ts';

// Reference: scikit-learn 1.2.1 via tests/fixtures/metrics/make_fixtures.py (metrics.json).
interface Curve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}
interface Case {
  name: string;
  labels: number[];
  scores: number[];
  threshold: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  acc: number;
  auc: number;
  kappa: number;
  mcc: number;
  precision: number;
  recall: number;
  f1: number;
  roc: Curve;
  rocAll: Curve;
  f1OptimalThreshold: number | null;
  f1OptimalF1: number | null;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/metrics/metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };
const TOL = 1e-12; // absolute, against sklearn 1.2.1

function expectArrayClose(actual: number[], expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol);
}

describe('classification metrics match scikit-learn 1.2.1 (tolerance 1e-12 absolute)', () => {
  it('has the edge cases the brief asks for', () => {
    const names = fixture.cases.map((c) => c.name);
    for (const n of ['perfect', 'inverted', 'all-predicted-negative', 'all-predicted-positive', 'at-threshold', 'all-equal']) {
      expect(names).toContain(n);
    }
    expect(names.filter((n) => n.startsWith('ties-')).length).toBeGreaterThanOrEqual(3);
    expect(names.filter((n) => n.startsWith('random-')).length).toBeGreaterThanOrEqual(5);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: acc, auc, kappa, mcc, precision, recall, f1, confusion`, () => {
      const m = classificationMetrics(c.labels, c.scores, c.threshold);
      for (const k of ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'] as const) {
        expect(Math.abs(m[k] - c[k]), `${k}: ours ${m[k]} sklearn ${c[k]}`).toBeLessThanOrEqual(TOL);
      }
      const predicted = c.scores.map((s) => (s >= c.threshold ? 1 : 0));
      expect(confusion(c.labels, predicted)).toEqual(c.confusion);
      expect(Math.abs(rocAuc(Float32Array.from(c.labels), Float64Array.from(c.scores)) - c.auc)).toBeLessThanOrEqual(TOL);
    });
    it(`${c.name}: ROC curve with and without drop_intermediate`, () => {
      const r = rocCurve(c.labels, c.scores);
      expectArrayClose(r.fpr, c.roc.fpr, TOL);
      expectArrayClose(r.tpr, c.roc.tpr, TOL);
      expectArrayClose(r.thresholds, c.roc.thresholds, TOL);
      const all = rocCurve(c.labels, c.scores, { dropIntermediate: false });
      expectArrayClose(all.fpr, c.rocAll.fpr, TOL);
      expectArrayClose(all.tpr, c.rocAll.tpr, TOL);
      expectArrayClose(all.thresholds, c.rocAll.thresholds, TOL);
    });
    if (c.f1OptimalThreshold !== null) {
      it(`${c.name}: F1-optimal threshold equals the brute-force sklearn f1_score search`, () => {
        const t = chooseThreshold(c.labels, c.scores, 'f1-optimal');
        expect(Math.abs(t - (c.f1OptimalThreshold as number))).toBeLessThanOrEqual(TOL);
        const m = classificationMetrics(c.labels, c.scores, t);
        expect(Math.abs(m.f1 - (c.f1OptimalF1 as number))).toBeLessThanOrEqual(TOL);
      });
    }
  }
});

describe('metric conventions and errors', () => {
  it('perfect and inverted rankings give AUC 1 and 0 exactly', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
    // One tied positive/negative pair out of four counts one half: (3 + 0.5) / 4.
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9])).toBe(0.875);
  });

  it('throws UndefinedMetricError for one-class labels instead of returning NaN', () => {
    expect(() => rocAuc([1, 1, 1], [0.2, 0.4, 0.9])).toThrow(UndefinedMetricError);
    expect(() => rocCurve([0, 0], [0.2, 0.4])).toThrow(UndefinedMetricError);
    expect(() => classificationMetrics([0, 0], [0.2, 0.4])).toThrow(UndefinedMetricError);
    expect(() => chooseThreshold([0, 0], [0.2, 0.4], 'f1-optimal')).toThrow(UndefinedMetricError);
  });

  it('rejects non-binary labels, NaN scores and length mismatches with MetricInputError', () => {
    expect(() => rocAuc([0, 2], [0.1, 0.2])).toThrow(MetricInputError);
    expect(() => rocAuc([0, 1], [0.1, NaN])).toThrow(/finite/);
    expect(() => rocAuc([0, 1, 1], [0.1, 0.2])).toThrow(MetricInputError);
    expect(() => confusion([0, 1], [1])).toThrow(MetricInputError);
    expect(() => chooseThreshold([0, 1], [0.1, 0.2], 'best' as 'fixed')).toThrow(MetricInputError);
  });

  it('fixed mode returns the given threshold; default 0.5', () => {
    expect(chooseThreshold([0, 1], [0.1, 0.9], 'fixed')).toBe(0.5);
    expect(chooseThreshold([0, 1], [0.1, 0.9], 'fixed', 0.3)).toBe(0.3);
  });

  it('F1-optimal threshold of separable scores falls midway in the gap between the classes', () => {
    // Highest threshold with F1 = 1 is the lowest positive score 0.7; the next lower score is 0.3.
    expect(chooseThreshold([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], 'f1-optimal')).toBeCloseTo(0.5, 15);
  });

  it('AUC of 10⁶ scores with ties equals the Mann–Whitney count (exact integers, tolerance 1e-12)', () => {
    const n = 1_000_000;
    const rng = new Rng(7);
    const labels = new Uint8Array(n);
    const scores = new Float32Array(n);
    // Scores on a grid of 1,000 levels: many ties. Mann–Whitney reference by counting per level.
    const posAt = new Float64Array(1000);
    const negAt = new Float64Array(1000);
    for (let i = 0; i < n; i++) {
      labels[i] = rng.uniform() < 0.01 ? 1 : 0;
      const level = Math.min(999, Math.floor(rng.uniform() * 1000 * (labels[i] ? 1 : 0.8)));
      scores[i] = level / 1000;
      if (labels[i]) posAt[level]++;
      else negAt[level]++;
    }
    let negBelow = 0;
    let u = 0;
    let p = 0;
    let q = 0;
    for (let l = 0; l < 1000; l++) {
      u += posAt[l] * (negBelow + negAt[l] / 2);
      negBelow += negAt[l];
      p += posAt[l];
      q += negAt[l];
    }
    expect(Math.abs(rocAuc(labels, scores) - u / (p * q))).toBeLessThanOrEqual(1e-12);
  });
});
