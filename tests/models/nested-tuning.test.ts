import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { checkCrossValidationOptions, crossValidate, foldsFor, tuneCombinations, tuneSettings, type InnerFit } from '../../main/models/cross-validate.ts';
import { parseTune } from '../../main/cli/commands/train.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';
import { TINY, toyData } from './toy-data.ts';

const data = toyData({ sites: 12, perSite: 3, signal: 2 });

beforeAll(async () => {
  await initBackend('cpu');
});

describe('nested tuning', () => {
  it('the inner CV never sees the outer test sites, and picks the setting that scores best inside', async () => {
    const o = checkCrossValidationOptions({ folds: 3, repeats: 1, seed: 4, tune: { lambda: [0.1, 1, 10], epochs: [30, 60] } });
    const seen = new Set<number>();
    const rng = new Rng(1);
    // A stand-in for training: records every sample it is given; lambda 10 with 30 epochs ranks
    // the held-out samples perfectly, every other setting at random.
    const fit: InnerFit = async (_kind, fitIdx, score, train) => {
      for (const i of [...fitIdx, ...score]) seen.add(i);
      return Float32Array.from(score, (i) => (train.lambda === 10 && train.epochs === 30 ? data.labels[i] : rng.uniform()));
    };
    for (const outer of foldsFor(data, o, 0)) {
      seen.clear();
      const r = await tuneSettings('gk-cnn', data, outer.train, o, 9, fit);
      const testSites = new Set(outer.test.map((i) => data.siteIds[i]));
      expect([...seen].filter((i) => outer.test.includes(i))).toEqual([]);
      expect([...seen].filter((i) => testSites.has(data.siteIds[i]))).toEqual([]);
      expect([...seen].sort((a, b) => a - b)).toEqual(outer.train);
      expect(r.candidates).toHaveLength(6);
      expect(r.chosen).toEqual({ lambda: 10, epochs: 30 });
      expect(r.candidates.find((c) => c.settings.lambda === 10 && c.settings.epochs === 30)?.innerAuc).toBe(1);
    }
  });

  it('runs in the CV: every outer fold records its choice and the inner AUC of each candidate', async () => {
    const r = await crossValidate('cnn', data, { folds: 2, repeats: 1, seed: 2, tune: { epochs: [1, 2] }, innerFolds: 2, train: { batchSize: 16, architecture: TINY } });
    for (const f of r.folds) {
      expect(f.tuned?.candidates.map((c) => c.settings.epochs)).toEqual([1, 2]);
      expect([1, 2]).toContain(f.tuned?.chosen.epochs);
      for (const c of f.tuned?.candidates ?? []) expect(c.innerAuc).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);

  it('parses --tune and refuses unknown options', () => {
    expect(parseTune(['lambda=0.1,1,10', 'epochs=30,60'])).toEqual({ lambda: [0.1, 1, 10], epochs: [30, 60] });
    expect(parseTune(['lr=0.001,0.003'])).toEqual({ learningRate: [0.001, 0.003] });
    expect(() => parseTune(['depth=3'])).toThrow(InvalidOptionError);
    expect(() => parseTune(['lambda=a'])).toThrow(InvalidOptionError);
    expect(tuneCombinations({ lambda: [1, 2], epochs: [5] })).toEqual([{ lambda: 1, epochs: 5 }, { lambda: 2, epochs: 5 }]);
  });
});
