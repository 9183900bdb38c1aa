/**
 * Data preparation for the Compare tab's charts (Chart.js draws them): the robust-PCA biplot
 * (PC1–PC2 loadings as arrows over the cells' scores), the concentration–area log–log plot
 * with its fitted segments and breaks, and the success-rate curve with the P–A intersection.
 * Plain TypeScript without DOM or Svelte, unit-tested in Node (tests/renderer/compare-charts.test.ts).
 */

/** loadings.json of `geoanomaly rpca` (the fields the biplot needs). */
export interface RpcaLoadings {
  readonly bands: readonly string[];
  readonly transform: string;
  /** loadings[band][pc]. */
  readonly loadings: readonly (readonly number[])[];
  readonly explained: readonly number[];
  readonly biplot: { readonly pc1: readonly number[]; readonly pc2: readonly number[] };
  readonly outputs: { readonly scores: string; readonly robustDistance: string };
}

export interface XY {
  readonly x: number;
  readonly y: number;
}

export interface BiplotData {
  readonly points: XY[];
  /** One arrow per element, from the origin, scaled by `scale` so the longest reaches 0.9 of the score cloud. */
  readonly arrows: { readonly label: string; readonly x: number; readonly y: number; readonly pc1: number; readonly pc2: number }[];
  readonly scale: number;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Symmetric axis limit (equal aspect: both axes span ±limit). */
  readonly limit: number;
}

const pct = (v: number | undefined): string => `${((v ?? 0) * 100).toFixed(1)}%`;

/** The biplot of `geoanomaly rpca`'s biplot.png, as chart data (same arrow scaling as the command). */
export function biplotData(r: RpcaLoadings): BiplotData {
  if (r.loadings.length !== r.bands.length) throw new Error(`loadings.json has ${r.loadings.length} loading rows for ${r.bands.length} bands`);
  const points = r.biplot.pc1.map((x, i) => ({ x, y: r.biplot.pc2[i] }));
  const maxScore = Math.max(1e-12, ...r.biplot.pc1.map(Math.abs), ...r.biplot.pc2.map(Math.abs));
  const maxLoad = Math.max(1e-12, ...r.loadings.map((row) => Math.hypot(row[0], row[1] ?? 0)));
  const scale = (0.9 * maxScore) / maxLoad;
  const arrows = r.loadings.map((row, b) => ({ label: r.bands[b], pc1: row[0], pc2: row[1] ?? 0, x: row[0] * scale, y: (row[1] ?? 0) * scale }));
  return { points, arrows, scale, xLabel: `PC1 (${pct(r.explained[0])})`, yLabel: `PC2 (${pct(r.explained[1])})`, limit: maxScore * 1.05 };
}

/** The `ca` block of EVAL.json (main/eval/concentration-area.ts). */
export interface CaReport {
  readonly source: 'auto' | 'user';
  readonly areaUnit: string;
  readonly thresholds: readonly number[];
  readonly area: readonly number[];
  readonly segments: readonly { readonly slope: number; readonly intercept: number; readonly fromLogV: number; readonly toLogV: number; readonly points: number }[];
  readonly rss: number;
  readonly nonPositiveCells: number;
}

/** EVAL.json of `geoanomaly evaluate` (the fields the charts need). */
export interface EvalReport {
  readonly auc: number;
  readonly successRate: { readonly areaShare: readonly number[]; readonly depositShare: readonly number[]; readonly thresholds: readonly number[]; readonly auc: number };
  readonly paIntersection: { readonly threshold: number; readonly predictionRate: number; readonly areaShare: number; readonly normalizedDensity: number; readonly weight: number };
  readonly caBreaks: readonly number[];
  readonly pa: { readonly thresholds: readonly number[]; readonly predictionRate: readonly number[]; readonly occupiedArea: readonly number[] };
  readonly ca: CaReport;
  readonly counts: Readonly<Record<string, number>>;
  readonly inputs: { readonly map: string; readonly band: string; readonly deposits: string; readonly excludeTraining: string | null; readonly classes: string | null };
}

export interface CaPlotData {
  /** (threshold, area) of every level with a positive area: log–log axes cannot show 0. */
  readonly points: XY[];
  /** Each fitted segment's line over its own range: area = 10^(intercept + slope·log10 v). */
  readonly lines: XY[][];
  /** Vertical lines at the breaks, spanning the plotted areas. */
  readonly breaks: { readonly value: number; readonly line: [XY, XY] }[];
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

export function caPlotData(ca: CaReport, breaks: readonly number[]): CaPlotData {
  const points: XY[] = [];
  ca.thresholds.forEach((v, i) => {
    if (v > 0 && ca.area[i] > 0) points.push({ x: v, y: ca.area[i] });
  });
  if (points.length === 0) throw new Error('the C–A curve has no point with a positive value and area');
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const lines = ca.segments.map((s) => [s.fromLogV, s.toLogV].map((lv) => ({ x: 10 ** lv, y: 10 ** (s.intercept + s.slope * lv) })));
  return { points, lines, breaks: breaks.map((value) => ({ value, line: [{ x: value, y: yMin }, { x: value, y: yMax }] as [XY, XY] })), xMin, xMax, yMin, yMax };
}

export interface SuccessRateData {
  readonly curve: XY[];
  readonly diagonal: [XY, XY];
  /** P–A intersection on the success-rate axes: share of the area ≥ t, share of deposits there. */
  readonly intersection: XY;
  readonly auc: number;
  readonly mapAuc: number;
  readonly summary: string;
}

export function successRateData(r: EvalReport): SuccessRateData {
  const s = r.successRate;
  if (s.areaShare.length !== s.depositShare.length) throw new Error('EVAL.json: successRate areaShare and depositShare differ in length');
  const pa = r.paIntersection;
  return {
    curve: s.areaShare.map((x, i) => ({ x, y: s.depositShare[i] })),
    diagonal: [
      { x: 0, y: 0 },
      { x: 1, y: 1 },
    ],
    intersection: { x: pa.areaShare, y: pa.predictionRate },
    auc: s.auc,
    mapAuc: r.auc,
    summary: `P–A: ${(pa.predictionRate * 100).toFixed(1)}% of deposits in ${(pa.areaShare * 100).toFixed(1)}% of the area (threshold ${pa.threshold.toPrecision(4)})`,
  };
}

/** "0.2, 0.5" → ascending positive numbers, or the reason they cannot be breaks. */
export function parseBreaks(text: string): number[] | string {
  const parts = text
    .split(/[,;\s]+/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (parts.length === 0) return 'give at least one break value';
  const values = parts.map(Number);
  const bad = parts.find((_, i) => !Number.isFinite(values[i]) || values[i] <= 0);
  if (bad !== undefined) return `"${bad}" is not a positive number`;
  for (let i = 1; i < values.length; i++) if (!(values[i] > values[i - 1])) return `breaks must increase: ${values[i - 1]} then ${values[i]}`;
  return values;
}

/** Replaces break i by `value`, kept strictly between its neighbours (dragging cannot reorder classes). */
export function moveBreak(breaks: readonly number[], i: number, value: number): number[] {
  const lo = i > 0 ? breaks[i - 1] : 0;
  const hi = i < breaks.length - 1 ? breaks[i + 1] : Infinity;
  if (!(value > lo && value < hi)) {
    // Stay just inside the gap (a relative step, since the axis is logarithmic).
    value = value <= lo ? lo * (1 + 1e-6) || Number.MIN_VALUE : hi * (1 - 1e-6);
  }
  return breaks.map((b, j) => (j === i ? value : b));
}

/** The break nearest to a pointer position (pixels), if within `tolerancePx`. */
export function nearestBreak(pointerPx: number, breakPx: readonly number[], tolerancePx = 6): number | null {
  let best: number | null = null;
  let bestD = tolerancePx;
  breakPx.forEach((p, i) => {
    const d = Math.abs(p - pointerPx);
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** Cells per class for `anomalyClasses` semantics: class 1 below breaks[0] … breaks.length + 1 at or above the last; NaN skipped. */
export function classCounts(values: ArrayLike<number>, breaks: readonly number[]): number[] {
  const counts = new Array<number>(breaks.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    let c = 0;
    while (c < breaks.length && v >= breaks[c]) c++;
    counts[c]++;
  }
  return counts;
}
