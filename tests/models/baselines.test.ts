import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { RandomForestClassifier } from 'ml-random-forest';
import { fitLogistic, predictLogistic } from '../../main/models/baselines/logistic.ts';
import { parseModelList, comparisonOrder } from '../../main/models/baselines/model-list.ts';
import { baselineScorer, fitBaseline, scoreSamples } from '../../main/models/baselines/baseline-models.ts';
import { windowFeatures } from '../../main/models/baselines/site-features.ts';
import { crossValidateBaselines } from '../../main/models/cross-validate.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import type { TrainingData } from '../../main/models/train.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/baselines/${name}`, import.meta.url), 'utf8'));

describe('logistic regression baseline (ml-logistic-regression)', () => {
  it('converges to scikit-learn LogisticRegression(penalty=None) coefficients', () => {
    // Reference: tests/fixtures/baselines/make_baselines.py (sklearn, lbfgs, tol 1e-12) on the same
    // standardisation. ml-logistic-regression maximises the same unpenalised likelihood by gradient
    // ascent; with 20,000 steps of 1/L it is converged: coefficients within 1e-3 absolute.
    const f = fixture('logreg.json') as { x: number[][]; y: number[]; intercept: number; coef: number[]; auc: number };
    const n = f.x.length;
    const q = f.x[0].length;
    const x = Float64Array.from(f.x.flat());
    const fit = fitLogistic(x, n, q, f.y, { steps: 20_000 });
    expect(Math.abs(fit.weights[0] - f.intercept)).toBeLessThan(1e-3);
    f.coef.forEach((c, j) => expect(Math.abs(fit.weights[j + 1] - c)).toBeLessThan(1e-3));
    // Same AUC of the fitted probabilities (ranks), within 1e-9 of sklearn's.
    expect(Math.abs(rocAuc(f.y, predictLogistic(fit, x, n)) - f.auc)).toBeLessThan(1e-9);
  });

  it('with the default 2,000 steps stays finite on separable classes (no MLE exists)', () => {
    const x = Float64Array.from([-2, -1, -0.5, 0.5, 1, 2]);
    const fit = fitLogistic(x, 6, 1, [0, 0, 0, 1, 1, 1]);
    expect(fit.weights.every(Number.isFinite)).toBe(true);
    expect(fit.weights[1]).toBeGreaterThan(0);
  });
});

describe('random forest baseline (ml-random-forest)', () => {
  it('reaches scikit-learn RandomForestClassifier AUC on a held-out set (statistical)', () => {
    // Reference: make_baselines.py, sklearn RF (100 trees) test AUC over 5 seeds ≈ 0.933
    // (0.931–0.935). ml-random-forest draws features per tree (not per split) and caps depth at
    // 12, so its forests differ; we require its AUC, averaged over 3 seeds, within 0.04 of sklearn's.
    const f = fixture('rf.json') as { xTrain: number[][]; yTrain: number[]; xTest: number[][]; yTest: number[]; sklearnAuc: { mean: number } };
    const q = f.xTrain[0].length;
    const aucs = [1, 2, 3].map((seed) => {
      const rf = new RandomForestClassifier({ nEstimators: 100, maxFeatures: Math.max(1, Math.round(Math.sqrt(q))), replacement: false, useSampleBagging: true, noOOB: true, seed, treeOptions: { maxDepth: 12, minNumSamples: 2 } });
      rf.train(f.xTrain, f.yTrain);
      return rocAuc(f.yTest, rf.predictProbability(f.xTest, 1));
    });
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    expect(Math.abs(mean - f.sklearnAuc.mean)).toBeLessThan(0.04);
  });
});

/** Patches of a toy survey: band 0 (Au) is high at deposits, band 1 noise, band 2 anti-correlated. */
function toyData(nSites = 24, k = 3, seed = 4): TrainingData {
  const rng = new Rng(seed);
  const C = 3;
  const cellsPerSite = 3;
  const n = nSites * cellsPerSite;
  const x = new Float32Array(n * k * k * C);
  const labels = new Uint8Array(n);
  const siteIds: string[] = [];
  for (let s = 0; s < nSites; s++) {
    const label = s % 2;
    for (let j = 0; j < cellsPerSite; j++) {
      const i = s * cellsPerSite + j;
      labels[i] = label;
      siteIds.push(`site-${s}`);
      for (let c = 0; c < k * k; c++) {
        const o = (i * k * k + c) * C;
        x[o] = rng.normal(label ? 1.2 : 0, 1);
        x[o + 1] = rng.normal(0, 1);
        x[o + 2] = rng.normal(label ? -0.8 : 0, 1);
      }
    }
  }
  return { x, n, patchSize: k, channels: C, labels, siteIds, nKnowledge: 0 };
}

describe('baselines in the grouped CV', () => {
  const data = toyData();
  const bandNames = ['Au', 'Cu', 'As'];
  // An RPCA stand-in with a known answer: component 1 loads on Au (+) and As (−).
  const components = { center: [0, 0, 0], loadings: [[0, 0.8], [1, 0], [0, -0.6]], explained: [0.5, 0.5] };
  const scaling = { means: [0, 0, 0], stds: [1, 1, 1] };

  it('picks the RPCA component most correlated with the deposits and its positive elements', () => {
    const all = Array.from({ length: data.n }, (_, i) => i);
    const pc = fitBaseline('pc', data, all, { bandNames, components, scaling });
    expect(pc.kind === 'pc' && pc.component).toBe(1);
    const index = fitBaseline('index', data, all, { bandNames, components, scaling });
    expect(index.kind === 'index' && index.elements).toEqual(['Au']);
    const given = fitBaseline('index', data, all, { bandNames, indexElements: ['au', 'Cu'] });
    expect(given.kind === 'index' && given.elements).toEqual(['Au', 'Cu']);
    expect(() => fitBaseline('index', data, all, { bandNames, indexElements: ['Zn'] })).toThrow(InvalidOptionError);
    expect(() => fitBaseline('pc', data, all, { bandNames })).toThrow(InvalidOptionError);
  });

  it('scores every baseline in the same folds, with intervals inside [0, 1], and JSON round trips', () => {
    const res = crossValidateBaselines(['index', 'pc', 'logreg', 'rf'], data, { bandNames, components, scaling }, { folds: 3, repeats: 2, seed: 5 });
    for (const [kind, r] of res) {
      expect(r.cv.folds).toHaveLength(6);
      expect(r.cv.mean.auc).toBeGreaterThan(0.7);
      expect(r.cv.ci95.auc[0]).toBeGreaterThanOrEqual(0);
      expect(r.cv.ci95.auc[1]).toBeLessThanOrEqual(1);
      expect(r.cv.ci95.auc[0]).toBeLessThanOrEqual(r.cv.mean.auc + 1e-12);
      // A saved model (JSON) scores exactly as the fitted one.
      const all = Array.from({ length: data.n }, (_, i) => i);
      const direct = scoreSamples(baselineScorer(r.final), data, all);
      const revived = scoreSamples(baselineScorer(JSON.parse(JSON.stringify(r.final))), data, all);
      expect(Array.from(revived), kind).toEqual(Array.from(direct));
    }
    // Same folds for every baseline (and the networks: foldsFor).
    const tests = [...res.values()].map((r) => r.cv.folds.map((f) => f.testIndices.join(',')).join('|'));
    expect(new Set(tests).size).toBe(1);
  });

  it('features are the centre, window mean and window sd of each band', () => {
    const k = 3;
    const C = 2;
    const x = Float32Array.from({ length: k * k * C }, (_, i) => (i % C === 0 ? Math.floor(i / C) : 5));
    const f = windowFeatures(x, k, C, [0]);
    // band 0 holds 0…8 over the window: centre 4, mean 4, population sd √(60/9); band 1 constant 5.
    expect(Array.from(f.subarray(0, 4))).toEqual([4, 5, 4, 5]);
    expect(f[4]).toBeCloseTo(Math.sqrt(60 / 9), 12); // float64 sums: 1e-12
    expect(f[5]).toBe(0);
  });
});

describe('train --model list', () => {
  it('parses networks, baselines and the two groups', () => {
    expect(parseModelList('all,baselines')).toEqual({ networks: ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'], baselines: ['index', 'pc', 'logreg', 'rf'] });
    expect(parseModelList('rf, gk-dcn,rf')).toEqual({ networks: ['gk-dcn'], baselines: ['rf'] });
    expect(() => parseModelList('svm')).toThrow(InvalidOptionError);
    expect(comparisonOrder(['cnn', 'gk-dcn', 'index', 'rf'])).toEqual(['gk-dcn', 'cnn', 'rf', 'index']);
  });
});
