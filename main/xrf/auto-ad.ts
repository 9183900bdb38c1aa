import type * as tfc from '@tensorflow/tfjs-core';
import { getTf, initBackend, type BackendPreference } from '../models/backend.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report } from '../jobs/job.ts';
import { cancelPoint } from '../jobs/cancel-point.ts';
import { Rng } from '../util/rng.ts';
import type { SpectralCube } from './cube.ts';

/**
 * Auto-AD (Wang, Zhong, Xie et al. 2021, "Auto-AD: Autonomous hyperspectral anomaly detection
 * network based on fully convolutional autoencoder", IEEE TGRS 60, 5503314), re-implemented from
 * the paper (its public code is for academic use only and was not looked at):
 * - the network input is fixed random noise of the image's size, the target the image itself, so
 *   the convolutional structure — not the pixels — decides what is easy to reproduce: the
 *   spatially coherent background is reconstructed, rare anomalies are not;
 * - a fully convolutional encoder–decoder (3×3 convolutions, stride-2 downsampling, nearest
 *   upsampling) with skip connections (1×1 convolutions to a few channels) from encoder to decoder;
 * - an adaptive-weighted loss: each iteration, pixel i is weighted by
 *   w_i = (e_max − e_i) / (e_max − e_min) from the current reconstruction errors e (no gradient
 *   through w), which suppresses the reconstruction of anomalies as training goes on;
 * - training stops when the loss no longer improves (relative change of its moving average
 *   below `tolerance`) or after `maxIterations`;
 * - the detection map is the reconstruction error ‖x − x̂‖².
 * Departures, for CPU time: 16 feature channels instead of 128 and 3 scales instead of 5.
 */
export interface AutoAdOptions {
  /** Maximum training iterations (full image per iteration). Default 1000. */
  readonly maxIterations?: number;
  /** Adam learning rate. Default 0.001. */
  readonly learningRate?: number;
  /** Feature channels of every convolution. Default 16. */
  readonly channels?: number;
  /** Early-stop tolerance on the relative change of the 20-iteration mean loss. Default 1e-3. */
  readonly tolerance?: number;
  readonly seed?: number;
  readonly backend?: BackendPreference;
}

export interface AutoAdResult {
  readonly scores: Float32Array;
  readonly iterations: number;
  readonly lossHistory: number[];
  readonly backend: string;
}

function check(o: AutoAdOptions): Required<AutoAdOptions> {
  const r = { maxIterations: o.maxIterations ?? 1000, learningRate: o.learningRate ?? 0.001, channels: o.channels ?? 16, tolerance: o.tolerance ?? 1e-3, seed: o.seed ?? 1, backend: o.backend ?? ('wasm' as BackendPreference) };
  if (!Number.isInteger(r.maxIterations) || r.maxIterations < 1) throw new InvalidOptionError(`Auto-AD: maxIterations must be a positive integer, got ${r.maxIterations}`);
  if (!Number.isInteger(r.channels) || r.channels < 4) throw new InvalidOptionError(`Auto-AD: channels must be an integer ≥ 4, got ${r.channels}`);
  if (!(r.learningRate > 0)) throw new InvalidOptionError(`Auto-AD: learningRate must be > 0, got ${r.learningRate}`);
  if (!(r.tolerance >= 0)) throw new InvalidOptionError(`Auto-AD: tolerance must be ≥ 0, got ${r.tolerance}`);
  return r;
}

export async function runAutoAd(cube: Pick<SpectralCube, 'rows' | 'cols' | 'bandCount' | 'pixels'>, options: AutoAdOptions = {}, ctx?: JobContext): Promise<AutoAdResult> {
  const o = check(options);
  const backend = await initBackend(o.backend);
  const tf = getTf();
  const { rows: H, cols: W, bandCount: B } = cube;
  // Pad to a multiple of 4 (two stride-2 levels) by edge replication; the loss ignores the pad.
  const Hp = Math.ceil(H / 4) * 4, Wp = Math.ceil(W / 4) * 4;
  const target = new Float32Array(Hp * Wp * B);
  const inside = new Float32Array(Hp * Wp);
  for (let r = 0; r < Hp; r++) for (let c = 0; c < Wp; c++) {
    const sr = Math.min(r, H - 1), sc = Math.min(c, W - 1);
    target.set(cube.pixels.subarray((sr * W + sc) * B, (sr * W + sc + 1) * B), (r * Wp + c) * B);
    inside[r * Wp + c] = r < H && c < W ? 1 : 0;
  }
  const rng = new Rng(o.seed);
  const C = o.channels;
  const Cn = C;
  const noise = Float32Array.from({ length: Hp * Wp * Cn }, () => rng.uniform() * 0.1);
  const initRng = rng.fork(1);
  const vars: tfc.Variable[] = [];
  const conv = (k: number, cin: number, cout: number): { w: tfc.Variable; b: tfc.Variable } => {
    const lim = Math.sqrt(6 / (k * k * (cin + cout)));
    const w0 = tf.tensor4d(Float32Array.from({ length: k * k * cin * cout }, () => (initRng.uniform() * 2 - 1) * lim), [k, k, cin, cout]);
    const b0 = tf.zeros([cout]);
    const w = tf.variable(w0);
    const b = tf.variable(b0);
    tf.dispose([w0, b0]);
    vars.push(w, b);
    return { w, b };
  };
  const e1 = conv(3, Cn, C), d1 = conv(3, C, C), e2 = conv(3, C, C), d2 = conv(3, C, C), e3 = conv(3, C, C);
  const s1 = conv(1, C, 4), s2 = conv(1, C, 4);
  const u2 = conv(3, C + 4, C), u1 = conv(3, C + 4, C), out = conv(1, C, B);
  const act = (x: tfc.Tensor4D): tfc.Tensor4D => tf.leakyRelu(x, 0.2);
  const apply = (x: tfc.Tensor4D, l: { w: tfc.Variable; b: tfc.Variable }, stride = 1): tfc.Tensor4D => tf.add(tf.conv2d(x, l.w as tfc.Tensor4D, stride, 'same'), l.b);
  const up = (x: tfc.Tensor4D): tfc.Tensor4D => {
    const [, h, w, c] = x.shape;
    // Nearest-neighbour ×2 by broadcasting (its gradient is a plain sum, available on every backend).
    return tf.reshape(tf.mul(tf.reshape(x, [1, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [1, 2 * h, 2 * w, c]);
  };
  const zIn = tf.tensor4d(noise, [1, Hp, Wp, Cn]);
  const xT = tf.tensor2d(target, [Hp * Wp, B]);
  const mask = tf.tensor1d(inside);
  const forward = (): tfc.Tensor2D => {
    const a1 = act(apply(zIn, e1));
    const a2 = act(apply(act(apply(a1, d1, 2)), e2));
    const a3 = act(apply(act(apply(a2, d2, 2)), e3));
    const b2 = act(apply(tf.concat([up(a3), act(apply(a2, s2))], 3), u2));
    const b1 = act(apply(tf.concat([up(b2), act(apply(a1, s1))], 3), u1));
    return tf.reshape(tf.sigmoid(apply(b1, out)), [Hp * Wp, B]);
  };
  const optimizer = tf.train.adam(o.learningRate);
  let weights = tf.tensor1d(inside);
  const lossHistory: number[] = [];
  let iterations = 0;
  const win = 20;
  try {
    for (let it = 0; it < o.maxIterations; it++) {
      // Each iteration is one synchronous full-image step: yield so a cancel can arrive.
      await cancelPoint(ctx, 'Auto-AD');
      let errT: tfc.Tensor1D | null = null;
      const loss = optimizer.minimize(() => {
        const err = tf.sum(tf.squaredDifference(forward(), xT), 1) as tfc.Tensor1D;
        errT = tf.keep(err);
        return tf.div(tf.sum(tf.mul(err, weights)), tf.add(tf.sum(weights), 1e-8)) as tfc.Scalar;
      }, true, vars) as tfc.Scalar;
      lossHistory.push(loss.dataSync()[0]);
      loss.dispose();
      // Adaptive weights from this iteration's errors, for the next one.
      const next = tf.tidy(() => {
        const e = errT as unknown as tfc.Tensor1D;
        const inMask = tf.mul(e, mask);
        const emax = tf.max(inMask);
        const emin = tf.min(tf.add(inMask, tf.mul(tf.sub(1, mask), tf.max(e))));
        return tf.mul(tf.div(tf.sub(emax, e), tf.add(tf.sub(emax, emin), 1e-12)), mask) as tfc.Tensor1D;
      });
      (errT as unknown as tfc.Tensor1D).dispose();
      weights.dispose();
      weights = next;
      iterations = it + 1;
      if ((it & 7) === 0) report(ctx, it / o.maxIterations, `Auto-AD iteration ${it + 1}, loss ${lossHistory[it].toExponential(3)}`);
      if (it >= 2 * win) {
        const mean = (a: number, b: number): number => lossHistory.slice(a, b).reduce((s, v) => s + v, 0) / (b - a);
        const prev = mean(it + 1 - 2 * win, it + 1 - win);
        const cur = mean(it + 1 - win, it + 1);
        if (Math.abs(prev - cur) / Math.max(prev, 1e-12) < o.tolerance) break;
      }
    }
    const errT = tf.tidy(() => tf.sum(tf.squaredDifference(forward(), xT), 1));
    const errs = errT.dataSync() as Float32Array;
    errT.dispose();
    const scores = new Float32Array(H * W);
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) scores[r * W + c] = errs[r * Wp + c];
    report(ctx, 1, 'Auto-AD: done');
    return { scores, iterations, lossHistory, backend: backend.detail };
  } finally {
    tf.dispose([zIn, xT, mask, weights, ...vars]);
    optimizer.dispose();
  }
}
