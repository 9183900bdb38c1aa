import { EmptyInputError, InvalidOptionError } from '../errors.ts';
import type { ExperimentalVariogram } from './experimental-variogram.ts';
import { structure, type ModelType, type VariogramModel } from './variogram-model.ts';

/**
 * Weighted least-squares fit of nugget + one structure to an experimental variogram, with
 * gstat's default weights (fit.method = 7): w_j = N_j / h_j², N_j pairs at mean distance h_j.
 *
 * How: for a fixed range the model is linear in (nugget, psill), so that 2×2 problem is solved
 * exactly (with nugget, psill ≥ 0, as gstat enforces); the range is then found by minimising this
 * profile over a log-spaced scan and a golden-section refinement. This finds the minimum of the
 * same objective that gstat's Gauss–Newton iteration descends, without depending on starting
 * values (which fit.variogram needs and which are the usual cause of failed fits). All distances
 * enter as h / range, so large UTM coordinates never reach the fit (cf. GSTools #143).
 */
export interface FittedVariogram {
  readonly model: VariogramModel;
  /** Weighted sum of squared errors at the optimum (gstat's SSErr). */
  readonly sse: number;
  /** Things the user should know (range at the search limit, sill fixed at zero…). */
  readonly warnings: string[];
}

export interface FitOptions {
  /** Smallest and largest range searched, as multiples of the largest lag distance. @default [0.001, 10] */
  readonly rangeSearch?: readonly [number, number];
}

interface Linear { nugget: number; psill: number; sse: number }

/** Best non-negative (nugget, psill) for fixed structure values f_j. */
function solveLinear(gamma: readonly number[], f: Float64Array, w: Float64Array, fitNugget: boolean): Linear {
  let sw = 0, sf = 0, sff = 0, sg = 0, sfg = 0;
  for (let j = 0; j < f.length; j++) {
    sw += w[j]; sf += w[j] * f[j]; sff += w[j] * f[j] * f[j]; sg += w[j] * gamma[j]; sfg += w[j] * f[j] * gamma[j];
  }
  const sseOf = (nug: number, ps: number): number => {
    let s = 0;
    for (let j = 0; j < f.length; j++) {
      const r = gamma[j] - nug - ps * f[j];
      s += w[j] * r * r;
    }
    return s;
  };
  const candidates: [number, number][] = [];
  if (fitNugget) {
    const det = sw * sff - sf * sf;
    if (Math.abs(det) > 1e-14 * sw * sff) {
      const nug = (sff * sg - sf * sfg) / det;
      const ps = (sw * sfg - sf * sg) / det;
      if (nug >= 0 && ps >= 0) candidates.push([nug, ps]);
    }
    candidates.push([Math.max(0, sg / sw), 0]);
  }
  if (sff > 0) candidates.push([0, Math.max(0, sfg / sff)]);
  let best: Linear = { nugget: 0, psill: 0, sse: Infinity };
  for (const [nug, ps] of candidates) {
    const sse = sseOf(nug, ps);
    if (sse < best.sse) best = { nugget: nug, psill: ps, sse };
  }
  return best;
}

/** Fits one model type (sph, exp or gau with a nugget) to an experimental variogram. */
export function fitVariogram(v: ExperimentalVariogram, type: ModelType, options: FitOptions = {}): FittedVariogram {
  const use: number[] = [];
  for (let j = 0; j < v.np.length; j++) if (v.np[j] > 0 && v.distM[j] > 0) use.push(j);
  if (use.length < 3) {
    throw new EmptyInputError('variogram', `only ${use.length} non-empty lag bins to fit (need at least 3)`, 'Increase the cutoff, narrow the lag width, or fix the model with --variogram');
  }
  const h = use.map((j) => v.distM[j]);
  const gamma = use.map((j) => v.gamma[j]);
  const w = Float64Array.from(use, (j) => v.np[j] / (v.distM[j] * v.distM[j]));
  if (type === 'nug') {
    const sw = w.reduce((a, b) => a + b, 0);
    const nug = gamma.reduce((a, g, j) => a + w[j] * g, 0) / sw;
    const sse = gamma.reduce((a, g, j) => a + w[j] * (g - nug) ** 2, 0);
    return { model: { type: 'nug', nugget: nug, psill: 0, rangeM: 1 }, sse, warnings: [] };
  }
  const [lo, hi] = options.rangeSearch ?? [0.001, 10];
  if (!(lo > 0 && hi > lo)) throw new InvalidOptionError(`rangeSearch must be 0 < lo < hi, got [${lo}, ${hi}]`);
  const hMax = Math.max(...h);
  const f = new Float64Array(h.length);
  const profile = (a: number): Linear => {
    for (let j = 0; j < h.length; j++) f[j] = structure(type, h[j] / a);
    return solveLinear(gamma, f, w, true);
  };
  const logLo = Math.log(lo * hMax), logHi = Math.log(hi * hMax);
  const steps = 400;
  let bestK = 0, bestS = Infinity;
  const grid: number[] = [];
  for (let k = 0; k <= steps; k++) {
    const la = logLo + ((logHi - logLo) * k) / steps;
    grid.push(la);
    const s = profile(Math.exp(la)).sse;
    if (s < bestS) { bestS = s; bestK = k; }
  }
  // Golden-section search on log(range) within the bracketing scan cells.
  let a = grid[Math.max(0, bestK - 1)], b = grid[Math.min(steps, bestK + 1)];
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = profile(Math.exp(c)).sse, fd = profile(Math.exp(d)).sse;
  for (let it = 0; it < 200 && b - a > 1e-12; it++) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = profile(Math.exp(c)).sse; }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = profile(Math.exp(d)).sse; }
  }
  let rangeM = Math.exp((a + b) / 2);
  let best = profile(rangeM);
  if (bestS < best.sse) { rangeM = Math.exp(grid[bestK]); best = profile(rangeM); }
  const warnings: string[] = [];
  if (bestK === steps) warnings.push(`${type}: the fitted range reached the search limit (${(hi * hMax).toFixed(0)} m): the variogram does not level off within the cutoff; consider a larger cutoff or a fixed model`);
  if (bestK === 0) warnings.push(`${type}: the fitted range reached the lower search limit (${(lo * hMax).toFixed(3)} m): the data look like pure nugget`);
  if (best.psill === 0) warnings.push(`${type}: the fitted partial sill is 0 (pure nugget: no spatial correlation found)`);
  return { model: { type, nugget: best.nugget, psill: best.psill, rangeM }, sse: best.sse, warnings };
}

/**
 * Fits each candidate type and returns the one with the smallest weighted SSE (models with a
 * zero partial sill lose to any model with spatial structure unless all have none).
 */
export function fitBestVariogram(v: ExperimentalVariogram, types: readonly ModelType[] = ['sph', 'exp', 'gau'], options: FitOptions = {}): FittedVariogram & { candidates: FittedVariogram[] } {
  const candidates = types.map((t) => fitVariogram(v, t, options));
  const structured = candidates.filter((c) => c.model.psill > 0);
  const pool = structured.length > 0 ? structured : candidates;
  const best = pool.reduce((p, c) => (c.sse < p.sse ? c : p));
  return { ...best, candidates };
}
