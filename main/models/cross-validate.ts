import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { groupedStratifiedKFold, summarize } from '../eval/folds.ts';
import { chooseThreshold, classificationMetrics, rocAuc, rocCurve, type ClassificationMetrics, type RocCurve, type ThresholdMode } from '../eval/metrics.ts';
import type { ModelKind } from './architectures.ts';
import { predictDepositProbability, trainModel, type TrainedModel, type TrainingData, type TrainOptions } from './train.ts';
import { baselineScorer, fitBaseline, scoreSamples, type BaselineFitContext, type BaselineKind, type BaselineModel } from './baselines/baseline-models.ts';
import { fileModelHandler, foldModelName, modelDir } from './run-store.ts';
import { comparisonRecord, pairedSiteBootstrap, siteBootstrapIntervals, type Comparison, type ScoredFold } from '../eval/bootstrap.ts';
import { moduleUrl } from '../util/module-url.ts';
import { METRIC_NAMES, type MetricName } from './metric-names.ts';

/**
 * Cross-validation of one model kind.
 *
 * - 'grouped' (the default, the honest one): stratified k-fold where every sample of one site
 *   (the 9 cells of a 3×3 block) falls in the same fold, repeated with several seeds.
 * - 'leaky': the reference code's protocol, a random split of PATCHES, kept only to measure how
 *   much it inflates the scores: a test patch then usually has a one-cell-shifted neighbour of
 *   the same block in training, whose 9×9 window shares 72 of its 81 cells.
 *   Implemented as the same stratified k-fold with every patch its own group.
 *
 * The decision threshold is chosen on the training samples' scores of each fold only (never on
 * the test fold). Folds depend only on (seed, repeat), and every fold's training seed only on
 * (seed, repeat, fold), so all model kinds see identical splits and initial seeds.
 */

export type CvProtocol = 'grouped' | 'leaky';
// The metric list lives in a light module (run-folder readers need it without TensorFlow.js).
export { METRIC_NAMES, type MetricName };

export interface CrossValidationOptions {
  /** Folds per repeat. @default 5 */
  readonly folds?: number;
  /** Repeats with different fold assignments. @default 3 */
  readonly repeats?: number;
  /** Seed of the fold assignment and of every fold's training. @default 1 */
  readonly seed?: number;
  /** @default 'grouped' */
  readonly protocol?: CvProtocol;
  /** Threshold chosen on training data: 0.5 or the F1-optimal one. @default 'fixed' */
  readonly threshold?: ThresholdMode;
  /**
   * Training options of every fold (its seed is overridden per fold). `train.threads` > 1 trains
   * the final models (after the folds, one at a time) on one ONNX Runtime session with that many
   * intra-op threads (engine onnx; with engine 'tfjs' it is refused, TfjsThreadsError: the tfjs
   * loop has one thread); folds always train on one thread each. `train.engine` (default
   * DEFAULT_ENGINE, 'auto') reaches every fold and final model, also in the worker threads.
   */
  readonly train?: TrainOptions;
  /**
   * Worker threads for `crossValidateAndFit`: folds and (unless train.threads > 1) final models
   * of all kinds are trained in parallel, each worker on its own tfjs backend. Results are
   * bit-identical to 1 thread (every fit is seeded on its own). @default 1
   */
  readonly threads?: number;
  /** Backend the workers start (the caller's own is used with 1 thread). @default 'auto' */
  readonly backend?: string;
  /**
   * A run directory: every fold's trained network is saved there as models/<kind>/fold-r<R>-f<F>/
   * (run-store.ts foldModelName), for predict's ensembles. '' = not saved. @default ''
   */
  readonly saveFoldModels?: string;
  /**
   * Nested tuning (networks only): candidate values per training option, e.g. { lambda: [0.1, 1,
   * 10], epochs: [30, 60] }. Every outer fold picks the combination with the best mean AUC of an
   * inner grouped CV on ITS training samples only (tuneSettings), then trains with it; the final
   * model's settings come from the same inner CV on all samples. {} = no tuning. @default {}
   */
  readonly tune?: TuneGrid;
  /** Folds of the inner CV of `tune`. @default 3 */
  readonly innerFolds?: number;
}

/** Training options that `--tune` may vary. */
export const TUNABLE = ['lambda', 'epochs', 'learningRate', 'weightDecay', 'patience', 'batchSize'] as const;
export type TunableOption = (typeof TUNABLE)[number];
export type TuneGrid = Partial<Record<TunableOption, readonly number[]>>;
export type TuneChoice = Partial<Record<TunableOption, number>>;

export type CheckedCrossValidationOptions = Required<CrossValidationOptions>;

export function checkCrossValidationOptions(o: CrossValidationOptions = {}): CheckedCrossValidationOptions {
  const c: CheckedCrossValidationOptions = {
    folds: o.folds ?? 5,
    repeats: o.repeats ?? 3,
    seed: o.seed ?? 1,
    protocol: o.protocol ?? 'grouped',
    threshold: o.threshold ?? 'fixed',
    train: o.train ?? {},
    threads: o.threads ?? 1,
    backend: o.backend ?? 'auto',
    saveFoldModels: o.saveFoldModels ?? '',
    tune: o.tune ?? {},
    innerFolds: o.innerFolds ?? 3,
  };
  for (const [k, v] of Object.entries(c.tune)) {
    if (!(TUNABLE as readonly string[]).includes(k)) throw new InvalidOptionError(`tune: "${k}" is not a tunable option; use one of ${TUNABLE.join(', ')}`);
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new InvalidOptionError(`tune: ${k} needs a non-empty list of numbers, got ${JSON.stringify(v)}`);
  }
  if (!Number.isInteger(c.innerFolds) || c.innerFolds < 2) throw new InvalidOptionError(`innerFolds must be an integer ≥ 2, got ${c.innerFolds}`);
  if (!Number.isInteger(c.threads) || c.threads < 1) throw new InvalidOptionError(`threads must be an integer ≥ 1, got ${c.threads}`);
  if (!Number.isInteger(c.folds) || c.folds < 2) throw new InvalidOptionError(`folds must be an integer ≥ 2, got ${c.folds}`);
  if (!Number.isInteger(c.repeats) || c.repeats < 1) throw new InvalidOptionError(`repeats must be a positive integer, got ${c.repeats}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new InvalidOptionError(`seed must be a non-negative integer, got ${c.seed}`);
  if (c.protocol !== 'grouped' && c.protocol !== 'leaky') {
    throw new InvalidOptionError(`protocol must be 'grouped' or 'leaky', got "${String(c.protocol)}"`);
  }
  if (c.threshold !== 'fixed' && c.threshold !== 'f1-optimal') {
    throw new InvalidOptionError(`threshold must be 'fixed' or 'f1-optimal', got "${String(c.threshold)}"`);
  }
  return c;
}

/** A network or a baseline (baselines/baseline-models.ts). */
export type AnyModelKind = ModelKind | BaselineKind;

export interface FoldResult {
  readonly repeat: number;
  readonly fold: number;
  readonly trainSeed: number;
  readonly nTrain: number;
  readonly nTest: number;
  readonly threshold: number;
  readonly metrics: ClassificationMetrics;
  /** ROC curve of the test fold's scores. */
  readonly roc: RocCurve;
  /** Held-out sample indices (ascending) and the model's deposit probability at each: the site bootstrap resamples these. */
  readonly testIndices: number[];
  readonly testScores: number[];
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  /** Networks: what computed the fold's training steps (TrainedModel.engine), so a silent fallback to tfjs is visible. */
  readonly engine?: 'tfjs' | 'onnx';
  readonly geology?: { readonly a: number[]; readonly b: number };
  /** Settings chosen by the inner CV of this fold (nested tuning), with each candidate's inner mean AUC. */
  readonly tuned?: TuneResult;
}

export type MetricTable = Record<MetricName, number>;

export interface CrossValidationResult {
  readonly kind: AnyModelKind;
  readonly protocol: CvProtocol;
  readonly options: CheckedCrossValidationOptions;
  readonly folds: FoldResult[];
  /** Mean over all folds × repeats. */
  readonly mean: MetricTable;
  /** Sample sd over all folds × repeats. */
  readonly sd: MetricTable;
  /**
   * 95% interval of the mean: site-bootstrap percentiles (eval/bootstrap.ts: held-out sites
   * resampled within every fold of every repeat), so it stays inside each metric's range.
   */
  readonly ci95: Record<MetricName, [number, number]>;
  readonly backend: string;
}

/** The fold assignment of one repeat: depends only on (labels, siteIds, k, seed, repeat, protocol). */
export function foldsFor(data: TrainingData, o: CheckedCrossValidationOptions, repeat: number): { train: number[]; test: number[] }[] {
  const foldSeed = new Rng(o.seed).fork(repeat).nextUint32();
  const groups = o.protocol === 'grouped' ? data.siteIds : Array.from({ length: data.n }, (_, i) => `patch-${i}`);
  return groupedStratifiedKFold(data.labels, groups, o.folds, foldSeed);
}

export function trainSeedFor(seed: number, repeat: number, fold: number): number {
  return new Rng(seed).fork(1000 + repeat).fork(fold).nextUint32() % 2147483647;
}

/** Bootstrap replicates of the intervals and comparisons in metrics.json. */
export const BOOTSTRAP_REPLICATES = 1000;

/** The folds as the site bootstrap sees them: test labels, sites, scores and threshold. */
export function scoredFolds(folds: readonly FoldResult[], data: Pick<TrainingData, 'labels' | 'siteIds'>): ScoredFold[] {
  return folds.map((f) => ({
    labels: f.testIndices.map((i) => data.labels[i]),
    groups: f.testIndices.map((i) => data.siteIds[i]),
    scores: f.testScores,
    threshold: f.threshold,
  }));
}

/**
 * Mean and sd over all folds × repeats, and the 95% site-bootstrap interval of the mean (seeded).
 * Without `data` (folds from an older caller) the interval is the t interval of the per-repeat
 * means (of the folds with one repeat), clipped to the metric's range and flagged by nothing
 * else: prefer passing the data.
 */
export function summarizeFolds(
  folds: readonly FoldResult[],
  repeats: number,
  data?: Pick<TrainingData, 'labels' | 'siteIds'>,
  seed = 1,
): Pick<CrossValidationResult, 'mean' | 'sd' | 'ci95'> {
  const mean = {} as MetricTable;
  const sd = {} as MetricTable;
  const ci95 = {} as Record<MetricName, [number, number]>;
  const boot = data && folds.every((f) => f.testIndices?.length > 0) ? siteBootstrapIntervals(scoredFolds(folds, data), { replicates: BOOTSTRAP_REPLICATES, seed }) : null;
  for (const m of METRIC_NAMES) {
    const all = folds.map((f) => f.metrics[m]);
    const s = summarize(all);
    mean[m] = s.mean;
    sd[m] = s.sd;
    if (boot) {
      ci95[m] = boot[m];
      continue;
    }
    let t = s.ci95;
    if (repeats >= 2) {
      const perRepeat: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const v = folds.filter((f) => f.repeat === r).map((f) => f.metrics[m]);
        perRepeat.push(v.reduce((a, b) => a + b, 0) / v.length);
      }
      t = summarize(perRepeat).ci95;
    }
    const [lo, hi] = m === 'kappa' || m === 'mcc' ? [-1, 1] : [0, 1];
    ci95[m] = [Math.max(lo, t[0]), Math.min(hi, t[1])];
  }
  return { mean, sd, ci95 };
}

export interface FoldSpec {
  readonly repeat: number;
  readonly fold: number;
  readonly train: number[];
  readonly test: number[];
  readonly trainSeed: number;
}

/** Every combination of a tuning grid, in a fixed order (the first option varies slowest). */
export function tuneCombinations(grid: TuneGrid): TuneChoice[] {
  let out: TuneChoice[] = [{}];
  for (const k of TUNABLE) {
    const values = grid[k];
    if (!values) continue;
    out = out.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  return out;
}

export interface TuneResult {
  readonly chosen: TuneChoice;
  readonly candidates: { readonly settings: TuneChoice; readonly innerAuc: number }[];
}

/** Trains on `fit` and returns the deposit probabilities of `score` (the inner CV's unit of work). */
export type InnerFit = (kind: ModelKind, fit: readonly number[], score: readonly number[], train: TrainOptions) => Promise<Float32Array>;

const defaultInnerFit =
  (data: TrainingData): InnerFit =>
  async (kind, fit, score, train) => {
    const t = await trainModel(kind, data, fit, train);
    try {
      return predictDepositProbability(t.model, data, score);
    } finally {
      t.model.dispose();
    }
  };

/**
 * Nested tuning of one outer fold: a grouped stratified inner CV over `trainIdx` ONLY (the
 * outer test sites never enter it), every candidate of the grid trained on each inner training
 * part and scored by AUC on the inner held-out part; the best mean AUC wins (ties: the first
 * candidate). `fit` is injectable so tests can watch which samples are used.
 */
export async function tuneSettings(
  kind: ModelKind,
  data: TrainingData,
  trainIdx: readonly number[],
  o: CheckedCrossValidationOptions,
  seed: number,
  fit: InnerFit = defaultInnerFit(data),
): Promise<TuneResult> {
  const combos = tuneCombinations(o.tune);
  const labels = trainIdx.map((i) => data.labels[i]);
  const groups = trainIdx.map((i) => data.siteIds[i]);
  const sitesPerClass = [0, 1].map((c) => new Set(groups.filter((_, j) => labels[j] === c)).size);
  const k = Math.min(o.innerFolds, ...sitesPerClass);
  if (k < 2) throw new InvalidOptionError(`nested tuning: a training fold has ${Math.min(...sitesPerClass)} site(s) of one class; the inner CV needs ≥ 2. Use fewer outer --folds or drop --tune`);
  const inner = groupedStratifiedKFold(labels, groups, k, seed).map((f) => ({ train: f.train.map((j) => trainIdx[j]), test: f.test.map((j) => trainIdx[j]) }));
  const candidates: TuneResult['candidates'][number][] = [];
  for (const settings of combos) {
    let sum = 0;
    for (const [i, f] of inner.entries()) {
      const scores = await fit(kind, f.train, f.test, { ...o.train, ...settings, seed: (seed + 7919 * (i + 1)) % 2147483647, threads: 1 });
      sum += rocAuc(f.test.map((j) => data.labels[j]), scores);
    }
    candidates.push({ settings, innerAuc: sum / inner.length });
  }
  let best = candidates[0];
  for (const c of candidates) if (c.innerAuc > best.innerAuc) best = c;
  return { chosen: best.settings, candidates };
}

/**
 * The held-out part of one fold's result, the same for networks and baselines: the threshold is
 * chosen on the training sites' scores, the metrics and ROC are the test sites'.
 */
function heldOutFold(
  at: { readonly repeat: number; readonly fold: number; readonly trainSeed: number; readonly train: readonly number[]; readonly test: readonly number[] },
  data: Pick<TrainingData, 'labels'>,
  trainScores: Float32Array,
  testScores: Float32Array,
  thresholdMode: CheckedCrossValidationOptions['threshold'],
): Omit<FoldResult, 'bestEpoch' | 'stoppedEarly'> {
  const threshold = chooseThreshold(at.train.map((i) => data.labels[i]), trainScores, thresholdMode);
  const testLabels = at.test.map((i) => data.labels[i]);
  return {
    repeat: at.repeat,
    fold: at.fold,
    trainSeed: at.trainSeed,
    nTrain: at.train.length,
    nTest: at.test.length,
    threshold,
    metrics: classificationMetrics(testLabels, testScores, threshold),
    roc: rocCurve(testLabels, testScores),
    testIndices: [...at.test],
    testScores: Array.from(testScores),
  };
}

/** Trains one fold and scores it; the threshold comes from the training samples only. */
export async function evaluateFold(kind: ModelKind, data: TrainingData, spec: FoldSpec, o: CheckedCrossValidationOptions, ctx?: JobContext): Promise<FoldResult> {
  const { train, test, trainSeed } = spec;
  const tuned = Object.keys(o.tune).length > 0 ? await tuneSettings(kind, data, train, o, trainSeed) : undefined;
  // One thread per fold: folds already run in parallel across threads (cv-worker); intra-op
  // threads (o.train.threads, engine onnx) are for the final fits, which run alone.
  const trained = await trainModel(kind, data, train, { ...o.train, ...(tuned?.chosen ?? {}), seed: trainSeed, threads: 1 }, ctx);
  try {
    const heldOut = heldOutFold(spec, data, predictDepositProbability(trained.model, data, train), predictDepositProbability(trained.model, data, test), o.threshold);
    if (o.saveFoldModels !== '') await trained.model.save(fileModelHandler(modelDir(o.saveFoldModels, foldModelName(kind, spec.repeat, spec.fold))));
    return {
      ...heldOut,
      bestEpoch: trained.bestEpoch,
      stoppedEarly: trained.stoppedEarly,
      engine: trained.engine,
      ...(trained.geology ? { geology: trained.geology } : {}),
      ...(tuned ? { tuned } : {}),
    };
  } finally {
    trained.model.dispose();
  }
}

/** Settings of a final model under nested tuning: the same inner CV over all samples (undefined without --tune). */
export async function finalTuning(kind: ModelKind, data: TrainingData, o: CheckedCrossValidationOptions): Promise<TuneResult | undefined> {
  if (Object.keys(o.tune).length === 0) return undefined;
  return tuneSettings(kind, data, Array.from({ length: data.n }, (_, i) => i), o, o.seed);
}

export async function crossValidate(
  kind: ModelKind,
  data: TrainingData,
  options: CrossValidationOptions = {},
  ctx?: JobContext,
): Promise<CrossValidationResult> {
  const o = checkCrossValidationOptions(options);
  const results: FoldResult[] = [];
  const total = o.folds * o.repeats;
  for (let r = 0; r < o.repeats; r++) {
    const folds = foldsFor(data, o, r);
    for (let f = 0; f < folds.length; f++) {
      throwIfCancelled(ctx, `cross-validation of ${kind}`);
      const step = r * o.folds + f;
      const { train, test } = folds[f];
      const trainSeed = trainSeedFor(o.seed, r, f);
      results.push(
        await evaluateFold(kind, data, { repeat: r, fold: f, train, test, trainSeed }, o, subJob(ctx, step / total, (step + 1) / total, `${kind} (${o.protocol}) repeat ${r + 1}/${o.repeats} fold ${f + 1}/${o.folds}`)),
      );
    }
  }
  return { kind, protocol: o.protocol, options: o, folds: results, ...summarizeFolds(results, o.repeats, data, o.seed), backend: tf.getBackend() };
}

/** The `metrics.json` entry of one model: the shape the CLI promises, plus the interval. */
export function metricsJsonEntry(r: CrossValidationResult): {
  folds: ClassificationMetrics[];
  mean: MetricTable;
  sd: MetricTable;
  ci95: Record<MetricName, [number, number]>;
  protocol: CvProtocol;
  folds_k: number;
  repeats: number;
} {
  return {
    folds: r.folds.map((f) => ({ ...f.metrics })),
    mean: r.mean,
    sd: r.sd,
    ci95: r.ci95,
    protocol: r.protocol,
    folds_k: r.options.folds,
    repeats: r.options.repeats,
  };
}

export interface ModelRunResult {
  readonly cv: CrossValidationResult;
  /** The model trained on all samples (same early-stopping rule), for prediction. */
  readonly final: TrainedModel;
  /** Nested tuning: the settings of the final model, chosen by the inner CV over all samples. */
  readonly finalTuned?: TuneResult;
}

/**
 * Cross-validates every kind and then fits one final model per kind on all samples (seeded
 * with the run seed; its early-stopping validation split is drawn from all sites). The
 * caller owns (and must dispose) the final models.
 */
export async function crossValidateAndFit(
  kinds: readonly ModelKind[],
  data: TrainingData,
  options: CrossValidationOptions = {},
  ctx?: JobContext,
): Promise<Map<ModelKind, ModelRunResult>> {
  const o = checkCrossValidationOptions(options);
  if (o.threads > 1) return crossValidateAndFitParallel(kinds, data, o, ctx);
  const out = new Map<ModelKind, ModelRunResult>();
  const all = Array.from({ length: data.n }, (_, i) => i);
  try {
    for (let m = 0; m < kinds.length; m++) {
      const kind = kinds[m];
      const share = 1 / kinds.length;
      const cv = await crossValidate(kind, data, o, subJob(ctx, m * share, (m + 0.85) * share));
      const finalTuned = await finalTuning(kind, data, o);
      const final = await trainModel(kind, data, all, { ...o.train, ...(finalTuned?.chosen ?? {}), seed: o.seed }, subJob(ctx, (m + 0.85) * share, (m + 1) * share, `${kind} final model`));
      out.set(kind, { cv, final, ...(finalTuned ? { finalTuned } : {}) });
    }
  } catch (e) {
    for (const r of out.values()) r.final.model.dispose();
    throw e;
  }
  return out;
}

/** Work item of the CV worker: one fold, or a final model (saved to `saveDir`). */
export type CvTask =
  | { readonly type: 'fold'; readonly kind: ModelKind; readonly spec: FoldSpec }
  | { readonly type: 'final'; readonly kind: ModelKind; readonly saveDir: string };

export interface CvWorkerInput {
  readonly data: TrainingData;
  readonly options: CheckedCrossValidationOptions;
}

export type CvTaskResult =
  | { readonly type: 'fold'; readonly fold: FoldResult; readonly backend: string }
  | { readonly type: 'final'; readonly trained: Omit<TrainedModel, 'model'>; readonly tuned?: TuneResult };

/**
 * The parallel path of crossValidateAndFit: every fold of every kind and the final models are
 * independent seeded fits, so they are spread over worker threads (each starts its own tfjs
 * backend); final models are saved by the worker and loaded back here.
 */
async function crossValidateAndFitParallel(kinds: readonly ModelKind[], data: TrainingData, o: CheckedCrossValidationOptions, ctx?: JobContext): Promise<Map<ModelKind, ModelRunResult>> {
  const { runTasks } = await import('../jobs/worker-pool.ts');
  const { fileModelHandler } = await import('./run-store.ts');
  const tfl = await import('@tensorflow/tfjs-layers');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const tmp = mkdtempSync(join(tmpdir(), 'ga-cv-'));
  const tasks: CvTask[] = [];
  // Final models first (when they are pool tasks): they are the longest fits, so the pool's tail
  // stays short. With train.threads > 1 the final models are trained after the folds, each alone on
  // ONNX Runtime with that many intra-op threads (below); otherwise they are tasks of the pool like the folds.
  const finalsInPool = (o.train.threads ?? 1) <= 1;
  if (finalsInPool) for (const kind of kinds) tasks.push({ type: 'final', kind, saveDir: join(tmp, kind) });
  for (const kind of kinds) {
    for (let r = 0; r < o.repeats; r++) {
      foldsFor(data, o, r).forEach(({ train, test }, f) => tasks.push({ type: 'fold', kind, spec: { repeat: r, fold: f, train, test, trainSeed: trainSeedFor(o.seed, r, f) } }));
    }
  }
  try {
    const results = await runTasks<CvTask, CvTaskResult>(
      moduleUrl('./cv-worker.ts', import.meta.url),
      tasks,
      { threads: Math.min(o.threads, tasks.length), workerData: { data, options: o } satisfies CvWorkerInput, label: 'cross-validation', loader: 'tsx', stopBeforeTerminate: true },
      { signal: ctx?.signal, progress: (f) => report(ctx, finalsInPool ? f : 0.8 * f, `training ${tasks.length} fits on ${o.threads} threads`) },
    );
    const out = new Map<ModelKind, ModelRunResult>();
    const all = Array.from({ length: data.n }, (_, i) => i);
    try {
      for (const [m, kind] of kinds.entries()) {
        const folds = results.flatMap((res, i) => (res.type === 'fold' && tasks[i].kind === kind ? [res.fold] : []));
        const backend = results.find((res, i) => res.type === 'fold' && tasks[i].kind === kind) as { backend: string } | undefined;
        let final: TrainedModel;
        let finalTuned: TuneResult | undefined;
        if (finalsInPool) {
          const fin = results.find((res, i) => res.type === 'final' && tasks[i].kind === kind) as { trained: Omit<TrainedModel, 'model'>; tuned?: TuneResult };
          final = { ...fin.trained, model: await tfl.loadLayersModel(fileModelHandler(join(tmp, kind))) };
          finalTuned = fin.tuned;
        } else {
          const share = 0.2 / kinds.length;
          finalTuned = await finalTuning(kind, data, o);
          final = await trainModel(kind, data, all, { ...o.train, ...(finalTuned?.chosen ?? {}), seed: o.seed }, subJob(ctx, 0.8 + m * share, 0.8 + (m + 1) * share, `${kind} final model`));
        }
        out.set(kind, {
          cv: { kind, protocol: o.protocol, options: o, folds, ...summarizeFolds(folds, o.repeats, data, o.seed), backend: backend?.backend ?? final.backend },
          final,
          ...(finalTuned ? { finalTuned } : {}),
        });
      }
    } catch (e) {
      for (const r of out.values()) r.final.model.dispose();
      throw e;
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface BaselineRunResult {
  readonly cv: CrossValidationResult;
  /** The baseline fitted on all samples, for prediction. */
  readonly final: BaselineModel;
  /** The fold models (ensemble members, like the networks' saved fold models). */
  readonly foldModels: { readonly repeat: number; readonly fold: number; readonly model: BaselineModel }[];
}

/**
 * Cross-validates baselines in exactly the networks' protocol (the same folds from foldsFor, the
 * threshold chosen on the training samples, the same metrics and bootstrap), then fits each on
 * all samples. Baselines are fast and run on this thread.
 */
export function crossValidateBaselines(
  kinds: readonly BaselineKind[],
  data: TrainingData,
  fit: BaselineFitContext,
  options: CrossValidationOptions = {},
  ctx?: JobContext,
): Map<BaselineKind, BaselineRunResult> {
  const o = checkCrossValidationOptions(options);
  const out = new Map<BaselineKind, BaselineRunResult>();
  const all = Array.from({ length: data.n }, (_, i) => i);
  const splits = Array.from({ length: o.repeats }, (_, r) => foldsFor(data, o, r));
  kinds.forEach((kind, m) => {
    const folds: FoldResult[] = [];
    const foldModels: BaselineRunResult['foldModels'][number][] = [];
    splits.forEach((split, r) => {
      split.forEach(({ train, test }, f) => {
        throwIfCancelled(ctx, `cross-validation of ${kind}`);
        const trainSeed = trainSeedFor(o.seed, r, f);
        const model = fitBaseline(kind, data, train, { ...fit, seed: trainSeed });
        foldModels.push({ repeat: r, fold: f, model });
        const scorer = baselineScorer(model);
        folds.push({
          ...heldOutFold({ repeat: r, fold: f, trainSeed, train, test }, data, scoreSamples(scorer, data, train), scoreSamples(scorer, data, test), o.threshold),
          bestEpoch: 0,
          stoppedEarly: false,
        });
      });
    });
    report(ctx, (m + 0.9) / kinds.length, `${kind}: ${folds.length} folds`);
    const final = fitBaseline(kind, data, all, { ...fit, seed: o.seed });
    out.set(kind, { cv: { kind, protocol: o.protocol, options: o, folds, ...summarizeFolds(folds, o.repeats, data, o.seed), backend: 'js' }, final, foldModels });
  });
  return out;
}

/**
 * Paired site-bootstrap comparisons of every pair of models (a before b in the given order):
 * metrics.json's "comparisons". Every model must come from the same folds (one run).
 */
export function compareModels(
  results: ReadonlyArray<readonly [string, CrossValidationResult]>,
  data: Pick<TrainingData, 'labels' | 'siteIds'>,
  options: { readonly metric?: MetricName; readonly seed?: number; readonly replicates?: number } = {},
): Comparison[] {
  const metric = options.metric ?? 'auc';
  const scored = results.map(([name, r]) => [name, scoredFolds(r.folds, data)] as const);
  const out: Comparison[] = [];
  for (let i = 0; i < scored.length; i++) {
    for (let j = i + 1; j < scored.length; j++) {
      const d = pairedSiteBootstrap(scored[i][1], scored[j][1], metric, { seed: options.seed ?? 1, replicates: options.replicates ?? BOOTSTRAP_REPLICATES });
      out.push(comparisonRecord(scored[i][0], scored[j][0], metric, d));
    }
  }
  return out;
}
