import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/models/backend.ts';
import { buildModel, type ArchitectureOptions } from '../../main/models/architectures.ts';
import { DeformConv2D } from '../../main/nn/layers/deform-conv-layer.ts';
import { exportToOnnx, OnnxExportError } from '../../main/maps/onnx/export-model.ts';
import { decodeOnnxModel } from '../../main/onnx/onnx-proto.ts';
import { loadOrt } from '../../main/onnx/onnx-runtime.ts';
import { onnxClassifier } from '../../main/maps/onnx/onnx-classifier.ts';
import { Rng } from '../../main/util/rng.ts';
import { randomizeWeights } from './onnx-fixtures.ts';

const K = 9;
const C = 5;
const N = 300;
const ARCH: ArchitectureOptions = { channels: C, patchSize: K, stemFilters: 8, stageFilters: [8, 16], denseUnits: 8 };

function windows(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: N * K * K * C }, () => rng.normal(0, 1));
}

/** tfjs reference: the LayersModel's softmax column 1 (deposit probability), inference mode. */
function tfjsProbabilities(model: tfl.LayersModel, x: Float32Array): Float32Array {
  const p = tf.tidy(() => tf.slice(model.predict(tf.tensor4d(x, [N, K, K, C])) as tf.Tensor2D, [0, 1], [-1, 1]));
  const out = Float32Array.from(p.dataSync());
  p.dispose();
  return out;
}

/** Share of the deformable layer's sampling points outside [0, H−1] × [0, W−1] (partly or fully off the map). */
function outsideShare(model: tfl.LayersModel, layerName: string, x: Float32Array): { partly: number; fully: number } {
  const layer = model.getLayer(layerName) as DeformConv2D;
  const before = tfl.model({ inputs: model.inputs, outputs: layer.inboundNodes[0].inputTensors[0] });
  const feats = before.predict(tf.tensor4d(x, [N, K, K, C])) as tf.Tensor4D;
  const { offset, mask } = layer.computeOffsetsAndMask(feats);
  const [, H, W] = feats.shape;
  const off = offset.dataSync();
  const [, Ho, Wo] = offset.shape;
  let partly = 0;
  let fully = 0;
  let total = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let k = 0; k < 9; k++) {
          const e = (((n * Ho + oy) * Wo + ox) * 9 + k) * 2;
          const py = oy - 1 + Math.floor(k / 3) + off[e];
          const px = ox - 1 + (k % 3) + off[e + 1];
          total++;
          if (py <= -1 || py >= H || px <= -1 || px >= W) fully++;
          else if (py < 0 || py > H - 1 || px < 0 || px > W - 1) partly++;
        }
  tf.dispose([feats, offset, mask]);
  return { partly: partly / total, fully: fully / total };
}

describe('ONNX export of the patch classifiers (onnxruntime-node vs tfjs)', () => {
  const cases: { kind: 'cnn' | 'dcn'; offsetGroups?: number; seed: number }[] = [
    { kind: 'cnn', seed: 3 },
    { kind: 'dcn', seed: 4 },
    { kind: 'dcn', offsetGroups: 2, seed: 5 },
  ];
  for (const c of cases) {
    it(`${c.kind}${c.offsetGroups ? ` (${c.offsetGroups} offset groups)` : ''}: ONNX Runtime probabilities equal tfjs' within 1e-5 on ${N} windows`, { timeout: 60_000 }, async () => {
      await initBackend('wasm');
      const model = buildModel(c.kind, { ...ARCH, offsetGroups: c.offsetGroups ?? 1, seed: c.seed });
      randomizeWeights(model, c.seed + 100);
      const x = windows(c.seed + 200);
      const ref = tfjsProbabilities(model, x);
      // Not a vacuous comparison: the probabilities spread over (0, 1) instead of saturating.
      const mid = ref.filter((p) => p > 0.05 && p < 0.95).length;
      expect(mid).toBeGreaterThan(N / 4);

      const bytes = exportToOnnx(model);
      const ort = await loadOrt();
      // runBatch 128 < N: the classifier's slicing into several ONNX Runtime calls is exercised too.
      const cl = await onnxClassifier(ort, c.kind, bytes, K, C, { runBatch: 128 });
      const p = await cl.classify(x, N);
      await cl.dispose();
      let maxDiff = 0;
      for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i] - ref[i]));
      // Tolerance 1e-5 absolute (reference: tfjs-wasm's own prediction of the same model); the
      // differences are float32 rounding of BN folding and different GEMM summation orders.
      expect(maxDiff).toBeLessThanOrEqual(1e-5);

      const graph = decodeOnnxModel(bytes).graph as { node: { op_type: string }[] };
      const ops = graph.node.map((n) => n.op_type);
      expect(ops).not.toContain('BatchNormalization'); // folded into the convolutions
      if (c.kind === 'dcn') {
        expect(ops.filter((o) => o === 'GridSample')).toHaveLength(2);
        // The deformable layers really sample beyond the feature-map border (zeros there).
        for (const name of ['dcn1', 'dcn2']) {
          const share = outsideShare(model, name, x);
          expect(share.fully).toBeGreaterThan(0.02);
          expect(share.partly).toBeGreaterThan(0.02);
        }
      }
      model.dispose();
    });
  }

  it('standard tfjs layers too: Conv2D (same/valid), Activation, a BatchNorm that is not folded, MaxPooling2D "same", sigmoid — within 1e-5', async () => {
    await initBackend('wasm');
    const input = tfl.input({ shape: [K, K, C] });
    let h = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c_same' }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.activation({ activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization({ axis: -1 }).apply(h) as tfl.SymbolicTensor; // after ReLU: Mul + Add, not folded
    h = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(h) as tfl.SymbolicTensor; // 9 → 5
    h = tfl.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'valid', name: 'c_valid' }).apply(h) as tfl.SymbolicTensor; // 5 → 4
    h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'sigmoid' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 77);
    const x = windows(78);
    const ref = (model.predict(tf.tensor4d(x, [N, K, K, C])) as tf.Tensor).dataSync();
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(exportToOnnx(model));
    const got = (await session.run({ patch: new ort.Tensor('float32', x, [N, K, K, C]) })).probabilities;
    await session.release();
    expect(got.dims).toEqual([N, 3]);
    const data = got.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i] - ref[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5); // reference: tfjs-wasm's prediction
    expect(new Set(Array.from(ref, (v) => v.toFixed(2))).size).toBeGreaterThan(10); // outputs vary
    model.dispose();
  });

  it('refuses a layer it cannot express, by name', async () => {
    await initBackend('wasm');
    const input = tfl.input({ shape: [K, K, C] });
    const flat = tfl.layers.flatten({ name: 'flat_here' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(flat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    expect(() => exportToOnnx(model)).toThrow(OnnxExportError);
    expect(() => exportToOnnx(model)).toThrow(/flat_here.*Flatten is not supported/);
    model.dispose();
  });
});
