import type * as tfc from '@tensorflow/tfjs-core';
import { getTf, initBackend, type BackendPreference } from '../models/backend.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, subJob, throwIfCancelled } from '../jobs/job.ts';
import { Rng } from '../util/rng.ts';
import type { SpectralCube } from './cube.ts';
import { checkPseudoLabelOptions, pseudoLabels, type PseudoLabelOptions, type PseudoLabels } from './pseudo-labels.ts';
import { mahalanobisScores } from './rx.ts';
import { spatialContrast } from './spatial.ts';
import { DataParallelTrainer, type ProgramRef, type Replica, type SharedArrays } from '../models/data-parallel.ts';
import { moduleUrl } from '../util/module-url.ts';

/**
 * MSFA-Net (Lu et al. 2025, Minerals 15, 970): an unsupervised per-pixel spectral autoencoder with
 * a multi-scale orthogonal attention (MOA) module and a feature aggregation module (FAM), trained
 * with a pseudo-label-weighted reconstruction loss. The paper gives the blocks and the
 * hyperparameters but not the layer algebra; the design below is ours and is argued in
 * docs/micro-xrf.md. Everything is dense algebra (matMul, elementwise, reductions, sigmoid), so it
 * trains on the wasm backend without the kernels wasm lacks.
 *
 * Encoder + MOA. The C hidden channels are split into G groups; group g reads the spectrum
 * smoothed by a moving average of width 2g+1 channels (spectral scales 1, 3, 5, 7: narrow peaks,
 * peak doublets, broad continuum shape), implemented as x·(S_g W_g) with a fixed smoothing S_g.
 * Each group gets its own channel attention a_g = σ(V2 · ReLU(V1 · Q_gᵀ f_g)): the squeeze is a
 * projection onto fixed orthonormal filters Q_g (as in orthogonal channel attention, Salman et al.
 * 2023, where fixed Gram–Schmidt filters replace global average pooling), so the descriptors of a
 * group are decorrelated by construction.
 * FAM. The attended groups are concatenated and fused by a dense layer into the latent code.
 * Decoder. latent → C → B (linear output).
 * Ablations: no-attention (a ≡ 1), no-groups (G = 1, scale 1 only), no-orthogonal (Q learned freely).
 *
 * Score. The reconstruction residual r = x − x̂ is modelled by its (pseudo-label weighted)
 * background mean and covariance — the squared Mahalanobis distance of r, i.e. an RX detector in
 * residual space, which learns which residual directions are normal — and fused with a spatial
 * feature: the local contrast of that score against its 3×3…7×7 neighbourhood ring (see spatial.ts).
 */
export type Ablation = 'none' | 'no-attention' | 'no-groups' | 'no-orthogonal';
export const ABLATIONS: readonly Ablation[] = ['none', 'no-attention', 'no-groups', 'no-orthogonal'];

export interface MsfaOptions {
  /** Training epochs. Default 150 (paper). */
  readonly epochs?: number;
  /** Pixels per mini-batch. Default 36,000 (paper). */
  readonly batchSize?: number;
  /** Adam learning rate. Default 0.0015 (paper). */
  readonly learningRate?: number;
  /** Latent code size. Default 64 (paper). */
  readonly latentDim?: number;
  /** Hidden channels C of encoder and decoder (divisible by groups). Default 64 (CPU budget: see docs/micro-xrf.md). */
  readonly hiddenChannels?: number;
  /** Channel groups / spectral scales of the MOA module. Default 4. */
  readonly groups?: number;
  readonly ablation?: Ablation;
  /** Weight of the spatial-contrast term in the score fusion, 0 … 1. Default 0.5. */
  readonly spatialWeight?: number;
  readonly pseudoLabels?: PseudoLabelOptions;
  readonly seed?: number;
  readonly backend?: BackendPreference;
  /**
   * Worker threads of synchronous data-parallel training (main/models/data-parallel.ts): each
   * 36,000-pixel batch is split over this many replicas and their gradients summed (with their
   * pixels' pseudo-label weights). 1 = the single-thread loop. Default 1.
   */
  readonly threads?: number;
}

export type CheckedMsfaOptions = Required<Omit<MsfaOptions, 'pseudoLabels'>> & { pseudoLabels: Required<PseudoLabelOptions> };

export function checkMsfaOptions(o: MsfaOptions = {}): CheckedMsfaOptions {
  const r: CheckedMsfaOptions = {
    epochs: o.epochs ?? 150,
    batchSize: o.batchSize ?? 36000,
    learningRate: o.learningRate ?? 0.0015,
    latentDim: o.latentDim ?? 64,
    hiddenChannels: o.hiddenChannels ?? 64,
    groups: o.groups ?? 4,
    ablation: o.ablation ?? 'none',
    spatialWeight: o.spatialWeight ?? 0.5,
    pseudoLabels: checkPseudoLabelOptions(o.pseudoLabels),
    seed: o.seed ?? 1,
    backend: o.backend ?? 'wasm',
    threads: o.threads ?? 1,
  };
  const posInt = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(`MSFA-Net: ${name} must be a positive integer, got ${v}`);
  };
  posInt(r.threads, 'threads');
  posInt(r.epochs, 'epochs'); posInt(r.batchSize, 'batchSize'); posInt(r.latentDim, 'latentDim'); posInt(r.hiddenChannels, 'hiddenChannels'); posInt(r.groups, 'groups');
  if (r.hiddenChannels % r.groups !== 0 || r.hiddenChannels / r.groups < 4) throw new InvalidOptionError(`MSFA-Net: hiddenChannels (${r.hiddenChannels}) must be a multiple of groups (${r.groups}) with at least 4 channels per group`);
  if (!(r.learningRate > 0)) throw new InvalidOptionError(`MSFA-Net: learningRate must be > 0, got ${r.learningRate}`);
  if (!ABLATIONS.includes(r.ablation)) throw new InvalidOptionError(`MSFA-Net: ablation must be one of ${ABLATIONS.join(', ')}, got "${r.ablation}"`);
  if (!(r.spatialWeight >= 0 && r.spatialWeight <= 1)) throw new InvalidOptionError(`MSFA-Net: spatialWeight must be in [0, 1], got ${r.spatialWeight}`);
  return r;
}

export interface MsfaResult {
  /** Final anomaly score per pixel (row-major H·W). */
  readonly scores: Float32Array;
  /** Squared reconstruction error per pixel (mean over bands). */
  readonly reconstructionError: Float32Array;
  /** Weighted training loss per epoch. */
  readonly lossHistory: number[];
  readonly pseudo: PseudoLabels;
  readonly backend: string;
  readonly secondsPerEpoch: number;
  /** Process CPU seconds per epoch of the training loop (= wall time on an idle machine; robust to a shared one). */
  readonly cpuSecondsPerEpoch: number;
  /** Seconds to start the data-parallel replicas (0 with one thread); not in the per-epoch times. */
  readonly startupSeconds: number;
  readonly options: CheckedMsfaOptions;
}

function glorot(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (rng.uniform() * 2 - 1) * lim);
}

/** Moving-average matrix S (B×B) of half-width h: (x·S)_j = mean of x_i over |i − j| ≤ h (clipped at the ends). */
function smoothing(B: number, h: number): Float32Array {
  const S = new Float32Array(B * B);
  for (let j = 0; j < B; j++) {
    const i0 = Math.max(0, j - h), i1 = Math.min(B - 1, j + h);
    for (let i = i0; i <= i1; i++) S[i * B + j] = 1 / (i1 - i0 + 1);
  }
  return S;
}

/** Columns with orthonormal columns (rows × cols, cols ≤ rows), by Gram–Schmidt on Gaussian draws. */
function orthonormalColumns(rng: Rng, rows: number, cols: number): Float32Array {
  const q: Float64Array[] = [];
  while (q.length < cols) {
    const v = Float64Array.from({ length: rows }, () => rng.normal());
    for (const u of q) {
      let d = 0;
      for (let i = 0; i < rows; i++) d += u[i] * v[i];
      for (let i = 0; i < rows; i++) v[i] -= d * u[i];
    }
    const nv = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    if (nv < 1e-8) continue;
    q.push(v.map((x) => x / nv));
  }
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out[r * cols + c] = q[c][r];
  return out;
}

/** Block-diagonal mask (G blocks of rb × cb). */
function blockMask(G: number, rb: number, cb: number): Float32Array {
  const m = new Float32Array(G * rb * G * cb);
  for (let g = 0; g < G; g++) for (let r = 0; r < rb; r++) for (let c = 0; c < cb; c++) m[(g * rb + r) * (G * cb) + g * cb + c] = 1;
  return m;
}

let variableCounter = 0;

/**
 * matMul whose gradient uses explicit transposes. The wasm backend's BatchMatMul with a
 * transposed operand (what tfjs's own matMul gradient calls) runs ~8× slower than transpose +
 * plain matMul (measured: 36,000×100 by 36,000×128, 520 ms vs 80 ms CPU), which made training
 * 3.5× slower overall.
 */
function fastMatMul(tf: typeof tfc): (a: tfc.Tensor, b: tfc.Tensor) => tfc.Tensor2D {
  const f = (a: tfc.Tensor, b: tfc.Tensor, save: (t: tfc.Tensor[]) => void): { value: tfc.Tensor; gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => tfc.Tensor[] } => {
    save([a, b]);
    return {
      value: tf.matMul(a as tfc.Tensor2D, b as tfc.Tensor2D),
      gradFunc: (dy, saved) => [tf.matMul(dy as tfc.Tensor2D, tf.transpose(saved[1] as tfc.Tensor2D)), tf.matMul(tf.transpose(saved[0] as tfc.Tensor2D), dy as tfc.Tensor2D)],
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tfc.Tensor, b: tfc.Tensor) => tfc.Tensor2D;
}

interface Net {
  vars: tfc.Variable[];
  forward(x: tfc.Tensor2D): tfc.Tensor2D;
  dispose(): void;
}

function buildNet(tf: typeof tfc, B: number, o: CheckedMsfaOptions, rng: Rng): Net {
  const G = o.ablation === 'no-groups' ? 1 : o.groups;
  const C = o.hiddenChannels;
  const Cg = C / G;
  const r1 = Math.max(2, Math.floor(Cg / 2));
  const r2 = Math.max(2, Math.floor(Cg / 4));
  const L = o.latentDim;
  const consts: tfc.Tensor[] = [];
  const keep = <T extends tfc.Tensor>(t: T): T => (consts.push(t), t);
  const v = (vals: Float32Array, shape: [number, number] | [number], name: string): tfc.Variable => {
    const init = tf.tensor(vals, shape);
    const variable = tf.variable(init, true, `msfa_${name}_${variableCounter++}`);
    init.dispose();
    return variable;
  };
  const mm = fastMatMul(tf);
  const smooth = Array.from({ length: G }, (_, g) => keep(tf.tensor2d(smoothing(B, G === 1 ? 0 : g), [B, B])));
  const encW = Array.from({ length: G }, (_, g) => v(glorot(rng, B, Cg), [B, Cg], `enc${g}`));
  const encB = v(new Float32Array(C), [C], 'encb');
  const attention = o.ablation !== 'no-attention';
  const qMask = keep(tf.tensor2d(blockMask(G, Cg, r1), [C, G * r1]));
  // Glorot over the whole block matrix would mis-scale the blocks: initialise each block alone.
  const blockInit = (rb: number, cb: number): Float32Array => {
    const m = new Float32Array(G * rb * G * cb);
    for (let g = 0; g < G; g++) {
      const blk = glorot(rng, rb, cb);
      for (let r = 0; r < rb; r++) for (let c = 0; c < cb; c++) m[(g * rb + r) * (G * cb) + g * cb + c] = blk[r * cb + c];
    }
    return m;
  };
  let Q: tfc.Tensor2D | tfc.Variable;
  if (o.ablation === 'no-orthogonal') Q = v(blockInit(Cg, r1), [C, G * r1], 'q');
  else {
    const full = new Float32Array(C * G * r1);
    for (let g = 0; g < G; g++) {
      const blk = orthonormalColumns(rng, Cg, r1);
      for (let r = 0; r < Cg; r++) for (let c = 0; c < r1; c++) full[(g * Cg + r) * (G * r1) + g * r1 + c] = blk[r * r1 + c];
    }
    Q = keep(tf.tensor2d(full, [C, G * r1]));
  }
  const V1 = v(blockInit(r1, r2), [G * r1, G * r2], 'v1');
  const V1b = v(new Float32Array(G * r2), [G * r2], 'v1b');
  const V1m = keep(tf.tensor2d(blockMask(G, r1, r2), [G * r1, G * r2]));
  const V2 = v(blockInit(r2, Cg), [G * r2, C], 'v2');
  const V2b = v(new Float32Array(C), [C], 'v2b');
  const V2m = keep(tf.tensor2d(blockMask(G, r2, Cg), [G * r2, C]));
  const Wa = v(glorot(rng, C, L), [C, L], 'fam');
  const Wab = v(new Float32Array(L), [L], 'famb');
  const Wd1 = v(glorot(rng, L, C), [L, C], 'dec1');
  const Wd1b = v(new Float32Array(C), [C], 'dec1b');
  const Wd2 = v(glorot(rng, C, B), [C, B], 'dec2');
  const Wd2b = v(new Float32Array(B), [B], 'dec2b');
  const vars: tfc.Variable[] = [...encW, encB, Wa, Wab, Wd1, Wd1b, Wd2, Wd2b];
  if (attention) vars.push(V1, V1b, V2, V2b);
  if (Q instanceof tf.Variable) vars.push(Q as tfc.Variable);
  const all = [...encW, encB, V1, V1b, V2, V2b, Wa, Wab, Wd1, Wd1b, Wd2, Wd2b, ...(Q instanceof tf.Variable ? [Q] : [])];
  return {
    vars,
    forward(x) {
      const M = tf.concat(encW.map((w, g) => mm(smooth[g], w)), 1);
      let h = tf.leakyRelu(tf.add(mm(x, M), encB), 0.2) as tfc.Tensor2D;
      if (attention) {
        const q = Q instanceof tf.Variable ? tf.mul(Q, qMask) : Q;
        const d = tf.relu(tf.add(mm(mm(h, q as tfc.Tensor2D), tf.mul(V1, V1m) as tfc.Tensor2D), V1b));
        const a = tf.sigmoid(tf.add(mm(d as tfc.Tensor2D, tf.mul(V2, V2m) as tfc.Tensor2D), V2b));
        h = tf.mul(h, a);
      }
      const z = tf.leakyRelu(tf.add(mm(h, Wa), Wab), 0.2) as tfc.Tensor2D;
      const d1 = tf.leakyRelu(tf.add(mm(z, Wd1), Wd1b), 0.2) as tfc.Tensor2D;
      return tf.add(mm(d1, Wd2), Wd2b);
    },
    dispose() {
      for (const t of [...all, ...consts]) t.dispose();
    },
  };
}

export interface MsfaReplicaSpec {
  readonly bandCount: number;
  readonly options: CheckedMsfaOptions;
}

export const MSFA_PROGRAM: ProgramRef = { module: moduleUrl('./msfa-net.ts', import.meta.url).href, factory: 'createMsfaReplica' };

/**
 * One data-parallel replica of MSFA-Net (built in each worker; same seed ⇒ same initial net as
 * runMsfaNet's). Shared arrays: `pixels` [n·B], `weights` [n] (pseudo-label loss weights).
 * The loss of a shard is Σ_shard w·err / (Σ_batch w + 1e-8): its share of the batch loss, so the
 * shards' gradients sum to the batch gradient.
 */
export function createMsfaReplica(spec: MsfaReplicaSpec, shared: SharedArrays): Replica {
  const tf = getTf();
  const B = spec.bandCount;
  const net = buildNet(tf, B, spec.options, new Rng(spec.options.seed).fork(1));
  const pixels = shared.pixels as Float32Array;
  const weights = shared.weights as Float32Array;
  return {
    variables: net.vars,
    synced: [],
    minShardSize: 1,
    loss(shard, batch) {
      const m = shard.length;
      const xb = new Float32Array(m * B);
      const wb = new Float32Array(m);
      shard.forEach((p, j) => {
        xb.set(pixels.subarray(p * B, (p + 1) * B), j * B);
        wb[j] = weights[p];
      });
      // Summed as runMsfaNet sums the whole batch (float64 over float32 values, batch order).
      let wsum = 0;
      for (let j = 0; j < batch.length; j++) wsum += weights[batch[j]];
      const xt = tf.tensor2d(xb, [m, B]);
      const wt = tf.tensor1d(wb);
      const err = tf.mean(tf.squaredDifference(net.forward(xt), xt), 1);
      return tf.div(tf.sum(tf.mul(err, wt)), wsum + 1e-8) as tfc.Scalar;
    },
    state() {
      return net.vars.map((v) => tf.clone(v));
    },
    dispose() {
      net.dispose();
    },
  };
}

/** Trains MSFA-Net on the (already normalised) cube and scores every pixel. */
export async function runMsfaNet(cube: Pick<SpectralCube, 'rows' | 'cols' | 'bandCount' | 'pixels'>, options: MsfaOptions = {}, ctx?: JobContext): Promise<MsfaResult> {
  const o = checkMsfaOptions(options);
  const backend = await initBackend(o.backend);
  const tf = getTf();
  const n = cube.rows * cube.cols;
  const B = cube.bandCount;
  const pseudo = pseudoLabels(cube, o.pseudoLabels, subJob(ctx, 0, 0.05, 'pseudo-labels'));
  const rng = new Rng(o.seed);
  const net = buildNet(tf, B, o, rng.fork(1));
  const optimizer = tf.train.adam(o.learningRate);
  const shuffler = rng.fork(2);
  // Pseudo-anomalies have weight 0: leaving them out of the batches changes no gradient and saves time.
  const trainIdx: number[] = [];
  for (let i = 0; i < n; i++) if (pseudo.weights[i] > 0) trainIdx.push(i);
  const bs = Math.min(o.batchSize, trainIdx.length);
  const xb = new Float32Array(bs * B);
  const wb = new Float32Array(bs);
  const lossHistory: number[] = [];
  const tStart = performance.now();
  const dp = o.threads > 1
    ? await DataParallelTrainer.start(
        { program: MSFA_PROGRAM, spec: { bandCount: B, options: o } satisfies MsfaReplicaSpec, shared: { pixels: cube.pixels, weights: pseudo.weights }, threads: o.threads, learningRate: o.learningRate, backend: o.backend, label: `MSFA-Net training on ${o.threads} threads` },
        trainIdx.length,
        ctx,
      )
    : null;
  const startupSeconds = (performance.now() - tStart) / 1000;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      throwIfCancelled(ctx, 'MSFA-Net training');
      shuffler.shuffle(trainIdx);
      let sum = 0, count = 0;
      if (dp) {
        const r = await dp.runEpoch(trainIdx, bs, subJob(ctx, 0.05 + (0.85 * epoch) / o.epochs, 0.05 + (0.85 * (epoch + 1)) / o.epochs, `epoch ${epoch + 1}/${o.epochs}`));
        sum = r.lossSum;
        count = r.seen;
      } else {
        for (let s = 0; s < trainIdx.length; s += bs) {
          const m = Math.min(bs, trainIdx.length - s);
          for (let j = 0; j < m; j++) {
            const p = trainIdx[s + j];
            xb.set(cube.pixels.subarray(p * B, (p + 1) * B), j * B);
            wb[j] = pseudo.weights[p];
          }
          const xt = tf.tensor2d(xb.subarray(0, m * B), [m, B]);
          const wt = tf.tensor1d(wb.subarray(0, m));
          const wsum = wb.subarray(0, m).reduce((a, v) => a + v, 0);
          const loss = optimizer.minimize(() => {
            const err = tf.mean(tf.squaredDifference(net.forward(xt), xt), 1);
            return tf.div(tf.sum(tf.mul(err, wt)), wsum + 1e-8) as tfc.Scalar;
          }, true, net.vars);
          sum += (loss as tfc.Scalar).dataSync()[0] * m;
          count += m;
          tf.dispose([xt, wt, loss as tfc.Scalar]);
        }
      }
      lossHistory.push(sum / count);
      report(ctx, 0.05 + (0.85 * (epoch + 1)) / o.epochs, `MSFA-Net epoch ${epoch + 1}/${o.epochs}, loss ${(sum / count).toExponential(3)}`);
    }
    if (dp) {
      const state = await dp.state(ctx);
      net.vars.forEach((v, k) => v.assign(tf.tensor(state[k].values, state[k].shape)));
    }
    const secondsPerEpoch = (performance.now() - t0) / 1000 / o.epochs;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecondsPerEpoch = (cpu.user + cpu.system) / 1e6 / o.epochs;
    // Residuals of every pixel.
    const residual = new Float32Array(n * B);
    const reconstructionError = new Float32Array(n);
    for (let s = 0; s < n; s += o.batchSize) {
      const m = Math.min(o.batchSize, n - s);
      const xt = tf.tensor2d(cube.pixels.subarray(s * B, (s + m) * B), [m, B]);
      const rec = tf.tidy(() => tf.sub(xt, net.forward(xt)));
      residual.set(rec.dataSync(), s * B);
      tf.dispose([xt, rec]);
    }
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let b = 0; b < B; b++) e += residual[i * B + b] ** 2;
      reconstructionError[i] = e / B;
    }
    report(ctx, 0.93, 'MSFA-Net: scoring residuals');
    const rx = mahalanobisScores(residual, n, B, pseudo.weights);
    const scores = spatialContrast(rx, cube.rows, cube.cols, o.spatialWeight);
    report(ctx, 1, 'MSFA-Net: done');
    return { scores, reconstructionError, lossHistory, pseudo, backend: o.threads > 1 ? `${backend.detail} × ${o.threads} data-parallel replicas` : backend.detail, secondsPerEpoch, cpuSecondsPerEpoch, startupSeconds, options: o };
  } finally {
    await dp?.close();
    net.dispose();
    optimizer.dispose();
  }
}
