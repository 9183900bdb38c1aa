import { describe, expect, it } from 'vitest';
import { depositPlacements, formatComparison, pairedDepositBootstrap, pairedSiteBootstrap, quantileSorted, siteBootstrapIntervals, type ScoredFold } from '../../main/eval/bootstrap.ts';
import { summarize } from '../../main/eval/folds.ts';
import { pnorm } from '../../main/eval/distributions.ts';
import { classificationMetrics, rocCurve } from '../../main/eval/metrics.ts';
import { compareModels, summarizeFolds, type CrossValidationResult, type FoldResult } from '../../main/models/cross-validate.ts';
import { Rng } from '../../main/util/rng.ts';
import { evaluateMap } from '../../main/eval/success-rate.ts';

/** A fold of `sites` deposit and `sites` non-deposit sites (one sample each) with given scores. */
function fold(posScores: number[], negScores: number[], tag: string): ScoredFold {
  return {
    labels: [...posScores.map(() => 1), ...negScores.map(() => 0)],
    scores: [...posScores, ...negScores],
    groups: [...posScores.map((_, i) => `${tag}-p${i}`), ...negScores.map((_, i) => `${tag}-n${i}`)],
    threshold: 0.5,
  };
}

describe('bounded intervals', () => {
  it('the site-bootstrap AUC interval stays ≤ 1 where the t interval gave 1.14-style overflow', () => {
    // Four perfect folds and one poor one (fold AUCs 1, 1, 1, 1, 0.44), one repeat, as on the Li
    // district run whose t interval reached 1.14.
    const rng = new Rng(3);
    const scored: ScoredFold[] = [];
    const results: FoldResult[] = [];
    const labels: number[] = [];
    const siteIds: string[] = [];
    for (let f = 0; f < 5; f++) {
      const pos = Array.from({ length: 3 }, () => (f < 4 ? 0.8 + 0.1 * rng.uniform() : 0.3 + 0.4 * rng.uniform()));
      const neg = Array.from({ length: 3 }, () => (f < 4 ? 0.1 + 0.1 * rng.uniform() : 0.3 + 0.4 * rng.uniform()));
      const sf = fold(pos, neg, `f${f}`);
      scored.push(sf);
      const start = labels.length;
      labels.push(...Array.from(sf.labels));
      siteIds.push(...sf.groups);
      const idx = Array.from({ length: sf.labels.length }, (_, i) => start + i);
      results.push({
        repeat: 0, fold: f, trainSeed: 0, nTrain: 0, nTest: idx.length, threshold: 0.5,
        metrics: classificationMetrics(sf.labels, sf.scores, 0.5), roc: rocCurve(sf.labels, sf.scores),
        testIndices: idx, testScores: Array.from(sf.scores), bestEpoch: 0, stoppedEarly: false,
      });
    }
    const aucs = results.map((r) => r.metrics.auc);
    expect(aucs.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(aucs[4]).toBeLessThan(0.7);
    // The old interval (mean ± t·sd/√n) leaves [0, 1] on these folds …
    expect(summarize(aucs).ci95[1]).toBeGreaterThan(1.05);
    // … the site bootstrap never does, for any metric.
    const s = summarizeFolds(results, 1, { labels, siteIds }, 1);
    for (const m of ['acc', 'auc', 'precision', 'recall', 'f1'] as const) {
      expect(s.ci95[m][0]).toBeGreaterThanOrEqual(0);
      expect(s.ci95[m][1]).toBeLessThanOrEqual(1);
    }
    for (const m of ['kappa', 'mcc'] as const) {
      expect(s.ci95[m][0]).toBeGreaterThanOrEqual(-1);
      expect(s.ci95[m][1]).toBeLessThanOrEqual(1);
    }
    expect(s.ci95.auc[0]).toBeLessThan(s.mean.auc);
    // Seeded: the same seed gives the same interval.
    expect(siteBootstrapIntervals(scored, { seed: 4 }).auc).toEqual(siteBootstrapIntervals(scored, { seed: 4 }).auc);
  });

  it('quantiles interpolate linearly as numpy.quantile does', () => {
    // numpy.quantile([1, 2, 3, 4], [0.025, 0.975]) = [1.075, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
  });
});

describe('paired site bootstrap', () => {
  it('covers a known AUC difference in 92–98 % of 500 simulated studies', () => {
    // Each study: 2 folds of 30 deposit + 30 non-deposit sites; per site a shared effect u ~ N(0, 1)
    // (what makes the comparison paired) and per model noise e ~ N(0, 0.5²):
    //   score_a = 1.0·y + u + e_a,  score_b = 0.6·y + u + e_b,
    // so the population AUC of a model with shift μ is Φ(μ / √(2·1.25)) and the true difference
    // is Φ(1/√2.5) − Φ(0.6/√2.5). Nominal coverage 0.95; accepted band [0.92, 0.98] (binomial sd
    // of a coverage estimate from 500 studies ≈ 0.01).
    const truth = pnorm(1 / Math.sqrt(2.5)) - pnorm(0.6 / Math.sqrt(2.5));
    const rng = new Rng(2026);
    let covered = 0;
    const studies = 500;
    for (let s = 0; s < studies; s++) {
      const a: ScoredFold[] = [];
      const b: ScoredFold[] = [];
      for (let f = 0; f < 2; f++) {
        const pa: number[] = [];
        const pb: number[] = [];
        const na: number[] = [];
        const nb: number[] = [];
        for (let i = 0; i < 30; i++) {
          const u = rng.normal();
          pa.push(1.0 + u + 0.5 * rng.normal());
          pb.push(0.6 + u + 0.5 * rng.normal());
          const v = rng.normal();
          na.push(v + 0.5 * rng.normal());
          nb.push(v + 0.5 * rng.normal());
        }
        a.push(fold(pa, na, `f${f}`));
        b.push(fold(pb, nb, `f${f}`));
      }
      const d = pairedSiteBootstrap(a, b, 'auc', { replicates: 400, seed: s + 1 });
      if (d.ci95[0] <= truth && truth <= d.ci95[1]) covered++;
    }
    const coverage = covered / studies;
    if (process.env.PRINT_COVERAGE) console.log(`coverage ${coverage}`);
    expect(coverage).toBeGreaterThanOrEqual(0.92);
    expect(coverage).toBeLessThanOrEqual(0.98);
  }, 120_000);

  it('refuses folds with different test sites, and formats the comparison plainly', () => {
    const a = [fold([0.9, 0.8], [0.1, 0.2], 'x')];
    const b = [fold([0.9, 0.8], [0.1, 0.2], 'y')];
    expect(() => pairedSiteBootstrap(a, b, 'auc')).toThrow(/different test samples/);
    expect(formatComparison({ a: 'gk-dcn', b: 'cnn', metric: 'auc', diff: 0.03, ci95: [-0.05, 0.11] })).toBe(
      'GK-DCN − CNN: ΔAUC +0.03 [−0.05, +0.11] (the interval includes 0: no evidence that either is better)',
    );
    expect(formatComparison({ a: 'gk-dcn', b: 'cnn', metric: 'auc', diff: -0.2, ci95: [-0.3, -0.1] })).toMatch(/CNN is better\)$/);
  });

  it('compareModels gives every pair, a before b, with identical models at diff 0', () => {
    const labels = [1, 1, 0, 0];
    const siteIds = ['p0', 'p1', 'n0', 'n1'];
    const mk = (scores: number[]): CrossValidationResult =>
      ({ folds: [{ repeat: 0, fold: 0, threshold: 0.5, testIndices: [0, 1, 2, 3], testScores: scores }] }) as unknown as CrossValidationResult;
    const c = compareModels([['gk-dcn', mk([0.9, 0.4, 0.5, 0.1])], ['cnn', mk([0.9, 0.4, 0.5, 0.1])], ['rf', mk([0.2, 0.1, 0.9, 0.8])]], { labels, siteIds }, { replicates: 50 });
    expect(c.map((x) => `${x.a}-${x.b}`)).toEqual(['gk-dcn-cnn', 'gk-dcn-rf', 'cnn-rf']);
    expect(c[0].diff).toBe(0);
    expect(c[0].ci95).toEqual([0, 0]);
    expect(c[1].diff).toBeCloseTo(0.75 - 0, 12);
    expect(c[0].method).toBe('site bootstrap');
  });
});

describe('map AUC comparisons (evaluate --compare)', () => {
  it('deposit placements average to evaluateMap’s AUC; the paired interval brackets the difference', () => {
    const rng = new Rng(9);
    const n = 2000;
    const a = Float32Array.from({ length: n }, () => rng.normal());
    const b = Float32Array.from(a, (v) => v + 0.8 * rng.normal());
    a[5] = NaN;
    b[5] = NaN;
    const deposits = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100, 5];
    for (const d of deposits) if (d !== 5) a[d] += 1.5;
    const exclude = new Uint8Array(n);
    exclude[3] = 1;
    exclude[90] = 1;
    const ua = depositPlacements(a, deposits, exclude);
    const ub = depositPlacements(b, deposits, exclude);
    // Reference: evaluateMap (success-rate.ts, checked against sklearn roc_auc_score); 1e-12.
    const mean = (u: Float64Array): number => u.reduce((s, v) => s + v, 0) / u.length;
    expect(Math.abs(mean(ua) - evaluateMap(a, deposits, { exclude }).auc)).toBeLessThan(1e-12);
    expect(Math.abs(mean(ub) - evaluateMap(b, deposits, { exclude }).auc)).toBeLessThan(1e-12);
    const d = pairedDepositBootstrap(ua, ub, { seed: 2 });
    expect(d.diff).toBeCloseTo(mean(ua) - mean(ub), 12);
    expect(d.ci95[0]).toBeLessThanOrEqual(d.diff);
    expect(d.ci95[1]).toBeGreaterThanOrEqual(d.diff);
    expect(d.ci95[1]).toBeLessThanOrEqual(1);
    expect(d.ci95[0]).toBeGreaterThanOrEqual(-1);
  });
});
