import { InvalidOptionError } from '../errors.ts';
import { ringDistanceKm, ringOf, type RingDistance } from './power-law.ts';

/**
 * Geological-knowledge weight map w ∈ [0, 1] from the fitted density law m(d) = N·d^k.
 *
 * Each cell's ring i = max(1, ⌈D / ringWidth⌉) (fault cells are in ring 1), clamped to
 * [1, maxRing] — a cell beyond the last ring gets the last ring's weight, so the law is never
 * extrapolated past the fitted distances. With d = i·ringWidth / 1000 km (or the ring's middle
 * with ringDistance 'mid', as in the fit):
 *  - normalisation 'max' (default, the w = m(d)/m_max): w = m(d) / max over rings of m;
 *  - normalisation 'minmax' (the case study's shipped map):
 *    w = (m(d) − min m) / (max m − min m) over rings 1…maxRing. For k < 0 and 1 km rings this is
 *    (d^k − maxRing^k)/(1 − maxRing^k): 1 in ring 1, 0 in the last ring and beyond. N cancels.
 * The result is clamped to [0, 1]; NaN distances (nodata) give NaN.
 */

export type WeightNormalisation = 'max' | 'minmax';

export interface WeightMapOptions {
  /** Exponent of the law (from the fit, or given). */
  readonly k: number;
  readonly ringWidthM: number;
  /** Last ring; cells farther away take its weight. */
  readonly maxRing: number;
  /** @default 'max' */
  readonly normalisation?: WeightNormalisation;
  /** Distance a ring stands for, as in the fit. @default 'outer' */
  readonly ringDistance?: RingDistance;
}

function checkOptions(o: WeightMapOptions): Required<WeightMapOptions> {
  if (!Number.isFinite(o.k)) throw new InvalidOptionError(`weight map: k must be a finite number, got ${o.k}`);
  if (!(Number.isFinite(o.ringWidthM) && o.ringWidthM > 0)) throw new InvalidOptionError(`weight map: ring width must be > 0 m, got ${o.ringWidthM}`);
  if (!(Number.isInteger(o.maxRing) && o.maxRing >= 1)) throw new InvalidOptionError(`weight map: maxRing must be an integer ≥ 1, got ${o.maxRing}`);
  const normalisation = o.normalisation ?? 'max';
  if (normalisation !== 'max' && normalisation !== 'minmax') throw new InvalidOptionError(`weight map: normalisation must be "max" or "minmax", got "${String(normalisation)}"`);
  if (normalisation === 'minmax' && o.maxRing < 2) throw new InvalidOptionError('weight map: "minmax" normalisation needs maxRing ≥ 2');
  const ringDistance = o.ringDistance ?? 'outer';
  if (ringDistance !== 'outer' && ringDistance !== 'mid') throw new InvalidOptionError(`weight map: ringDistance must be "outer" or "mid", got "${String(ringDistance)}"`);
  return { ...o, normalisation, ringDistance };
}

/** Weight of each ring 1…maxRing (index 0 unused). */
export function ringWeights(options: WeightMapOptions): Float64Array {
  const o = checkOptions(options);
  const m = new Float64Array(o.maxRing + 1);
  let hi = -Infinity;
  let lo = Infinity;
  for (let i = 1; i <= o.maxRing; i++) {
    m[i] = ringDistanceKm(i, o.ringWidthM, o.ringDistance) ** o.k;
    hi = Math.max(hi, m[i]);
    lo = Math.min(lo, m[i]);
  }
  const w = new Float64Array(o.maxRing + 1);
  for (let i = 1; i <= o.maxRing; i++) {
    let v: number;
    if (o.normalisation === 'max') v = m[i] / hi;
    else v = hi > lo ? (m[i] - lo) / (hi - lo) : 1;
    w[i] = Math.min(1, Math.max(0, v));
  }
  return w;
}

/** Weight per cell from a distance raster (metres). */
export function weightMap(distanceM: ArrayLike<number>, options: WeightMapOptions): Float32Array {
  const o = checkOptions(options);
  const w = ringWeights(o);
  const out = new Float32Array(distanceM.length);
  for (let i = 0; i < distanceM.length; i++) {
    const d = distanceM[i];
    out[i] = Number.isFinite(d) ? w[Math.min(o.maxRing, ringOf(d, o.ringWidthM))] : NaN;
  }
  return out;
}
