import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/models/backend.ts';
import {
  checkTrainOptions,
  MissingKnowledgeError,
  predictDepositProbability,
  trainingDataFrom,
  trainModel,
  validationSplit,
} from '../../main/models/train.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { TINY, toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('trainModel', () => {
  it('gives bit-identical scores for the same seed and data, and different ones for another seed', async () => {
    const data = toyData({ sites: 8, perSite: 3 });
    const opts = { epochs: 2, batchSize: 8, architecture: TINY, validationFraction: 0.25 };
    const scores = async (seed: number, kind: 'gk-dcn' | 'cnn'): Promise<Float32Array> => {
      const t = await trainModel(kind, data, all(data.n), { ...opts, seed });
      const s = predictDepositProbability(t.model, data, all(data.n));
      t.model.dispose();
      return s;
    };
    for (const kind of ['gk-dcn', 'cnn'] as const) {
      const a = await scores(5, kind);
      const b = await scores(5, kind);
      const c = await scores(6, kind);
      expect(Array.from(a)).toEqual(Array.from(b)); // bitwise: toEqual on float32 values
      expect(Array.from(a)).not.toEqual(Array.from(c));
    }
  });

  it('learns a separable toy problem (held-out sites AUC > 0.9) and trains a and b of the geology term', async () => {
    const train = toyData({ sites: 12, perSite: 4, signal: 2, seed: 1 });
    const test = toyData({ sites: 6, perSite: 4, signal: 2, seed: 2 });
    const t = await trainModel('gk-cnn', train, all(train.n), { epochs: 25, batchSize: 16, learningRate: 3e-3, architecture: TINY, validationFraction: 0, seed: 3 });
    const s = predictDepositProbability(t.model, test, all(test.n));
    expect(rocAuc(test.labels, s)).toBeGreaterThan(0.9);
    expect(t.geology).toBeDefined();
    // a starts at 0.1 and b at 0: after training both have moved.
    expect(t.geology!.a[0]).not.toBe(Math.fround(0.1));
    expect(t.geology!.b).not.toBe(0);
    expect(t.history).toHaveLength(25);
    expect(t.backend).toBe('wasm');
    t.model.dispose();
  });

  it('stops early on a validation split of whole training sites and keeps the best epoch', async () => {
    const data = toyData({ sites: 10, perSite: 4 });
    const { fit, val } = validationSplit(data, all(data.n), 0.2, 9);
    const fitSites = new Set(fit.map((i) => data.siteIds[i]));
    expect(val.length).toBeGreaterThan(0);
    for (const i of val) expect(fitSites.has(data.siteIds[i])).toBe(false);
    expect(new Set(val.map((i) => data.labels[i]))).toEqual(new Set([0, 1]));
    // lr so high that validation loss soon stops improving: patience 2 ends training early.
    const t = await trainModel('cnn', data, all(data.n), { epochs: 40, batchSize: 8, learningRate: 0.3, patience: 2, architecture: TINY, seed: 1 });
    expect(t.stoppedEarly).toBe(true);
    expect(t.history.length).toBeLessThan(40);
    const best = Math.min(...t.history.map((h) => h.valLoss!));
    expect(t.history[t.bestEpoch - 1].valLoss).toBe(best);
    expect(t.history.length).toBe(t.bestEpoch + 2);
    t.model.dispose();
  });

  it('leaks no tensors across a training run', async () => {
    const data = toyData({ sites: 6, perSite: 4 });
    const t0 = await trainModel('gk-dcn', data, all(data.n), { epochs: 1, batchSize: 8, architecture: TINY, seed: 1 });
    t0.model.dispose();
    const before = tf.memory().numTensors;
    const t = await trainModel('gk-dcn', data, all(data.n), { epochs: 2, batchSize: 8, architecture: TINY, seed: 1 });
    predictDepositProbability(t.model, data, all(data.n));
    t.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports progress and honours cancellation', async () => {
    const data = toyData({ sites: 6, perSite: 4 });
    const ac = new AbortController();
    const seen: string[] = [];
    // The tfjs loop's own progress (engine 'auto', the default since issue 17, first reports which engine runs).
    // 24 samples in batches of 8: three batch messages, then the epoch's loss (issue 18 added the batches).
    const run = trainModel('cnn', data, all(data.n), { epochs: 50, batchSize: 8, architecture: TINY, engine: 'tfjs', validationFraction: 0 }, {
      signal: ac.signal,
      progress: (_f, m) => {
        seen.push(m);
        if (seen.length === 5) ac.abort();
      },
    });
    await expect(run).rejects.toThrow(CancelledError);
    expect(seen.slice(0, 3)).toEqual(['cnn epoch 1/50: batch 1/3', 'cnn epoch 1/50: batch 2/3', 'cnn epoch 1/50: batch 3/3']);
    expect(seen[3]).toMatch(/^cnn epoch 1\/50 loss \d/);
  });

  // Issue 18: the app's progress text stayed at "starting" until the first epoch ended. Both
  // engines now report each batch, with fractions inside the first epoch's share, before the
  // first learning-curve point.
  for (const engine of ['tfjs', 'onnx'] as const) {
    it(`reports each batch of the first epoch before the epoch ends (engine ${engine})`, async () => {
      const data = toyData({ sites: 6, perSite: 4 });
      const events: { fraction: number; message: string; epoch: boolean }[] = [];
      const t = await trainModel('cnn', data, all(data.n), { epochs: 2, batchSize: 8, architecture: TINY, engine, threads: 1, validationFraction: 0 }, {
        progress: (fraction, message, detail) => events.push({ fraction, message, epoch: detail?.kind === 'epoch' }),
      });
      t.model.dispose();
      const firstEpoch = events.findIndex((e) => e.epoch);
      const before = events.slice(0, firstEpoch).filter((e) => /batch/.test(e.message));
      expect(before.map((e) => e.message)).toEqual(['cnn epoch 1/2: batch 1/3', 'cnn epoch 1/2: batch 2/3', 'cnn epoch 1/2: batch 3/3']);
      expect(before.map((e) => e.fraction)).toEqual([1 / 6, 2 / 6, 3 / 6].map((f) => expect.closeTo(f, 12)));
      expect(events[firstEpoch].fraction).toBeCloseTo(0.5, 12);
      // The second epoch's batches sit between the two epoch points.
      expect(events.slice(firstEpoch + 1).filter((e) => /batch/.test(e.message)).map((e) => e.message)).toEqual(['cnn epoch 2/2: batch 1/3', 'cnn epoch 2/2: batch 2/3', 'cnn epoch 2/2: batch 3/3']);
    });
  }

  it('refuses a GK model without knowledge and bad options, with named errors', async () => {
    const data = { ...toyData({ sites: 4, perSite: 2 }), knowledge: undefined, nKnowledge: 0 };
    await expect(trainModel('gk-dcn', data, all(data.n), { architecture: TINY })).rejects.toThrow(MissingKnowledgeError);
    expect(() => checkTrainOptions({ epochs: 0 })).toThrow(InvalidOptionError);
    expect(() => checkTrainOptions({ learningRate: -1 })).toThrow(/learning rate/);
    expect(() => checkTrainOptions({ validationFraction: 0.6 })).toThrow(/validation fraction/);
  });

  it('adapts the sites module’s patch set, grouping by overlap group when present', () => {
    const d = trainingDataFrom({
      x: new Float32Array(2 * 3 * 3 * 2),
      labels: Int32Array.from([1, 0]),
      siteIds: ['D1', 'D2'],
      groupIds: ['G1', 'G1'],
      weights: Float32Array.from([0.5, 0.1]),
      bandNames: ['Au', 'Cu'],
    });
    expect([d.n, d.patchSize, d.channels, d.nKnowledge]).toEqual([2, 3, 2, 1]);
    expect(d.siteIds).toEqual(['G1', 'G1']);
    expect(() => trainingDataFrom({ x: new Float32Array(7), labels: [1], siteIds: ['a'], bandNames: ['Au'] })).toThrow(InvalidOptionError);
  });
});
