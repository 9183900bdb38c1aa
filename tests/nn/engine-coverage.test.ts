/**
 * For every model kind at its default settings (buildModel's widths and 9×9 patches, trainModel's
 * batch 64, the geology term for GK models; 39 channels as the shared stack), neither training
 * nor prediction falls back to tfjs: trainModel's fallback to tfjs happens exactly when
 * OnnxTrainer.prepare(batch) throws (OnnxTrainUnsupportedError, startOnnxEngine in train.ts), so
 * prepare must succeed — at the usual batch and at the trailing batch of 2 — and so must the
 * forward-only validation graph; the prediction export must build and load in ONNX Runtime and
 * give the tfjs probabilities (1e-5, as tests/maps/onnx-export.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, MODEL_KINDS, usesGeology } from '../../main/models/architectures.ts';
import { initBackend } from '../../main/models/backend.ts';
import { OnnxTrainer } from '../../main/models/onnx-train/onnx-trainer.ts';
import { exportToOnnx } from '../../main/maps/onnx/export-model.ts';
import { onnxClassifier } from '../../main/maps/onnx/onnx-classifier.ts';
import { loadOrt, type OrtModule } from '../../main/onnx/onnx-runtime.ts';
import { toyData } from '../models/toy-data.ts';

const CHANNELS = 39;
const DEFAULT_BATCH = 64;
const data = toyData({ sites: 10, perSite: 7, patchSize: 9, channels: CHANNELS, seed: 4 });

let ort: OrtModule;
beforeAll(async () => {
  await initBackend('wasm');
  ort = await loadOrt();
});

describe('no silent tfjs fallback at default settings', () => {
  for (const kind of MODEL_KINDS) {
    it(`${kind}: the ONNX training graph (batch ${DEFAULT_BATCH} and 2), the validation graph and the prediction export all build and run`, { timeout: 120_000 }, async () => {
      const model = buildModel(kind, { channels: CHANNELS, seed: 1 });
      const trainer = await OnnxTrainer.start(model, data, usesGeology(kind) ? { a: [0.1], b: 0 } : null, { learningRate: 1e-3, weightDecay: 1e-4, lambda: 1 });
      try {
        await trainer.prepare(DEFAULT_BATCH);
        await trainer.prepare(2);
        const step = await trainer.lossAndGradients(Array.from({ length: DEFAULT_BATCH }, (_, i) => i));
        expect(Number.isFinite(step.loss) && step.loss > 0).toBe(true);
        expect(step.grads.filter((g) => g !== null).length).toBe(model.trainableWeights.length);
        const v = await trainer.validationLosses(Array.from({ length: 20 }, (_, i) => i));
        expect(Number.isFinite(v.ce) && v.ce > 0).toBe(true);
        expect(v.geologyShare !== undefined).toBe(usesGeology(kind));
      } finally {
        await trainer.close();
      }
      const n = 8;
      const x = data.x.slice(0, n * 81 * CHANNELS);
      const ref = tf.tidy(() => tf.slice(model.predict(tf.tensor4d(x, [n, 9, 9, CHANNELS])) as tf.Tensor2D, [0, 1], [-1, 1]).dataSync().slice() as Float32Array);
      const cl = await onnxClassifier(ort, kind, exportToOnnx(model), 9, CHANNELS);
      try {
        const p = await cl.classify(x, n);
        for (let i = 0; i < n; i++) expect(Math.abs(p[i] - ref[i])).toBeLessThanOrEqual(1e-5);
      } finally {
        await cl.dispose();
        model.dispose();
      }
    });
  }
});
