import type { GridSpec } from '../grid/grid-spec.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { encodePng } from './png.ts';

/** Detection maps (PNG for viewing, GeoTIFF/TIFF with the raw scores) and the separability box plot. */

/** The identity pixel grid for cubes without georeferencing: cell (r, c) covers x ∈ [c, c+1], y ∈ [rows−r−1, rows−r]. */
export function pixelGrid(rows: number, cols: number): GridSpec {
  return { originX: 0, originY: rows, cellSizeX: 1, cellSizeY: 1, rows, cols, crs: null };
}

function quantileOf(sorted: Float32Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  return i + 1 < sorted.length ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

// A 9-stop approximation of matplotlib's "inferno" (perceptually uniform, prints in grey).
const INFERNO: readonly [number, number, number][] = [
  [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85], [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
];

function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const a = INFERNO[i], b = INFERNO[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** Score map as an RGB PNG, stretched between the 1st and 99.9th percentiles (a few huge scores would otherwise leave the map black). */
export function detectionMapPng(scores: Float32Array, rows: number, cols: number): Buffer {
  const sorted = Float32Array.from(scores).sort();
  const lo = quantileOf(sorted, 0.01), hi = quantileOf(sorted, 0.999);
  const span = hi > lo ? hi - lo : 1;
  const px = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows * cols; i++) px.set(colour((scores[i] - lo) / span), i * 3);
  return encodePng({ width: cols, height: rows, channels: 3, pixels: px });
}

export function writeDetectionMaps(dir: string, name: string, scores: Float32Array, rows: number, cols: number, grid: GridSpec | null): string[] {
  const tif = `${dir}/${name}-score.tif`;
  const png = `${dir}/${name}-score.png`;
  writeGeoTiff(tif, { grid: grid ?? pixelGrid(rows, cols), bandNames: [`${name} anomaly score`], bands: [scores] });
  writeFileAtomic(png, detectionMapPng(scores, rows, cols));
  return [tif, png];
}

/** Five-number summary with Tukey whiskers (1.5·IQR, clipped to the data). */
export interface BoxStats {
  readonly count: number;
  readonly whiskerLow: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly whiskerHigh: number;
}

export function boxStats(values: Float32Array): BoxStats {
  const s = Float32Array.from(values).sort();
  const q1 = quantileOf(s, 0.25), med = quantileOf(s, 0.5), q3 = quantileOf(s, 0.75);
  const iqr = q3 - q1;
  let lo = s[0], hi = s[s.length - 1];
  for (let i = 0; i < s.length; i++) if (s[i] >= q1 - 1.5 * iqr) { lo = s[i]; break; }
  for (let i = s.length - 1; i >= 0; i--) if (s[i] <= q3 + 1.5 * iqr) { hi = s[i]; break; }
  return { count: s.length, whiskerLow: lo, q1, median: med, q3, whiskerHigh: hi };
}

export interface Separability {
  readonly method: string;
  readonly background: BoxStats;
  readonly anomaly: BoxStats;
}

/**
 * Background vs anomaly score distributions of one method, after min–max scaling of its scores
 * to [0, 1] so methods are comparable on one axis (the box-plot convention of the AD literature).
 */
export function separability(method: string, scores: Float32Array, truth: Uint8Array): Separability {
  let lo = Infinity, hi = -Infinity;
  for (const v of scores) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const bg: number[] = [], an: number[] = [];
  scores.forEach((v, i) => (truth[i] ? an : bg).push((v - lo) / span));
  return { method, background: boxStats(Float32Array.from(bg)), anomaly: boxStats(Float32Array.from(an)) };
}

/** Renders box plots (background blue, anomaly orange, one pair per method, y = scaled score 0…1) as a PNG. */
export function boxPlotPng(items: readonly Separability[]): Buffer {
  const H = 240, pad = 20, pairW = 70, W = pad * 2 + pairW * items.length;
  const px = new Uint8Array(W * H * 3).fill(255);
  const plotH = H - 2 * pad;
  const y = (v: number): number => Math.round(pad + (1 - Math.min(1, Math.max(0, v))) * plotH);
  const put = (x: number, yy: number, c: readonly number[]): void => {
    if (x >= 0 && x < W && yy >= 0 && yy < H) px.set(c, (yy * W + x) * 3);
  };
  const hline = (x0: number, x1: number, yy: number, c: readonly number[]): void => { for (let x = x0; x <= x1; x++) put(x, yy, c); };
  const vline = (x: number, y0: number, y1: number, c: readonly number[]): void => { for (let yy = Math.min(y0, y1); yy <= Math.max(y0, y1); yy++) put(x, yy, c); };
  const grey = [200, 200, 200];
  for (let t = 0; t <= 10; t++) hline(pad, W - pad, y(t / 10), grey);
  const draw = (b: BoxStats, x0: number, w: number, fill: readonly number[]): void => {
    const xc = x0 + Math.floor(w / 2);
    vline(xc, y(b.whiskerLow), y(b.q1), [0, 0, 0]);
    vline(xc, y(b.q3), y(b.whiskerHigh), [0, 0, 0]);
    hline(x0 + 4, x0 + w - 4, y(b.whiskerLow), [0, 0, 0]);
    hline(x0 + 4, x0 + w - 4, y(b.whiskerHigh), [0, 0, 0]);
    for (let yy = y(b.q3); yy <= y(b.q1); yy++) hline(x0, x0 + w, yy, fill);
    hline(x0, x0 + w, y(b.median), [0, 0, 0]);
  };
  items.forEach((it, k) => {
    const x0 = pad + k * pairW + 8;
    draw(it.background, x0, 22, [31, 119, 180]);
    draw(it.anomaly, x0 + 30, 22, [255, 127, 14]);
  });
  return encodePng({ width: W, height: H, channels: 3, pixels: px });
}
