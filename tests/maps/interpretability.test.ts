import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/models/backend.ts';
import { DeformConv2D } from '../../main/nn/layers/deform-conv-layer.ts';
import { gradCam, cam } from '../../main/maps/grad-cam.ts';
import { offsetField, samplingPoints } from '../../main/maps/offset-field.ts';
import { spatialLayerNames, UnsupportedArchitectureError } from '../../main/maps/layer-chain.ts';
import { buildModel } from '../../main/models/architectures.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** input 3×3×1 → conv 1×1 (2 filters, weights [2, −1], no bias) → GAP → dense 2 (softmax). */
function tinyNet(W: number[][], b: number[]): tfl.LayersModel {
  const input = tfl.input({ shape: [3, 3, 1] });
  const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'conv' });
  let h = conv.apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' });
  const out = dense.apply(h) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: out, name: 'tiny' });
  conv.setWeights([tf.tensor4d([2, -1], [1, 1, 1, 2])]);
  dense.setWeights([tf.tensor2d(W), tf.tensor1d(b)]);
  return m;
}

describe('Grad-CAM and CAM', () => {
  const x = [1, -2, 3, 0.5, -1, 2, -3, 1.5, 0];
  const W = [
    [0.3, -0.7],
    [0.9, 0.4],
  ];

  it('Grad-CAM on a tiny hand-built network equals the hand-computed map', () => {
    const m = tinyNet(W, [0.1, -0.2]);
    const input = tf.tensor4d(x, [1, 3, 3, 1]);
    for (const c of [0, 1]) {
      // Hand computation: logit_c = Σ_k W[k][c]·mean(A_k) ⇒ α_k = W[k][c]/9,
      // A_0 = 2x, A_1 = −x ⇒ L = ReLU(x·(2·W[0][c] − W[1][c]) / 9).
      const expected = x.map((v) => Math.max(0, (v * (2 * W[0][c] - W[1][c])) / 9));
      const r = gradCam(m, input, 'conv', c);
      expect(r.layerShape).toEqual([3, 3]);
      r.raw.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6)); // float32: 1e-6
      r.maps.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6)); // same size: identity resize
    }
    input.dispose();
  });

  it('CAM (GAP → class layer) equals Σ_k w_k^c A_k; a model with a hidden dense head is refused', () => {
    const m = tinyNet(W, [0, 0]);
    const input = tf.tensor4d(x, [1, 3, 3, 1]);
    const r = cam(m, input, 1);
    x.forEach((v, i) => expect(Math.abs(r.raw[i] - (2 * v * W[0][1] - v * W[1][1]))).toBeLessThan(1e-6));
    const inp = tfl.input({ shape: [3, 3, 1] });
    let h = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(inp) as tfl.SymbolicTensor;
    h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 4, activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
    const deep = tfl.model({ inputs: inp, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor });
    expect(() => cam(deep, input, 1)).toThrow(UnsupportedArchitectureError);
    input.dispose();
  });

  it('the layer list and CAM come from the registry: spatial kinds are offered, per-cell kinds may precede the pooling, a dropout may not', () => {
    // The four models: the stem and both stages (convolutions or deformable), nothing else.
    expect(spatialLayerNames(buildModel('cnn', { channels: 2, patchSize: 5, stemFilters: 4, stageFilters: [4, 4], denseUnits: 4 }))).toEqual(['stem_conv', 'conv1', 'conv2']);
    expect(spatialLayerNames(buildModel('gk-dcn', { channels: 2, patchSize: 5, stemFilters: 4, stageFilters: [4, 4], denseUnits: 4 }))).toEqual(['stem_conv', 'dcn1', 'dcn2']);
    const input = tf.tensor4d(x, [1, 3, 3, 1]);
    const net = (between: tfl.layers.Layer[]): tfl.LayersModel => {
      const inp = tfl.input({ shape: [3, 3, 1] });
      let h = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(inp) as tfl.SymbolicTensor;
      for (const l of between) h = l.apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
      return tfl.model({ inputs: inp, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor });
    };
    const ok = cam(net([tfl.layers.batchNormalization({ axis: -1 }), tfl.layers.reLU(), tfl.layers.activation({ activation: 'sigmoid' })]), input, 1);
    expect(ok.layerShape).toEqual([3, 3]);
    expect(() => cam(net([tfl.layers.dropout({ rate: 0.5 })]), input, 1)).toThrow(/Dropout → GlobalAveragePooling2D → Dense/);
    input.dispose();
  });

  it('leaks no tensors', () => {
    const m = tinyNet(W, [0, 0]);
    const input = tf.tensor4d(x, [1, 3, 3, 1]);
    const before = tf.memory().numTensors;
    gradCam(m, input, 'conv', 1);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });
});

describe('learned offset fields', () => {
  it('reads (Δy, Δx) per tap in torchvision order from a layer with known offset-conv weights', () => {
    const inp = tfl.input({ shape: [5, 5, 2] });
    const dcn = new DeformConv2D({ filters: 3, kernelSize: 3, padding: 'same', name: 'dcn' });
    const out = tfl.layers.globalAveragePooling2d({}).apply(dcn.apply(inp) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: inp, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(out) as tfl.SymbolicTensor });
    // Offset branch: zero kernel, bias = known values, so every cell has the same offsets:
    // tap k has Δy = 0.1·k and Δx = −0.05·k; mask logits 0 → 0.5.
    const [kernel, bias, offKernel] = dcn.getWeights();
    const offBias = new Float32Array(27);
    for (let k = 0; k < 9; k++) {
      offBias[2 * k] = 0.1 * k;
      offBias[2 * k + 1] = -0.05 * k;
    }
    dcn.setWeights([kernel, bias, tf.zerosLike(offKernel), tf.tensor1d(offBias)]);
    const windows = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = offsetField(m, windows, 'dcn');
    expect([f.n, f.height, f.width]).toEqual([2, 5, 5]);
    const pts = samplingPoints(f, 1, 2, 3);
    pts.forEach((p, k) => {
      expect(p.dy).toBeCloseTo(0.1 * k, 6);
      expect(p.dx).toBeCloseTo(-0.05 * k, 6);
      expect(p.mask).toBeCloseTo(0.5, 6);
      // Regular grid position of tap k = (i, j) around (2, 3) with padding 1, plus the offset.
      expect(p.row).toBeCloseTo(2 - 1 + Math.floor(k / 3) + 0.1 * k, 5);
      expect(p.col).toBeCloseTo(3 - 1 + (k % 3) - 0.05 * k, 5);
    });
    const meanDy = (0.1 * 36) / 9;
    const meanDx = (-0.05 * 36) / 9;
    expect(f.meanDy[7]).toBeCloseTo(meanDy, 6);
    expect(f.meanDx[7]).toBeCloseTo(meanDx, 6);
    const mag = Array.from({ length: 9 }, (_, k) => Math.hypot(0.1 * k, 0.05 * k)).reduce((s, v) => s + v, 0) / 9;
    expect(f.meanMagnitude[7]).toBeCloseTo(mag, 6);
    expect(() => offsetField(m, windows, m.layers[m.layers.length - 1].name)).toThrow(/not a deformable convolution/);
    windows.dispose();
  });
});
