/**
 * Benchmark (not a test): deformConv2d forward and forward+backward for the GK-DCN shape
 * [64, 9, 9, 64] → 64 (K 3, stride 1, padding 1, mask, bias), plus the conv2d kernels training needs.
 *   npx tsx bench/dcn-op.ts [wasm|cpu|tensorflow] [repeats]
 */
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { initBackend, getTf } from '../main/models/backend.ts';
import { deformConv2d } from '../main/nn/layers/deform-conv-op.ts';

const tf = getTf();
const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu' | 'tensorflow';
const repeats = Number(process.argv[3] ?? 10);
const info = await initBackend(backend);
console.log(`backend: ${info.detail}`);

// On a shared machine wall time swings with other jobs; the CPU time of this single-threaded
// process is the steadier estimate of the wall time on an idle machine.
function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

function time(name: string, f: () => Tensor | Tensor[]): number {
  tf.tidy(() => { const r = f(); (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync()); }); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < repeats; i++) {
    tf.tidy(() => { const r = f(); (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync()); });
  }
  const ms = (performance.now() - t0) / repeats;
  const cpuMs = cpuSeconds(process.cpuUsage(c0)) * 1000 / repeats;
  console.log(`${name.padEnd(58)} ${ms.toFixed(1).padStart(8)} ms wall ${cpuMs.toFixed(1).padStart(8)} ms CPU`);
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

// One training epoch of the architecture (4,096 patches 9×9×39, batch 64, Adam), plain
// conv vs DCNv2 in the two middle blocks, through tfjs-layers' fit (the GK term is not included).
const layersLib = await import('@tensorflow/tfjs-layers');
const { DeformConv2D } = await import('../main/nn/layers/deform-conv-layer.ts');
function buildModel(deformable: boolean): import('@tensorflow/tfjs-layers').LayersModel {
  const L = layersLib.layers;
  const input = layersLib.input({ shape: [9, 9, 39] });
  const block = (h: import('@tensorflow/tfjs-layers').SymbolicTensor, filters: number, dcn: boolean): import('@tensorflow/tfjs-layers').SymbolicTensor => {
    const conv = dcn ? new DeformConv2D({ filters, kernelSize: 3, padding: 'same' }) : L.conv2d({ filters, kernelSize: 3, padding: 'same' });
    h = conv.apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
    h = L.batchNormalization().apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
    return L.reLU().apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  };
  let h = block(input, 64, false);
  h = block(h, 64, deformable);
  h = L.maxPooling2d({ poolSize: 2 }).apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  h = block(h, 128, deformable);
  h = L.globalAveragePooling2d({}).apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  h = L.dense({ units: 64, activation: 'relu' }).apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  h = L.dropout({ rate: 0.5 }).apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  const out = L.dense({ units: 2, activation: 'softmax' }).apply(h) as import('@tensorflow/tfjs-layers').SymbolicTensor;
  return layersLib.model({ inputs: input, outputs: out });
}
if (process.argv.includes('--epoch')) {
  const X = tf.randomNormal([4096, 9, 9, 39], 0, 1, 'float32', 11);
  const Y = tf.oneHot(tf.randomUniform([4096], 0, 2, 'int32', 12) as import('@tensorflow/tfjs-core').Tensor1D, 2);
  for (const deformable of [false, true]) {
    const model = buildModel(deformable);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    await model.fit(tf.slice(X, 0, 128), tf.slice(Y, 0, 128), { epochs: 1, batchSize: 64, verbose: 0 }); // warm-up
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await model.fit(X, Y, { epochs: 1, batchSize: 64, verbose: 0, shuffle: false });
    const trainS = (performance.now() - t0) / 1000;
    const trainCpuS = cpuSeconds(process.cpuUsage(c0));
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const p = model.predict(X, { batchSize: 1024 }) as Tensor;
    await p.data();
    const inferS = (performance.now() - t1) / 1000;
    const inferCpuS = cpuSeconds(process.cpuUsage(c1));
    console.log(
      `${deformable ? 'DCN' : 'CNN'} epoch (4,096 × 9×9×39, batch 64): ${trainS.toFixed(2)} s wall, ${trainCpuS.toFixed(2)} s CPU; ` +
        `inference ${(4096 / inferS).toFixed(0)} windows/s wall, ${(4096 / inferCpuS).toFixed(0)} windows/s CPU at batch 1,024`,
    );
    p.dispose();
    model.dispose();
  }
}
