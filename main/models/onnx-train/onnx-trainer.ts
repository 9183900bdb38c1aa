/**
 * Trains a patch classifier with ONNX Runtime: each step runs the forward + backward graph of
 * train-graph.ts on one InferenceSession (intra-op threads = `threads`), and JS applies
 * weight decay, Adam and the BatchNorm moving averages to Float32Array weights.
 *
 * The numbers follow trainModel's single-thread tfjs loop up to float rounding:
 *  - Adam exactly as tf.train.adam (adam_optimizer.js): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 *    θ ← θ − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε) with ε = 1e-7 (the float32 backend epsilon) and
 *    β1ᵗ, β2ᵗ kept as float32 running products (accBeta1/accBeta2); variables without a gradient
 *    (the geology term when λ = 0) are left alone, as tfjs skips null gradients;
 *  - moving ← moving − (moving − batch statistic)·(1 − momentum) (tfjs-layers' doMovingAverage;
 *    the batch variance is the biased one, as tf.moments);
 *  - dropout masks drawn with tfjs-core's seeded randomUniform exactly as SeededDropout does
 *    (seed + call index, keep = u ≥ rate, scaled 1/(1 − rate)), one call per optimiser step;
 *  - loss = graph loss + 0.5·wd·Σ kernel² over every weight whose name contains "kernel"
 *    (gradient wd·kernel), as trainModel adds it.
 * The JS updates use tfjs' float32 constants and store float32 (see adam()).
 *
 * One session per batch size met (the last batch of an epoch is usually smaller).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError } from '../../errors.ts';
import { report, type JobContext } from '../../jobs/job.ts';
import { cancelPoint } from '../../jobs/cancel-point.ts';
import { loadOrt, type OrtLoader, type OrtModule, type OrtSession, type OrtTensor } from '../../onnx/onnx-runtime.ts';
import type { StateArray } from '../data-parallel.ts';
import type { TrainingData } from '../train.ts';
import { buildTrainGraph, IN_DROPOUT, IN_GEO_A, IN_GEO_B, IN_KNOWLEDGE, IN_ONEHOT, IN_X, OUT_CE, OUT_LOSS, type TrainGraph } from './train-graph.ts';

export interface OnnxTrainerOptions {
  readonly learningRate: number;
  /** L2 0.5·wd·Σ kernel². */
  readonly weightDecay: number;
  /** λ of the geology term (used when `geology` is given). */
  readonly lambda: number;
  /** ONNX Runtime intra-op threads of the session. @default 1 */
  readonly threads?: number;
  /** Zero-pad the input channels to a multiple of this in the stem (see TrainGraphOptions). @default 8 */
  readonly padChannelsTo?: number;
  /** How onnxruntime-node is loaded (tests inject a failing one). @default import('onnxruntime-node') */
  readonly ortLoader?: OrtLoader;
  /**
   * Let idle intra-op threads spin (ONNX Runtime's default). Spinning shortens the hand-over
   * between the graph's ~400 parallel sections on an idle machine; when other processes hold the
   * cores, spinning threads steal time from the working one (measured on the shared 2-core
   * machine: a 2-thread GK-DCN epoch 14.8–15.3 s spinning vs 10.3–12.2 s without). @default true
   */
  readonly spinning?: boolean;
}

/** What trainModel needs from an epoch runner (the same seam as the data-parallel trainer). */
export interface EpochRunner {
  runEpoch(order: readonly number[], batchSize: number, ctx?: JobContext): Promise<{ lossSum: number; seen: number }>;
  /** model.weights order, then the geology a [nK] and b [] when present. */
  state(ctx?: JobContext): Promise<StateArray[]>;
  /** Adam learning rate of the following steps (trainModel's schedule sets it before each epoch). */
  setLearningRate(lr: number): void;
  /** Inference-mode cross-entropy of samples `idx` (and the geology term's share), as trainModel's validation loss; absent: trainModel computes it with tfjs. */
  validationLosses?(idx: readonly number[], options?: ValidationOptions): Promise<{ ce: number; geologyShare?: number }>;
  close(): Promise<void>;
}

export interface ValidationOptions {
  /** The samples `idx` index (trainModel's un-augmented data when the trainer's is augmented). @default the trainer's data */
  readonly data?: TrainingData;
  /** Samples per forward-only graph. @default the largest training batch built so far, else 256 */
  readonly batchSize?: number;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-7;
const f = Math.fround;

interface AdamSlot {
  readonly value: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
}

export class OnnxTrainer implements EpochRunner {
  private readonly sessions = new Map<number, { graph: TrainGraph; session: OrtSession }>();
  /** Forward-only inference-mode graphs (validation), per batch size. */
  private readonly evalSessions = new Map<number, { graph: TrainGraph; session: OrtSession }>();
  /** Current values of model.weights (in that order). */
  readonly weights: Float32Array[];
  private readonly shapes: number[][];
  private readonly kernelIndex: Set<number>;
  private readonly geoA: Float32Array | null;
  private readonly geoB: Float32Array | null;
  private readonly slots = new Map<Float32Array, AdamSlot>();
  private accBeta1 = f(BETA1);
  private accBeta2 = f(BETA2);
  private dropoutCalls = 0;
  private closed = false;
  /** Adam's lr, applied here in JS: a schedule changes it between epochs (setLearningRate). */
  private learningRate: number;

  private constructor(
    private readonly ort: OrtModule,
    private readonly model: tfl.LayersModel,
    private readonly data: TrainingData,
    private readonly o: Required<Omit<OnnxTrainerOptions, 'ortLoader'>>,
    geology: { readonly a: ArrayLike<number>; readonly b: number } | null,
  ) {
    const values = model.getWeights();
    this.weights = values.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    this.shapes = values.map((t) => [...t.shape]);
    this.kernelIndex = new Set(model.weights.map((w, i) => (/kernel/.test(w.originalName) && w.trainable ? i : -1)).filter((i) => i >= 0));
    this.geoA = geology ? Float32Array.from(geology.a) : null;
    this.geoB = geology ? Float32Array.of(geology.b) : null;
    this.learningRate = o.learningRate;
  }

  setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr))) throw new InvalidOptionError(`learning rate must be a positive number, got ${lr}`);
    this.learningRate = lr;
  }

  /** Loads onnxruntime-node (OnnxRuntimeUnavailableError if it cannot) and prepares a trainer for `model`'s current weights. */
  static async start(
    model: tfl.LayersModel,
    data: TrainingData,
    geology: { readonly a: ArrayLike<number>; readonly b: number } | null,
    options: OnnxTrainerOptions,
  ): Promise<OnnxTrainer> {
    const threads = options.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new InvalidOptionError(`ONNX training threads must be a positive integer, got ${threads}`);
    const ort = await loadOrt(options.ortLoader);
    const o = {
      learningRate: options.learningRate,
      weightDecay: options.weightDecay,
      lambda: options.lambda,
      threads,
      padChannelsTo: options.padChannelsTo ?? 8,
      spinning: options.spinning ?? true,
    };
    const trainer = new OnnxTrainer(ort, model, data, o, geology);
    return trainer;
  }

  /** Builds (and validates) the graph for one batch size; throws OnnxTrainUnsupportedError for unsupported models. */
  private async sessionFor(batch: number): Promise<{ graph: TrainGraph; session: OrtSession }> {
    let s = this.sessions.get(batch);
    if (!s) {
      const graph = buildTrainGraph(this.model, {
        batch,
        lambda: this.geoA ? this.o.lambda : 0,
        nKnowledge: this.geoA ? this.data.nKnowledge : 0,
        padChannelsTo: this.o.padChannelsTo,
      });
      const session = await this.createSession(graph);
      s = { graph, session };
      this.sessions.set(batch, s);
    }
    return s;
  }

  private createSession(graph: TrainGraph): Promise<OrtSession> {
    return this.ort.InferenceSession.create(graph.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: this.o.threads,
      interOpNumThreads: 1,
      // FusedMatMul with a transposed operand (the DCN's S_bᵀ·dSampled and dCols·X_bᵀ) measured
      // slower than an explicit Transpose + MatMul: GK-DCN step 160 → 148 ms on 1 thread.
      extra: {
        optimization: { disable_specified_optimizers: 'MatmulTransposeFusion' },
        ...(this.o.spinning ? {} : { session: { intra_op: { allow_spinning: '0' } } }),
      },
    });
  }

  /**
   * Cross-entropy of samples `idx` in inference mode (moving statistics, no dropout), as
   * trainModel's validation loss (inferenceLosses), and with the geology term λ·L_geology's share
   * of CE + λ·L_geology — from the forward-only graph (mode 'infer': no backward nodes), in chunks
   * of `batchSize`. Both terms are per-sample means, so the chunk means weighted by chunk size are
   * the means over all samples. The batch size defaults to the largest training batch built so
   * far (its DCN sampling matrices are known to fit MAX_SAMPLING_MATRIX_ELEMENTS), else 256.
   */
  async validationLosses(idx: readonly number[], options: ValidationOptions = {}): Promise<{ ce: number; geologyShare?: number }> {
    const data = options.data ?? this.data;
    const batchSize = options.batchSize ?? (Math.max(0, ...this.sessions.keys()) || 256);
    if (data.nKnowledge !== this.data.nKnowledge || data.patchSize !== this.data.patchSize || data.channels !== this.data.channels) {
      throw new InvalidOptionError(`validation data (${data.patchSize}×${data.patchSize}×${data.channels}, ${data.nKnowledge} knowledge) differ in shape from the training data (${this.data.patchSize}×${this.data.patchSize}×${this.data.channels}, ${this.data.nKnowledge})`);
    }
    if (idx.length === 0) throw new InvalidOptionError('validation loss of no samples');
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new InvalidOptionError(`validation batch size must be a positive integer, got ${batchSize}`);
    let ce = 0;
    let geo = 0;
    for (let start = 0; start < idx.length; start += batchSize) {
      const part = idx.slice(start, start + batchSize);
      let s = this.evalSessions.get(part.length);
      if (!s) {
        const graph = buildTrainGraph(this.model, {
          batch: part.length,
          lambda: this.geoA ? this.o.lambda : 0,
          nKnowledge: this.geoA ? this.data.nKnowledge : 0,
          padChannelsTo: this.o.padChannelsTo,
          mode: 'infer',
        });
        s = { graph, session: await this.createSession(graph) };
        this.evalSessions.set(part.length, s);
      }
      const out = await s.session.run(this.feeds(s.graph, part, null, data));
      const partCe = (out[OUT_CE].data as Float32Array)[0];
      ce += partCe * part.length;
      geo += ((out[OUT_LOSS].data as Float32Array)[0] - partCe) * part.length;
      for (const t of Object.values(out)) t.dispose?.();
    }
    ce /= idx.length;
    if (!this.geoA) return { ce };
    geo /= idx.length;
    return { ce, geologyShare: ce + geo > 0 ? geo / (ce + geo) : 0 };
  }

  /** Checks that the model can be expressed (builds the graph of `batch`) without training. */
  async prepare(batch: number): Promise<void> {
    await this.sessionFor(batch);
  }

  /** Loss and gradients of one batch without updating anything (for tests). */
  async lossAndGradients(idx: readonly number[], dropoutMask?: Float32Array): Promise<{ loss: number; grads: (Float32Array | null)[]; geoA: Float32Array | null; geoB: number | null; bn: { mean: Float32Array; variance: Float32Array }[] }> {
    const { graph, session } = await this.sessionFor(idx.length);
    const out = await session.run(this.feeds(graph, idx, dropoutMask ?? this.nextDropoutMask(graph, idx.length)));
    const get = (name: string): Float32Array => Float32Array.from(out[name].data as Float32Array);
    const res = {
      loss: (out[OUT_LOSS].data as Float32Array)[0],
      grads: graph.params.map((p) => (p.gradOutput ? get(p.gradOutput) : null)),
      geoA: graph.geology ? get(graph.geology.gradA) : null,
      geoB: graph.geology ? (out[graph.geology.gradB].data as Float32Array)[0] : null,
      bn: graph.bnStats.map((s) => ({ mean: get(s.meanOutput), variance: get(s.varianceOutput) })),
    };
    for (const t of Object.values(out)) t.dispose?.();
    return res;
  }

  private nextDropoutMask(graph: TrainGraph, batch: number): Float32Array | null {
    if (!graph.dropout) return null;
    const { layer, units, rate } = graph.dropout;
    const seed = (layer.seed + this.dropoutCalls++) >>> 0;
    // SeededDropout.call: keep = randomUniform(shape, 0, 1, float32, seed) ≥ rate, times 1/(1 − rate).
    const mask = tf.tidy(() => tf.mul(tf.cast(tf.greaterEqual(tf.randomUniform([batch, units], 0, 1, 'float32', seed), rate), 'float32'), 1 / (1 - rate)));
    const values = Float32Array.from(mask.dataSync() as Float32Array);
    mask.dispose();
    return values;
  }

  private feeds(graph: TrainGraph, idx: readonly number[], dropoutMask: Float32Array | null, d: TrainingData = this.data): Record<string, OrtTensor> {
    const per = d.patchSize * d.patchSize * d.channels;
    const B = idx.length;
    const x = new Float32Array(B * per);
    idx.forEach((s, j) => x.set(d.x.subarray(s * per, (s + 1) * per), j * per));
    const onehot = new Float32Array(B * 2);
    idx.forEach((s, j) => (onehot[j * 2 + (d.labels[s] === 1 ? 1 : 0)] = 1));
    const T = (data: Float32Array, dims: readonly number[]): OrtTensor => new this.ort.Tensor('float32', data, dims);
    const feeds: Record<string, OrtTensor> = {
      [IN_X]: T(x, [B, d.patchSize, d.patchSize, d.channels]),
      [IN_ONEHOT]: T(onehot, [B, 2]),
    };
    const inputNames = new Set(graph.inputs.map((i) => i.name));
    graph.params.forEach((p, i) => {
      if (inputNames.has(p.input)) feeds[p.input] = T(this.weights[i], p.shape);
    });
    if (graph.dropout) {
      if (!dropoutMask) throw new Error('dropout mask missing');
      feeds[IN_DROPOUT] = T(dropoutMask, [B, graph.dropout.units]);
    }
    // The geology inputs (a forward-only graph reads them without having gradient outputs).
    if (inputNames.has(IN_KNOWLEDGE)) {
      const k = d.nKnowledge;
      const w = new Float32Array(B * k);
      idx.forEach((s, j) => w.set(d.knowledge!.subarray(s * k, (s + 1) * k), j * k));
      feeds[IN_KNOWLEDGE] = T(w, [B, k]);
      feeds[IN_GEO_A] = T(this.geoA!, [k]);
      feeds[IN_GEO_B] = T(this.geoB!, []);
    }
    return feeds;
  }

  /** One optimiser step on samples `idx`; returns the batch loss (incl. weight decay). */
  async step(idx: readonly number[]): Promise<number> {
    const { graph, session } = await this.sessionFor(idx.length);
    const out = await session.run(this.feeds(graph, idx, this.nextDropoutMask(graph, idx.length)));
    let loss = (out[OUT_LOSS].data as Float32Array)[0];
    const wd = this.o.weightDecay;
    const updates: [Float32Array, Float32Array][] = [];
    let l2 = 0;
    graph.params.forEach((p, i) => {
      if (!p.gradOutput) return;
      const grad = out[p.gradOutput].data as Float32Array;
      const value = this.weights[i];
      if (wd > 0 && this.kernelIndex.has(i)) {
        // d/dθ 0.5·wd·Σθ² = (0.5·wd)·(2θ), as tfjs' autograd computes it.
        const half = f(0.5 * wd);
        let s = 0;
        for (let e = 0; e < value.length; e++) {
          s += value[e] * value[e];
          grad[e] += half * 2 * value[e];
        }
        l2 += s;
      }
      updates.push([value, grad]);
    });
    if (wd > 0) loss = f(loss + f(f(0.5 * wd) * f(l2)));
    if (graph.geology) {
      updates.push([this.geoA!, out[graph.geology.gradA].data as Float32Array]);
      updates.push([this.geoB!, out[graph.geology.gradB].data as Float32Array]);
    }
    // BN moving averages from the batch statistics (values before this step's update are what tfjs uses too).
    for (const s of graph.bnStats) {
      const decay = f(1 - s.momentum);
      for (const [param, output] of [[s.meanParam, s.meanOutput], [s.varianceParam, s.varianceOutput]] as const) {
        const moving = this.weights[param];
        const stat = out[output].data as Float32Array;
        for (let c = 0; c < moving.length; c++) moving[c] = f(moving[c] - f(f(moving[c] - stat[c]) * decay));
      }
    }
    this.adam(updates);
    for (const t of Object.values(out)) t.dispose?.();
    return loss;
  }

  private adam(updates: readonly [Float32Array, Float32Array][]): void {
    // Constants as the float32 scalars tfjs uses; the per-element arithmetic runs in float64 and
    // is rounded when stored (m, v and θ are Float32Arrays): ≤ 1 float32 ulp from tfjs' op-by-op
    // rounding, at a third of the JS time of rounding every operation (Math.fround per op
    // measured 6.5 ms per GK-DCN step, serial with ONNX Runtime).
    const lr = f(this.learningRate);
    const b1 = f(BETA1);
    const b2 = f(BETA2);
    const c1 = f(1 - BETA1);
    const c2 = f(1 - BETA2);
    const oneMinusAcc1 = f(1 - this.accBeta1);
    const oneMinusAcc2 = f(1 - this.accBeta2);
    const eps = f(EPSILON);
    for (const [value, grad] of updates) {
      let slot = this.slots.get(value);
      if (!slot) {
        slot = { value, m: new Float32Array(value.length), v: new Float32Array(value.length) };
        this.slots.set(value, slot);
      }
      const { m, v } = slot;
      for (let e = 0; e < value.length; e++) {
        const g = grad[e];
        m[e] = m[e] * b1 + g * c1;
        v[e] = v[e] * b2 + g * g * c2;
        value[e] -= (lr * (m[e] / oneMinusAcc1)) / (Math.sqrt(v[e] / oneMinusAcc2) + eps);
      }
    }
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
  }

  async runEpoch(order: readonly number[], batchSize: number, ctx?: JobContext): Promise<{ lossSum: number; seen: number }> {
    let lossSum = 0;
    let seen = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      // ONNX Runtime's run() and the JS Adam step may complete without a macrotask turn: yield.
      await cancelPoint(ctx, 'ONNX training');
      const batch = order.slice(start, start + batchSize);
      // BatchNorm cannot normalise one sample: a trailing batch of one is skipped, as in the tfjs loop.
      if (batch.length < 2) continue;
      lossSum += (await this.step(batch)) * batch.length;
      seen += batch.length;
      // Progress inside the epoch: a first epoch of a real stack takes minutes, and the app's
      // text would otherwise stay on what came before it until the epoch ends (issue 18).
      report(ctx, (start + batch.length) / order.length, `batch ${start / batchSize + 1}/${Math.ceil(order.length / batchSize)}`);
    }
    return { lossSum, seen };
  }

  async state(): Promise<StateArray[]> {
    const out: StateArray[] = this.weights.map((w, i) => ({ values: Float32Array.from(w), shape: [...this.shapes[i]] }));
    if (this.geoA && this.geoB) out.push({ values: Float32Array.from(this.geoA), shape: [this.geoA.length] }, { values: Float32Array.from(this.geoB), shape: [] });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions.values(), ...this.evalSessions.values()]) await s.session.release();
    this.sessions.clear();
    this.evalSessions.clear();
  }
}
