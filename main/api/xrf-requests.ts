import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { readCube } from '../xrf/cube-import.ts';
import type { SpectralCube } from '../xrf/cube.ts';
import { pixelGrid } from '../xrf/detection-output.ts';
import { syntheticSample } from '../xrf/synthetic.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { cubeSpectralAxis, spectralAxisTitle } from '../xrf/cube.ts';
import type { XrfAxis, XrfComposite, XrfCubeInfo, XrfElementMap, XrfPixelSpectrum, XrfRegionSpectrum, XrfSpectraCsv, XrfSpectrumSeries, XrfSyntheticFiles } from './contract.ts';
import { checkUserFileOrFolder } from '../util/user-file.ts';
import { bandCount } from '../util/display-names.ts';

/**
 * Backend of the Micro-XRF panel: the seeded synthetic sample written as files the `xrf`
 * command reads, a cube's size and bands, and an RGB composite of three bands. Detection itself
 * runs as an `xrf` job (the xrf workflow in a worker thread, main/workflows/xrf.ts): its typed
 * result carries the metrics and names the files, read with `readJsonResult` (roc.json,
 * separability.json) and `getRasterBand` (score maps).
 */

// The cube last read stays in memory: choosing other composite bands must not re-read the file.
let cached: { path: string; dataset: string; mtimeMs: number; cube: Promise<SpectralCube> } | null = null;

/** The cube at `path` (an HDF5 file's `dataset` when given, else the one its layout names). */
async function cubeAt(path: string, dataset = ''): Promise<SpectralCube> {
  const p = resolve(path);
  if (!existsSync(p)) throw new InvalidFileError(p, 'no such file or folder', 'Check the cube path (.mat, .h5/.nxs/.hspy, ENVI .hdr, multi-band .tif, .csv or a folder of element maps)');
  // A cube is decoded whole: a regular file (or a folder of element maps) within the limit.
  await checkUserFileOrFolder(p, 'cube', ['.tif', '.tiff', '.png', '.bmp', '.txt']);
  const mtimeMs = statSync(p).mtimeMs;
  if (cached && cached.path === p && cached.dataset === dataset && cached.mtimeMs === mtimeMs) return cached.cube;
  const cube = readCube(p, dataset ? { dataset } : {});
  cached = { path: p, dataset, mtimeMs, cube };
  cube.catch(() => {
    if (cached?.cube === cube) cached = null;
  });
  return cube;
}

export interface SyntheticRequest {
  readonly seed?: number;
  readonly rows?: number;
  readonly cols?: number;
  readonly channels?: number;
}

/**
 * Writes the synthetic micro-XRF sample of `main/xrf/synthetic.ts` (same seed → same cube) as a
 * multi-band TIFF cube (one band per energy channel, identity pixel grid) and its truth mask,
 * under `<dataDir>/xrf-synthetic/`; an existing pair of the same parameters is reused.
 */
export function writeSyntheticXrfSample(dataDir: string, r: SyntheticRequest = {}): XrfSyntheticFiles {
  const seed = r.seed ?? 7;
  const rows = r.rows ?? 128;
  const cols = r.cols ?? 128;
  const channels = r.channels ?? 100;
  for (const [k, v, min] of [['seed', seed, 0], ['rows', rows, 8], ['cols', cols, 8], ['channels', channels, 3]] as const) {
    if (!Number.isInteger(v) || v < min) throw new InvalidOptionError(`synthetic micro-XRF sample: ${k} must be an integer ≥ ${min}, got ${v}`);
  }
  if (rows * cols > 1_000_000) throw new InvalidOptionError(`synthetic micro-XRF sample: ${rows}×${cols} pixels is more than 10⁶; choose a smaller size`);
  const dir = join(dataDir, 'xrf-synthetic', `seed-${seed}-${rows}x${cols}x${channels}`);
  const cube = join(dir, 'cube.tif');
  const truth = join(dir, 'truth.tif');
  if (!(existsSync(cube) && existsSync(truth))) {
    mkdirSync(dir, { recursive: true });
    const s = syntheticSample({ rows, cols, channels, seed });
    const { bandCount: B, pixels } = s.cube;
    const n = rows * cols;
    const bands = Array.from({ length: B }, (_, b) => {
      const band = new Float32Array(n);
      for (let i = 0; i < n; i++) band[i] = pixels[i * B + b];
      return band;
    });
    writeGeoTiff(cube, { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands });
    writeGeoTiff(truth, { grid: pixelGrid(rows, cols), bandNames: ['truth'], bands: [Float32Array.from(s.cube.truth ?? new Uint8Array(n))] });
  }
  return { cube, truth, seed, rows, cols, channels };
}

export async function xrfCubeInfo(path: string, dataset?: string): Promise<XrfCubeInfo> {
  const c = await cubeAt(path, dataset);
  const truthPixels = c.truth ? c.truth.reduce((a, v) => a + v, 0) : null;
  return { path: resolve(path), rows: c.rows, cols: c.cols, bandCount: c.bandCount, bandNames: c.bandNames, ownTruthPixels: truthPixels, georeferenced: (c.grid?.crs ?? null) !== null, crsName: c.grid?.crs?.name ?? null, axis: axisOf(c), pixelSizeUm: c.pixelSizeUm ?? null, dataset: dataset || null };
}

function axisOf(c: SpectralCube): XrfAxis {
  const a = cubeSpectralAxis(c);
  return { quantity: a.quantity, unit: a.unit, title: spectralAxisTitle(a), values: a.values };
}

function checkPixel(c: SpectralCube, row: number, col: number): void {
  if (!(Number.isInteger(row) && Number.isInteger(col) && row >= 0 && col >= 0 && row < c.rows && col < c.cols)) {
    throw new InvalidOptionError(`pixel (row ${row}, col ${col}) is outside the ${c.rows}×${c.cols} cube ${c.source}`);
  }
}

/** Mean spectrum (float64 sums) of the pixels where keep(i) holds. */
function meanOf(c: SpectralCube, keep: (i: number) => boolean): { mean: number[]; count: number } {
  const B = c.bandCount;
  const sum = new Float64Array(B);
  let count = 0;
  for (let i = 0; i < c.rows * c.cols; i++) {
    if (!keep(i)) continue;
    count++;
    for (let b = 0; b < B; b++) sum[b] += c.pixels[i * B + b];
  }
  return { mean: Array.from(sum, (v) => (count ? v / count : NaN)), count };
}

// Score maps read for the viewer stay in memory while the same file is clicked.
let scoreCache: { path: string; mtimeMs: number; values: Float32Array; threshold: number } | null = null;

/** Scores of a detector's score GeoTIFF and its 95th percentile (numpy's linear percentile). */
async function scoresAt(path: string, rows: number, cols: number): Promise<{ values: Float32Array; threshold: number }> {
  const p = resolve(path);
  const mtimeMs = statSync(p).mtimeMs;
  if (!(scoreCache && scoreCache.path === p && scoreCache.mtimeMs === mtimeMs)) {
    const s = await readGeoTiff(p);
    const values = s.bands[0];
    scoreCache = { path: p, mtimeMs, values, threshold: quantileSorted(Float32Array.from(values).sort(), BACKGROUND_QUANTILE) };
  }
  if (scoreCache.values.length !== rows * cols) throw new InvalidOptionError(`${p}: the score map has ${scoreCache.values.length} pixels, the cube ${rows}×${cols}; give the score map of this cube's run`);
  return scoreCache;
}

/** Pixels scoring at or below this quantile form the background of the viewer's mean spectrum. */
export const BACKGROUND_QUANTILE = 0.95;

/**
 * A pixel's spectrum (cube units), the background mean spectrum and the pixel's anomaly score.
 * Background: with a score map, the mean over pixels scoring ≤ its 95th percentile (so the
 * anomalies do not pull the reference towards themselves); without, the scene mean.
 */
export async function xrfPixelSpectrum(p: { readonly path: string; readonly dataset?: string; readonly row: number; readonly col: number; readonly scoreTiff?: string }): Promise<XrfPixelSpectrum> {
  const c = await cubeAt(p.path, p.dataset);
  checkPixel(c, p.row, p.col);
  const B = c.bandCount;
  const i = p.row * c.cols + p.col;
  const spectrum = Array.from(c.pixels.subarray(i * B, (i + 1) * B));
  let score: number | null = null;
  let bg: { mean: number[]; count: number };
  let background: XrfPixelSpectrum['backgroundRule'];
  if (p.scoreTiff) {
    const s = await scoresAt(p.scoreTiff, c.rows, c.cols);
    score = s.values[i];
    bg = meanOf(c, (k) => s.values[k] <= s.threshold);
    background = 'score ≤ 95th percentile';
  } else {
    bg = meanOf(c, () => true);
    background = 'all pixels';
  }
  return { row: p.row, col: p.col, spectrum, background: bg.mean, backgroundPixels: bg.count, backgroundRule: background, score, axis: axisOf(c) };
}

/** Mean spectrum of the rectangle of pixels between two corners (inclusive, any order). */
export async function xrfRegionSpectrum(p: { readonly path: string; readonly dataset?: string; readonly row0: number; readonly col0: number; readonly row1: number; readonly col1: number }): Promise<XrfRegionSpectrum> {
  const c = await cubeAt(p.path, p.dataset);
  checkPixel(c, p.row0, p.col0);
  checkPixel(c, p.row1, p.col1);
  const [r0, r1] = [Math.min(p.row0, p.row1), Math.max(p.row0, p.row1)];
  const [c0, c1] = [Math.min(p.col0, p.col1), Math.max(p.col0, p.col1)];
  const m = meanOf(c, (i) => {
    const r = Math.floor(i / c.cols), q = i % c.cols;
    return r >= r0 && r <= r1 && q >= c0 && q <= c1;
  });
  return { rows: [r0, r1], cols: [c0, c1], pixelCount: m.count, mean: m.mean, axis: axisOf(c) };
}

/** One band of the cube as a map (row-major), with its range: the viewer's per-element maps. */
export async function xrfElementMap(p: { readonly path: string; readonly dataset?: string; readonly band: number }): Promise<XrfElementMap> {
  const c = await cubeAt(p.path, p.dataset);
  if (!(Number.isInteger(p.band) && p.band >= 0 && p.band < c.bandCount)) throw new InvalidOptionError(`element map: band index ${p.band} is outside 0…${c.bandCount - 1} of ${c.source}`);
  const n = c.rows * c.cols;
  const values = new Float32Array(n);
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = c.pixels[i * c.bandCount + p.band];
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { band: p.band, name: c.bandNames[p.band], rows: c.rows, cols: c.cols, values, min, max };
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The selected spectra as CSV (atomically): one row per channel — band name, the spectral axis
 * value, then one column per spectrum.
 */
export async function xrfExportSpectra(p: { readonly path: string; readonly dataset?: string; readonly out: string; readonly spectra: readonly XrfSpectrumSeries[] }): Promise<XrfSpectraCsv> {
  const c = await cubeAt(p.path, p.dataset);
  if (p.spectra.length === 0) throw new InvalidOptionError('export spectra: select at least one spectrum (click a pixel or brush a region)');
  for (const s of p.spectra) {
    if (s.values.length !== c.bandCount) throw new InvalidOptionError(`export spectra: "${s.label}" has ${s.values.length} values, the cube ${bandCount(c.bandCount)}`);
  }
  const a = axisOf(c);
  const lines = [['band', a.title, ...p.spectra.map((s) => s.label)].map(csvField).join(',')];
  for (let b = 0; b < c.bandCount; b++) lines.push([csvField(c.bandNames[b]), String(a.values[b]), ...p.spectra.map((s) => String(s.values[b]))].join(','));
  const out = resolve(p.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, `${lines.join('\n')}\n`);
  return { path: out, rows: c.bandCount, columns: p.spectra.length };
}

/** Quantile of sorted values, linear interpolation (numpy.percentile's default). */
function quantileSorted(s: Float32Array, q: number): number {
  const pos = q * (s.length - 1);
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (pos - i) * (s[i + 1] - s[i]) : s[i];
}

/**
 * RGB composite of three bands of a cube, each stretched linearly between its own low and high
 * percentile (numpy's linear percentile) and clipped: RGBA bytes, row-major, alpha 255.
 */
export function compositeRgba(c: SpectralCube, bands: readonly [number, number, number], percentiles: readonly [number, number]): XrfComposite {
  const [pLo, pHi] = percentiles;
  if (!(pLo >= 0 && pHi <= 100 && pLo < pHi)) throw new InvalidOptionError(`composite: percentiles must satisfy 0 ≤ low < high ≤ 100, got ${pLo}, ${pHi}`);
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 0 || b >= c.bandCount) throw new InvalidOptionError(`composite: band index ${b} is outside 0…${c.bandCount - 1} of ${c.source}`);
  }
  const n = c.rows * c.cols;
  const B = c.bandCount;
  const rgba = new Uint8ClampedArray(n * 4);
  const ranges: [number, number][] = [];
  bands.forEach((b, k) => {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = c.pixels[i * B + b];
    const sorted = Float32Array.from(v).sort();
    const lo = quantileSorted(sorted, pLo / 100);
    const hi = quantileSorted(sorted, pHi / 100);
    ranges.push([lo, hi]);
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < n; i++) rgba[i * 4 + k] = Math.round((Math.min(hi, Math.max(lo, v[i])) - lo) / span * 255);
  });
  for (let i = 0; i < n; i++) rgba[i * 4 + 3] = 255;
  return { rows: c.rows, cols: c.cols, bands: [...bands], bandNames: bands.map((b) => c.bandNames[b]), percentiles: [pLo, pHi], ranges, rgba };
}

export async function xrfComposite(path: string, bands: readonly [number, number, number], percentiles: readonly [number, number] = [2, 98], dataset?: string): Promise<XrfComposite> {
  return compositeRgba(await cubeAt(path, dataset), bands, percentiles);
}
