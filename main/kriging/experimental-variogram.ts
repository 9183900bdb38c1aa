import { EmptyInputError, InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { JobContext } from '../jobs/job.ts';
import { throwIfCancelled } from '../jobs/job.ts';

/**
 * Experimental (sample) semivariogram, binned as gstat's `variogram()` does:
 * γ̂(bin) = Σ (z_i − z_j)² / (2 N(bin)) over the N pairs whose distance falls in the bin
 * (k·width, (k+1)·width], pairs farther than the cutoff dropped, empty bins omitted, and each bin
 * reported at the mean distance of its pairs (the `dist` column gstat fits against).
 */
export interface ExperimentalVariogram {
  /** Pairs per reported (non-empty) bin. */
  readonly np: number[];
  /** Mean pair distance per bin, metres. */
  readonly distM: number[];
  readonly gamma: number[];
  /** Lower bin edge, metres. */
  readonly lowerM: number[];
  readonly cutoffM: number;
  readonly widthM: number;
  /** Direction (degrees clockwise from north) for directional variograms; null = omnidirectional. */
  readonly directionDeg: number | null;
  readonly toleranceDeg: number | null;
  /** Number of points the pairs were formed from (after subsampling). */
  readonly pointCount: number;
}

export interface ExperimentalVariogramOptions {
  /** Largest pair distance, metres. @default 0.33333 × the diagonal of the points' bounding box (gstat) */
  readonly cutoffM?: number;
  /** Bin width, metres. @default cutoff / 15 (gstat) */
  readonly widthM?: number;
  /** Directions (degrees clockwise from north) for directional variograms. @default none: omnidirectional */
  readonly directionsDeg?: readonly number[];
  /** Half-width of each direction's angular window, degrees. @default 90 / number of directions (gstat) */
  readonly toleranceDeg?: number;
  /**
   * Above this many points a seeded random subset of this size forms the pairs (all n²/2 pairs of
   * 50,000 points would take minutes and add nothing to the fit). @default 10000
   */
  readonly maxPoints?: number;
  /** Seed of the subset draw. @default 1 */
  readonly seed?: number;
}

const GSTAT_CUTOFF_FRACTION = 0.33333;

interface CheckedOptions {
  cutoffM: number;
  widthM: number;
  directionsDeg: readonly number[] | null;
  toleranceDeg: number;
  maxPoints: number;
  seed: number;
}

function checkOptions(x: Float64Array, y: Float64Array, o: ExperimentalVariogramOptions): CheckedOptions {
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < xmin) xmin = x[i];
    if (x[i] > xmax) xmax = x[i];
    if (y[i] < ymin) ymin = y[i];
    if (y[i] > ymax) ymax = y[i];
  }
  // gstat's default fraction is the literal 0.33333 (DEF_fraction), not 1/3.
  const cutoffM = o.cutoffM ?? Math.hypot(xmax - xmin, ymax - ymin) * GSTAT_CUTOFF_FRACTION;
  const widthM = o.widthM ?? cutoffM / 15;
  if (!(cutoffM > 0 && Number.isFinite(cutoffM))) {
    throw new InvalidOptionError(`variogram cutoff must be a positive distance in metres, got ${cutoffM} (do all points share one location?)`);
  }
  if (!(widthM > 0 && widthM <= cutoffM)) throw new InvalidOptionError(`variogram lag width must be in (0, cutoff = ${cutoffM}] metres, got ${widthM}`);
  if (cutoffM / widthM > 10000) throw new InvalidOptionError(`variogram cutoff/width = ${(cutoffM / widthM).toFixed(0)} bins; use at most 10,000 bins`);
  const dirs = o.directionsDeg && o.directionsDeg.length > 0 ? o.directionsDeg : null;
  const toleranceDeg = o.toleranceDeg ?? (dirs ? 90 / dirs.length : 90);
  if (!(toleranceDeg > 0 && toleranceDeg <= 90)) throw new InvalidOptionError(`direction tolerance must be in (0, 90] degrees, got ${toleranceDeg}`);
  const maxPoints = o.maxPoints ?? 10000;
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) throw new InvalidOptionError(`maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  return { cutoffM, widthM, directionsDeg: dirs, toleranceDeg, maxPoints, seed: o.seed ?? 1 };
}

/**
 * Experimental variograms of several variables observed at the same locations, in one pass over
 * the point pairs (the pair distances are shared; each variable skips pairs where it is missing).
 * Returns one array per variable; each holds one variogram per direction (or one omnidirectional).
 */
export function experimentalVariograms(
  x: Float64Array,
  y: Float64Array,
  values: readonly Float64Array[],
  options: ExperimentalVariogramOptions = {},
  ctx?: JobContext,
): ExperimentalVariogram[][] {
  const n = x.length;
  if (y.length !== n || values.some((v) => v.length !== n)) throw new InvalidOptionError('x, y and every value array must have the same length');
  if (n < 2) throw new EmptyInputError('samples', `a variogram needs at least 2 points, found ${n}`, 'Supply more samples');
  const o = checkOptions(x, y, options);
  // Subsample deterministically when there are too many points.
  let idx: Int32Array = Int32Array.from({ length: n }, (_, i) => i);
  if (n > o.maxPoints) {
    const order = Array.from(idx);
    new Rng(o.seed).shuffle(order);
    idx = Int32Array.from(order.slice(0, o.maxPoints)).sort();
  }
  const m = idx.length;
  const px = new Float64Array(m), py = new Float64Array(m);
  // Centre the coordinates (large UTM values cost precision in differences of squares).
  let cx = 0, cy = 0;
  for (let k = 0; k < m; k++) { cx += x[idx[k]]; cy += y[idx[k]]; }
  cx /= m; cy /= m;
  for (let k = 0; k < m; k++) { px[k] = x[idx[k]] - cx; py[k] = y[idx[k]] - cy; }
  const nv = values.length;
  const pv = values.map((v) => Float64Array.from(idx, (i) => v[i]));
  const nBins = Math.ceil(o.cutoffM / o.widthM - 1e-12);
  const dirs = o.directionsDeg ?? [null];
  const nd = dirs.length;
  // Accumulators [variable][direction][bin].
  const size = nv * nd * nBins;
  const cnt = new Float64Array(size), sumD = new Float64Array(size), sumSq = new Float64Array(size);
  const cutoff = o.cutoffM, invW = 1 / o.widthM;
  const tolRad = (o.toleranceDeg * Math.PI) / 180;
  const dirRad = dirs.map((d) => (d === null ? 0 : (((d % 180) + 180) % 180) * Math.PI / 180));
  for (let i = 0; i < m; i++) {
    if ((i & 255) === 0) throwIfCancelled(ctx, 'variogram');
    const xi = px[i], yi = py[i];
    for (let j = i + 1; j < m; j++) {
      const dx = px[j] - xi, dy = py[j] - yi;
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d > cutoff) continue;
      // Bins are (lower, upper] as in gstat (a pair at exactly 200 m falls in the 100–200 m bin).
      let bin = Math.ceil(d * invW) - 1;
      if (bin < 0) bin = 0;
      else if (bin >= nBins) bin = nBins - 1;
      let azimuth = 0;
      if (nd > 1 || dirs[0] !== null) {
        // Pair azimuth clockwise from north, folded into [0, π).
        azimuth = Math.atan2(dx, dy);
        if (azimuth < 0) azimuth += Math.PI;
        if (azimuth >= Math.PI) azimuth -= Math.PI;
      }
      for (let di = 0; di < nd; di++) {
        if (dirs[di] !== null) {
          let diff = Math.abs(azimuth - dirRad[di]);
          if (diff > Math.PI / 2) diff = Math.PI - diff;
          if (diff > tolRad + 1e-12) continue;
        }
        for (let v = 0; v < nv; v++) {
          const a = pv[v][i], b = pv[v][j];
          if (Number.isNaN(a) || Number.isNaN(b)) continue;
          const k = (v * nd + di) * nBins + bin;
          cnt[k]++;
          sumD[k] += d;
          sumSq[k] += (a - b) * (a - b);
        }
      }
    }
  }
  const out: ExperimentalVariogram[][] = [];
  for (let v = 0; v < nv; v++) {
    const perDir: ExperimentalVariogram[] = [];
    for (let di = 0; di < nd; di++) {
      const np: number[] = [], distM: number[] = [], gamma: number[] = [], lowerM: number[] = [];
      for (let b = 0; b < nBins; b++) {
        const k = (v * nd + di) * nBins + b;
        if (cnt[k] === 0) continue;
        np.push(cnt[k]);
        distM.push(sumD[k] / cnt[k]);
        gamma.push(sumSq[k] / (2 * cnt[k]));
        lowerM.push(b * o.widthM);
      }
      perDir.push({
        np, distM, gamma, lowerM,
        cutoffM: o.cutoffM,
        widthM: o.widthM,
        directionDeg: dirs[di],
        toleranceDeg: dirs[di] === null ? null : o.toleranceDeg,
        pointCount: m,
      });
    }
    out.push(perDir);
  }
  return out;
}

/** Experimental variogram of one variable (omnidirectional unless directions are given). */
export function experimentalVariogram(
  x: Float64Array,
  y: Float64Array,
  z: Float64Array,
  options: ExperimentalVariogramOptions = {},
): ExperimentalVariogram[] {
  return experimentalVariograms(x, y, [z], options)[0];
}
