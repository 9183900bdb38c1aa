/**
 * Generated conformance suite of the registered layer kinds (main/nn/registry.ts): for every kind
 * and seeded random legal configurations, the ONNX inference export run by onnxruntime-node
 * equals tfjs' own forward (model.predict, inference mode).
 *
 * Each case is a small chain Input → [the kind's layer(s)] → (GlobalAveragePooling2D where the
 * output is still a map) → Dense softmax, with every weight randomised (tests/maps/onnx-fixtures:
 * non-trivial BatchNorm statistics, large DCN offsets) so that nothing reduces to the identity.
 *
 * Not covered here yet (issue 17 §2, see docs/nn.md): the ONNX training forward and its gradients
 * against tf.variableGrads (the per-model equality tests of tests/models/onnx-train*.test.ts cover
 * them for the four model kinds).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/models/backend.ts';
import { SameConv2D, SeededDropout } from '../../main/models/architectures.ts';
import { DeformConv2D } from '../../main/models/deform-conv-layer.ts';
import { exportToOnnx } from '../../main/maps/onnx/export-model.ts';
import { onnxClassifier } from '../../main/maps/onnx/onnx-classifier.ts';
import { loadOrt, type OrtModule } from '../../main/onnx/onnx-runtime.ts';
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
  it('every registered kind has a case here, and no class name is claimed twice', () => {
    for (const kind of LAYER_KINDS) expect(CASES.has(kind), kind.classNames.join('/')).toBe(true);
    const names = LAYER_KINDS.flatMap((k) => k.classNames);
    expect(new Set(names).size).toBe(names.length);
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
