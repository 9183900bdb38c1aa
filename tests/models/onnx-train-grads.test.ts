/**
 * The ONNX training-step graph (main/models/onnx-train/train-graph.ts) against tfjs autograd:
 * for each model kind, the loss and EVERY gradient (network weights and the geology a, b) of one
 * batch equal tf.variableGrads of the same loss (geology-loss.ts totalLoss, same dropout mask:
 * the tfjs model's SeededDropout draws call 0, the trainer draws call 0 of the same seed), and the
 * BatchNorm batch statistics equal what tfjs-layers folds into the moving averages.
 * Tolerance: 1e-4 absolute on loss and gradients (float32 vs float32, different summation order);
 * 1e-5 on the moving statistics.
 * Deformable layers get offset kernels large enough that sampling points fall beyond the border.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { buildModel, usesGeology, type ModelKind } from '../../main/models/architectures.ts';
import { createGeologyVariables, totalLoss } from '../../main/models/geology-loss.ts';
import { OnnxTrainer } from '../../main/models/onnx-train/onnx-trainer.ts';
import { Rng } from '../../main/util/rng.ts';
import { toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const TOL = 1e-4;

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Perturbs weights so every path carries signal: BN γ/β, biases and (large) offset kernels. */
function perturb(model: ReturnType<typeof buildModel>, seed: number): void {
  const rng = new Rng(seed);
  const values = model.getWeights().map((w, i) => {
    const name = model.weights[i].originalName;
    const data = Float32Array.from(w.dataSync() as Float32Array);
    if (/offset_kernel/.test(name)) {
      // Offsets of a few cells (std ≈ 3): many sampling points fall beyond the border.
      const fanIn = data.length / (w.shape[3] ?? 1);
      for (let e = 0; e < data.length; e++) data[e] = (3 / Math.sqrt(fanIn)) * rng.normal();
    }
    else if (/offset_bias/.test(name)) for (let e = 0; e < data.length; e++) data[e] = 1.5 * rng.normal();
    else if (/gamma/.test(name)) for (let e = 0; e < data.length; e++) data[e] = 1 + 0.3 * rng.normal();
    else if (/beta|bias/.test(name)) for (let e = 0; e < data.length; e++) data[e] = 0.2 * rng.normal();
    else if (/moving_variance/.test(name)) for (let e = 0; e < data.length; e++) data[e] = 0.5 + rng.uniform();
    else if (/moving_mean/.test(name)) for (let e = 0; e < data.length; e++) data[e] = 0.3 * rng.normal();
    return tf.tensor(data, w.shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

async function compare(kind: ModelKind, arch: { stemFilters?: number; stageFilters?: number[]; denseUnits?: number }, channels: number, batch: number, padChannelsTo = 8): Promise<void> {
  const data = toyData({ sites: 6, perSite: Math.ceil(batch / 6) + 1, patchSize: 9, channels, seed: 5 });
  const idx = Array.from({ length: batch }, (_, i) => (i * 7) % data.n);
  const model = buildModel(kind, { channels, patchSize: 9, seed: 3, ...arch });
  perturb(model, 9);
  const gk = usesGeology(kind);
  const lambda = 1.3;
  const geo = gk ? createGeologyVariables(1, 0.4, -0.2) : undefined;
  const trainer = await OnnxTrainer.start(model, data, gk ? { a: [0.4], b: -0.2 } : null, { learningRate: 1e-3, weightDecay: 0, lambda, threads: 1, padChannelsTo });
  try {
    const movingBefore = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
    const onnx = await trainer.lossAndGradients(idx);

    const per = 81 * channels;
    const xb = tf.tensor4d(Float32Array.from(idx.flatMap((s) => Array.from(data.x.subarray(s * per, (s + 1) * per)))), [batch, 9, 9, channels]);
    const yb = tf.tensor1d(idx.map((s) => data.labels[s]), 'float32');
    const wb = tf.tensor2d(idx.map((s) => data.knowledge![s]), [batch, 1]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    if (geo) vars.push(geo.a, geo.b);
    const { value, grads } = tf.variableGrads(() => {
      const probs = model.apply(xb, { training: true }) as tf.Tensor2D;
      return totalLoss(probs, yb, lambda, geo ? { w: wb, vars: geo } : undefined);
    }, vars);
    expect(Math.abs(onnx.loss - value.dataSync()[0])).toBeLessThan(TOL);
    let checked = 0;
    model.weights.forEach((w, i) => {
      if (!w.trainable) return;
      const ref = grads[(w.read() as tf.Variable).name].dataSync();
      const got = onnx.grads[i];
      expect(got, w.originalName).not.toBeNull();
      const d = maxAbs(got!, ref);
      expect(d, `${kind} ${w.originalName}: max |Δ| ${d}`).toBeLessThan(TOL);
      checked++;
    });
    expect(checked).toBe(model.trainableWeights.length);
    if (geo) {
      expect(maxAbs(onnx.geoA!, grads[geo.a.name].dataSync())).toBeLessThan(TOL);
      expect(Math.abs(onnx.geoB! - grads[geo.b.name].dataSync()[0])).toBeLessThan(TOL);
    }
    // tfjs folded the batch statistics into the moving averages during apply(training).
    const after = model.getWeights();
    const names = model.weights.map((w) => w.originalName);
    let bn = 0;
    names.forEach((name, i) => {
      const m = /moving_(mean|variance)$/.exec(name);
      if (!m) return;
      const stats = onnx.bn[Math.floor(bn++ / 2)];
      const stat = m[1] === 'mean' ? stats.mean : stats.variance;
      const expected = movingBefore[i].map((v, c) => v - (v - stat[c]) * 0.1);
      expect(maxAbs(expected, after[i].dataSync())).toBeLessThan(1e-5);
    });
    expect(bn).toBe(2 * (1 + (arch.stageFilters?.length ?? 2)));
    tf.dispose([xb, yb, wb, value, ...Object.values(grads)]);
  } finally {
    await trainer.close();
    model.dispose();
    if (geo) tf.dispose([geo.a, geo.b]);
  }
}

const SMALL = { stemFilters: 8, stageFilters: [8, 16], denseUnits: 8 };

describe('ONNX training graph vs tfjs gradients (1e-4 absolute)', () => {
  for (const kind of ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'] as const) {
    it(`${kind}: loss, every gradient and BN statistics, small widths, 5 channels, batch 12`, async () => {
      await compare(kind, SMALL, 5, 12);
    });
  }
  it('gk-dcn at the default widths (64, [64, 128], 64), 39 channels padded to 40, batch 4', async () => {
    await compare('gk-dcn', {}, 39, 4);
  });
  it('cnn without channel padding gives the same gradients', async () => {
    await compare('cnn', SMALL, 5, 6, 1);
  });
});
