/**
 * Data preparation for the result charts (Chart.js renders them): the radar of the seven
 * metrics per model (the paper's Figs. 13–14), ROC curves per model, CV box plots per metric
 * and model (Fig. 12) and the micro-XRF separability box plot. Plain TypeScript with no DOM or
 * Svelte, so it is unit-tested in Node (tests/renderer/chart-data.test.ts).
 */
import { modelEntries } from './comparisons.ts';

/** The seven metrics of metrics.json, in the paper's order (same list as train-actions.ts). */
export const CHART_METRICS = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'] as const;
export type ChartMetric = (typeof CHART_METRICS)[number];

/** One colour per model / method (Tableau 10: distinct in print and for common colour-vision deficiencies). */
export const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
export const seriesColor = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length];

/** A metrics.json entry as the train command writes it. */
export interface RunMetricsEntry {
  readonly folds: readonly Readonly<Record<ChartMetric, number>>[];
  readonly mean: Readonly<Record<ChartMetric, number>>;
  readonly sd: Readonly<Record<ChartMetric, number>>;
}

/** A roc.json entry of a training run (main/models/run-roc.ts). */
export interface RunRocEntry {
  readonly folds: readonly { readonly repeat: number; readonly fold: number; readonly auc: number; readonly fpr: readonly number[]; readonly tpr: readonly number[] }[];
  readonly mean: { readonly fpr: readonly number[]; readonly tpr: readonly number[]; readonly auc: number };
}

/** An xrf roc.json entry: one curve per method. */
export interface XrfRocEntry {
  readonly fpr: readonly number[];
  readonly tpr: readonly number[];
}

/** Box-plot statistics in the shape @sgratzl/chartjs-chart-boxplot accepts as precomputed data. */
export interface BoxStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly mean: number;
  /** Tukey whiskers: the most extreme data within 1.5·IQR of the quartiles (matplotlib's boxplot default). */
  readonly whiskerMin: number;
  readonly whiskerMax: number;
  readonly outliers: readonly number[];
  readonly items: readonly number[];
}

/** Quantile of sorted values with linear interpolation (numpy.quantile's default 'linear', R type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  return i + 1 < sorted.length ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** Five-number summary, mean, Tukey whiskers and outliers of finite values (NaN are dropped). */
export function boxStats(values: readonly number[]): BoxStats {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) throw new Error('box plot of no finite values');
  const q1 = quantileSorted(s, 0.25);
  const median = quantileSorted(s, 0.5);
  const q3 = quantileSorted(s, 0.75);
  const iqr = q3 - q1;
  const inside = s.filter((v) => v >= q1 - 1.5 * iqr && v <= q3 + 1.5 * iqr);
  return {
    count: s.length,
    min: s[0],
    max: s[s.length - 1],
    q1,
    median,
    q3,
    mean: s.reduce((a, v) => a + v, 0) / s.length,
    whiskerMin: inside[0],
    whiskerMax: inside[inside.length - 1],
    outliers: s.filter((v) => v < inside[0] || v > inside[inside.length - 1]),
    items: s,
  };
}

export interface Series<T> {
  readonly name: string;
  readonly color: string;
  readonly data: T;
}

/** Radar: one series per model, the mean of each metric over all folds × repeats. */
export function radarSeries(metrics: Readonly<Record<string, RunMetricsEntry>>): { labels: readonly string[]; series: Series<number[]>[] } {
  // metrics.json also holds "comparisons" (paired intervals): the charts draw the models only.
  const series = Object.entries(modelEntries<RunMetricsEntry>(metrics)).map(([name, m], i) => ({ name, color: seriesColor(i), data: CHART_METRICS.map((k) => m.mean[k]) }));
  return { labels: CHART_METRICS.map((k) => k.toUpperCase()), series };
}

export interface RocLine {
  readonly name: string;
  readonly color: string;
  /** 'mean' (one per model, labelled with its AUC) or 'fold' (thin, no legend entry). */
  readonly role: 'mean' | 'fold';
  readonly auc: number;
  readonly points: { x: number; y: number }[];
}

const points = (fpr: readonly number[], tpr: readonly number[]): { x: number; y: number }[] => fpr.map((x, i) => ({ x, y: tpr[i] }));

/** ROC of a training run: the mean curve of every model, and optionally every fold's curve. */
export function trainingRocLines(roc: Readonly<Record<string, RunRocEntry>>, withFolds: boolean): RocLine[] {
  const lines: RocLine[] = [];
  Object.entries(roc).forEach(([name, r], i) => {
    lines.push({ name: `${name} (mean AUC ${r.mean.auc.toFixed(3)})`, color: seriesColor(i), role: 'mean', auc: r.mean.auc, points: points(r.mean.fpr, r.mean.tpr) });
    if (withFolds) {
      for (const f of r.folds) lines.push({ name: `${name} r${f.repeat + 1} f${f.fold + 1}`, color: seriesColor(i), role: 'fold', auc: f.auc, points: points(f.fpr, f.tpr) });
    }
  });
  return lines;
}

/** ROC of an xrf run: one curve per method; AUCs from metrics.json (the curves' own trapezoid area equals them). */
export function xrfRocLines(roc: Readonly<Record<string, XrfRocEntry>>, auc: Readonly<Record<string, number | undefined>>): RocLine[] {
  return Object.entries(roc).map(([name, r], i) => {
    const a = auc[name] ?? Number.NaN;
    return { name: `${name} (AUC ${Number.isFinite(a) ? a.toFixed(4) : '–'})`, color: seriesColor(i), role: 'mean', auc: a, points: points(r.fpr, r.tpr) };
  });
}

/** CV box plots: categories = the seven metrics, one series per model, each box = the metric over folds × repeats. */
export function cvBoxSeries(metrics: Readonly<Record<string, RunMetricsEntry>>): { labels: readonly string[]; series: Series<BoxStats[]>[] } {
  const series = Object.entries(modelEntries<RunMetricsEntry>(metrics)).map(([name, m], i) => ({
    name,
    color: seriesColor(i),
    data: CHART_METRICS.map((k) => boxStats(m.folds.map((f) => f[k]))),
  }));
  return { labels: CHART_METRICS.map((k) => k.toUpperCase()), series };
}

/** One entry of the xrf separability.json (main/xrf/detection-output.ts). */
export interface SeparabilityEntry {
  readonly method: string;
  readonly background: XrfBox;
  readonly anomaly: XrfBox;
}
export interface XrfBox {
  readonly count: number;
  readonly whiskerLow: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly whiskerHigh: number;
}

/**
 * Separability box plot: categories = methods, two series (background, anomaly). The xrf
 * command summarised up to 10⁵ scores per class already (quartiles, Tukey whiskers), so the
 * boxes are drawn from those statistics; individual outliers are not kept.
 */
export function separabilitySeries(items: readonly SeparabilityEntry[]): { labels: readonly string[]; series: Series<BoxStats[]>[] } {
  const conv = (b: XrfBox): BoxStats => ({
    count: b.count,
    min: b.whiskerLow,
    max: b.whiskerHigh,
    q1: b.q1,
    median: b.median,
    q3: b.q3,
    mean: Number.NaN,
    whiskerMin: b.whiskerLow,
    whiskerMax: b.whiskerHigh,
    outliers: [],
    items: [],
  });
  return {
    labels: items.map((s) => s.method),
    series: [
      { name: 'background', color: '#1f77b4', data: items.map((s) => conv(s.background)) },
      { name: 'anomaly', color: '#ff7f0e', data: items.map((s) => conv(s.anomaly)) },
    ],
  };
}
