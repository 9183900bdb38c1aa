import { RandomForestClassifier } from 'ml-random-forest';
import { InvalidOptionError } from '../../errors.ts';
import type { TrainingData } from '../train.ts';
import { fitLogistic, predictLogistic, type LogisticFit } from './logistic.ts';
import { centreValues, featureNames, windowFeatures } from './site-features.ts';

/**
 * The baselines a geologist compares a network against, trained and scored in the same protocol
 * (same grouped folds, same metrics, same map prediction through windows):
 *
 * - 'index': additive z-score index of log values, the mean of the standardised log10 centre
 *   values over an element list (`indexElements`), by default the elements with positive
 *   loadings on the robust PC most correlated (on the TRAINING samples) with the deposits;
 * - 'pc': that robust PC's score (RPCA of the whole stack's log10 values, main/eval/robust-pca.ts;
 *   unsupervised, so fitting it on the whole grid leaks no label), signed so deposits score high;
 * - 'logreg': logistic regression (ml-logistic-regression, see logistic.ts) on per-site features:
 *   each element's centre value, window mean and window sd (site-features.ts);
 * - 'rf': random forest (ml-random-forest) on the same features.
 *
 * 'index' and 'pc' give scores, not probabilities: a one-feature logistic fit on the training
 * samples maps them to a deposit probability (monotone, so the AUC is the score's own), which
 * makes the 0.5 threshold, the map's p_<model> band and the C–A classes mean what they mean for
 * the networks. Every model is plain JSON (the run store saves it as models/<kind>/baseline.json).
 */

export type BaselineKind = 'index' | 'pc' | 'logreg' | 'rf';
export const BASELINE_KINDS: readonly BaselineKind[] = ['index', 'pc', 'logreg', 'rf'];

export function isBaselineKind(k: string): k is BaselineKind {
  return (BASELINE_KINDS as readonly string[]).includes(k);
}

/** What the RPCA of the stack contributes (robust-pca.ts, transform log10). */
export interface RobustComponents {
  /** Robust centre of the log10 values, per band. */
  readonly center: number[];
  /** loadings[b][k]: weight of band b on component k. */
  readonly loadings: number[][];
  readonly explained: number[];
}

/** How transformed centre values go back to log10 values: log10 v = z·sd + mean (log10-standardize). */
export interface Log10Scaling {
  readonly means: number[];
  readonly stds: number[];
}

export interface BaselineFitContext {
  readonly bandNames: readonly string[];
  /** Needed by 'pc' and by 'index' without `indexElements`. */
  readonly components?: RobustComponents;
  /** Needed with `components` (the patches are standardised log10 values). */
  readonly scaling?: Log10Scaling;
  /** Elements of the 'index' baseline; default: chosen from the RPCA (see above). */
  readonly indexElements?: readonly string[];
  /** Seed of the random forest. @default 1 */
  readonly seed?: number;
  /** Trees of the random forest. @default 100 */
  readonly trees?: number;
  /** Gradient steps of the logistic regression. @default 2000 */
  readonly logisticSteps?: number;
}

/** A one-feature logistic map score → probability (standardised score, intercept first). */
export interface Calibration {
  readonly fit: LogisticFit;
}

export interface IndexModel {
  readonly kind: 'index';
  readonly elements: string[];
  readonly bands: number[];
  /** 'given' (--index-elements) or 'rpca' (positive loadings of `component`). */
  readonly source: 'given' | 'rpca';
  readonly component?: number;
  readonly calibration: Calibration;
}

export interface PcModel {
  readonly kind: 'pc';
  /** 0-based component of the RPCA. */
  readonly component: number;
  /** +1 or −1: the sign that makes the score rise with deposits (training samples). */
  readonly sign: number;
  /** Correlation of the signed score with the training labels. */
  readonly correlation: number;
  readonly center: number[];
  readonly loading: number[];
  readonly scaling: Log10Scaling;
  readonly calibration: Calibration;
}

export interface LogregModel {
  readonly kind: 'logreg';
  readonly features: string[];
  readonly fit: LogisticFit;
}

export interface RfModel {
  readonly kind: 'rf';
  readonly features: string[];
  readonly trees: number;
  readonly seed: number;
  /** ml-random-forest's own JSON (RandomForestClassifier.toJSON()). */
  readonly forest: ReturnType<RandomForestClassifier['toJSON']>;
}

export type BaselineModel = IndexModel | PcModel | LogregModel | RfModel;

/** The saved form: the model plus what predicting needs to check the stack. */
export interface SavedBaseline {
  readonly format: 'geoanomaly-baseline/1';
  readonly bandNames: string[];
  readonly patchSize: number;
  readonly model: BaselineModel;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Score of component k for centre z values (rows × C). */
function componentScores(z: Float64Array, rows: number, C: number, comp: RobustComponents, scaling: Log10Scaling, k: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let b = 0; b < C; b++) s += comp.loadings[b][k] * (z[i * C + b] * scaling.stds[b] + scaling.means[b] - comp.center[b]);
    out[i] = s;
  }
  return out;
}

/** The component most correlated (|r|) with the training labels, and its sign. */
function bestComponent(z: Float64Array, rows: number, C: number, labels: number[], comp: RobustComponents, scaling: Log10Scaling): { k: number; sign: number; r: number } {
  let best = { k: 0, sign: 1, r: -Infinity };
  const K = comp.loadings[0]?.length ?? 0;
  for (let k = 0; k < K; k++) {
    const r = pearson(componentScores(z, rows, C, comp, scaling, k), labels);
    if (Math.abs(r) > best.r) best = { k, sign: r < 0 ? -1 : 1, r: Math.abs(r) };
  }
  return best;
}

function indexScores(z: Float64Array, rows: number, C: number, bands: readonly number[]): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (const b of bands) s += z[i * C + b];
    out[i] = s / bands.length;
  }
  return out;
}

function needComponents(ctx: BaselineFitContext, why: string): { comp: RobustComponents; scaling: Log10Scaling } {
  if (!ctx.components || !ctx.scaling) {
    throw new InvalidOptionError(`${why} needs the robust PCA of the stack and log10-standardised patches (train --transform log10-standardize); give --index-elements for the index, or drop pc`);
  }
  return { comp: ctx.components, scaling: ctx.scaling };
}

export function resolveElements(names: readonly string[], bandNames: readonly string[]): number[] {
  const lower = bandNames.map((b) => b.toLowerCase());
  return names.map((n) => {
    const i = lower.indexOf(n.trim().toLowerCase());
    if (i < 0) throw new InvalidOptionError(`--index-elements: no band "${n}" in the stack (it has ${bandNames.join(', ')}); give element names of the stack`);
    return i;
  });
}

/** Fits one baseline on samples `trainIdx` of the patches. */
export function fitBaseline(kind: BaselineKind, data: TrainingData, trainIdx: readonly number[], ctx: BaselineFitContext): BaselineModel {
  const C = data.channels;
  const k = data.patchSize;
  const labels = trainIdx.map((i) => (data.labels[i] === 1 ? 1 : 0));
  const n = trainIdx.length;
  const steps = ctx.logisticSteps ?? 2000;
  if (kind === 'index' || kind === 'pc') {
    const z = centreValues(data.x, k, C, trainIdx);
    if (kind === 'index' && ctx.indexElements && ctx.indexElements.length > 0) {
      const bands = resolveElements(ctx.indexElements, ctx.bandNames);
      const s = indexScores(z, n, C, bands);
      return { kind, elements: bands.map((b) => ctx.bandNames[b]), bands, source: 'given', calibration: { fit: fitLogistic(s, n, 1, labels, { steps }) } };
    }
    const { comp, scaling } = needComponents(ctx, kind === 'pc' ? 'the pc baseline' : 'the index baseline without --index-elements');
    const best = bestComponent(z, n, C, labels, comp, scaling);
    if (kind === 'index') {
      let bands = comp.loadings.map((row, b) => (row[best.k] * best.sign > 0 ? b : -1)).filter((b) => b >= 0);
      if (bands.length === 0) bands = comp.loadings.map((_, b) => b);
      const s = indexScores(z, n, C, bands);
      return { kind, elements: bands.map((b) => ctx.bandNames[b]), bands, source: 'rpca', component: best.k, calibration: { fit: fitLogistic(s, n, 1, labels, { steps }) } };
    }
    const raw = componentScores(z, n, C, comp, scaling, best.k);
    const s = raw.map((v) => v * best.sign);
    return {
      kind,
      component: best.k,
      sign: best.sign,
      correlation: best.r,
      center: [...comp.center],
      loading: comp.loadings.map((row) => row[best.k]),
      scaling: { means: [...scaling.means], stds: [...scaling.stds] },
      calibration: { fit: fitLogistic(s, n, 1, labels, { steps }) },
    };
  }
  const features = featureNames(ctx.bandNames);
  const x = windowFeatures(data.x, k, C, trainIdx);
  const q = 3 * C;
  if (kind === 'logreg') return { kind, features, fit: fitLogistic(x, n, q, labels, { steps }) };
  if (kind === 'rf') {
    const trees = ctx.trees ?? 100;
    const seed = ctx.seed ?? 1;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(Array.from(x.subarray(i * q, (i + 1) * q)));
    // sklearn's defaults where ml-random-forest has an equivalent: bootstrap samples, √q features
    // (here per tree: ml-random-forest draws a feature subset per estimator, not per split).
    const rf = new RandomForestClassifier({
      nEstimators: trees,
      maxFeatures: Math.max(1, Math.round(Math.sqrt(q))),
      replacement: false,
      useSampleBagging: true,
      noOOB: true,
      seed,
      treeOptions: { maxDepth: 12, minNumSamples: 2 },
    });
    rf.train(rows, labels);
    return { kind, features, trees, seed, forest: rf.toJSON() };
  }
  throw new InvalidOptionError(`unknown baseline "${String(kind)}"; expected one of ${BASELINE_KINDS.join(', ')}`);
}

/** A baseline ready to score windows (the forest is rebuilt once from its JSON). */
export interface BaselineScorer {
  readonly kind: BaselineKind;
  /** P(deposit) of windows [n × k × k × C] (the layout of patches and map windows). */
  score(x: Float32Array, n: number, patchSize: number, channels: number): Float32Array;
}

export function baselineScorer(model: BaselineModel): BaselineScorer {
  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  switch (model.kind) {
    case 'index':
      return {
        kind: 'index',
        score: (x, n, k, C) => predictLogistic(model.calibration.fit, indexScores(centreValues(x, k, C, all(n)), n, C, model.bands), n),
      };
    case 'pc':
      return {
        kind: 'pc',
        score: (x, n, k, C) => {
          const z = centreValues(x, k, C, all(n));
          const s = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            let v = 0;
            for (let b = 0; b < C; b++) v += model.loading[b] * (z[i * C + b] * model.scaling.stds[b] + model.scaling.means[b] - model.center[b]);
            s[i] = v * model.sign;
          }
          return predictLogistic(model.calibration.fit, s, n);
        },
      };
    case 'logreg':
      return { kind: 'logreg', score: (x, n, k, C) => predictLogistic(model.fit, windowFeatures(x, k, C, all(n)), n) };
    case 'rf': {
      const rf = RandomForestClassifier.load(model.forest);
      return {
        kind: 'rf',
        score: (x, n, k, C) => {
          const f = windowFeatures(x, k, C, all(n));
          const q = 3 * C;
          const rows: number[][] = [];
          for (let i = 0; i < n; i++) rows.push(Array.from(f.subarray(i * q, (i + 1) * q)));
          return Float32Array.from(rf.predictProbability(rows, 1));
        },
      };
    }
  }
}

/** P(deposit) of samples `idx` of the patches. */
export function scoreSamples(scorer: BaselineScorer, data: TrainingData, idx: readonly number[]): Float32Array {
  const size = data.patchSize * data.patchSize * data.channels;
  const buf = new Float32Array(idx.length * size);
  idx.forEach((s, j) => buf.set(data.x.subarray(s * size, (s + 1) * size), j * size));
  return scorer.score(buf, idx.length, data.patchSize, data.channels);
}
