import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { cancelPoint } from '../jobs/cancel-point.ts';
import { groupedStratifiedKFold } from '../eval/folds.ts';
import { buildModel, usesGeology, type ArchitectureOptions, type ModelKind } from './architectures.ts';
import { createGeologyVariables, crossEntropy, geologyLoss, totalLoss, type GeologyTermVariables } from './geology-loss.ts';
import type { StateArray } from './data-parallel.ts';
import type { OrtLoader } from '../onnx/onnx-runtime.ts';
import { DEFAULT_ENGINE, type EnginePreference } from '../onnx/onnx-run.ts';
import type { EpochRunner } from './onnx-train/onnx-trainer.ts';
import { LearningRateSchedule, LR_SCHEDULES, type LrSchedule } from './lr-schedule.ts';
import { augmentFitSet, AUGMENTATIONS, type Augmentation } from './augment.ts';
import { EarlyStopping, STOP_ON, type StopOn } from './stopping.ts';

/**
 * Training of one patch classifier: Adam on mini-batches, seeded initialisation and shuffling,
 * optional L2 weight decay, early stopping on a validation split drawn from the TRAINING
 * samples only (grouped by site, so no block of one site is on both sides), best weights
 * restored. The same seed, data and backend give bit-identical weights and scores.
 *
 * A custom loop rather than `model.fit`: the GK loss needs per-sample knowledge values and two
 * extra trainable variables (aᵢ, b) that live outside the network, and fit's validationSplit
 * would take the last rows rather than whole sites.
 */

/** Tensor-ready patches (what main/sites' extraction produces; see `trainingDataFrom`). */
export interface TrainingData {
  /** Patches, NHWC [n, patchSize, patchSize, channels], row-major. */
  readonly x: Float32Array;
  readonly n: number;
  readonly patchSize: number;
  readonly channels: number;
  /** 1 = deposit, 0 = non-deposit. */
  readonly labels: ArrayLike<number>;
  /** Site of each sample: the 9 cells of one 3×3 block share one id. */
  readonly siteIds: readonly string[];
  /** Knowledge values at each sample's own centre cell, [n × nKnowledge] row-major. */
  readonly knowledge?: Float32Array;
  readonly nKnowledge: number;
  /**
   * Extra windows around each site for the 'shift' augmentation (main/sites/patches.ts
   * shiftRadius): patches [m, k, k, C], the original sample each was shifted from, and the
   * knowledge values at each window's own centre [m × nKnowledge]. Never scored: only training
   * calls whose fit set holds the parent use them (main/models/augment.ts).
   */
  readonly shiftWindows?: { readonly x: Float32Array; readonly parent: Int32Array; readonly knowledge?: Float32Array };
}

/** Builds TrainingData from the sites module's patch set (fields as that module names them). */
export function trainingDataFrom(p: {
  readonly x: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly siteIds: readonly string[];
  /** Blocks that overlap share a groupId; when given, folds keep whole groups together. */
  readonly groupIds?: readonly string[];
  readonly weights?: Float32Array;
  readonly bandNames: readonly string[];
  /** Shift windows of the patch extraction (its `shift` field), for the 'shift' augmentation. */
  readonly shift?: { readonly x: Float32Array; readonly parent: Int32Array; readonly weights: Float32Array } | null;
}): TrainingData {
  const n = p.labels.length;
  const channels = p.bandNames.length;
  const patchSize = Math.round(Math.sqrt(p.x.length / Math.max(1, n * channels)));
  if (n === 0) throw new InvalidOptionError('the patch set is empty: no training sites fell on the grid');
  if (patchSize * patchSize * channels * n !== p.x.length) {
    throw new InvalidOptionError(`patch array holds ${p.x.length} values, which is not n·k·k·C for n=${n}, C=${channels}`);
  }
  const nKnowledge = p.weights ? p.weights.length / n : 0;
  if (!Number.isInteger(nKnowledge)) {
    throw new InvalidOptionError(`knowledge array holds ${p.weights?.length} values, not a multiple of ${n} samples`);
  }
  // Grouping unit of the folds: the overlap group (two touching 3×3 blocks would otherwise put
  // near-copies of one another on both sides of a split), else the site.
  const siteIds = p.groupIds && p.groupIds.length === n ? p.groupIds : p.siteIds;
  const shiftWindows = p.shift && p.shift.parent.length > 0 ? { x: p.shift.x, parent: p.shift.parent, ...(nKnowledge > 0 ? { knowledge: p.shift.weights } : {}) } : undefined;
  return { x: p.x, n, patchSize, channels, labels: p.labels, siteIds, knowledge: nKnowledge > 0 ? p.weights : undefined, nKnowledge, ...(shiftWindows ? { shiftWindows } : {}) };
}

export interface TrainOptions {
  /** Maximum epochs. @default 60 */
  readonly epochs?: number;
  /** Mini-batch size. @default 64 */
  readonly batchSize?: number;
  /** Adam learning rate. @default 1e-3 */
  readonly learningRate?: number;
  /** L2 penalty 0.5·wd·Σθ² on kernels (PyTorch Adam's coupled weight_decay). @default 1e-4 */
  readonly weightDecay?: number;
  /** λ of the geology term; used by gk-* models only. @default 1 (the paper) */
  readonly lambda?: number;
  /** Share of the training SITES held out for early stopping; 0 = no early stopping. @default 0.2 */
  readonly validationFraction?: number;
  /** Epochs without validation-loss improvement before stopping. @default 15 */
  readonly patience?: number;
  /**
   * Early stopping may act, and the kept ("best") weights are chosen, only from this epoch on:
   * with 1–2 validation sites per class the validation loss is noisy and its first minimum is
   * usually an underfitted epoch 1–3 (docs/gk-dcn.md, "Training that converges"). Capped at
   * `epochs`. @default 1 (no minimum)
   */
  readonly minEpochs?: number;
  /**
   * What early stopping watches (stopping.ts): 'raw' = the per-epoch validation loss; 'smoothed' =
   * its trailing 5-epoch mean with a 1 % relative improvement threshold (first eligible epoch
   * max(minEpochs, 5)). @default 'raw'
   */
  readonly stopOn?: StopOn;
  /** Learning-rate schedule per epoch (lr-schedule.ts). @default 'constant' */
  readonly lrSchedule?: LrSchedule;
  /** Augmentations of the fit samples (augment.ts), leak-free. @default [] */
  readonly augment?: readonly Augmentation[];
  /** Sd of the 'noise' augmentation, in the patches' (standardised) units. @default 0.1 */
  readonly noiseSd?: number;
  /** Seed of init, dropout, shuffling and the validation split. @default 1 */
  readonly seed?: number;
  /** Network shape; channels and patchSize come from the data. */
  readonly architecture?: Omit<ArchitectureOptions, 'channels' | 'patchSize' | 'seed'>;
  /**
   * Engine onnx: intra-op threads of the ONNX Runtime session that runs the training steps. The
   * tfjs engine trains on the calling thread only: threads > 1 with engine 'tfjs' stops with
   * TfjsThreadsError (use engine 'onnx'); with 'auto' falling back to tfjs it trains on one thread,
   * reported. The tfjs data-parallel trainer of patch classifiers was retired (issue 17): ONNX on
   * one thread was faster, and its results changed with the thread count (docs/gk-dcn.md,
   * "Training on several threads"). Parallel folds: CrossValidationOptions.threads. @default 1
   */
  readonly threads?: number;
  /**
   * What computes the training steps. 'tfjs': the single-thread tfjs loop above (the fallback
   * and the test oracle). 'onnx': one ONNX Runtime session running the forward + backward graph
   * of onnx-train/train-graph.ts with `threads` intra-op threads; Adam and the BN moving averages
   * in JS, following the tfjs trajectory up to float rounding. Stops with
   * OnnxRuntimeUnavailableError when onnxruntime-node cannot be loaded. 'auto': 'onnx' when
   * onnxruntime-node loads, else 'tfjs' (reported through ctx). With 'onnx' or 'auto', a model the
   * graph cannot express (OnnxTrainUnsupportedError) trains with tfjs, reported. The default is
   * DEFAULT_ENGINE (main/onnx/onnx-run.ts), the one the CLI, the app and prediction use.
   * @default 'auto'
   */
  readonly engine?: TrainEngine;
}

/** The engine preference of training: the same names and the same default (DEFAULT_ENGINE) as prediction. */
export type TrainEngine = EnginePreference;
export const TRAIN_ENGINES: readonly TrainEngine[] = ['tfjs', 'onnx', 'auto'];

/** In-process hooks of trainModel that cannot travel to worker threads (so they are not TrainOptions). */
export interface TrainHooks {
  /** How onnxruntime-node is loaded (tests inject a failing loader). @default import('onnxruntime-node') */
  readonly ortLoader?: OrtLoader;
}

export type CheckedTrainOptions = Required<Omit<TrainOptions, 'architecture'>> & Pick<TrainOptions, 'architecture'>;

/**
 * Defaults of the convergence options, defined once: checkTrainOptions applies them and the
 * `train` CLI shows them in --help (see docs/gk-dcn.md, "Training that converges").
 */
export const TRAIN_DEFAULTS = {
  patience: 15,
  minEpochs: 1,
  stopOn: 'raw' as StopOn,
  lrSchedule: 'constant' as LrSchedule,
  augment: [] as readonly Augmentation[],
  noiseSd: 0.1,
} as const;

export function checkTrainOptions(o: TrainOptions = {}): CheckedTrainOptions {
  const c: CheckedTrainOptions = {
    epochs: o.epochs ?? 60,
    batchSize: o.batchSize ?? 64,
    learningRate: o.learningRate ?? 1e-3,
    weightDecay: o.weightDecay ?? 1e-4,
    lambda: o.lambda ?? 1,
    validationFraction: o.validationFraction ?? 0.2,
    patience: o.patience ?? TRAIN_DEFAULTS.patience,
    minEpochs: o.minEpochs ?? TRAIN_DEFAULTS.minEpochs,
    stopOn: o.stopOn ?? TRAIN_DEFAULTS.stopOn,
    lrSchedule: o.lrSchedule ?? TRAIN_DEFAULTS.lrSchedule,
    augment: o.augment ?? TRAIN_DEFAULTS.augment,
    noiseSd: o.noiseSd ?? TRAIN_DEFAULTS.noiseSd,
    seed: o.seed ?? 1,
    architecture: o.architecture,
    threads: o.threads ?? 1,
    engine: o.engine ?? DEFAULT_ENGINE,
  };
  const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;
  if (!posInt(c.epochs)) throw new InvalidOptionError(`epochs must be a positive integer, got ${c.epochs}`);
  if (!posInt(c.batchSize)) throw new InvalidOptionError(`batch size must be a positive integer, got ${c.batchSize}`);
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) {
    throw new InvalidOptionError(`learning rate must be a positive number, got ${c.learningRate}`);
  }
  if (!(c.weightDecay >= 0 && Number.isFinite(c.weightDecay))) {
    throw new InvalidOptionError(`weight decay must be ≥ 0, got ${c.weightDecay}`);
  }
  if (!(c.lambda >= 0 && Number.isFinite(c.lambda))) throw new InvalidOptionError(`lambda must be ≥ 0, got ${c.lambda}`);
  if (!(c.validationFraction >= 0 && c.validationFraction < 0.5)) {
    throw new InvalidOptionError(`validation fraction must be in [0, 0.5), got ${c.validationFraction}`);
  }
  if (!posInt(c.patience)) throw new InvalidOptionError(`patience must be a positive integer, got ${c.patience}`);
  if (!posInt(c.minEpochs)) throw new InvalidOptionError(`minimum epochs must be a positive integer, got ${c.minEpochs}`);
  if (!STOP_ON.includes(c.stopOn)) throw new InvalidOptionError(`early-stopping criterion must be one of ${STOP_ON.join(', ')}, got ${String(c.stopOn)}`);
  if (!LR_SCHEDULES.includes(c.lrSchedule)) throw new InvalidOptionError(`learning-rate schedule must be one of ${LR_SCHEDULES.join(', ')}, got ${String(c.lrSchedule)}`);
  for (const a of c.augment) if (!AUGMENTATIONS.includes(a)) throw new InvalidOptionError(`augmentation must be one of ${AUGMENTATIONS.join(', ')}, got ${String(a)}`);
  if (!(c.noiseSd >= 0 && Number.isFinite(c.noiseSd))) throw new InvalidOptionError(`noise sd must be ≥ 0, got ${c.noiseSd}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new InvalidOptionError(`seed must be a non-negative integer, got ${c.seed}`);
  if (!posInt(c.threads)) throw new InvalidOptionError(`threads must be a positive integer, got ${c.threads}`);
  if (!TRAIN_ENGINES.includes(c.engine)) throw new InvalidOptionError(`engine must be one of ${TRAIN_ENGINES.join(', ')}, got ${String(c.engine)}`);
  return c;
}

/** A model kind that needs knowledge rasters was given none. */
export class MissingKnowledgeError extends WorkbenchError {}

/**
 * threads > 1 with engine 'tfjs': the tfjs loop trains on one thread (its data-parallel trainer
 * was retired, see TrainOptions.threads). An InvalidOptionError, so callers that map those to
 * "bad flag" keep doing so.
 */
export class TfjsThreadsError extends InvalidOptionError {}

/** One point of a learning curve (RUN_DIR/manifest.json models.<kind>.history). */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss of the epoch's steps (CE + λ·geology + weight decay, as optimised). */
  readonly trainLoss: number;
  /** Validation cross-entropy (NaN-free: absent when there is no validation split). */
  readonly valLoss?: number;
  /** Adam learning rate of the epoch. */
  readonly learningRate?: number;
  /**
   * gk-* only: λ·L_geology / (L_CE + λ·L_geology) at the epoch's end, in inference mode, on the
   * validation sites (on the fit samples without a validation split): how much of the objective
   * the geology term is.
   */
  readonly geologyShare?: number;
  /** gk-* only: aᵢ and b of the geology term at the epoch's end. */
  readonly a?: number[];
  readonly b?: number;
}

export interface TrainedModel {
  readonly kind: ModelKind;
  readonly model: tfl.LayersModel;
  /** aᵢ and b of the geology term (gk-* only); not needed for prediction. */
  readonly geology?: { readonly a: number[]; readonly b: number };
  readonly history: EpochRecord[];
  /** 1-based epoch whose weights were kept. */
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly validationIndices: number[];
  readonly backend: string;
  /** What computed the training steps: 'tfjs' or 'onnx' (ONNX Runtime, see TrainOptions.engine). */
  readonly engine: 'tfjs' | 'onnx';
}

/** Copies samples `idx` of the patch array into one contiguous batch. */
function gatherPatches(data: TrainingData, idx: readonly number[]): tf.Tensor4D {
  const size = data.patchSize * data.patchSize * data.channels;
  const buf = new Float32Array(idx.length * size);
  idx.forEach((s, j) => buf.set(data.x.subarray(s * size, (s + 1) * size), j * size));
  return tf.tensor4d(buf, [idx.length, data.patchSize, data.patchSize, data.channels]);
}

function gatherKnowledge(data: TrainingData, idx: readonly number[]): tf.Tensor2D {
  const k = data.nKnowledge;
  const buf = new Float32Array(idx.length * k);
  idx.forEach((s, j) => buf.set(data.knowledge!.subarray(s * k, (s + 1) * k), j * k));
  return tf.tensor2d(buf, [idx.length, k]);
}

function gatherLabels(data: TrainingData, idx: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from(idx, (s) => data.labels[s]), 'float32');
}

/** Sets the model (and geology term) to the state the ONNX trainer holds after an epoch. */
function loadTrainerState(model: tfl.LayersModel, geoVars: GeologyTermVariables | undefined, state: readonly StateArray[]): void {
  const tensors = state.map((s) => tf.tensor(s.values, s.shape));
  const nWeights = model.weights.length;
  model.setWeights(tensors.slice(0, nWeights));
  if (geoVars) {
    geoVars.a.assign(tensors[nWeights]);
    geoVars.b.assign(tensors[nWeights + 1]);
  }
  tf.dispose(tensors);
}

/** Splits training indices into fit/validation by site, stratified, seeded. */
export function validationSplit(data: TrainingData, trainIdx: readonly number[], fraction: number, seed: number): { fit: number[]; val: number[] } {
  if (fraction === 0) return { fit: [...trainIdx], val: [] };
  const labels = trainIdx.map((i) => data.labels[i]);
  const groups = trainIdx.map((i) => data.siteIds[i]);
  // One fold of a k-fold split is the validation set; k is capped by the sites of the rarer
  // class so that both classes are represented. Fewer than 2 sites per class: no early stopping.
  const sitesPerClass = [0, 1].map((c) => new Set(groups.filter((_, j) => labels[j] === c)).size);
  const k = Math.min(Math.max(2, Math.round(1 / fraction)), ...sitesPerClass);
  if (k < 2) return { fit: [...trainIdx], val: [] };
  const folds = groupedStratifiedKFold(labels, groups, k, seed);
  const val = folds[0].test.map((j) => trainIdx[j]).sort((a, b) => a - b);
  const fit = folds[0].train.map((j) => trainIdx[j]).sort((a, b) => a - b);
  return { fit, val };
}

/** Deposit probabilities (softmax column 1) of samples `idx`, in inference mode. */
export function predictDepositProbability(model: tfl.LayersModel, data: TrainingData, idx: readonly number[], batchSize = 1024): Float32Array {
  const out = new Float32Array(idx.length);
  for (let start = 0; start < idx.length; start += batchSize) {
    const part = idx.slice(start, start + batchSize);
    const p = tf.tidy(() => {
      const xb = gatherPatches(data, part);
      const probs = model.predict(xb, { batchSize: part.length }) as tf.Tensor2D;
      return tf.squeeze(tf.slice(probs, [0, 1], [-1, 1]), [1]);
    });
    out.set(p.dataSync() as Float32Array, start);
    p.dispose();
  }
  return out;
}

/** Cross-entropy of samples `idx` in inference mode and, with a geology term, λ·L_geology's share of CE + λ·L_geology. */
function inferenceLosses(model: tfl.LayersModel, data: TrainingData, idx: readonly number[], geo?: { vars: GeologyTermVariables; lambda: number }): { ce: number; geologyShare?: number } {
  const [ce, g] = tf.tidy(() => {
    const probs = model.predict(gatherPatches(data, idx), { batchSize: idx.length }) as tf.Tensor2D;
    const c = crossEntropy(probs, gatherLabels(data, idx));
    if (!geo) return [c];
    const p = tf.squeeze(tf.slice(probs, [0, 1], [-1, 1]), [1]) as tf.Tensor1D;
    return [c, geologyLoss(p, gatherKnowledge(data, idx), geo.vars)];
  });
  const v = ce.dataSync()[0];
  const gl = g ? g.dataSync()[0] * geo!.lambda : undefined;
  tf.dispose([ce, ...(g ? [g] : [])]);
  return { ce: v, ...(gl !== undefined ? { geologyShare: v + gl > 0 ? gl / (v + gl) : 0 } : {}) };
}

/**
 * The ONNX Runtime epoch runner for trainModel (engine 'onnx' / 'auto'), or null when training
 * must go on with tfjs: 'auto' without onnxruntime-node, or a model the training graph cannot
 * express. Both are reported through ctx; 'onnx' without onnxruntime-node throws
 * OnnxRuntimeUnavailableError.
 */
async function startOnnxEngine(
  kind: ModelKind,
  model: tfl.LayersModel,
  data: TrainingData,
  geoVars: GeologyTermVariables | undefined,
  o: CheckedTrainOptions,
  fit: readonly number[],
  ctx: JobContext | undefined,
  hooks: TrainHooks,
): Promise<EpochRunner | null> {
  const { OnnxTrainer } = await import('./onnx-train/onnx-trainer.ts');
  const { OnnxTrainUnsupportedError } = await import('./onnx-train/train-graph.ts');
  const { OnnxRuntimeUnavailableError } = await import('../onnx/onnx-runtime.ts');
  let trainer: EpochRunner & { prepare(batch: number): Promise<void> } | null = null;
  try {
    trainer = await OnnxTrainer.start(model, data, geoVars ? { a: Array.from(geoVars.a.dataSync()), b: geoVars.b.dataSync()[0] } : null, {
      learningRate: o.learningRate,
      weightDecay: o.weightDecay,
      lambda: o.lambda,
      threads: o.threads,
      ortLoader: hooks.ortLoader,
    });
    // Build the graph of the usual batch now, so an unsupported model falls back before training.
    await trainer.prepare(Math.max(2, Math.min(o.batchSize, fit.length)));
    report(ctx, 0, `${kind}: training engine onnx (ONNX Runtime, ${o.threads} intra-op thread${o.threads > 1 ? 's' : ''})`);
    return trainer;
  } catch (e) {
    await trainer?.close();
    if (e instanceof OnnxRuntimeUnavailableError && o.engine === 'auto') {
      report(ctx, 0, `${kind}: training engine tfjs (onnxruntime-node unavailable: ${e.message.split('. ')[0]})`);
      return null;
    }
    if (e instanceof OnnxTrainUnsupportedError) {
      report(ctx, 0, `${kind}: training engine tfjs (${e.message})`);
      return null;
    }
    throw e;
  }
}

/**
 * Trains `kind` on samples `trainIdx` of `data`. The returned model is the one with the lowest
 * validation loss (or the last epoch's without a validation split). Cancel via ctx.signal.
 */
export async function trainModel(
  kind: ModelKind,
  data: TrainingData,
  trainIdx: readonly number[],
  options: TrainOptions = {},
  ctx?: JobContext,
  hooks: TrainHooks = {},
): Promise<TrainedModel> {
  const o = checkTrainOptions(options);
  if (o.engine === 'tfjs' && o.threads > 1) {
    throw new TfjsThreadsError(
      `training ${kind} with engine tfjs on ${o.threads} threads: the tfjs engine trains on one thread (its data-parallel trainer was retired: ` +
        'ONNX Runtime on one thread is faster, and the replicas changed the results with the thread count). Use engine onnx (--engine onnx) for threads, or threads 1.',
      { engine: o.engine, threads: o.threads },
    );
  }
  const gk = usesGeology(kind);
  if (gk && (!data.knowledge || data.nKnowledge < 1)) {
    throw new MissingKnowledgeError(
      `model ${kind} needs knowledge rasters (the geology term's w) but none were given. Pass --knowledge W.tif or use ${kind.slice(3)}.`,
    );
  }
  if (trainIdx.length === 0) throw new InvalidOptionError(`no training samples for model ${kind}`);

  const rng = new Rng(o.seed);
  const initSeed = rng.nextUint32();
  const shuffleRng = rng.fork(1);
  const { fit: fitOriginal, val } = validationSplit(data, trainIdx, o.validationFraction, rng.nextUint32());
  // Augmented copies are made from fit samples only, after both splits (augment.ts); validation
  // and the geology share are scored on the untouched originals in `data`.
  const aug = augmentFitSet(data, fitOriginal, o.augment, o.noiseSd, rng.fork(2).nextUint32());
  const work = aug ? aug.data : data;
  const fit = aug ? aug.fit : fitOriginal;
  aug?.redraw();

  const architecture = { ...o.architecture, channels: data.channels, patchSize: data.patchSize, seed: initSeed };
  const model = buildModel(kind, architecture);
  const geoVars: GeologyTermVariables | undefined = gk ? createGeologyVariables(data.nKnowledge) : undefined;
  const optimizer = tf.train.adam(o.learningRate);
  const kernels = model.trainableWeights.filter((w) => /kernel/.test(w.originalName)).map((w) => w.read());
  const varList: tf.Variable[] = [...model.trainableWeights.map((w) => w.read() as tf.Variable)];
  if (geoVars) varList.push(geoVars.a, geoVars.b);

  const history: EpochRecord[] = [];
  let best = { epoch: 0, weights: null as tf.Tensor[] | null, geo: null as { a: number[]; b: number } | null };
  let stoppedEarly = false;
  const schedule = new LearningRateSchedule({ schedule: o.lrSchedule, learningRate: o.learningRate, epochs: o.epochs });
  const stopping = new EarlyStopping({ stopOn: o.stopOn, patience: o.patience, minEpochs: Math.min(o.minEpochs, o.epochs) });
  // Geology share measured where validation is (or on ≤ 512 fit originals without a split).
  const shareIdx = val.length > 0 ? val : fitOriginal.slice(0, 512);
  const order = [...fit];
  let onnxRunner: EpochRunner | null = null;
  let engine: 'tfjs' | 'onnx' = 'tfjs';
  try {
    if (o.engine !== 'tfjs') {
      onnxRunner = await startOnnxEngine(kind, model, work, geoVars, o, fit, ctx, hooks);
      if (onnxRunner) engine = 'onnx';
    }
    // 'auto' fell back to tfjs (reported by startOnnxEngine): the tfjs loop has one thread.
    if (!onnxRunner && o.threads > 1) report(ctx, 0, `${kind}: the tfjs engine trains on 1 thread (threads ${o.threads} apply to the onnx engine only)`);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      throwIfCancelled(ctx, `training ${kind}`);
      if (epoch > 1) aug?.redraw();
      const lr = schedule.rateFor(epoch);
      if (onnxRunner) onnxRunner.setLearningRate(lr);
      // tf.train.adam reads this.learningRate at every step (adam_optimizer.js); the field is
      // protected in the typings only.
      else (optimizer as unknown as { learningRate: number }).learningRate = lr;
      shuffleRng.shuffle(order);
      let lossSum = 0;
      let seen = 0;
      if (onnxRunner) {
        ({ lossSum, seen } = await onnxRunner.runEpoch(order, o.batchSize, subJob(ctx, (epoch - 1) / o.epochs, epoch / o.epochs, `${kind} epoch ${epoch}/${o.epochs}`)));
        loadTrainerState(model, geoVars, await onnxRunner.state(ctx));
      } else {
        for (let start = 0; start < order.length; start += o.batchSize) {
          const batch = order.slice(start, start + o.batchSize);
          // BatchNorm cannot normalise a batch of one sample (zero variance); drop such a remainder.
          if (batch.length < 2) continue;
          const xb = gatherPatches(work, batch);
          const yb = gatherLabels(work, batch);
          const wb = geoVars ? gatherKnowledge(work, batch) : undefined;
          const loss = optimizer.minimize(
            () => {
              const probs = model.apply(xb, { training: true }) as tf.Tensor2D;
              let l = totalLoss(probs, yb, o.lambda, wb && geoVars ? { w: wb, vars: geoVars } : undefined);
              if (o.weightDecay > 0) {
                const l2 = tf.addN(kernels.map((k) => tf.sum(tf.square(k))));
                l = tf.add(l, tf.mul(0.5 * o.weightDecay, l2)) as tf.Scalar;
              }
              return l;
            },
            true,
            varList,
          );
          lossSum += loss!.dataSync()[0] * batch.length;
          seen += batch.length;
          tf.dispose([xb, yb, loss!]);
          if (wb) wb.dispose();
          // Progress inside the epoch, as the onnx engine's runEpoch reports it (issue 18: the
          // app's text stayed on what came before until the first epoch ended).
          report(ctx, (epoch - 1 + (start + batch.length) / order.length) / o.epochs, `${kind} epoch ${epoch}/${o.epochs}: batch ${start / o.batchSize + 1}/${Math.ceil(order.length / o.batchSize)}`);
          // Let a pending cancel or a progress listener run between steps, and stop on it.
          await cancelPoint(ctx, `training ${kind}`);
        }
      }
      const trainLoss = lossSum / Math.max(1, seen);
      const geoNow = geoVars ? { a: Array.from(geoVars.a.dataSync()), b: geoVars.b.dataSync()[0] } : undefined;
      const infIdx = val.length > 0 ? val : shareIdx;
      // Engine onnx: a forward-only ONNX graph (OnnxTrainer.validationLosses, equal to the tfjs
      // inference losses within 1e-5, tests/models/onnx-train-validation.test.ts), so the epoch's
      // validation needs no tfjs forward pass; the tfjs engine keeps inferenceLosses.
      const inf =
        val.length > 0 || (geoVars && o.lambda > 0)
          ? onnxRunner?.validationLosses
            ? await onnxRunner.validationLosses(infIdx, { data })
            : inferenceLosses(model, data, infIdx, geoVars ? { vars: geoVars, lambda: o.lambda } : undefined)
          : undefined;
      const valLoss = val.length > 0 ? inf?.ce : undefined;
      history.push({
        epoch,
        trainLoss,
        ...(valLoss !== undefined ? { valLoss } : {}),
        learningRate: lr,
        ...(inf?.geologyShare !== undefined ? { geologyShare: inf.geologyShare } : {}),
        ...(geoNow ? { a: geoNow.a, b: geoNow.b } : {}),
      });
      schedule.observe(valLoss);
      report(ctx, epoch / o.epochs, `${kind} epoch ${epoch}/${o.epochs} loss ${trainLoss.toFixed(4)}${valLoss !== undefined ? ` val ${valLoss.toFixed(4)}` : ''}`, {
        kind: 'epoch',
        model: kind,
        epoch,
        epochs: o.epochs,
        loss: trainLoss,
        valLoss: valLoss ?? null,
      });
      if (valLoss !== undefined) {
        const step = stopping.observe(epoch, valLoss, o.epochs);
        if (step.improved) {
          if (best.weights) tf.dispose(best.weights);
          best = { epoch, weights: model.getWeights().map((w) => tf.clone(w)), geo: geoNow ?? null };
        } else if (step.stop) {
          stoppedEarly = true;
          break;
        }
      }
    }
    let bestEpoch = history.length;
    let geology = geoVars ? { a: Array.from(geoVars.a.dataSync()), b: geoVars.b.dataSync()[0] } : undefined;
    if (best.weights) {
      model.setWeights(best.weights);
      bestEpoch = best.epoch;
      geology = best.geo ?? undefined;
    }
    return { kind, model, geology, history, bestEpoch, stoppedEarly, validationIndices: val, backend: tf.getBackend(), engine };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    await onnxRunner?.close();
    if (best.weights) tf.dispose(best.weights);
    optimizer.dispose();
    if (geoVars) tf.dispose([geoVars.a, geoVars.b]);
  }
}
