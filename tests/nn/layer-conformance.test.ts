/**
 * Generated conformance suite of the registered layer kinds (main/nn/registry.ts). For every kind
 * and seeded random legal configurations:
 *  (a) the ONNX inference export run by onnxruntime-node equals tfjs' own forward (model.predict,
 *      inference mode);
 *  (b) the ONNX training graph's forward (buildTrainGraph, the kinds' trainOnnx) equals tfjs'
 *      training-mode forward (model.apply(x, { training: true }): batch statistics, dropout mask);
 *  (c) its gradients equal tf.variableGrads of the same loss (crossEntropy), for every trainable
 *      weight and for the input;
 *  (d) the forward-only validation graph ('infer' mode) equals model.predict.
 * A kind registered without trainOnnx, or without a case here, fails the first test.
 *
 * Each case is a small chain Input → [the kind's layer(s)] → (GlobalAveragePooling2D where the
 * output is still a map) → Dense softmax, with every weight randomised (tests/maps/onnx-fixtures:
 * non-trivial BatchNorm statistics, large DCN offsets) so that nothing reduces to the identity.
 * The training cases draw from what the training graph expresses (a narrower set than inference:
 * SameConv2D only, 2×2/2 'valid' max-pooling, SeededDropout on flat features, …; anything else
 * is refused with OnnxTrainUnsupportedError and trains with tfjs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/models/backend.ts';
import { SameConv2D } from '../../main/nn/layers/same-conv2d.ts';
import { SeededDropout } from '../../main/nn/layers/seeded-dropout.ts';
import { DeformConv2D } from '../../main/nn/layers/deform-conv-layer.ts';
import { crossEntropy } from '../../main/models/geology-loss.ts';
import { buildTrainGraph, IN_DROPOUT, IN_ONEHOT, IN_X, OUT_GRAD_X, OUT_LOSS, OUT_PROBS } from '../../main/models/onnx-train/train-graph.ts';
import { exportToOnnx } from '../../main/maps/onnx/export-model.ts';
import { onnxClassifier } from '../../main/maps/onnx/onnx-classifier.ts';
import { loadOrt, type OrtModule, type OrtTensor } from '../../main/onnx/onnx-runtime.ts';
import type { LayerKind } from '../../main/nn/layer-kind.ts';
import { LAYER_KINDS } from '../../main/nn/registry.ts';
import { batchNormKind } from '../../main/nn/layers/batch-norm.ts';
import { convKind } from '../../main/nn/layers/conv.ts';
import { deformConvKind } from '../../main/nn/layers/deform-conv.ts';
import { denseKind } from '../../main/nn/layers/dense.ts';
import { identityKind } from '../../main/nn/layers/identity.ts';
import { globalAveragePoolKind, maxPoolKind } from '../../main/nn/layers/pooling.ts';
import { activationKind, reluKind } from '../../main/nn/layers/relu.ts';
import { Rng } from '../../main/util/rng.ts';
import { randomizeWeights } from '../maps/onnx-fixtures.ts';

const N = 64;
const CONFIGS_PER_KIND = 3;

type Build = (rng: Rng, channels: number) => tfl.layers.Layer[];
const pick = <T,>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** Per registered kind: a generator of the layer(s) under test, from seeded random legal configurations. */
const CASES = new Map<LayerKind, Build>([
  [identityKind, (rng) => [rng.uniform() < 0.5 ? tfl.layers.dropout({ rate: 0.3 }) : new SeededDropout({ rate: 0.4, seed: 3 })]],
  [convKind, (rng) => [
    rng.uniform() < 0.5
      ? new SameConv2D({ filters: 2 + rng.int(6), kernelSize: pick(rng, [1, 3, 5]) })
      : tfl.layers.conv2d({ filters: 2 + rng.int(6), kernelSize: pick(rng, [1, 2, 3]), padding: 'valid', strides: pick(rng, [1, 2]) }),
  ]],
  [deformConvKind, (rng, c) => [new DeformConv2D({ filters: 2 + rng.int(6), kernelSize: 3, padding: 'same', strides: pick(rng, [1, 2]), offsetGroups: c % 2 === 0 ? pick(rng, [1, 2]) : 1, useMask: rng.uniform() < 0.7 })]],
  // Right after a convolution it is folded into it; after an activation it is a Mul + Add: both.
  [batchNormKind, (rng) => (rng.uniform() < 0.5 ? [new SameConv2D({ filters: 4, kernelSize: 3 }), tfl.layers.batchNormalization({ axis: -1 })] : [tfl.layers.reLU(), tfl.layers.batchNormalization({ axis: -1 })])],
  [reluKind, () => [tfl.layers.reLU()]],
  [activationKind, (rng) => [tfl.layers.activation({ activation: pick(rng, ['linear', 'relu', 'sigmoid'] as const) })]],
  [maxPoolKind, (rng) => [tfl.layers.maxPooling2d({ poolSize: pick(rng, [2, 3]), strides: pick(rng, [1, 2]), padding: pick(rng, ['valid', 'same'] as const) })]],
  [globalAveragePoolKind, () => [tfl.layers.globalAveragePooling2d({})]],
  [denseKind, (rng) => [tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: 3 + rng.int(5), activation: pick(rng, ['linear', 'relu', 'sigmoid'] as const) })]],
]);

function chain(layersUnderTest: tfl.layers.Layer[], k: number, c: number): tfl.LayersModel {
  const input = tfl.input({ shape: [k, k, c] });
  let y = input as tfl.SymbolicTensor;
  for (const l of layersUnderTest) y = l.apply(y) as tfl.SymbolicTensor;
  if (y.shape.length === 4) y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: y });
}

let ort: OrtModule;
beforeAll(async () => {
  await initBackend('wasm');
  ort = await loadOrt();
});

describe('layer conformance (generated): ONNX inference export = tfjs forward', () => {
  it('every registered kind has a trainOnnx and an inference and a training case here, and no class name is claimed twice', () => {
    for (const kind of LAYER_KINDS) {
      expect(CASES.has(kind), kind.classNames.join('/')).toBe(true);
      expect(typeof kind.trainOnnx, `${kind.classNames.join('/')}: trainOnnx`).toBe('function');
      expect(TRAIN_CASES.has(kind), `${kind.classNames.join('/')}: training case`).toBe(true);
    }
    const names = LAYER_KINDS.flatMap((k) => k.classNames);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every kind\'s tfjs member: a layer for each of its class names (custom classes registered under them), and spec survives a round trip through getConfig()', () => {
    const registered = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const kind of LAYER_KINDS) {
      const names = Object.keys(kind.tfjs);
      expect(names.every((n) => kind.classNames.includes(n)), `${kind.classNames.join('/')}: tfjs keys ${names}`).toBe(true);
      // Only Keras' SpatialDropout2D has no tfjs layer (tfjs-layers has none; see LayerKind.tfjs).
      expect(kind.classNames.filter((n) => !names.includes(n))).toEqual(kind === identityKind ? ['SpatialDropout2D'] : []);
    }
    for (const custom of [SameConv2D, SeededDropout, DeformConv2D]) expect(registered[custom.className]?.[0], custom.className).toBe(custom);
    let seen = 0;
    const classesSeen = new Set<string>();
    for (const cases of [CASES, TRAIN_CASES]) {
      for (const [kind, build] of cases) {
        for (let cfg = 0; cfg < CONFIGS_PER_KIND; cfg++) {
          const rng = new Rng(90_000 + 1000 * LAYER_KINDS.indexOf(kind) + cfg);
          const model = chain(build(rng, 4), 7, 4);
          for (const layer of model.layers) {
            const cls = layer.getClassName();
            const owner = LAYER_KINDS.find((k) => k.classNames.includes(cls));
            expect(owner, cls).toBeDefined();
            const factory = owner!.tfjs[cls];
            expect(factory, `${cls}: tfjs`).toBeDefined();
            // The same configuration through the kind's tfjs layer: same class, same normalised spec.
            const copy = factory(layer.getConfig() as never);
            expect(copy.getClassName()).toBe(cls);
            if (layer instanceof DeformConv2D || layer instanceof SameConv2D || layer instanceof SeededDropout) expect(copy).toBeInstanceOf(layer.constructor);
            expect(owner!.spec(copy), `${cls} spec`).toEqual(owner!.spec(layer));
            classesSeen.add(cls);
            seen++;
          }
          model.dispose();
        }
      }
    }
    expect(seen).toBeGreaterThan(50);
    // Every class name with a tfjs layer was met at least once.
    expect(LAYER_KINDS.flatMap((k) => Object.keys(k.tfjs)).filter((n) => !classesSeen.has(n))).toEqual([]);
  });

  for (const [kind, build] of CASES) {
    it(`${kind.classNames[0]}: ${CONFIGS_PER_KIND} random configurations, probabilities within 1e-5 of tfjs`, { timeout: 60_000 }, async () => {
      for (let cfg = 0; cfg < CONFIGS_PER_KIND; cfg++) {
        const rng = new Rng(1000 * LAYER_KINDS.indexOf(kind) + cfg);
        const k = pick(rng, [5, 7, 9]);
        const c = pick(rng, [2, 3, 4, 5]);
        const model = chain(build(rng, c), k, c);
        randomizeWeights(model, 7 + cfg);
        const x = Float32Array.from({ length: N * k * k * c }, () => rng.normal(0, 1));
        const ref = tf.tidy(() => tf.slice(model.predict(tf.tensor4d(x, [N, k, k, c])) as tf.Tensor2D, [0, 1], [-1, 1]).dataSync().slice() as Float32Array);
        const cl = await onnxClassifier(ort, 'case', exportToOnnx(model), k, c);
        const p = await cl.classify(x, N);
        await cl.dispose();
        model.dispose();
        // Not vacuous: the probabilities are not all equal.
        expect(Math.max(...ref) - Math.min(...ref)).toBeGreaterThan(1e-3);
        // Tolerance 1e-5 (reference: tfjs' forward): float32 rounding of a different summation
        // order and of BatchNorm folded in float64 — the same bound as tests/maps/onnx-export.test.ts.
        let maxDiff = 0;
        for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i] - ref[i]));
        expect(maxDiff).toBeLessThanOrEqual(1e-5);
      }
    });
  }
});

/** Per registered kind: seeded random configurations the ONNX training graph expresses. */
const TRAIN_CASES = new Map<LayerKind, Build>([
  [identityKind, (rng) => [tfl.layers.globalAveragePooling2d({}), new SeededDropout({ rate: pick(rng, [0, 0.3, 0.5]), seed: rng.int(1000) })]],
  [convKind, (rng) => [new SameConv2D({ filters: 2 + rng.int(6), kernelSize: pick(rng, [1, 3, 5]), useBias: rng.uniform() < 0.7 })]],
  [deformConvKind, (rng) => [new DeformConv2D({ filters: 2 + rng.int(5), kernelSize: 3, padding: 'same', useMask: true })]],
  [batchNormKind, (rng) => {
    const bn = tfl.layers.batchNormalization({ axis: -1, epsilon: pick(rng, [1e-3, 1e-5]), momentum: pick(rng, [0.9, 0.99]) });
    return rng.uniform() < 0.5 ? [new SameConv2D({ filters: 4, kernelSize: 3 }), bn] : [tfl.layers.reLU(), bn];
  }],
  [reluKind, () => [tfl.layers.reLU()]],
  [activationKind, () => [tfl.layers.activation({ activation: 'relu' })]],
  // Odd map sizes too: the last row/column is not pooled and gets a zero gradient.
  [maxPoolKind, () => [tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' })]],
  [globalAveragePoolKind, () => [tfl.layers.globalAveragePooling2d({})]],
  [denseKind, (rng) => [tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: 3 + rng.int(5), activation: pick(rng, ['linear', 'relu'] as const), useBias: rng.uniform() < 0.8 })]],
]);

const TRAIN_BATCH = 12;

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxNorm(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Runs a training-graph variant of `model` on x, labels (current weights; dropout mask drawn as OnnxTrainer does). */
async function runGraph(model: tfl.LayersModel, graph: ReturnType<typeof buildTrainGraph>, x: Float32Array, onehot: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const T = (data: Float32Array, d: readonly number[]): OrtTensor => new ort.Tensor('float32', data, d);
  const feeds: Record<string, OrtTensor> = { [IN_X]: T(x, dims), [IN_ONEHOT]: T(onehot, [dims[0], 2]) };
  const names = new Set(graph.inputs.map((i) => i.name));
  const values = model.getWeights();
  graph.params.forEach((p, i) => {
    if (names.has(p.input)) feeds[p.input] = T(Float32Array.from(values[i].dataSync() as Float32Array), p.shape);
  });
  if (graph.dropout) {
    // SeededDropout's first training call: keep = randomUniform(shape, 0, 1, float32, seed) ≥ rate, times 1/(1 − rate).
    const { layer, units, rate } = graph.dropout;
    const mask = tf.tidy(() => tf.mul(tf.cast(tf.greaterEqual(tf.randomUniform([dims[0], units], 0, 1, 'float32', layer.seed >>> 0), rate), 'float32'), 1 / (1 - rate)));
    feeds[IN_DROPOUT] = T(Float32Array.from(mask.dataSync() as Float32Array), [dims[0], units]);
    mask.dispose();
  }
  const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    const res: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) {
      res[k] = Float32Array.from(t.data as Float32Array);
      t.dispose?.();
    }
    return res;
  } finally {
    await session.release();
  }
}

// Tolerances (reference: tfjs on the wasm backend, float32 both sides, different summation order):
//  - probabilities 1e-5 absolute, loss 1e-5 relative (as the inference export);
//  - gradients: per weight max |Δ| ≤ 1e-4 · max(‖its tfjs gradient‖∞, ‖the case's largest weight
//    gradient‖∞), for dL/dx 1e-4 · ‖its tfjs gradient‖∞: 1e-4 relative. The second term is for gradients that are 0 in exact arithmetic
//    (a convolution bias right before a BatchNorm, which removes it): both engines return rounding
//    noise there, on the scale of the other gradients (measured: 3.6e-6 from ONNX Runtime, 3.5e-8
//    from tfjs-cpu, with a largest gradient of 9.2e-2). Measured worst over all cases: 6.1e-6 relative.
const PROB_TOL = 1e-5;
const LOSS_REL_TOL = 1e-5;
const GRAD_REL_TOL = 1e-4;

describe('layer conformance (generated): ONNX training graph = tfjs training forward and tf.variableGrads', () => {
  // The reference is tfjs' cpu backend (its reference kernels): the wasm backend's MaxPool gradient
  // sends a window's gradient to its first cell when every value in it is negative (measured:
  // window [−1.6, −1.5, −0.5, −0.9] → gradient [1, 0, 0, 0], cpu [0, 0, 1, 0]). The models are not
  // affected (a ReLU precedes each pooling, so windows are ≥ 0 and an all-zero one goes to its first
  // cell by either rule), but a random-input conformance case is.
  beforeAll(async () => {
    await initBackend('cpu');
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  for (const [kind, build] of TRAIN_CASES) {
    it(`${kind.classNames[0]}: ${CONFIGS_PER_KIND} random configurations: training forward, every gradient (weights and input), validation forward`, { timeout: 120_000 }, async () => {
      for (let cfg = 0; cfg < CONFIGS_PER_KIND; cfg++) {
        const rng = new Rng(50_000 + 1000 * LAYER_KINDS.indexOf(kind) + cfg);
        const k = pick(rng, [5, 7, 9]);
        const c = pick(rng, [2, 3, 4, 5]);
        const padChannelsTo = pick(rng, [1, 8]);
        const B = TRAIN_BATCH;
        const model = chain(build(rng, c), k, c);
        randomizeWeights(model, 17 + cfg);
        const dims: [number, number, number, number] = [B, k, k, c];
        const x = Float32Array.from({ length: B * k * k * c }, () => rng.normal(0, 1));
        const labels = Array.from({ length: B }, (_, i) => (i % 3 === 0 ? 1 : rng.int(2)));
        const onehot = new Float32Array(B * 2);
        labels.forEach((l, i) => (onehot[2 * i + l] = 1));
        const where = `${kind.classNames[0]} case ${cfg} (k ${k}, c ${c}, pad to ${padChannelsTo}, layers ${model.layers.map((l) => l.getClassName()).join(' → ')})`;
        const xt = tf.tensor4d(x, dims);
        const yt = tf.tensor1d(labels, 'float32');
        try {
          // (d) Validation graph (forward only, inference mode) = model.predict; before the training
          // forward, which moves tfjs' BatchNorm moving averages.
          const refInfer = tf.tidy(() => {
            const p = model.predict(xt) as tf.Tensor2D;
            return { p: p.dataSync().slice() as Float32Array, loss: crossEntropy(p, yt).dataSync()[0] };
          });
          const inferGraph = buildTrainGraph(model, { batch: B, lambda: 0, nKnowledge: 0, padChannelsTo, mode: 'infer', probabilities: true });
          expect(inferGraph.params.every((p) => p.gradOutput === null), `${where}: a forward-only graph has no gradients`).toBe(true);
          const inf = await runGraph(model, inferGraph, x, onehot, dims);
          expect(maxAbs(inf[OUT_PROBS], refInfer.p), `${where}: validation probabilities`).toBeLessThanOrEqual(PROB_TOL);
          expect(Math.abs(inf[OUT_LOSS][0] - refInfer.loss), `${where}: validation loss`).toBeLessThanOrEqual(LOSS_REL_TOL * Math.max(1, refInfer.loss));

          // (b), (c) Training graph against tfjs' training forward and autograd.
          const graph = buildTrainGraph(model, { batch: B, lambda: 0, nKnowledge: 0, padChannelsTo, probabilities: true, inputGradient: true });
          const got = await runGraph(model, graph, x, onehot, dims);
          const xv = tf.variable(xt);
          const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
          let refProbs: Float32Array = new Float32Array(0);
          const { value, grads } = tf.variableGrads(() => {
            const p = model.apply(xv, { training: true }) as tf.Tensor2D;
            refProbs = p.dataSync().slice() as Float32Array;
            return crossEntropy(p, yt);
          }, [...vars, xv]);
          const refLoss = value.dataSync()[0];
          // Not vacuous: the probabilities differ between samples.
          expect(Math.max(...refProbs) - Math.min(...refProbs), where).toBeGreaterThan(1e-3);
          expect(maxAbs(got[OUT_PROBS], refProbs), `${where}: training probabilities`).toBeLessThanOrEqual(PROB_TOL);
          expect(Math.abs(got[OUT_LOSS][0] - refLoss), `${where}: training loss`).toBeLessThanOrEqual(LOSS_REL_TOL * Math.max(1, refLoss));
          const refDx = grads[xv.name].dataSync() as Float32Array;
          const pairs: [string, Float32Array | undefined, Float32Array][] = [['dL/dx', got[OUT_GRAD_X], refDx]];
          model.weights.forEach((w, i) => {
            if (w.trainable) pairs.push([w.originalName, graph.params[i].gradOutput ? got[graph.params[i].gradOutput!] : undefined, grads[(w.read() as tf.Variable).name].dataSync() as Float32Array]);
          });
          const largest = Math.max(...pairs.slice(1).map(([, , ref]) => maxNorm(ref)));
          for (const [name, a, ref] of pairs) {
            expect(a, `${where}: ${name} has a gradient output`).toBeDefined();
            const d = maxAbs(a!, ref);
            // dL/dx on its own scale (no input gradient is 0 in exact arithmetic here).
            const scale = name === 'dL/dx' ? maxNorm(ref) : Math.max(maxNorm(ref), largest);
            expect(d, `${where}: ${name} max |Δ| ${d.toExponential(2)}, ‖g‖∞ ${maxNorm(ref).toExponential(2)}, largest ${largest.toExponential(2)}`).toBeLessThanOrEqual(GRAD_REL_TOL * scale);
          }
          // Not vacuous: real gradients flow to the weights and to the input.
          expect(largest, `${where}: weight gradients`).toBeGreaterThan(1e-3);
          expect(maxNorm(refDx), `${where}: input gradient`).toBeGreaterThan(1e-5);
          tf.dispose([xv, value, ...Object.values(grads)]);
        } finally {
          tf.dispose([xt, yt]);
          model.dispose();
        }
      }
    });
  }
});
