import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import {
  checkCrossValidationOptions,
  crossValidate,
  foldsFor,
  metricsJsonEntry,
  METRIC_NAMES,
  BOOTSTRAP_REPLICATES,
  scoredFolds,
  trainSeedFor,
} from '../../main/models/cross-validate.ts';
import { predictDepositProbability, trainModel } from '../../main/models/train.ts';
import { chooseThreshold, classificationMetrics } from '../../main/eval/metrics.ts';
import { summarize } from '../../main/eval/folds.ts';
import { siteBootstrapIntervals } from '../../main/eval/bootstrap.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { TINY, toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const data = toyData({ sites: 10, perSite: 4, signal: 2 });
const train = { epochs: 3, batchSize: 16, learningRate: 3e-3, architecture: TINY };

describe('fold assignment', () => {
  it('grouped: every site lies in exactly one test fold, never on both sides; same for all kinds and per seed', () => {
    const o = checkCrossValidationOptions({ folds: 5, repeats: 2, seed: 4 });
    for (let r = 0; r < 2; r++) {
      const folds = foldsFor(data, o, r);
      const tested = new Map<string, number>();
      folds.forEach((f, k) => {
        const trainSites = new Set(f.train.map((i) => data.siteIds[i]));
        for (const i of f.test) {
          expect(trainSites.has(data.siteIds[i])).toBe(false);
          const prev = tested.get(data.siteIds[i]);
          expect(prev === undefined || prev === k).toBe(true);
          tested.set(data.siteIds[i], k);
        }
      });
      expect(tested.size).toBe(10);
    }
    expect(foldsFor(data, o, 0)).toEqual(foldsFor(data, o, 0));
    expect(foldsFor(data, o, 0)).not.toEqual(foldsFor(data, o, 1));
  });

  it('leaky (the reference protocol): patches of one site end up on both sides of a split', () => {
    const o = checkCrossValidationOptions({ folds: 5, protocol: 'leaky', seed: 4 });
    const folds = foldsFor(data, o, 0);
    const leaks = folds.filter((f) => {
      const trainSites = new Set(f.train.map((i) => data.siteIds[i]));
      return f.test.some((i) => trainSites.has(data.siteIds[i]));
    });
    expect(leaks.length).toBeGreaterThan(0);
    expect(folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(Array.from({ length: data.n }, (_, i) => i));
  });
});

describe('crossValidate', () => {
  it('chooses the threshold on training scores only and scores the test fold with it', async () => {
    const r = await crossValidate('cnn', data, { folds: 2, repeats: 1, seed: 2, threshold: 'f1-optimal', train });
    expect(r.folds).toHaveLength(2);
    // Retrain fold 0 with its recorded seed (training is deterministic) and redo the choice.
    const o = checkCrossValidationOptions({ folds: 2, repeats: 1, seed: 2 });
    const f0 = foldsFor(data, o, 0)[0];
    expect(r.folds[0].trainSeed).toBe(trainSeedFor(2, 0, 0));
    const t = await trainModel('cnn', data, f0.train, { ...train, seed: r.folds[0].trainSeed });
    const trainScores = predictDepositProbability(t.model, data, f0.train);
    const testScores = predictDepositProbability(t.model, data, f0.test);
    t.model.dispose();
    const thr = chooseThreshold(f0.train.map((i) => data.labels[i]), trainScores, 'f1-optimal');
    expect(r.folds[0].threshold).toBe(thr);
    expect(r.folds[0].metrics).toEqual(classificationMetrics(f0.test.map((i) => data.labels[i]), testScores, thr));
    expect(r.folds[0].nTest).toBe(f0.test.length);
  });

  it('summarises folds × repeats: mean and sd over all folds, CI from the site bootstrap; metrics.json shape', async () => {
    const r = await crossValidate('gk-cnn', data, { folds: 2, repeats: 2, seed: 1, train });
    expect(r.folds).toHaveLength(4);
    for (const m of METRIC_NAMES) {
      const s = summarize(r.folds.map((f) => f.metrics[m]));
      expect(r.mean[m]).toBe(s.mean);
      expect(r.sd[m]).toBe(s.sd);
      // The interval is the seeded site bootstrap of the held-out scores (eval/bootstrap.ts), inside the metric's range.
      expect(r.ci95[m]).toEqual(siteBootstrapIntervals(scoredFolds(r.folds, data), { replicates: BOOTSTRAP_REPLICATES, seed: 1 })[m]);
      const [lo, hi] = m === 'kappa' || m === 'mcc' ? [-1, 1] : [0, 1];
      expect(r.ci95[m][0]).toBeGreaterThanOrEqual(lo);
      expect(r.ci95[m][1]).toBeLessThanOrEqual(hi);
    }
    for (const f of r.folds) {
      expect(f.threshold).toBe(0.5);
      expect(f.geology?.a).toHaveLength(1);
      expect(f.roc.fpr[0]).toBe(0);
      expect(f.roc.tpr[f.roc.tpr.length - 1]).toBe(1);
    }
    const j = metricsJsonEntry(r);
    expect(Object.keys(j.folds[0]).sort()).toEqual([...METRIC_NAMES].sort());
    expect(Object.keys(j.mean).sort()).toEqual([...METRIC_NAMES].sort());
    expect(Object.keys(j.sd).sort()).toEqual([...METRIC_NAMES].sort());
    expect(j.folds).toHaveLength(4);
  });

  it('rejects bad options with named errors', () => {
    expect(() => checkCrossValidationOptions({ folds: 1 })).toThrow(InvalidOptionError);
    expect(() => checkCrossValidationOptions({ repeats: 0 })).toThrow(/repeats/);
    expect(() => checkCrossValidationOptions({ protocol: 'random' as never })).toThrow(/protocol/);
    expect(() => checkCrossValidationOptions({ threshold: 'youden' as never })).toThrow(/threshold/);
  });
});
