import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { classificationMetrics, rocAuc, type ClassificationMetrics } from './metrics.ts';

/**
 * Site bootstrap of cross-validated metrics: intervals that respect the metrics' ranges, and
 * paired differences between models.
 *
 * Every test fold keeps its trained model and threshold; one bootstrap replicate draws, in every
 * fold of every repeat, the fold's test SITES with replacement (stratified: deposit sites from
 * the deposit sites, non-deposit from the non-deposit ones, so every fold keeps both classes and
 * its AUC stays defined), takes all samples of each drawn site, recomputes the fold's metrics and
 * averages them over all folds × repeats, as the reported mean is. The 2.5 % and 97.5 %
 * percentiles of the replicates are the 95 % interval. A replicate's metric is a mean of metrics
 * inside their range, so the interval can never leave it (the t interval mean ± t·sd/√n gave an
 * AUC upper bound of 1.14 on a real run). It describes the uncertainty due to WHICH sites were
 * held out (the sites are the independent units); the spread between retrainings is the fold sd
 * reported beside it.
 *
 * Paired comparisons draw one resample per replicate and apply it to both models (their folds
 * hold the same test sites: folds depend only on the seed and repeat), so the site-to-site
 * variation common to both cancels in the difference.
 */

/** One test fold: the held-out samples, their labels, their site (group) and one model's scores. */
export interface ScoredFold {
  readonly labels: ArrayLike<number>;
  readonly scores: ArrayLike<number>;
  readonly groups: readonly string[];
  /** Decision threshold of the fold's model (chosen on its training samples). */
  readonly threshold: number;
}

export interface BootstrapOptions {
  /** Bootstrap replicates. @default 1000 */
  readonly replicates?: number;
  /** Seed of the resampling. @default 1 */
  readonly seed?: number;
  /** Interval level. @default 0.95 */
  readonly level?: number;
}

function checkBootstrap(o: BootstrapOptions): Required<BootstrapOptions> {
  const c = { replicates: o.replicates ?? 1000, seed: o.seed ?? 1, level: o.level ?? 0.95 };
  if (!(Number.isInteger(c.replicates) && c.replicates >= 10)) throw new InvalidOptionError(`bootstrap: replicates must be an integer ≥ 10, got ${c.replicates}`);
  if (!(c.level > 0 && c.level < 1)) throw new InvalidOptionError(`bootstrap: level must be in (0, 1), got ${c.level}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new InvalidOptionError(`bootstrap: seed must be a non-negative integer, got ${c.seed}`);
  return c;
}

/** Sample indices of each site of a fold, by class. */
interface SiteTable {
  readonly byClass: number[][][];
}

function siteTable(fold: ScoredFold): SiteTable {
  const sites = new Map<string, { label: number; members: number[] }>();
  for (let i = 0; i < fold.labels.length; i++) {
    const g = fold.groups[i];
    const s = sites.get(g);
    if (s) s.members.push(i);
    else sites.set(g, { label: fold.labels[i] === 1 ? 1 : 0, members: [i] });
  }
  const byClass: number[][][] = [[], []];
  for (const s of sites.values()) byClass[s.label].push(s.members);
  return { byClass };
}

/** One stratified site resample of a fold: sample indices (with repeats). */
function resample(t: SiteTable, rng: Rng): number[] {
  const out: number[] = [];
  for (const sites of t.byClass) {
    for (let j = 0; j < sites.length; j++) {
      for (const i of sites[rng.int(sites.length)]) out.push(i);
    }
  }
  return out;
}

function pick(v: ArrayLike<number>, idx: readonly number[]): Float64Array {
  const out = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = v[idx[j]];
  return out;
}

/** Linear-interpolation quantile (numpy's default, type 7) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function percentileInterval(values: Float64Array, level: number): [number, number] {
  const s = Float64Array.from(values).sort();
  return [quantileSorted(s, (1 - level) / 2), quantileSorted(s, 1 - (1 - level) / 2)];
}

const METRICS = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'] as const;
type Metric = (typeof METRICS)[number];

function checkFolds(folds: readonly ScoredFold[], what: string): void {
  if (folds.length === 0) throw new InvalidOptionError(`${what}: no test folds`);
  folds.forEach((f, i) => {
    if (f.labels.length !== f.scores.length || f.labels.length !== f.groups.length) {
      throw new InvalidOptionError(`${what}: fold ${i} has ${f.labels.length} labels, ${f.scores.length} scores and ${f.groups.length} site ids; expected one of each per sample`);
    }
  });
}

/**
 * Percentile intervals of every metric's mean over folds (see the file comment). Metrics that a
 * replicate leaves undefined (NaN) are skipped for that replicate.
 */
export function siteBootstrapIntervals(folds: readonly ScoredFold[], options: BootstrapOptions = {}): Record<Metric, [number, number]> {
  const o = checkBootstrap(options);
  checkFolds(folds, 'site bootstrap');
  const tables = folds.map(siteTable);
  const rng = new Rng(o.seed);
  const reps: Record<Metric, number[]> = { acc: [], auc: [], kappa: [], mcc: [], precision: [], recall: [], f1: [] };
  for (let r = 0; r < o.replicates; r++) {
    const sum: Record<Metric, number> = { acc: 0, auc: 0, kappa: 0, mcc: 0, precision: 0, recall: 0, f1: 0 };
    folds.forEach((f, i) => {
      const idx = resample(tables[i], rng);
      const m: ClassificationMetrics = classificationMetrics(pick(f.labels, idx), pick(f.scores, idx), f.threshold);
      for (const k of METRICS) sum[k] += m[k];
    });
    for (const k of METRICS) {
      const v = sum[k] / folds.length;
      if (Number.isFinite(v)) reps[k].push(v);
    }
  }
  const out = {} as Record<Metric, [number, number]>;
  for (const k of METRICS) out[k] = reps[k].length > 0 ? percentileInterval(Float64Array.from(reps[k]), o.level) : [NaN, NaN];
  return out;
}

export interface PairedDifference {
  /** Observed difference of the fold-mean metric, a − b. */
  readonly diff: number;
  readonly ci95: [number, number];
  readonly replicates: number;
}

/** One metric of labels/scores (AUC without the threshold; the others at the fold's threshold). */
function metricOf(metric: Metric, labels: Float64Array, scores: Float64Array, threshold: number): number {
  if (metric === 'auc') return rocAuc(labels, scores);
  return classificationMetrics(labels, scores, threshold)[metric];
}

/**
 * Paired site bootstrap of the difference a − b of one metric's fold mean. Fold i of `a` and of
 * `b` must hold the same test samples (same labels and sites, in the same order).
 */
export function pairedSiteBootstrap(a: readonly ScoredFold[], b: readonly ScoredFold[], metric: Metric, options: BootstrapOptions = {}): PairedDifference {
  const o = checkBootstrap(options);
  checkFolds(a, 'paired bootstrap');
  checkFolds(b, 'paired bootstrap');
  if (a.length !== b.length) throw new InvalidOptionError(`paired bootstrap: ${a.length} folds of one model, ${b.length} of the other; the models must share their CV folds`);
  a.forEach((fa, i) => {
    const fb = b[i];
    const same = fa.labels.length === fb.labels.length && fa.groups.every((g, j) => g === fb.groups[j] && fa.labels[j] === fb.labels[j]);
    if (!same) throw new InvalidOptionError(`paired bootstrap: fold ${i} holds different test samples for the two models; train both in one run (same --seed, --folds, --repeats)`);
  });
  const all = (f: ScoredFold): number[] => Array.from({ length: f.labels.length }, (_, j) => j);
  let observed = 0;
  a.forEach((fa, i) => {
    const idx = all(fa);
    const labels = pick(fa.labels, idx);
    observed += metricOf(metric, labels, pick(fa.scores, idx), fa.threshold) - metricOf(metric, labels, pick(b[i].scores, idx), b[i].threshold);
  });
  observed /= a.length;
  const tables = a.map(siteTable);
  const rng = new Rng(o.seed);
  const reps: number[] = [];
  for (let r = 0; r < o.replicates; r++) {
    let d = 0;
    a.forEach((fa, i) => {
      const idx = resample(tables[i], rng);
      const labels = pick(fa.labels, idx);
      d += metricOf(metric, labels, pick(fa.scores, idx), fa.threshold) - metricOf(metric, labels, pick(b[i].scores, idx), b[i].threshold);
    });
    const v = d / a.length;
    if (Number.isFinite(v)) reps.push(v);
  }
  return { diff: observed, ci95: percentileInterval(Float64Array.from(reps), o.level), replicates: reps.length };
}

/** The metrics.json comparison record (and evaluate's, for map AUCs). */
export interface Comparison {
  readonly a: string;
  readonly b: string;
  readonly metric: string;
  readonly diff: number;
  readonly ci95: [number, number];
  /** 'site bootstrap' (CV folds, metrics.json) or 'deposit bootstrap' (map AUCs, evaluate). */
  readonly method: 'site bootstrap' | 'deposit bootstrap';
  readonly replicates: number;
  /** Whether the interval includes 0 (no evidence of a difference at the 95 % level). */
  readonly includesZero: boolean;
}

export function comparisonRecord(a: string, b: string, metric: string, d: PairedDifference, method: Comparison['method'] = 'site bootstrap'): Comparison {
  return { a, b, metric, diff: d.diff, ci95: d.ci95, method, replicates: d.replicates, includesZero: d.ci95[0] <= 0 && d.ci95[1] >= 0 };
}

/** "GK-DCN − CNN: ΔAUC +0.03 [−0.05, +0.11]" plus a plain statement about 0. */
export function formatComparison(c: Pick<Comparison, 'a' | 'b' | 'metric' | 'diff' | 'ci95'>): string {
  const sign = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
  const includesZero = c.ci95[0] <= 0 && c.ci95[1] >= 0;
  const verdict = includesZero ? 'the interval includes 0: no evidence that either is better' : c.diff > 0 ? `${c.a.toUpperCase()} is better` : `${c.b.toUpperCase()} is better`;
  return `${c.a.toUpperCase()} − ${c.b.toUpperCase()}: Δ${c.metric.toUpperCase()} ${sign(c.diff)} [${sign(c.ci95[0])}, ${sign(c.ci95[1])}] (${verdict})`;
}

/**
 * Map AUC at held-out deposits as a mean of placements: for each deposit CELL (a cell holding
 * several deposits counts once, as in evaluateMap) u = P(background < s) + ½·P(background = s), the background being the
 * study cells (finite score, not excluded) that hold no deposit. The mean of u is the map's ROC
 * AUC of deposit cells against the other study cells (success-rate.ts evaluateMap's `auc`).
 */
export function depositPlacements(scores: ArrayLike<number>, depositCells: readonly number[], exclude?: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const isDeposit = new Uint8Array(n);
  for (const c of depositCells) if (c >= 0 && c < n) isDeposit[c] = 1;
  const bg: number[] = [];
  for (let i = 0; i < n; i++) if (!isDeposit[i] && !(exclude && exclude[i]) && Number.isFinite(scores[i])) bg.push(scores[i]);
  if (bg.length === 0) throw new InvalidOptionError('map comparison: the study area holds no background cell to rank deposits against');
  const sorted = Float64Array.from(bg).sort();
  const lowerBound = (v: number, strict: boolean): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (strict ? sorted[mid] < v : sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out: number[] = [];
  for (const c of [...new Set(depositCells)]) {
    if (c < 0 || c >= n || (exclude && exclude[c]) || !Number.isFinite(scores[c])) continue;
    const below = lowerBound(scores[c], true);
    const ties = lowerBound(scores[c], false) - below;
    out.push((below + 0.5 * ties) / sorted.length);
  }
  return Float64Array.from(out);
}

/**
 * Paired bootstrap of the map-AUC difference of two maps at the same deposits: the deposits (the
 * independent units, typically tens) are resampled with replacement, the same resample for both
 * maps; the background (thousands of cells) is held fixed, its sampling variance being negligible
 * against the deposits'. `ua`, `ub`: depositPlacements of the two maps, same deposits, same order.
 */
export function pairedDepositBootstrap(ua: ArrayLike<number>, ub: ArrayLike<number>, options: BootstrapOptions = {}): PairedDifference {
  const o = checkBootstrap(options);
  const n = ua.length;
  if (n === 0 || ub.length !== n) throw new InvalidOptionError(`map comparison: ${ua.length} and ${ub.length} scored deposits; both maps must score the same deposits (same grid, same nodata)`);
  const d = Float64Array.from({ length: n }, (_, i) => ua[i] - ub[i]);
  const observed = d.reduce((a, b) => a + b, 0) / n;
  const rng = new Rng(o.seed);
  const reps = new Float64Array(o.replicates);
  for (let r = 0; r < o.replicates; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += d[rng.int(n)];
    reps[r] = s / n;
  }
  return { diff: observed, ci95: percentileInterval(reps, o.level), replicates: o.replicates };
}
