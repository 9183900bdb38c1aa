/**
 * deformConv2d against torchvision.ops.deform_conv2d (torch 1.13 / torchvision 0.14, float64).
 * Fixtures and the script that wrote them: tests/fixtures/dcn/make_fixtures.py.
 * Tolerances (absolute, float32 computation vs float64 reference): forward ≤ 1e-5, every gradient ≤ 1e-4.
 */
import type { Scalar, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { torchvisionCases, type TorchvisionCase as Case } from './torchvision-fixtures.ts';
import { initBackend, getTf } from '../../main/models/backend.ts';
import { deformConv2d, DeformConvShapeError } from '../../main/nn/layers/deform-conv-op.ts';

const tf = getTf();
const cases: Case[] = torchvisionCases();

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Result { out: Float32Array; grads: Float32Array[] }

function run(c: Case): Result {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, [c.B, c.H, c.W, c.Cin]);
    const offset = tf.tensor4d(c.offset, [c.B, c.Ho, c.Wo, 2 * c.offsetGroups * c.KH * c.KW]);
    const weight = tf.tensor4d(c.weight, [c.KH, c.KW, c.Cin, c.Cout]);
    const mask = c.mask ? tf.tensor4d(c.mask, [c.B, c.Ho, c.Wo, c.offsetGroups * c.KH * c.KW]) : undefined;
    const bias = c.bias ? tf.tensor1d(c.bias) : undefined;
    const dy = tf.tensor4d(c.dy, [c.B, c.Ho, c.Wo, c.Cout]);
    const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation };
    const out = deformConv2d(x, offset, weight, { ...opts, mask, bias });
    // L = Σ out · dy, so ∂L/∂θ is the vector–Jacobian product torchvision computed for upstream dy.
    const f = (xv: Tensor, ov: Tensor, wv: Tensor, mv?: Tensor, bv?: Tensor): Scalar =>
      tf.sum(tf.mul(deformConv2d(xv, ov, wv, { ...opts, mask: mv, bias: bv }), dy));
    const args = [x, offset, weight, ...(mask ? [mask] : []), ...(bias ? [bias] : [])];
    const grads = tf.grads((...t: Tensor[]) => {
      const mv = mask ? t[3] : undefined;
      const bv = bias ? t[mask ? 4 : 3] : undefined;
      return f(t[0], t[1], t[2], mv, bv);
    })(args);
    return { out: out.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function checkCase(c: Case): void {
  const r = run(c);
  expect(maxAbsDiff(r.out, c.out), 'forward vs torchvision').toBeLessThanOrEqual(1e-5);
  const refs: [string, number[]][] = [['x', c.gradX], ['offset', c.gradOffset], ['weight', c.gradWeight]];
  if (c.gradMask) refs.push(['mask', c.gradMask]);
  if (c.gradBias) refs.push(['bias', c.gradBias]);
  refs.forEach(([name, ref], i) => {
    expect(maxAbsDiff(r.grads[i], ref), `gradient w.r.t. ${name} vs torchvision`).toBeLessThanOrEqual(1e-4);
  });
}

describe.each(['wasm', 'cpu'] as const)('deformConv2d vs torchvision on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  it('has fixtures for every case of the issue', () => {
    expect(cases.length).toBeGreaterThanOrEqual(11);
  });
  for (const c of cases) {
    it(`${c.name}: forward ≤ 1e-5, gradients ≤ 1e-4`, () => {
      const before = tf.memory().numTensors;
      checkCase(c);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('deformConv2d input checks', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  it('throws DeformConvShapeError naming what was expected and what was found', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 9, 9, 4]);
      const w = tf.zeros([3, 3, 4, 5]);
      const off = tf.zeros([2, 9, 9, 18]);
      expect(() => deformConv2d(tf.zeros([9, 9, 4]), off, w, { padding: 1 })).toThrow(DeformConvShapeError);
      expect(() => deformConv2d(x, off, tf.zeros([3, 3, 3, 5]), { padding: 1 })).toThrow(/weight must be \[KH, KW, 4, Cout\].*found \[3, 3, 3, 5\]/);
      expect(() => deformConv2d(x, tf.zeros([2, 9, 9, 17]), w, { padding: 1 })).toThrow(/offset must be \[2, 9, 9, 2·G·9\]; found \[2, 9, 9, 17\]/);
      expect(() => deformConv2d(x, off, w, { padding: 0 })).toThrow(/offset must be \[2, 7, 7, 2·G·9\]; found \[2, 9, 9, 18\]/);
      expect(() => deformConv2d(x, tf.zeros([2, 9, 9, 54]), w, { padding: 1 })).toThrow(/offset groups must be a divisor of Cin = 4; found 3/);
      expect(() => deformConv2d(x, off, w, { padding: 1, mask: tf.zeros([2, 9, 9, 18]) })).toThrow(/mask must be \[2, 9, 9, 9\]/);
      expect(() => deformConv2d(x, off, w, { padding: 1, bias: tf.zeros([4]) })).toThrow(/bias must be \[5\]; found \[4\]/);
      expect(() => deformConv2d(x, off, w, { padding: 1, stride: 0 })).toThrow(/stride must be an integer ≥ 1/);
      expect(() => deformConv2d(tf.zeros([1, 2, 2, 4]), tf.zeros([1, 1, 1, 18]), w)).toThrow(/output size must be at least 1×1/);
    });
  });
  it('prediction path (row-chunked columns, > 1 chunk) equals the training path within 1e-5 (reference: the torchvision-checked customGrad forward)', () => {
    tf.tidy(() => {
      // 64·9·9 rows × 9·128 columns = 6.0 Mi floats: two chunks of 4 Mi.
      const x = tf.randomNormal([64, 9, 9, 128], 0, 1, 'float32', 1);
      const off = tf.randomNormal([64, 9, 9, 18], 0, 1.5, 'float32', 2);
      const mask = tf.randomUniform([64, 9, 9, 9], 0, 1, 'float32', 3);
      const w = tf.randomNormal([3, 3, 128, 8], 0, 0.1, 'float32', 4);
      const bias = tf.randomNormal([8], 0, 1, 'float32', 5);
      const predicted = deformConv2d(x, off, w, { padding: 1, mask, bias });
      const trained = tf.tidy(() => {
        let captured: Tensor | null = null;
        tf.grad((xv: Tensor) => {
          captured = tf.keep(deformConv2d(xv, off, w, { padding: 1, mask, bias }));
          return tf.sum(captured);
        })(x);
        return captured!;
      });
      expect(maxAbsDiff(predicted.dataSync(), Array.from(trained.dataSync()))).toBeLessThanOrEqual(1e-5);
    });
  });

  it('zero offsets and no mask reproduce tf.conv2d (reference) within 1e-5', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 7, 5], 0, 1, 'float32', 1) as Tensor4D;
      const w = tf.randomNormal([3, 3, 5, 6], 0, 0.3, 'float32', 2) as Tensor4D;
      const got = deformConv2d(x, tf.zeros([2, 4, 4, 18]), w, { stride: 2, padding: 1 });
      const ref = tf.conv2d(x, w, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      expect(got.shape).toEqual(ref.shape);
      expect(maxAbsDiff(got.dataSync(), Array.from(ref.dataSync()))).toBeLessThanOrEqual(1e-5);
    });
  });
});
