/**
 * trainModel with engine 'onnx' (ONNX Runtime forward + backward graph, Adam and BN moving
 * averages in JS) against engine 'tfjs' (the single-thread tfjs loop), plus determinism, the
 * fallbacks and tensor hygiene.
 * Tolerances, after 3 epochs (9 Adam steps): every epoch's training loss within 1e-5 of tfjs'
 * (measured ≤ 7e-8); every weight within 1e-5 (measured ≤ 2e-6) EXCEPT the biases of the
 * convolutions that feed a BatchNorm and the BN moving means: BN removes a per-channel constant,
 * so those biases' true gradient is 0 and both engines feed float-rounding noise to Adam, whose
 * normalisation turns it into steps of up to ~lr each (measured 1.7e-3 apart; the moving means
 * track the biases). For those: within 5e-2 (≈ 2 engines × 9 steps × lr, with margin).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { trainModel, type TrainOptions } from '../../main/models/train.ts';
import { OnnxRuntimeUnavailableError } from '../../main/onnx/onnx-runtime.ts';
import { buildModel, type ModelKind } from '../../main/models/architectures.ts';
import { buildTrainGraph, MAX_SAMPLING_MATRIX_ELEMENTS, OnnxTrainUnsupportedError } from '../../main/models/onnx-train/train-graph.ts';
import { toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const ARCH = { stemFilters: 8, stageFilters: [8, 16], denseUnits: 8 };
const data = toyData({ sites: 8, perSite: 5, patchSize: 7, channels: 5, seed: 3 });
const all = Array.from({ length: data.n }, (_, i) => i);
// 40 samples, batch 16: batches 16, 16, 8 (a second graph for the remainder).
const BASE: TrainOptions = { epochs: 3, batchSize: 16, validationFraction: 0, seed: 5, architecture: ARCH, lambda: 0.7 };

function weightsOf(t: { model: { getWeights(): tf.Tensor[]; weights: { originalName: string }[] } }): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  t.model.getWeights().forEach((w, i) => out.set(t.model.weights[i].originalName.replace(/_\d+\//, '/'), Float32Array.from(w.dataSync() as Float32Array)));
  return out;
}

/** Weights whose true gradient is 0 (bias before a BatchNorm) and the BN moving means that track them. */
const NOISE_DRIVEN = /^(stem_conv|conv\d+|dcn\d+)\/bias$|moving_mean$/;

/** Largest |a − b| over the weights (in model.weights order) that `select` accepts by name. */
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>, select: (name: string) => boolean = () => true): number {
  expect([...a.keys()].length).toBe([...b.keys()].length);
  let m = 0;
  const bv = [...b.values()];
  [...a.entries()].forEach(([name, v], i) => {
    expect(v.length).toBe(bv[i].length);
    if (!select(name)) return;
    for (let e = 0; e < v.length; e++) m = Math.max(m, Math.abs(v[e] - bv[i][e]));
  });
  return m;
}

describe('trainModel engine onnx', () => {
  for (const kind of ['cnn', 'gk-dcn'] as ModelKind[]) {
    it(`${kind}: 3 epochs follow the tfjs trajectory (losses ≤ 1e-5, weights ≤ 1e-5, zero-gradient biases ≤ 5e-2)`, async () => {
      const ref = await trainModel(kind, data, all, { ...BASE, engine: 'tfjs' });
      const onnx = await trainModel(kind, data, all, { ...BASE, engine: 'onnx', threads: 1 });
      try {
        expect(ref.engine).toBe('tfjs');
        expect(onnx.engine).toBe('onnx');
        const names = [...weightsOf(ref).keys()];
        expect(names.filter((n) => NOISE_DRIVEN.test(n)).length).toBe(2 * 3); // 3 pre-BN biases + 3 moving means
        expect(maxDiff(weightsOf(onnx), weightsOf(ref), (n) => !NOISE_DRIVEN.test(n))).toBeLessThan(1e-5);
        expect(maxDiff(weightsOf(onnx), weightsOf(ref), (n) => NOISE_DRIVEN.test(n))).toBeLessThan(5e-2);
        // The weights moved: the comparison is not between two untrained models.
        const init = await trainModel(kind, data, all, { ...BASE, epochs: 1, engine: 'tfjs', learningRate: 1e-12 });
        expect(maxDiff(weightsOf(init), weightsOf(ref))).toBeGreaterThan(1e-2);
        init.model.dispose();
        onnx.history.forEach((h, i) => expect(Math.abs(h.trainLoss - ref.history[i].trainLoss)).toBeLessThan(1e-5));
        if (kind === 'gk-dcn') {
          expect(Math.abs(onnx.geology!.a[0] - ref.geology!.a[0])).toBeLessThan(1e-5);
          expect(Math.abs(onnx.geology!.b - ref.geology!.b)).toBeLessThan(1e-5);
          expect(onnx.geology!.a[0]).not.toBe(0.1); // trained away from its initial value
        }
      } finally {
        ref.model.dispose();
        onnx.model.dispose();
      }
    });
  }

  it('same seed twice gives identical numbers, on 1 and on 2 intra-op threads; no tensors leak', async () => {
    const before = tf.memory().numTensors;
    for (const threads of [1, 2]) {
      const a = await trainModel('gk-dcn', data, all, { ...BASE, epochs: 2, engine: 'onnx', threads, validationFraction: 0.25 });
      const b = await trainModel('gk-dcn', data, all, { ...BASE, epochs: 2, engine: 'onnx', threads, validationFraction: 0.25 });
      expect(maxDiff(weightsOf(a), weightsOf(b))).toBe(0);
      expect(a.history).toEqual(b.history);
      expect(a.history[0].valLoss).toBeGreaterThan(0);
      a.model.dispose();
      b.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'auto' without onnxruntime-node trains with tfjs and says so; 'onnx' stops with OnnxRuntimeUnavailableError", async () => {
    const failing = async (): Promise<never> => {
      throw new Error('simulated: cannot find module onnxruntime-node');
    };
    const messages: string[] = [];
    const ctx = { progress: (_f: number, m?: string) => void (m && messages.push(m)) };
    const auto = await trainModel('cnn', data, all, { ...BASE, epochs: 1, engine: 'auto' }, ctx, { ortLoader: failing });
    expect(auto.engine).toBe('tfjs');
    expect(messages.some((m) => /training engine tfjs \(onnxruntime-node unavailable/.test(m))).toBe(true);
    auto.model.dispose();
    await expect(trainModel('cnn', data, all, { ...BASE, epochs: 1, engine: 'onnx' }, undefined, { ortLoader: failing })).rejects.toBeInstanceOf(OnnxRuntimeUnavailableError);
    const viaOrt = await trainModel('cnn', data, all, { ...BASE, epochs: 1, engine: 'auto' });
    expect(viaOrt.engine).toBe('onnx');
    viaOrt.model.dispose();
  });

  it('a deformable layer whose sampling matrix would exceed the memory limit is refused by name', () => {
    // 25×25 patches at batch 16: 16 · 625² · 9 = 56 M elements > 16.8 M.
    const model = buildModel('dcn', { channels: 2, patchSize: 25, seed: 1, ...ARCH });
    try {
      expect(16 * 625 ** 2 * 9).toBeGreaterThan(MAX_SAMPLING_MATRIX_ELEMENTS);
      expect(() => buildTrainGraph(model, { batch: 16, lambda: 0, nKnowledge: 0 })).toThrow(OnnxTrainUnsupportedError);
      expect(() => buildTrainGraph(model, { batch: 16, lambda: 0, nKnowledge: 0 })).toThrow(/sampling matrix/);
      // The same model at batch 2 (7 M elements) is expressed.
      expect(buildTrainGraph(model, { batch: 2, lambda: 0, nKnowledge: 0 }).bytes.length).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  });

  it('a model the graph cannot express (2 offset groups) trains with tfjs and says why', async () => {
    const messages: string[] = [];
    const ctx = { progress: (_f: number, m?: string) => void (m && messages.push(m)) };
    const r = await trainModel('dcn', data, all, { ...BASE, epochs: 1, engine: 'onnx', architecture: { ...ARCH, offsetGroups: 2 } }, ctx);
    expect(r.engine).toBe('tfjs');
    expect(messages.some((m) => /training engine tfjs \(ONNX training: DeformConv2D .* offsetGroups 2/.test(m))).toBe(true);
    r.model.dispose();
  });
});
