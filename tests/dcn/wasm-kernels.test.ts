/**
 * The kernels initBackend('wasm') adds or replaces (main/models/kernels/): conv2d filter and input
 * gradients and UnsortedSegmentSum on wasm, checked against tfjs-backend-cpu's own kernels
 * (reference) for the same float32 inputs; tolerance 1e-4 absolute (float32 sums of ≤ 600 terms).
 * The broadcasting BatchNorm gradient is checked against autodiff of the same formula written
 * with elementwise ops (reference), tolerance 1e-5.
 */
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, getTf } from '../../main/models/backend.ts';

const tf = getTf();

type Shape4 = [number, number, number, number];
interface ConvCase { name: string; x: Shape4; w: Shape4; stride: number | [number, number]; pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]]; dilation: number }
const CONV_CASES: ConvCase[] = [
  { name: '3×3 same stride 1', x: [2, 9, 9, 5], w: [3, 3, 5, 7], stride: 1, pad: 'same', dilation: 1 },
  { name: '3×3 valid stride 1', x: [2, 9, 8, 4], w: [3, 3, 4, 6], stride: 1, pad: 'valid', dilation: 1 },
  { name: '3×3 same stride 2', x: [2, 9, 9, 3], w: [3, 3, 3, 4], stride: 2, pad: 'same', dilation: 1 },
  { name: '2×3 explicit padding, stride [1,2]', x: [1, 7, 9, 3], w: [2, 3, 3, 5], stride: [1, 2], pad: [[0, 0], [1, 0], [1, 1], [0, 0]], dilation: 1 },
  { name: '5×5 same stride 1', x: [3, 6, 6, 2], w: [5, 5, 2, 3], stride: 1, pad: 'same', dilation: 1 },
  { name: '1×1 valid', x: [4, 4, 4, 8], w: [1, 1, 8, 2], stride: 1, pad: 'valid', dilation: 1 },
];

async function convGrads(c: ConvCase): Promise<{ dx: Float32Array; dw: Float32Array }> {
  const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as Tensor4D;
  const w = tf.randomNormal(c.w, 0, 1, 'float32', 2) as Tensor4D;
  const y = tf.conv2d(x, w, c.stride, c.pad);
  const dyT = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
  const [dx, dw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad), dyT)))([x, w]);
  const out = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([x, w, y, dyT, dx, dw]);
  return out;
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm training kernels vs tfjs-backend-cpu', () => {
  afterAll(async () => {
    await initBackend('wasm');
  });

  it.each(CONV_CASES.map((c) => [c.name, c] as const))('conv2d gradients (input and filter): %s within 1e-4', async (_name, c) => {
    await initBackend('cpu');
    const ref = await convGrads(c);
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    const before = tf.memory().numTensors;
    const got = await convGrads(c);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbs(got.dw, ref.dw), 'filter gradient').toBeLessThanOrEqual(1e-4);
    expect(maxAbs(got.dx, ref.dx), 'input gradient').toBeLessThanOrEqual(1e-4);
  });

  it('gather gradient (UnsortedSegmentSum) matches cpu within 1e-6', async () => {
    const run = async (): Promise<Float32Array> => {
      const params = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]]);
      const idx = tf.tensor1d([3, 0, 3, 2, 3], 'int32');
      const weights = tf.randomNormal([5, 3], 0, 1, 'float32', 9);
      const g = tf.grad((p: Tensor) => tf.sum(tf.mul(tf.gather(p, idx), weights)))(params);
      const out = (await g.data()) as Float32Array;
      tf.dispose([params, idx, weights, g]);
      return out;
    };
    await initBackend('cpu');
    const ref = await run();
    await initBackend('wasm');
    const got = await run();
    expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-6);
    // Row 1 is never gathered: its gradient is exactly zero.
    expect(Array.from(got.slice(3, 6))).toEqual([0, 0, 0]);
  });

  it.each(['wasm', 'cpu'] as const)('batchNorm gradient (no tile) equals autodiff of the elementwise formula within 1e-5 on %s', async (name) => {
    await initBackend(name);
    const before = tf.memory().numTensors;
    const grads = tf.tidy(() => {
      const x = tf.randomNormal([4, 3, 5, 6], 0, 2, 'float32', 1);
      const mean = tf.randomNormal([6], 0, 1, 'float32', 2);
      const variance = tf.randomUniform([6], 0.5, 2, 'float32', 3);
      const offset = tf.randomNormal([6], 0, 1, 'float32', 4);
      const scale = tf.randomNormal([6], 1, 0.3, 'float32', 5);
      const dy = tf.randomNormal([4, 3, 5, 6], 0, 1, 'float32', 6);
      const eps = 1e-3;
      const fused = tf.grads((a: Tensor, m: Tensor, v: Tensor, o: Tensor, s: Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a as Tensor4D, m, v, o, s, eps), dy)))([x, mean, variance, offset, scale]);
      const manual = tf.grads((a: Tensor, m: Tensor, v: Tensor, o: Tensor, s: Tensor) =>
        tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, eps))), s), o), dy)))([x, mean, variance, offset, scale]);
      return fused.map((g, i) => [g.dataSync() as Float32Array, manual[i].dataSync() as Float32Array] as const);
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const [got, ref] of grads) expect(maxAbs(got, ref)).toBeLessThanOrEqual(1e-5 * Math.max(1, ...Array.from(ref, Math.abs)));
  });

  it('initBackend is idempotent and reports what runs', async () => {
    const a = await initBackend('wasm');
    const b = await initBackend('wasm');
    expect(b).toBe(a);
    expect(a.detail).toMatch(/^wasm \(tfjs-backend-wasm 4\.22, XNNPACK/);
    expect(tf.getBackend()).toBe('wasm');
    const auto = await initBackend('auto');
    // tfjs-node is an optional dependency that is not installed in CI: auto falls back to wasm.
    expect(['wasm', 'tensorflow']).toContain(auto.name);
    await expect(initBackend('nope' as 'wasm')).rejects.toThrow(/backend must be one of auto, wasm, cpu, tensorflow/);
  });
});
