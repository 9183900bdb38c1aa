import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { readCube } from '../xrf/cube-import.ts';
import type { SpectralCube } from '../xrf/cube.ts';
import { pixelGrid } from '../xrf/detection-output.ts';
import { syntheticSample } from '../xrf/synthetic.ts';
import { checkUserFileOrFolder } from '../util/user-file.ts';
import type { XrfComposite, XrfCubeInfo, XrfSyntheticFiles } from './contract.ts';

/**
 * Backend of the Micro-XRF panel: the seeded synthetic sample written as files the `xrf`
 * command reads, a cube's size and bands, and an RGB composite of three bands. Detection itself
 * runs as an `xrf` job (the CLI command in a worker thread); its outputs are read with
 * `readJsonResult` (metrics.json, roc.json, separability.json) and `getRasterBand` (score maps).
 */

// The cube last read stays in memory: choosing other composite bands must not re-read the file.
let cached: { path: string; mtimeMs: number; cube: Promise<SpectralCube> } | null = null;

async function cubeAt(path: string): Promise<SpectralCube> {
  const p = resolve(path);
  if (!existsSync(p)) throw new InvalidFileError(p, 'no such file or folder', 'Check the cube path (a .mat, multi-band .tif, .csv or a folder of element images)');
  // A cube is decoded whole: a regular file (or a folder of element images) within the limit.
  await checkUserFileOrFolder(p, 'cube', ['.tif', '.tiff', '.png']);
  const mtimeMs = statSync(p).mtimeMs;
  if (cached && cached.path === p && cached.mtimeMs === mtimeMs) return cached.cube;
  const cube = readCube(p);
  cached = { path: p, mtimeMs, cube };
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

export async function xrfCubeInfo(path: string): Promise<XrfCubeInfo> {
  const c = await cubeAt(path);
  const truthPixels = c.truth ? c.truth.reduce((a, v) => a + v, 0) : null;
  return { path: resolve(path), rows: c.rows, cols: c.cols, bandCount: c.bandCount, bandNames: c.bandNames, ownTruthPixels: truthPixels, georeferenced: (c.grid?.crs ?? null) !== null, crsName: c.grid?.crs?.name ?? null };
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

export async function xrfComposite(path: string, bands: readonly [number, number, number], percentiles: readonly [number, number] = [2, 98]): Promise<XrfComposite> {
  return compositeRgba(await cubeAt(path), bands, percentiles);
}
