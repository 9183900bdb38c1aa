import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';
import { bandCount as countBands } from '../util/display-names.ts';

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
  /**
   * What the channels are on the spectral axis (energy in keV, wavelength in nm, …) when the file
   * says so; null: plain channel indices. Travels with the cube into plots and outputs.
   */
  readonly spectralAxis?: SpectralAxis | null;
  /** Pixel size in micrometres when the file records it (TIFF resolution tags, a header line, axis scales). */
  readonly pixelSizeUm?: number | null;
}

/** The physical coordinate of each channel: `values[b]` in `unit` (e.g. keV, nm). */
export interface SpectralAxis {
  readonly quantity: 'energy' | 'wavelength' | 'channel';
  readonly unit: string;
  readonly values: number[];
}

/** A cube file is readable but its contents are inconsistent (shapes, missing keys, non-finite values). */
export class CubeFormatError extends WorkbenchError {}

/** One or more bands hold no finite value at all (a dead detector channel exported as NaN). */
export class NonFiniteBandError extends WorkbenchError {
  constructor(readonly source: string, readonly bands: string[]) {
    super(
      `${source}: band${bands.length > 1 ? 's' : ''} ${bands.map((b) => `"${b}"`).join(', ')} hold${bands.length > 1 ? '' : 's'} no finite value (all NaN/Inf); ` +
        `detectors need finite values everywhere. Leave ${bands.length > 1 ? 'them' : 'it'} out with --drop-bands ${bands.join(',')}`,
      { source, bands },
    );
  }
}

/** Classifies a unit string of a spectral axis (ENVI "wavelength units", NeXus/HyperSpy "units"). */
export function spectralAxisFromUnit(unit: string | null | undefined, values: readonly number[]): SpectralAxis {
  const u = (unit ?? '').trim();
  const l = u.toLowerCase();
  if (/^(k?ev|mev|kiloelectron ?volts?|electron ?volts?)$/.test(l)) return { quantity: 'energy', unit: l === 'ev' || /^electron/.test(l) ? 'eV' : l === 'mev' ? 'MeV' : 'keV', values: [...values] };
  if (/^(nm|nanometers?|µm|um|micrometers?|microns?)$/.test(l)) return { quantity: 'wavelength', unit: /^n/.test(l) ? 'nm' : 'µm', values: [...values] };
  return { quantity: 'channel', unit: u, values: [...values] };
}

/**
 * The spectral axis of a cube: the file's own, else one read from band names that all carry
 * a value and unit ("6.400keV", "550 nm" — the synthetic sample and many exports name channels
 * so), else channel numbers 1…B.
 */
export function cubeSpectralAxis(c: Pick<SpectralCube, 'bandNames' | 'spectralAxis'>): SpectralAxis {
  if (c.spectralAxis) return c.spectralAxis;
  const parsed = c.bandNames.map((n) => /^\s*([-+]?\d+(?:\.\d+)?)\s*(keV|eV|nm|µm|um)\s*$/i.exec(n));
  if (parsed.length > 0 && parsed.every((m) => m !== null)) {
    const units = new Set(parsed.map((m) => (m as RegExpExecArray)[2].toLowerCase()));
    if (units.size === 1) return spectralAxisFromUnit((parsed[0] as RegExpExecArray)[2], parsed.map((m) => Number((m as RegExpExecArray)[1])));
  }
  return { quantity: 'channel', unit: '', values: c.bandNames.map((_, b) => b + 1) };
}

/** Axis title for plots and CSV headers: "energy (keV)", "wavelength (nm)", "channel". */
export function spectralAxisTitle(a: SpectralAxis): string {
  return a.unit ? `${a.quantity} (${a.unit})` : a.quantity;
}

/** Removes named bands (after import, before the finiteness checks: the `--drop-bands` option). */
export function dropBands(c: Omit<SpectralCube, 'bandNames'> & { bandNames: string[] }, names: readonly string[]): Omit<SpectralCube, 'bandNames'> & { bandNames: string[] } {
  if (names.length === 0) return c;
  for (const n of names) {
    if (!c.bandNames.includes(n)) throw new InvalidOptionError(`${c.source}: --drop-bands names "${n}", which is not a band (bands: ${c.bandNames.join(', ')})`);
  }
  const keep = c.bandNames.map((n, i) => [n, i] as const).filter(([n]) => !names.includes(n)).map(([, i]) => i);
  if (keep.length === 0) throw new InvalidOptionError(`${c.source}: --drop-bands would remove every band`);
  const B = c.bandCount, K = keep.length, n = c.rows * c.cols;
  const pixels = new Float32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) pixels[i * K + k] = c.pixels[i * B + keep[k]];
  const axis = c.spectralAxis ? { ...c.spectralAxis, values: keep.map((i) => (c.spectralAxis as SpectralAxis).values[i]) } : c.spectralAxis;
  return { ...c, bandCount: K, bandNames: keep.map((i) => c.bandNames[i]), pixels, spectralAxis: axis };
}

export function makeCube(p: Omit<SpectralCube, 'bandNames'> & { bandNames?: string[] }): SpectralCube {
  const { rows, cols, bandCount, pixels, truth, source } = p;
  if (!(rows > 0 && cols > 0 && bandCount > 0)) throw new CubeFormatError(`${source}: the cube is ${rows}×${cols}×${bandCount}; every dimension must be at least 1`, { source });
  if (pixels.length !== rows * cols * bandCount) throw new CubeFormatError(`${source}: ${pixels.length} values do not fill a ${rows}×${cols}×${bandCount} cube (${rows * cols * bandCount})`, { source });
  if (truth && truth.length !== rows * cols) throw new CubeFormatError(`${source}: the truth mask has ${truth.length} pixels, the cube ${rows}×${cols} = ${rows * cols}. Give a mask of the cube's size`, { source });
  const bandNames = p.bandNames ?? Array.from({ length: bandCount }, (_, b) => `band_${b + 1}`);
  if (bandNames.length !== bandCount) throw new CubeFormatError(`${source}: ${bandNames.length} band names for ${countBands(bandCount)}`, { source });
  const axis = p.spectralAxis ?? null;
  if (axis && axis.values.length !== bandCount) throw new CubeFormatError(`${source}: the spectral axis has ${axis.values.length} values for ${countBands(bandCount)}. Fix the file's energy/wavelength list`, { source });
  // A band with no finite value at all is a dead channel: name it, so it can be dropped.
  const finiteInBand = new Uint8Array(bandCount);
  for (let i = 0, o = 0; i < rows * cols; i++, o += bandCount) {
    for (let b = 0; b < bandCount; b++) if (Number.isFinite(pixels[o + b])) finiteInBand[b] = 1;
  }
  const dead = bandNames.filter((_, b) => !finiteInBand[b]);
  if (dead.length > 0) throw new NonFiniteBandError(source, dead);
  for (let i = 0; i < pixels.length; i++) {
    if (!Number.isFinite(pixels[i])) {
      const px = Math.floor(i / bandCount);
      throw new CubeFormatError(
        `${source}: pixel (row ${Math.floor(px / cols)}, col ${px % cols}) band ${i % bandCount} is ${pixels[i]}; detectors need finite values everywhere. Fill or crop the missing pixels first`,
        { source, index: i },
      );
    }
  }
  return { rows, cols, bandCount, bandNames, pixels, truth, grid: p.grid, source, spectralAxis: axis, pixelSizeUm: p.pixelSizeUm ?? null };
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
