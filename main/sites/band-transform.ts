import type { RasterStack } from '../grid/raster.ts';
import { BandMismatchError, InvalidOptionError } from '../errors.ts';

/**
 * Band transforms applied before patches are cut (and, with the same statistics, before a
 * trained model predicts a map):
 *  - 'log10': log10(max(v, floor)); concentrations are log-normal-ish, the paper log-transforms.
 *  - 'standardize': (v − mean) / std with the mean and population std of the WHOLE grid's band
 *    (not of the patches: patch statistics would leak the labels' neighbourhoods into the
 *    scaling and differ between training and prediction).
 *  - 'clr': centred log-ratio, ln(max(v, floor)) − mean over bands of ln(max(·, floor)) at the
 *    cell (Aitchison 1986), for compositional data. Units per band (%, ppm, ppb) only shift a
 *    band's clr by a constant, which standardisation removes.
 *  - combinations 'log10-standardize' (the GK-DCN preprocessing) and 'clr-standardize'.
 * Zeros and non-positive values (censored values coded ≤ 0) are raised to a per-band floor
 * before any log: by default half the band's smallest positive value, or a given number.
 * NaN (nodata) stays NaN.
 */

export type BandTransform = 'none' | 'log10' | 'standardize' | 'log10-standardize' | 'clr' | 'clr-standardize';

export const BAND_TRANSFORMS: readonly BandTransform[] = ['none', 'log10', 'standardize', 'log10-standardize', 'clr', 'clr-standardize'];

export interface TransformOptions {
  /** @default 'log10-standardize' */
  readonly transform?: BandTransform;
  /** Floor for non-positive values before a log. @default 'half-min-positive' (per band) */
  readonly floor?: 'half-min-positive' | number;
}

/** Everything needed to apply the same transform to another stack (e.g. the prediction grid). */
export interface TransformStats {
  readonly transform: BandTransform;
  readonly bandNames: string[];
  /** Floor per band (NaN where no log is taken). */
  readonly floors: number[];
  /** Cells raised to the floor per band. */
  readonly flooredCells: number[];
  /** Mean and population std of the transformed band over the whole grid (NaN when not standardised). */
  readonly means: number[];
  readonly stds: number[];
}

function checkTransform(t: unknown): BandTransform {
  if (!(BAND_TRANSFORMS as readonly unknown[]).includes(t)) {
    throw new InvalidOptionError(`unknown band transform "${String(t)}"; use one of ${BAND_TRANSFORMS.join(', ')}`);
  }
  return t as BandTransform;
}

function bandFloor(band: Float32Array, floor: TransformOptions['floor'], name: string): number {
  if (typeof floor === 'number') {
    if (!(Number.isFinite(floor) && floor > 0)) throw new InvalidOptionError(`log floor must be a positive number, got ${floor}`);
    return floor;
  }
  let minPos = Infinity;
  for (let i = 0; i < band.length; i++) if (band[i] > 0 && band[i] < minPos) minPos = band[i];
  if (minPos === Infinity) {
    throw new InvalidOptionError(`band "${name}" has no positive value; a log transform is impossible. Drop the band or choose transform "standardize".`, { band: name });
  }
  return minPos / 2;
}

/** Log (or clr) part of a transform, in place on copies; returns floors and counts. */
function logPart(stack: RasterStack, t: BandTransform, floors: number[] | null, floorOpt: TransformOptions['floor']): { bands: Float64Array[]; floors: number[]; floored: number[] } {
  const nb = stack.bands.length;
  const n = stack.grid.rows * stack.grid.cols;
  const useLog = t === 'log10' || t === 'log10-standardize';
  const useClr = t === 'clr' || t === 'clr-standardize';
  const outFloors: number[] = [];
  const floored: number[] = [];
  const bands = stack.bands.map((b, j) => {
    const out = new Float64Array(n);
    if (!useLog && !useClr) {
      for (let i = 0; i < n; i++) out[i] = b[i];
      outFloors.push(NaN);
      floored.push(0);
      return out;
    }
    const fl = floors ? floors[j] : bandFloor(b, floorOpt, stack.bandNames[j]);
    let count = 0;
    for (let i = 0; i < n; i++) {
      let v: number = b[i];
      if (Number.isNaN(v)) {
        out[i] = NaN;
        continue;
      }
      if (v < fl) {
        // With the default floor only values ≤ 0 are below it (every positive value is ≥ 2·floor).
        v = fl;
        count++;
      }
      out[i] = useLog ? Math.log10(v) : Math.log(v);
    }
    outFloors.push(fl);
    floored.push(count);
    return out;
  });
  if (useClr) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < nb; j++) s += bands[j][i];
      const mean = s / nb;
      for (let j = 0; j < nb; j++) bands[j][i] -= mean;
    }
  }
  return { bands, floors: outFloors, floored };
}

/** Transforms a whole stack and returns the statistics that define the transform. */
export function transformStack(stack: RasterStack, options: TransformOptions = {}): { bands: Float32Array[]; stats: TransformStats } {
  const t = checkTransform(options.transform ?? 'log10-standardize');
  const { bands, floors, floored } = logPart(stack, t, null, options.floor);
  const standardise = t === 'standardize' || t.endsWith('-standardize');
  const means: number[] = [];
  const stds: number[] = [];
  bands.forEach((b, j) => {
    if (!standardise) {
      means.push(NaN);
      stds.push(NaN);
      return;
    }
    let n = 0;
    let s = 0;
    for (let i = 0; i < b.length; i++) if (!Number.isNaN(b[i])) {
      n++;
      s += b[i];
    }
    const mean = s / n;
    let ss = 0;
    for (let i = 0; i < b.length; i++) if (!Number.isNaN(b[i])) ss += (b[i] - mean) ** 2;
    const std = Math.sqrt(ss / n);
    if (!(std > 0)) {
      throw new InvalidOptionError(
        `band "${stack.bandNames[j]}" is constant over the grid (${n} valid cells, value ${mean}) after the ${t} transform; ` +
          `standardising it would divide by zero. Drop the band.`,
        { band: stack.bandNames[j], validCells: n },
      );
    }
    means.push(mean);
    stds.push(std);
  });
  const stats: TransformStats = { transform: t, bandNames: [...stack.bandNames], floors, flooredCells: floored, means, stds };
  return { bands: finish(bands, stats), stats };
}

function finish(bands: Float64Array[], stats: TransformStats): Float32Array[] {
  return bands.map((b, j) => {
    const out = new Float32Array(b.length);
    const m = stats.means[j];
    const s = stats.stds[j];
    const std = !Number.isNaN(m);
    for (let i = 0; i < b.length; i++) out[i] = std ? (b[i] - m) / s : b[i];
    return out;
  });
}

/**
 * Applies previously computed statistics (floors, means, stds) to another stack with the same
 * bands, e.g. the prediction grid of a trained model.
 */
export function applyTransform(stack: RasterStack, stats: TransformStats): Float32Array[] {
  if (stack.bandNames.length !== stats.bandNames.length || stack.bandNames.some((b, i) => b !== stats.bandNames[i])) {
    throw new BandMismatchError(
      `the stack's bands (${stack.bandNames.join(', ')}) differ from those the transform was fitted on (${stats.bandNames.join(', ')})`,
      { expected: stats.bandNames, found: stack.bandNames },
    );
  }
  const { bands } = logPart(stack, stats.transform, stats.floors, undefined);
  return finish(bands, stats);
}
