import { EmptyInputError, InvalidOptionError } from '../errors.ts';

/**
 * Concentration–area (C–A) fractal model (Cheng, Agterberg & Ballantyne 1994) on a probability
 * or element map: A(ρ ≥ v) ∝ v^(−β) within each population, so log A against log v is
 * piecewise linear and the breaks between straight segments are the thresholds separating
 * background, anomaly and strong-anomaly populations.
 *
 * Breaks are found automatically by optimal segmented least squares: the log–log points are cut
 * into 2–4 contiguous segments, each fitted by its own straight line, minimising the total
 * residual sum of squares (exact dynamic programming over all cut positions, O(S·m²) for m
 * points); the number of segments is chosen by BIC unless fixed. A break is where the two
 * adjacent fitted lines intersect, clamped to the gap between the segments' outer points
 * (the midpoint of that gap when the lines are parallel). Breaks can also be given (edited by
 * the user) and are then used as they are. No library offers this fit; it is small, so it is
 * hand-written.
 */

export interface ConcentrationAreaOptions {
  /** Number of thresholds v, log-spaced between the smallest and largest positive value. @default 100 */
  readonly levels?: number;
  /** Fix the number of segments (2–4); otherwise chosen by BIC among `minSegments`…`maxSegments`. */
  readonly segments?: number;
  /** @default 2 */
  readonly minSegments?: number;
  /** @default 4 */
  readonly maxSegments?: number;
  /** Minimum number of log–log points per segment. @default 5 */
  readonly minPointsPerSegment?: number;
  /** User-edited break values (ascending, positive): used as given instead of the automatic fit. */
  readonly breaks?: readonly number[];
  /** Area of one cell (e.g. km²) to report areas in; the fit is unaffected. @default 1 */
  readonly cellArea?: number;
}

export interface CaSegment {
  /** log10(area) = intercept + slope · log10(v) over this segment. */
  readonly slope: number;
  readonly intercept: number;
  /** Range of log10(v) covered by the segment's points. */
  readonly fromLogV: number;
  readonly toLogV: number;
  readonly points: number;
}

export interface ConcentrationArea {
  /** Thresholds v (ascending). */
  readonly thresholds: number[];
  /** Area with value ≥ v (cells × cellArea). */
  readonly area: number[];
  readonly log10Threshold: number[];
  readonly log10Area: number[];
  /** Break values (ascending); classes are value < breaks[0], …, ≥ breaks[last]. */
  readonly breaks: number[];
  readonly segments: CaSegment[];
  /** 'auto' (fitted) or 'user' (given breaks). */
  readonly source: 'auto' | 'user';
  /** Residual sum of squares of the piecewise fit in log–log space. */
  readonly rss: number;
  /** Cells with a value ≤ 0 (no logarithm) left out of the log–log plot; they stay in class 1. */
  readonly nonPositiveCells: number;
}

interface LineFit {
  slope: number;
  intercept: number;
  rss: number;
}

function fitLine(x: readonly number[], y: readonly number[], from: number, to: number): LineFit {
  const n = to - from;
  let sx = 0;
  let sy = 0;
  for (let i = from; i < to; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = from; i < to; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = from; i < to; i++) {
    const r = y[i] - intercept - slope * x[i];
    rss += r * r;
  }
  return { slope, intercept, rss };
}

/** Best split of points [0, m) into s contiguous segments (each ≥ minPts); returns segment starts. */
function bestSegmentation(x: readonly number[], y: readonly number[], s: number, minPts: number): { starts: number[]; rss: number } {
  const m = x.length;
  const cost: number[][] = [];
  for (let i = 0; i < m; i++) {
    cost.push(new Array<number>(m + 1).fill(Infinity));
    for (let j = i + minPts; j <= m; j++) cost[i][j] = fitLine(x, y, i, j).rss;
  }
  // dp[k][j]: min RSS of the first j points in k segments; arg[k][j]: start of the last segment.
  const dp: number[][] = [];
  const arg: number[][] = [];
  for (let k = 0; k <= s; k++) {
    dp.push(new Array<number>(m + 1).fill(Infinity));
    arg.push(new Array<number>(m + 1).fill(-1));
  }
  dp[0][0] = 0;
  for (let k = 1; k <= s; k++) {
    for (let j = k * minPts; j <= m; j++) {
      for (let i = (k - 1) * minPts; i <= j - minPts; i++) {
        const v = dp[k - 1][i] + cost[i][j];
        if (v < dp[k][j]) {
          dp[k][j] = v;
          arg[k][j] = i;
        }
      }
    }
  }
  const starts: number[] = [];
  let j = m;
  for (let k = s; k >= 1; k--) {
    const i = arg[k][j];
    starts.unshift(i);
    j = i;
  }
  return { starts, rss: dp[s][m] };
}

function checkOptions(o: ConcentrationAreaOptions): Required<Omit<ConcentrationAreaOptions, 'segments' | 'breaks'>> & Pick<ConcentrationAreaOptions, 'segments' | 'breaks'> {
  const levels = o.levels ?? 100;
  const minSegments = o.segments ?? o.minSegments ?? 2;
  const maxSegments = o.segments ?? o.maxSegments ?? 4;
  const minPointsPerSegment = o.minPointsPerSegment ?? 5;
  const cellArea = o.cellArea ?? 1;
  if (!Number.isInteger(levels) || levels < 10) throw new InvalidOptionError(`C–A levels = ${levels}; expected an integer ≥ 10`);
  if (!Number.isInteger(minSegments) || !Number.isInteger(maxSegments) || minSegments < 1 || maxSegments < minSegments) {
    throw new InvalidOptionError(`C–A segments ${minSegments}…${maxSegments}; expected integers with 1 ≤ min ≤ max`);
  }
  if (!Number.isInteger(minPointsPerSegment) || minPointsPerSegment < 2) {
    throw new InvalidOptionError(`C–A minPointsPerSegment = ${minPointsPerSegment}; expected an integer ≥ 2`);
  }
  if (maxSegments * minPointsPerSegment > levels) {
    throw new InvalidOptionError(
      `C–A: ${maxSegments} segments of ≥ ${minPointsPerSegment} points need ≥ ${maxSegments * minPointsPerSegment} levels; got ${levels}`,
    );
  }
  if (!(cellArea > 0)) throw new InvalidOptionError(`C–A cellArea = ${cellArea}; expected > 0`);
  if (o.breaks) {
    o.breaks.forEach((b, i) => {
      if (!(b > 0) || !Number.isFinite(b) || (i > 0 && b <= o.breaks![i - 1])) {
        throw new InvalidOptionError(`C–A breaks ${o.breaks!.join(', ')}: expected positive, finite, strictly ascending values`);
      }
    });
  }
  return { levels, minSegments, maxSegments, minPointsPerSegment, cellArea, segments: o.segments, breaks: o.breaks };
}

/** C–A model of a map (row-major values, NaN = nodata). */
export function concentrationArea(values: ArrayLike<number>, options: ConcentrationAreaOptions = {}): ConcentrationArea {
  const o = checkOptions(options);
  let positives = 0;
  let nonPositiveCells = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v > 0) positives++;
    else nonPositiveCells++;
  }
  if (positives === 0) {
    throw new EmptyInputError('map', 'no cell has a finite positive value, so the log–log C–A plot is empty', 'Use a probability or concentration map with positive values');
  }
  const sorted = new Float64Array(positives);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > 0 && Number.isFinite(values[i])) sorted[k++] = values[i];
  sorted.sort();
  const lo = Math.log10(sorted[0]);
  const hi = Math.log10(sorted[positives - 1]);
  if (!(hi > lo)) {
    throw new EmptyInputError('map', `every positive value equals ${sorted[0]}; a C–A plot needs a range of values`, 'Check the map');
  }
  const thresholds: number[] = [];
  const area: number[] = [];
  const log10Threshold: number[] = [];
  const log10Area: number[] = [];
  // Count of values ≥ v by binary search in the sorted values.
  for (let l = 0; l < o.levels; l++) {
    const lv = lo + ((hi - lo) * l) / (o.levels - 1);
    const v = l === o.levels - 1 ? sorted[positives - 1] : 10 ** lv;
    let a = 0;
    let b = positives;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (sorted[mid] < v) a = mid + 1;
      else b = mid;
    }
    const cells = positives - a;
    thresholds.push(v);
    area.push(cells * o.cellArea);
    log10Threshold.push(Math.log10(v));
    log10Area.push(Math.log10(cells * o.cellArea));
  }
  const x = log10Threshold;
  const y = log10Area;
  const m = x.length;

  const segmentsFrom = (starts: number[]): { segments: CaSegment[]; rss: number } => {
    const segments: CaSegment[] = [];
    let rss = 0;
    starts.forEach((s, i) => {
      const e = i + 1 < starts.length ? starts[i + 1] : m;
      const f = fitLine(x, y, s, e);
      rss += f.rss;
      segments.push({ slope: f.slope, intercept: f.intercept, fromLogV: x[s], toLogV: x[e - 1], points: e - s });
    });
    return { segments, rss };
  };

  if (o.breaks) {
    const starts = [0];
    for (const b of o.breaks) {
      const lb = Math.log10(b);
      const s = x.findIndex((v) => v >= lb);
      if (s > starts[starts.length - 1] && s < m) starts.push(s);
    }
    // Segments with fewer than 2 points cannot be fitted: merge those by skipping their start.
    const usable = starts.filter((s, i) => (i + 1 < starts.length ? starts[i + 1] : m) - s >= 2);
    const { segments, rss } = segmentsFrom(usable.length > 0 ? usable : [0]);
    return { thresholds, area, log10Threshold, log10Area, breaks: [...o.breaks], segments, source: 'user', rss, nonPositiveCells };
  }

  let best: { starts: number[]; rss: number; bic: number } | null = null;
  for (let s = o.minSegments; s <= o.maxSegments; s++) {
    const r = bestSegmentation(x, y, s, o.minPointsPerSegment);
    // BIC with 2 parameters per line and 1 per break; a tiny floor keeps log finite on exact fits.
    const params = 3 * s - 1;
    const bic = m * Math.log(Math.max(r.rss, 1e-300) / m) + params * Math.log(m);
    if (!best || bic < best.bic) best = { ...r, bic };
  }
  const chosen = best as { starts: number[]; rss: number };
  const { segments, rss } = segmentsFrom(chosen.starts);
  const breaks: number[] = [];
  for (let i = 0; i + 1 < segments.length; i++) {
    const a = segments[i];
    const b = segments[i + 1];
    const left = a.toLogV;
    const right = b.fromLogV;
    let lx = a.slope !== b.slope ? (b.intercept - a.intercept) / (a.slope - b.slope) : (left + right) / 2;
    if (!(lx >= left)) lx = left;
    if (!(lx <= right)) lx = right;
    breaks.push(10 ** lx);
  }
  return { thresholds, area, log10Threshold, log10Area, breaks, segments, source: 'auto', rss, nonPositiveCells };
}

/**
 * Anomaly classes raster: class 1 below breaks[0], class i + 1 for breaks[i−1] ≤ v < breaks[i],
 * breaks.length + 1 at or above the last break; NaN stays NaN (nodata).
 */
export function anomalyClasses(values: ArrayLike<number>, breaks: readonly number[]): Float32Array {
  for (let i = 1; i < breaks.length; i++) {
    if (!(breaks[i] > breaks[i - 1])) throw new InvalidOptionError(`class breaks ${breaks.join(', ')}: expected strictly ascending values`);
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      out[i] = NaN;
      continue;
    }
    let c = 1;
    while (c <= breaks.length && v >= breaks[c - 1]) c++;
    out[i] = c;
  }
  return out;
}
