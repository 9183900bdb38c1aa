/**
 * Benchmark (not a test): deformConv2d forward and forward+backward for the GK-DCN shape
 * [64, 9, 9, 64] → 64 (K 3, stride 1, padding 1, mask, bias), plus the conv2d kernels training needs.
 *   npx tsx bench/dcn-op.ts [wasm|cpu|tensorflow] [repeats]
 */
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { initBackend, getTf } from '../main/models/backend.ts';
import { deformConv2d } from '../main/models/deform-conv-op.ts';

const tf = getTf();
const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu' | 'tensorflow';
const repeats = Number(process.argv[3] ?? 10);
const info = await initBackend(backend);
console.log(`backend: ${info.detail}`);

function time(name: string, f: () => Tensor | Tensor[]): number {
  tf.tidy(() => { const r = f(); (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync()); }); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) {
    tf.tidy(() => { const r = f(); (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync()); });
  }
  const ms = (performance.now() - t0) / repeats;
  console.log(`${name.padEnd(58)} ${ms.toFixed(1).padStart(8)} ms`);
  return ms;
}

const [B, H, W, C, Cout, K] = [64, 9, 9, 64, 64, 3];
const x = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 1) as Tensor4D;
const offset = tf.randomNormal([B, H, W, 2 * K * K], 0, 0.5, 'float32', 2) as Tensor4D;
const mask = tf.randomUniform([B, H, W, K * K], 0, 1, 'float32', 3) as Tensor4D;
const weight = tf.randomNormal([K, K, C, Cout], 0, 0.05, 'float32', 4) as Tensor4D;
const bias = tf.zeros([Cout]);
const opts = { stride: 1, padding: 1, dilation: 1 };

time('deformConv2d forward [64,9,9,64]→64', () => deformConv2d(x, offset, weight, { ...opts, mask, bias }));
time('deformConv2d forward+backward (x, offset, mask, W, b)', () =>
  tf.grads((a: Tensor, o: Tensor, m: Tensor, w: Tensor, b: Tensor) => tf.sum(deformConv2d(a, o, w, { ...opts, mask: m, bias: b })))([x, offset, mask, weight, bias]),
);
time('conv2d forward [64,9,9,64]→64 (reference)', () => tf.conv2d(x, weight, 1, 'same'));
time('conv2d forward+backward (x, W) (reference)', () => tf.grads((a: Tensor, w: Tensor) => tf.sum(tf.conv2d(a as Tensor4D, w as Tensor4D, 1, 'same')))([x, weight]));
time('conv2d backprop filter only', () => tf.grad((w: Tensor) => tf.sum(tf.conv2d(x, w as Tensor4D, 1, 'same')))(weight));
time('conv2d backprop input only', () => tf.grad((a: Tensor) => tf.sum(tf.conv2d(a as Tensor4D, weight, 1, 'same')))(x));
