/**
 * DeformConv2D layer: zero-initialised offset branch (plain convolution × 0.5 at start), offsets
 * and mask readout, config round trip, save/load, shape errors, training learns offsets, and
 * no leaked tensors around a training step.
 * References: tfjs-core conv2d (same backend) for the fresh-layer identity; the op itself is
 * checked against torchvision in deform-conv-op.test.ts.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, getTf } from '../../main/models/backend.ts';
import { DeformConv2D } from '../../main/nn/layers/deform-conv-layer.ts';
import { DeformConvShapeError } from '../../main/nn/layers/deform-conv-op.ts';
import { InvalidOptionError } from '../../main/errors.ts';

const tf = getTf();

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function tinyModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [7, 7, 5] });
  const dcn = new DeformConv2D({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed }), name: 'dcn' });
  let h = dcn.apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

describe('DeformConv2D layer (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('starts as a plain convolution with mask 0.5: matches 0.5·conv2d + bias within 1e-5 (reference: tf.conv2d)', () => {
    tf.tidy(() => {
      const layer = new DeformConv2D({ filters: 4, kernelSize: 3, biasInitializer: 'ones', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) });
      const x = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 7) as import('@tensorflow/tfjs-core').Tensor4D;
      const y = layer.apply(x) as import('@tensorflow/tfjs-core').Tensor;
      const [kernel, bias] = layer.getWeights();
      expect(kernel.shape).toEqual([3, 3, 3, 4]);
      const ref = tf.add(tf.mul(tf.conv2d(x, kernel as import('@tensorflow/tfjs-core').Tensor4D, 1, 'same'), 0.5), bias);
      expect(y.shape).toEqual([2, 6, 5, 4]);
      expect(maxAbs(y.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-5);
      const { offset, mask } = layer.computeOffsetsAndMask(x);
      expect(offset.shape).toEqual([2, 6, 5, 18]);
      expect(mask.shape).toEqual([2, 6, 5, 9]);
      expect(Math.max(...Array.from(offset.dataSync(), Math.abs))).toBe(0);
      expect(Array.from(mask.dataSync()).every((v) => v === 0.5)).toBe(true);
    });
  });

  it('computeOutputShape follows torchvision output sizes for stride, padding and dilation', () => {
    expect(new DeformConv2D({ filters: 8 }).computeOutputShape([null, 9, 9, 39])).toEqual([null, 9, 9, 8]);
    expect(new DeformConv2D({ filters: 8, strides: 2, padding: 'valid' }).computeOutputShape([4, 9, 9, 39])).toEqual([4, 4, 4, 8]);
    expect(new DeformConv2D({ filters: 8, dilationRate: 2, padding: 'same' }).computeOutputShape([4, 9, 7, 3])).toEqual([4, 9, 7, 8]);
    expect(new DeformConv2D({ filters: 8, kernelSize: [3, 5], padding: 1 }).computeOutputShape([1, 9, 9, 3])).toEqual([1, 9, 7, 8]);
  });

  it('rejects inconsistent options and shapes with expected-vs-found messages', () => {
    expect(() => new DeformConv2D({ filters: 0 })).toThrow(InvalidOptionError);
    expect(() => new DeformConv2D({ filters: 4, strides: 2, dilationRate: 2 })).toThrow(/both > 1/);
    expect(() => new DeformConv2D({ filters: 4, kernelSize: 2, padding: 'same' })).toThrow(/odd kernel/);
    expect(() => new DeformConv2D({ filters: 4, kernelInitializer: 'noSuchInit' })).toThrow(/not a tfjs-layers initializer/);
    const layer = new DeformConv2D({ filters: 4, offsetGroups: 2 });
    expect(() => layer.build([null, 9, 9, 5])).toThrow(DeformConvShapeError);
    expect(() => layer.build([null, 9, 9, 5])).toThrow(/must divide the input channels; found 5/);
    expect(() => new DeformConv2D({ filters: 4 }).build([null, 9, 9])).toThrow(/rank-4 input .*found shape \[null, 9, 9\]/);
  });

  it('round-trips getConfig and survives save/load with identical predictions (≤ 1e-6)', async () => {
    const model = tinyModel(11);
    const x = tf.randomNormal([3, 7, 7, 5], 0, 1, 'float32', 5);
    // Move the offset branch off zero so the check covers the deformable path.
    const dcn = model.getLayer('dcn') as DeformConv2D;
    const ws = dcn.getWeights();
    dcn.setWeights(ws.map((w, i) => (i >= 2 ? tf.randomNormal(w.shape, 0, 0.3, 'float32', 20 + i) : w)));
    const before = (model.predict(x) as import('@tensorflow/tfjs-core').Tensor).dataSync();
    const config = dcn.getConfig();
    expect(config).toMatchObject({ filters: 6, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilationRate: [1, 1], offsetGroups: 1, useBias: true, useMask: true });
    // tfjs serializes glorotUniform as its VarianceScaling base with the seed kept.
    expect(config.kernelInitializer).toMatchObject({ className: 'VarianceScaling', config: { mode: 'fanAvg', distribution: 'uniform', seed: 11 } });
    const clone = DeformConv2D.fromConfig(DeformConv2D, config) as DeformConv2D;
    expect(clone.getConfig()).toEqual(config);

    let saved: import('@tensorflow/tfjs-core').io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(JSON.stringify(saved!.modelTopology)).toContain('"class_name":"DeformConv2D"');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const after = (loaded.predict(x) as import('@tensorflow/tfjs-core').Tensor).dataSync();
    expect(maxAbs(after, before)).toBeLessThanOrEqual(1e-6);
    model.dispose();
    loaded.dispose();
    x.dispose();
  });

  it('trains with dilation 2 (offset branch without tfjs conv2d, which has no dilated gradient) and offsetGroups 2', async () => {
    const input = tfl.input({ shape: [9, 9, 4] });
    const dcn = new DeformConv2D({ filters: 3, dilationRate: 2, offsetGroups: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }), name: 'dcn' });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(dcn.apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: pooled });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError' });
    const x = tf.randomNormal([4, 9, 9, 4], 0, 1, 'float32', 8);
    const y = tf.randomNormal([4, 3], 0, 1, 'float32', 9);
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const { offset, mask } = dcn.computeOffsetsAndMask(x as import('@tensorflow/tfjs-core').Tensor4D);
    expect(offset.shape).toEqual([4, 9, 9, 36]);
    expect(mask.shape).toEqual([4, 9, 9, 18]);
    expect(Math.max(...Array.from(offset.dataSync(), Math.abs))).toBeGreaterThan(0);
    tf.dispose([offset, mask, x, y]);
    model.dispose();
  });

  it('trains: offsets and mask move away from their zero start, and a training step leaks no tensors', async () => {
    const model = tinyModel(1);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([8, 7, 7, 5], 0, 1, 'float32', 2);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1], 'int32'), 2);
    await model.trainOnBatch(x, y); // first step creates Adam's slot variables
    const before = tf.memory().numTensors;
    const loss = (await model.trainOnBatch(x, y)) as number;
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(loss)).toBe(true);
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const dcn = model.getLayer('dcn') as DeformConv2D;
    const { offset, mask } = dcn.computeOffsetsAndMask(x as import('@tensorflow/tfjs-core').Tensor4D);
    expect(Math.max(...Array.from(offset.dataSync(), Math.abs))).toBeGreaterThan(1e-4);
    expect(Array.from(mask.dataSync()).some((v) => Math.abs(v - 0.5) > 1e-4)).toBe(true);
    offset.dispose();
    mask.dispose();
    // Custom training loop (optimizer.minimize) as the GK loss uses: also leak-free.
    const opt = tf.train.adam(0.01);
    const step = (): void => {
      const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as import('@tensorflow/tfjs-core').Tensor), true);
      cost?.dispose();
    };
    step();
    const before2 = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before2);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});
