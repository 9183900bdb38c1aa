import type { GridSpec } from './grid-spec.ts';
import { EmptyInputError, InvalidOptionError } from '../errors.ts';
import { bandCount } from '../util/display-names.ts';

/**
 * A stack of Float32 bands on one grid. Band data are row-major (index = row·cols + col).
 * Missing values (nodata in the file, masked cells) are NaN in memory; writers turn them back
 * into the file's nodata value.
 */
export interface RasterStack {
  readonly grid: GridSpec;
  readonly bandNames: string[];
  readonly bands: Float32Array[];
  /** Units per band where known (ppm, ppb, %), parallel to bandNames. */
  readonly units?: (string | null)[];
  /** The file(s) the stack came from, for messages. */
  readonly source?: string;
}

export function makeStack(grid: GridSpec, bandNames: string[], bands: Float32Array[], source?: string): RasterStack {
  if (bandNames.length !== bands.length) {
    throw new InvalidOptionError(`stack has ${bandCount(bands.length)} but ${bandNames.length} name${bandNames.length === 1 ? '' : 's'}`);
  }
  const n = grid.rows * grid.cols;
  bands.forEach((b, i) => {
    if (b.length !== n) {
      throw new InvalidOptionError(`band ${bandNames[i]} has ${b.length} values; the ${grid.rows}×${grid.cols} grid needs ${n}`);
    }
  });
  return { grid, bandNames, bands, source };
}

export function bandIndex(stack: RasterStack, name: string): number {
  const i = stack.bandNames.indexOf(name);
  if (i < 0) throw new InvalidOptionError(`no band "${name}" in ${stack.source ?? 'stack'} (bands: ${stack.bandNames.join(', ')})`);
  return i;
}

export interface BandStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  readonly validCount: number;
}

/** Population statistics over finite values (GDAL's -stats convention). */
export function bandStats(band: Float32Array): BandStats {
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < band.length; i++) {
    const v = band[i];
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < band.length; i++) {
    const v = band[i];
    if (Number.isFinite(v)) ss += (v - mean) * (v - mean);
  }
  return { min, max, mean, std: n > 0 ? Math.sqrt(ss / n) : NaN, validCount: n };
}

/** Throws EmptyInputError for a band without a single finite value. */
export function assertBandsHaveData(stack: RasterStack): void {
  stack.bands.forEach((b, i) => {
    if (bandStats(b).validCount === 0) {
      throw new EmptyInputError(
        stack.source ?? 'raster',
        `band "${stack.bandNames[i]}" holds no valid value (all nodata/NaN)`,
        'Remove the band or re-export it with data',
        { band: stack.bandNames[i] },
      );
    }
  });
}
