import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { crossValidateAndFit } from '../../main/models/cross-validate.ts';
import { predictDepositProbability } from '../../main/models/train.ts';
import { TINY, toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('parallel cross-validation (worker threads)', () => {
  it('2 threads give bit-identical fold metrics, ROC and final-model predictions to 1 thread', async () => {
    const data = toyData({ sites: 8, perSite: 3, signal: 2, seed: 5 });
    const o = { folds: 2, repeats: 1, seed: 3, backend: 'wasm', train: { epochs: 2, batchSize: 8, learningRate: 3e-3, architecture: TINY } };
    const kinds = ['cnn', 'gk-dcn'] as const;
    const one = await crossValidateAndFit(kinds, data, { ...o, threads: 1 });
    const two = await crossValidateAndFit(kinds, data, { ...o, threads: 2 });
    const all = Array.from({ length: data.n }, (_, i) => i);
    try {
      for (const k of kinds) {
        const a = one.get(k)!;
        const b = two.get(k)!;
        expect(b.cv.folds.map((f) => f.metrics)).toEqual(a.cv.folds.map((f) => f.metrics));
        expect(b.cv.folds.map((f) => f.roc)).toEqual(a.cv.folds.map((f) => f.roc));
        expect(b.cv.mean).toEqual(a.cv.mean);
        expect(b.final.bestEpoch).toBe(a.final.bestEpoch);
        expect(b.final.geology).toEqual(a.final.geology);
        // Exact equality: the same seeded fit on the same backend, saved and reloaded losslessly.
        expect(Array.from(predictDepositProbability(b.final.model, data, all))).toEqual(Array.from(predictDepositProbability(a.final.model, data, all)));
      }
    } finally {
      for (const m of [one, two]) for (const r of m.values()) r.final.model.dispose();
    }
  });
});
