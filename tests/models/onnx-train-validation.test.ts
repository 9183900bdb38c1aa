/**
 * The forward-only graphs of buildTrainGraph (no backward nodes) and the ONNX trainer's validation
 * loss:
 *  - in training mode, the forward-only graph's loss equals the training-step graph's loss on the
 *    same weights, batch and dropout mask (1e-6 absolute: the same forward nodes; float32);
 *  - OnnxTrainer.validationLosses (mode 'infer': moving statistics, no dropout) equals the
 *    inference-mode cross-entropy and geology share that trainModel computes with tfjs
 *    (model.predict + crossEntropy / geologyLoss, as train.ts inferenceLosses), over chunks that
 *    include one of a single sample, on data other than the trainer's own. Tolerance 1e-5 absolute (float32, different summation order).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { buildModel, usesGeology, type ModelKind } from '../../main/models/architectures.ts';
import { createGeologyVariables, crossEntropy, geologyLoss } from '../../main/models/geology-loss.ts';
import { OnnxTrainer } from '../../main/models/onnx-train/onnx-trainer.ts';
import { buildTrainGraph, IN_DROPOUT, IN_GEO_A, IN_GEO_B, IN_KNOWLEDGE, IN_ONEHOT, IN_X, OUT_LOSS } from '../../main/models/onnx-train/train-graph.ts';
import { loadOrt, type OrtModule, type OrtTensor } from '../../main/onnx/onnx-runtime.ts';
import { randomizeWeights } from '../maps/onnx-fixtures.ts';
import { toyData } from './toy-data.ts';

let ort: OrtModule;
beforeAll(async () => {
  await initBackend('wasm');
  ort = await loadOrt();
});

const ARCH = { stemFilters: 8, stageFilters: [8, 16], denseUnits: 8, dropoutRate: 0.4 };
const data = toyData({ sites: 8, perSite: 5, patchSize: 7, channels: 5, seed: 3 });
// The trainer's own data (as trainModel's augmented copy): validationLosses must read `data` when told to.
const TRAINER_DATA = toyData({ sites: 8, perSite: 5, patchSize: 7, channels: 5, seed: 11 });
const LAMBDA = 0.7;
const GEO = { a: [0.4], b: -0.2 };

describe('forward-only ONNX graphs', () => {
  for (const kind of ['cnn', 'gk-dcn'] as ModelKind[]) {
    it(`${kind}: the forward-only graph's loss = the training graph's forward loss on the same weights (1e-6)`, async () => {
      const model = buildModel(kind, { channels: data.channels, patchSize: data.patchSize, seed: 3, ...ARCH });
      randomizeWeights(model, 21);
      const B = 12;
      const idx = Array.from({ length: B }, (_, i) => (i * 3) % data.n);
      const gk = usesGeology(kind);
      const options = { batch: B, lambda: gk ? LAMBDA : 0, nKnowledge: gk ? 1 : 0, padChannelsTo: 8 };
      const train = buildTrainGraph(model, options);
      const fwd = buildTrainGraph(model, { ...options, forwardOnly: true });
      // No backward: no gradient outputs, and the graph is smaller.
      expect(fwd.params.every((p) => p.gradOutput === null)).toBe(true);
      expect(train.params.some((p) => p.gradOutput !== null)).toBe(true);
      expect(fwd.geology).toBeNull();
      expect(fwd.bytes.length).toBeLessThan(train.bytes.length);
      expect(fwd.dropout?.units).toBe(ARCH.denseUnits);
      const T = (d: Float32Array, dims: readonly number[]): OrtTensor => new ort.Tensor('float32', d, dims);
      const per = data.patchSize * data.patchSize * data.channels;
      const x = new Float32Array(B * per);
      idx.forEach((s, j) => x.set(data.x.subarray(s * per, (s + 1) * per), j * per));
      const onehot = new Float32Array(B * 2);
      idx.forEach((s, j) => (onehot[2 * j + data.labels[s]] = 1));
      const mask = Float32Array.from({ length: B * ARCH.denseUnits }, (_, i) => (i % 3 === 0 ? 0 : 1 / (1 - ARCH.dropoutRate)));
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
      const lossOf = async (graph: typeof train): Promise<number> => {
        const names = new Set(graph.inputs.map((i) => i.name));
        const feeds: Record<string, OrtTensor> = { [IN_X]: T(x, [B, data.patchSize, data.patchSize, data.channels]), [IN_ONEHOT]: T(onehot, [B, 2]), [IN_DROPOUT]: T(mask, [B, ARCH.denseUnits]) };
        graph.params.forEach((p, i) => {
          if (names.has(p.input)) feeds[p.input] = T(weights[i], p.shape);
        });
        if (names.has(IN_KNOWLEDGE)) {
          feeds[IN_KNOWLEDGE] = T(Float32Array.from(idx.map((s) => data.knowledge![s])), [B, 1]);
          feeds[IN_GEO_A] = T(Float32Array.from(GEO.a), [1]);
          feeds[IN_GEO_B] = T(Float32Array.of(GEO.b), []);
        }
        const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
        try {
          return ((await session.run(feeds))[OUT_LOSS].data as Float32Array)[0];
        } finally {
          await session.release();
        }
      };
      const lTrain = await lossOf(train);
      const lFwd = await lossOf(fwd);
      expect(lTrain).toBeGreaterThan(0.05);
      expect(Math.abs(lFwd - lTrain)).toBeLessThanOrEqual(1e-6);
      model.dispose();
    });

    it(`${kind}: OnnxTrainer.validationLosses = tfjs inference-mode cross-entropy${usesGeology(kind) ? ' and geology share' : ''} (1e-5), chunks 13, 13, 13, 1`, async () => {
      const model = buildModel(kind, { channels: data.channels, patchSize: data.patchSize, seed: 3, ...ARCH });
      randomizeWeights(model, 22);
      const gk = usesGeology(kind);
      const trainer = await OnnxTrainer.start(model, TRAINER_DATA, gk ? GEO : null, { learningRate: 1e-3, weightDecay: 0, lambda: LAMBDA, threads: 1 });
      const idx = Array.from({ length: data.n }, (_, i) => (i * 7) % data.n);
      try {
        const got = await trainer.validationLosses(idx, { batchSize: 13, data });
        const geo = gk ? createGeologyVariables(1, GEO.a[0], GEO.b) : null;
        const ref = tf.tidy(() => {
          const per = data.patchSize * data.patchSize * data.channels;
          const xb = tf.tensor4d(Float32Array.from(idx.flatMap((s) => Array.from(data.x.subarray(s * per, (s + 1) * per)))), [idx.length, data.patchSize, data.patchSize, data.channels]);
          const probs = model.predict(xb, { batchSize: idx.length }) as tf.Tensor2D;
          const ce = crossEntropy(probs, tf.tensor1d(idx.map((s) => data.labels[s]), 'float32')).dataSync()[0];
          if (!geo) return { ce };
          const p1 = tf.squeeze(tf.slice(probs, [0, 1], [-1, 1]), [1]) as tf.Tensor1D;
          const gl = geologyLoss(p1, tf.tensor2d(idx.map((s) => data.knowledge![s]), [idx.length, 1]), geo).dataSync()[0] * LAMBDA;
          return { ce, geologyShare: gl / (ce + gl) };
        });
        if (geo) tf.dispose([geo.a, geo.b]);
        expect(ref.ce).toBeGreaterThan(0.05);
        expect(Math.abs(got.ce - ref.ce)).toBeLessThanOrEqual(1e-5);
        if (gk) {
          expect(ref.geologyShare).toBeGreaterThan(1e-3);
          expect(Math.abs(got.geologyShare! - ref.geologyShare!)).toBeLessThanOrEqual(1e-5);
        } else expect(got.geologyShare).toBeUndefined();
      } finally {
        await trainer.close();
        model.dispose();
      }
    });
  }
});
