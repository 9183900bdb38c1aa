import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/models/backend.ts';
import { buildModel, checkArchitectureOptions, MODEL_KINDS, parseModelKinds } from '../../main/models/architectures.ts';
import { SameConv2D } from '../../main/nn/layers/same-conv2d.ts';
import { SeededDropout } from '../../main/nn/layers/seeded-dropout.ts';
import { DeformConv2D } from '../../main/nn/layers/deform-conv-layer.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Parameter count of the body/head, written out by hand for C input channels. */
function expectedParams(C: number, deformable: boolean): number {
  const conv = (cin: number, cout: number): number => 9 * cin * cout + cout;
  const bn = (c: number): number => 4 * c; // gamma, beta, moving mean, moving variance
  // DCNv2 adds a 3×3 offset/mask conv with 3·K² = 27 outputs in front of each deformable conv.
  const slot = (cin: number, cout: number): number => conv(cin, cout) + (deformable ? conv(cin, 27) : 0);
  return conv(C, 64) + bn(64) + slot(64, 64) + bn(64) + slot(64, 128) + bn(128) + (128 * 64 + 64) + (64 * 2 + 2);
}

describe('the four models share one body and head', () => {
  it('has the issue’s default layers in order, with DCNv2 only in the two middle slots of dcn/gk-dcn', () => {
    for (const kind of MODEL_KINDS) {
      const m = buildModel(kind, { channels: 39 });
      const names = m.layers.map((l) => l.getClassName());
      const slot = kind.endsWith('dcn') ? 'DeformConv2D' : 'GeoAnomalySameConv2D';
      expect(names).toEqual([
        'InputLayer',
        'GeoAnomalySameConv2D', 'BatchNormalization', 'ReLU',
        slot, 'BatchNormalization', 'ReLU', 'MaxPooling2D',
        slot, 'BatchNormalization', 'ReLU',
        'GlobalAveragePooling2D', 'Dense', 'GeoAnomalySeededDropout', 'Dense',
      ]);
      expect(m.outputs[0].shape).toEqual([null, 2]);
      expect(m.countParams()).toBe(expectedParams(39, kind.endsWith('dcn')));
      m.dispose();
    }
  });

  it('outputs a softmax over two classes (rows sum to 1 within 1e-6)', () => {
    const m = buildModel('gk-dcn', { channels: 5, stemFilters: 8, stageFilters: [8, 8], denseUnits: 4 });
    const p = tf.tidy(() => m.predict(tf.randomNormal([3, 9, 9, 5], 0, 1, 'float32', 3)) as tf.Tensor);
    const v = p.arraySync() as number[][];
    v.forEach((row) => expect(Math.abs(row[0] + row[1] - 1)).toBeLessThan(1e-6));
    tf.dispose(p);
    m.dispose();
  });

  it('honours configurable widths and depth', () => {
    const m = buildModel('cnn', { channels: 3, patchSize: 7, stemFilters: 4, stageFilters: [4, 6, 8], denseUnits: 5, dropoutRate: 0 });
    const convs = m.layers.filter((l) => l instanceof SameConv2D) as SameConv2D[];
    expect(convs.map((c) => c.filters)).toEqual([4, 4, 6, 8]);
    const dcn = buildModel('dcn', { channels: 3, stemFilters: 4, stageFilters: [4, 6, 8] });
    expect(dcn.layers.filter((l) => l instanceof DeformConv2D)).toHaveLength(3);
    m.dispose();
    dcn.dispose();
  });

  it('builds identical initial weights from the same seed and different ones from another seed', () => {
    const w = (seed: number): Float32Array[] => {
      const m = buildModel('gk-dcn', { channels: 3, stemFilters: 4, stageFilters: [4, 8], denseUnits: 4, seed });
      const out = m.getWeights().map((t) => t.dataSync() as Float32Array).map((a) => a.slice());
      m.dispose();
      return out;
    };
    const a = w(7);
    const b = w(7);
    const c = w(8);
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
  });

  it('parses model lists and rejects bad options with named errors', () => {
    expect(parseModelKinds('all')).toEqual(['cnn', 'dcn', 'gk-cnn', 'gk-dcn']);
    expect(parseModelKinds('gk-dcn,cnn')).toEqual(['gk-dcn', 'cnn']);
    expect(() => parseModelKinds('resnet')).toThrow(InvalidOptionError);
    expect(() => checkArchitectureOptions({ channels: 0 })).toThrow(InvalidOptionError);
    expect(() => checkArchitectureOptions({ channels: 3, dropoutRate: 1 })).toThrow(/dropoutRate/);
    expect(() => checkArchitectureOptions({ channels: 3, stageFilters: [] })).toThrow(/stageFilters/);
  });
});

describe('SameConv2D (hand-written backward pass)', () => {
  it('matches tf.conv2d forward and its gradients w.r.t. input and kernel (relative 1e-5)', () => {
    const rng = new Rng(3);
    const xv = Float32Array.from({ length: 2 * 6 * 6 * 5 }, () => rng.normal());
    const wv = Float32Array.from({ length: 3 * 3 * 5 * 4 }, () => rng.normal());
    const layer = new SameConv2D({ filters: 4, useBias: false });
    layer.build([null, 6, 6, 5]);
    layer.setWeights([tf.tensor4d(wv, [3, 3, 5, 4])]);
    const x = tf.tensor4d(xv, [2, 6, 6, 5]);
    const wRef = tf.tensor4d(wv, [3, 3, 5, 4]);
    const upstream = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 5);
    // Reference: tfjs' own conv2d and its registered gradients (Conv2DBackpropInput/Filter).
    const ref = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'), upstream)));
    // The layer reads its own kernel variable; differentiate it through variableGrads instead.
    const kernelVar = layer.trainableWeights[0].read() as tf.Variable;
    const fOurs = (): tf.Scalar => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, upstream));
    const { grads } = tf.variableGrads(fOurs, [kernelVar]);
    const dxOurs = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, upstream)))(x);
    const [dxRef, dwRef] = ref([x, wRef]);
    const yOurs = layer.apply(x) as tf.Tensor;
    const yRef = tf.conv2d(x, wRef, 1, 'same');
    const relErr = (a: tf.Tensor, b: tf.Tensor): number =>
      tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
    expect(relErr(yOurs, yRef)).toBeLessThan(1e-5);
    expect(relErr(dxOurs, dxRef)).toBeLessThan(1e-5);
    expect(relErr(grads[kernelVar.name], dwRef)).toBeLessThan(1e-5);
    tf.dispose([x, wRef, upstream, dxOurs, dxRef, dwRef, yOurs, yRef, ...Object.values(grads)]);
  });
});

describe('SeededDropout', () => {
  it('is the identity at inference and draws reproducible, varying masks in training', () => {
    const make = (): SeededDropout => new SeededDropout({ rate: 0.5, seed: 42 });
    const x = tf.ones([4, 16]);
    const d1 = make();
    const d2 = make();
    const inf = d1.apply(x, { training: false }) as tf.Tensor;
    expect(Array.from(inf.dataSync())).toEqual(Array.from(x.dataSync()));
    const a1 = Array.from((d1.apply(x, { training: true }) as tf.Tensor).dataSync());
    const a2 = Array.from((d1.apply(x, { training: true }) as tf.Tensor).dataSync());
    const b1 = Array.from((d2.apply(x, { training: true }) as tf.Tensor).dataSync());
    expect(a1).toEqual(b1); // same seed, same call index → same mask
    expect(a1).not.toEqual(a2); // next call → a new mask
    // Kept units are scaled by 1/(1 − rate) = 2 (exactly representable).
    expect(new Set(a1)).toEqual(new Set([0, 2]));
  });
});
