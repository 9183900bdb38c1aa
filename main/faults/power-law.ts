import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError } from '../errors.ts';
import { PowerLawFitError } from './fault-errors.ts';

/**
 * Deposit density against distance to faults, and the power law of Zhang, Xiong & Chen (2026),
 * eq. (7): m(d) = N·d^k, fitted as log m = log N + k·log d by least squares in log–log space.
 *
 * Ring convention (also used by the weight map):
 *  - ring i (i = 1, 2, …) holds the cells whose distance D to the nearest fault satisfies
 *    (i − 1)·w < D ≤ i·w, w = ring width in metres; cells ON a fault (D = 0) belong to ring 1,
 *    so d never reaches 0 and d^k (k < 0) stays finite. This is the near-zero choice.
 *  - the distance used in the law is, by default, the ring's outer edge in kilometres,
 *    d = i·w / 1000; with 1 km rings d is simply the ring number 1, 2, …, 12 as in the case
 *    study's weight formula. `ringDistance: 'mid'` uses the ring's middle, d = (i − ½)·w / 1000,
 *    instead: the outer edge overstates the distance of near rings most (ring 2: by a third), which
 *    steepens the fitted k; on the demo survey 'mid' removes that bias (see docs/faults-and-sites.md).
 *  - density m = deposit cells in the ring / ring area (km²), ring area = cells in the ring ×
 *    cell area. Deposit cells are unique cells holding ≥ 1 deposit, taken at the cell centre,
 *    so counts and areas come from the same cells.
 *  - rings with no deposit have log m = −∞ and are left out of the fit (reported with
 *    usedInFit false); at least two rings with deposits are needed.
 */

export interface RingStats {
  /** Ring number i ≥ 1. */
  readonly ring: number;
  readonly innerM: number;
  readonly outerM: number;
  /** Distance used in the law, km: the ring's outer edge (default) or middle. */
  readonly dKm: number;
  readonly cells: number;
  readonly areaKm2: number;
  readonly deposits: number;
  /** Deposit cells per km² (0 for an empty ring). */
  readonly density: number;
  readonly usedInFit: boolean;
}

export interface PowerLawFit {
  /** m(1 km) in deposits per km². */
  readonly N: number;
  /** Exponent (negative when deposits cluster near faults). */
  readonly k: number;
  /** Coefficient of determination of the log–log regression. */
  readonly r2: number;
  readonly ringWidthM: number;
  readonly ringDistance: RingDistance;
  /** Last ring considered (rings beyond it are not reported). */
  readonly maxRing: number;
  readonly depositCells: number;
  /** Deposit cells on excluded (nodata) cells, not counted. */
  readonly excludedDeposits: number;
  readonly rings: RingStats[];
  readonly units: { N: string; d: string; density: string };
}

/** Which distance of a ring enters the law: its outer edge i·w (default, the paper's) or middle (i − ½)·w. */
export type RingDistance = 'outer' | 'mid';

/** Distance in km that ring i stands for. */
export function ringDistanceKm(ring: number, ringWidthM: number, convention: RingDistance = 'outer'): number {
  return ((convention === 'mid' ? ring - 0.5 : ring) * ringWidthM) / 1000;
}

export interface DensityOptions {
  /** @default 'outer' */
  readonly ringDistance?: RingDistance;
  /** Ring width in metres. @default the grid's cell size (square cells required then) */
  readonly ringWidthM?: number;
  /** Last ring to report and fit. @default the ring of the farthest deposit cell */
  readonly maxRing?: number;
  /**
   * First ring used in the fit (rings before it are reported with usedInFit false), e.g. to
   * skip a near-fault zone where the density is known to flatten. @default 1
   */
  readonly minRing?: number;
  /** Cells to leave out of the ring areas and counts (1 = excluded), e.g. nodata of the reference grid. */
  readonly excluded?: Uint8Array;
}

/** Ring number of a distance: max(1, ⌈D / w⌉). */
export function ringOf(distanceM: number, ringWidthM: number): number {
  return Math.max(1, Math.ceil(distanceM / ringWidthM));
}

export function defaultRingWidth(grid: GridSpec): number {
  if (Math.abs(grid.cellSizeX - grid.cellSizeY) > 1e-9 * grid.cellSizeX) {
    throw new InvalidOptionError(
      `the grid's cells are not square (${grid.cellSizeX} × ${grid.cellSizeY}); give the ring width in metres explicitly (--ring METRES)`,
      { cellSizeX: grid.cellSizeX, cellSizeY: grid.cellSizeY },
    );
  }
  return grid.cellSizeX;
}

/**
 * Ring statistics and the fitted power law.
 * @param distanceM distance to the nearest fault per cell (NaN = no data, not counted)
 * @param depositCells cell indices (row·cols + col) of deposit cells; duplicates are merged
 */
export function fitDensityPowerLaw(
  grid: GridSpec,
  distanceM: ArrayLike<number>,
  depositCells: ArrayLike<number>,
  options: DensityOptions = {},
): PowerLawFit {
  const n = grid.rows * grid.cols;
  if (distanceM.length !== n) throw new InvalidOptionError(`distance raster has ${distanceM.length} cells; the grid needs ${n}`);
  const ringWidthM = options.ringWidthM ?? defaultRingWidth(grid);
  if (!(Number.isFinite(ringWidthM) && ringWidthM > 0)) throw new InvalidOptionError(`ring width must be a positive number of metres, got ${ringWidthM}`);
  const cells = [...new Set(Array.from(depositCells))];
  if (cells.length === 0) throw new PowerLawFitError('no deposit cell was given; the density–distance law needs deposits', { depositCells: 0 });
  let farthest = 1;
  for (const c of cells) {
    if (!(c >= 0 && c < n)) throw new InvalidOptionError(`deposit cell index ${c} is outside the ${grid.rows}×${grid.cols} grid`);
    if (options.excluded?.[c]) continue;
    const d = distanceM[c];
    if (!Number.isFinite(d)) {
      throw new PowerLawFitError(`deposit cell (row ${Math.floor(c / grid.cols)}, col ${c % grid.cols}) has no fault distance (nodata)`, { cell: c });
    }
    farthest = Math.max(farthest, ringOf(d, ringWidthM));
  }
  const maxRing = options.maxRing ?? farthest;
  if (!(Number.isInteger(maxRing) && maxRing >= 1)) throw new InvalidOptionError(`maxRing must be an integer ≥ 1, got ${maxRing}`);
  const minRing = options.minRing ?? 1;
  const ringDistance = options.ringDistance ?? 'outer';
  if (ringDistance !== 'outer' && ringDistance !== 'mid') throw new InvalidOptionError(`ringDistance must be "outer" or "mid", got "${String(ringDistance)}"`);
  if (!(Number.isInteger(minRing) && minRing >= 1)) throw new InvalidOptionError(`minRing must be an integer ≥ 1, got ${minRing}`);
  const cellCount = new Float64Array(maxRing + 1);
  const depCount = new Float64Array(maxRing + 1);
  for (let i = 0; i < n; i++) {
    const d = distanceM[i];
    if (!Number.isFinite(d) || options.excluded?.[i]) continue;
    const r = ringOf(d, ringWidthM);
    if (r <= maxRing) cellCount[r]++;
  }
  let excludedDeposits = 0;
  for (const c of cells) {
    if (options.excluded?.[c]) {
      excludedDeposits++;
      continue;
    }
    const r = ringOf(distanceM[c], ringWidthM);
    if (r <= maxRing) depCount[r]++;
  }
  const cellAreaKm2 = (grid.cellSizeX * grid.cellSizeY) / 1e6;
  const rings: RingStats[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  for (let r = 1; r <= maxRing; r++) {
    const areaKm2 = cellCount[r] * cellAreaKm2;
    const density = areaKm2 > 0 ? depCount[r] / areaKm2 : 0;
    const usedInFit = r >= minRing && depCount[r] > 0 && areaKm2 > 0;
    const dKm = ringDistanceKm(r, ringWidthM, ringDistance);
    if (usedInFit) {
      xs.push(Math.log10(dKm));
      ys.push(Math.log10(density));
    }
    rings.push({ ring: r, innerM: (r - 1) * ringWidthM, outerM: r * ringWidthM, dKm, cells: cellCount[r], areaKm2, deposits: depCount[r], density, usedInFit });
  }
  if (xs.length < 2) {
    const occupied = rings.filter((r) => r.deposits > 0 && r.ring >= minRing);
    const where = occupied.map((r) => `ring ${r.ring} (${r.innerM}–${r.outerM} m): ${r.deposits}`).join(', ');
    throw new PowerLawFitError(
      `all ${cells.length} deposit cell(s) fall in ${occupied.length} ring(s) of ${ringWidthM} m [${where}]; a power law ` +
        `needs deposits in at least two rings. Use narrower rings (--ring), or more deposits.`,
      { depositCells: cells.length, ringWidthM, occupiedRings: occupied.map((r) => r.ring) },
    );
  }
  const { slope, intercept, r2 } = leastSquares(xs, ys);
  return {
    N: 10 ** intercept,
    k: slope,
    r2,
    ringWidthM,
    ringDistance,
    maxRing,
    depositCells: cells.length,
    excludedDeposits,
    rings,
    units: { N: 'deposit cells per km² at d = 1 km', d: `km (${ringDistance === 'mid' ? 'middle' : 'outer edge'} of the ring)`, density: 'deposit cells per km²' },
  };
}

/** Ordinary least squares y = intercept + slope·x with R² (1 − SSres/SStot). */
export function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) throw new PowerLawFitError('all rings used in the fit have the same distance; the slope is undefined', { rings: n });
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) ssRes += (ys[i] - intercept - slope * xs[i]) ** 2;
  // All densities equal: the flat line explains everything there is.
  const r2 = syy > 0 ? 1 - ssRes / syy : 1;
  return { slope, intercept, r2 };
}
