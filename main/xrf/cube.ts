import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';

/**
 * A spectral cube: H × W pixels, B channels (energy bins of a micro-XRF spectrum, element
 * maps, or hyperspectral bands). Values are pixel-interleaved (index (r·W + c)·B + b) because
 * every detector here works on per-pixel spectra.
 */
export interface SpectralCube {
  readonly rows: number;
  readonly cols: number;
  readonly bandCount: number;
  readonly bandNames: string[];
  readonly pixels: Float32Array;
  /** Ground-truth anomaly mask (1 = anomaly), row-major H·W, when the file carries one. */
  readonly truth: Uint8Array | null;
  /** Georeferencing of the source, or null (then outputs use an identity pixel grid). */
  readonly grid: GridSpec | null;
  readonly source: string;
}

/** A cube file is readable but its contents are inconsistent (shapes, missing keys, non-finite values). */
export class CubeFormatError extends WorkbenchError {}

export function makeCube(p: Omit<SpectralCube, 'bandNames'> & { bandNames?: string[] }): SpectralCube {
  const { rows, cols, bandCount, pixels, truth, source } = p;
  if (!(rows > 0 && cols > 0 && bandCount > 0)) throw new CubeFormatError(`${source}: the cube is ${rows}×${cols}×${bandCount}; every dimension must be at least 1`, { source });
  if (pixels.length !== rows * cols * bandCount) throw new CubeFormatError(`${source}: ${pixels.length} values do not fill a ${rows}×${cols}×${bandCount} cube (${rows * cols * bandCount})`, { source });
  if (truth && truth.length !== rows * cols) throw new CubeFormatError(`${source}: the truth mask has ${truth.length} pixels, the cube ${rows}×${cols} = ${rows * cols}. Give a mask of the cube's size`, { source });
  for (let i = 0; i < pixels.length; i++) {
    if (!Number.isFinite(pixels[i])) {
      const px = Math.floor(i / bandCount);
      throw new CubeFormatError(
        `${source}: pixel (row ${Math.floor(px / cols)}, col ${px % cols}) band ${i % bandCount} is ${pixels[i]}; detectors need finite values everywhere. Fill or crop the missing pixels first`,
        { source, index: i },
      );
    }
  }
  const bandNames = p.bandNames ?? Array.from({ length: bandCount }, (_, b) => `band_${b + 1}`);
  if (bandNames.length !== bandCount) throw new CubeFormatError(`${source}: ${bandNames.length} band names for ${bandCount} bands`, { source });
  return { rows, cols, bandCount, bandNames, pixels, truth, grid: p.grid, source };
}

/**
 * Band normalisation before detection:
 * - `none`: raw values;
 * - `minmax-band`: each band to [0, 1] (default: bands of very different magnitude — counts of
 *   major vs trace elements — then weigh alike in reconstruction losses);
 * - `minmax-global`: one min/max over all values (keeps relative band magnitudes, i.e. spectral shape);
 * - `zscore-band`: each band to mean 0, sd 1;
 * - `closure`: each pixel divided by its total (composition instead of counts; removes
 *   count-rate / topography effects common in micro-XRF).
 */
export type Normalization = 'none' | 'minmax-band' | 'minmax-global' | 'zscore-band' | 'closure';
export const NORMALIZATIONS: readonly Normalization[] = ['none', 'minmax-band', 'minmax-global', 'zscore-band', 'closure'];

export function normalizeCube(cube: SpectralCube, method: Normalization): SpectralCube {
  if (!NORMALIZATIONS.includes(method)) throw new InvalidOptionError(`normalisation must be one of ${NORMALIZATIONS.join(', ')}; got "${method}"`);
  const { bandCount: B, pixels } = cube;
  const n = cube.rows * cube.cols;
  const out = new Float32Array(pixels.length);
  if (method === 'none') out.set(pixels);
  else if (method === 'closure') {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += pixels[i * B + b];
      const inv = s !== 0 ? 1 / s : 0;
      for (let b = 0; b < B; b++) out[i * B + b] = pixels[i * B + b] * inv;
    }
  } else if (method === 'minmax-global') {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < pixels.length; i++) {
      if (pixels[i] < lo) lo = pixels[i];
      if (pixels[i] > hi) hi = pixels[i];
    }
    const inv = hi > lo ? 1 / (hi - lo) : 0;
    for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] - lo) * inv;
  } else {
    for (let b = 0; b < B; b++) {
      let lo = Infinity, hi = -Infinity, sum = 0, ss = 0;
      for (let i = 0; i < n; i++) {
        const v = pixels[i * B + b];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        sum += v;
      }
      const mean = sum / n;
      for (let i = 0; i < n; i++) ss += (pixels[i * B + b] - mean) ** 2;
      const sd = Math.sqrt(ss / n);
      // A constant band carries no information: it maps to 0 rather than NaN.
      if (method === 'minmax-band') {
        const inv = hi > lo ? 1 / (hi - lo) : 0;
        for (let i = 0; i < n; i++) out[i * B + b] = (pixels[i * B + b] - lo) * inv;
      } else {
        const inv = sd > 0 ? 1 / sd : 0;
        for (let i = 0; i < n; i++) out[i * B + b] = (pixels[i * B + b] - mean) * inv;
      }
    }
  }
  return { ...cube, pixels: out };
}
