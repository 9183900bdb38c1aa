import type { ColorRampName, RasterStyle } from '../../../main/api/contract.ts';

/**
 * Colour ramps and stretches for Float32 bands. Ramps are a few control points (sampled from
 * the matplotlib / ColorBrewer definitions) interpolated linearly in RGB; 256 entries are
 * precomputed per ramp so drawing a band is one table look-up per cell.
 */
const STOPS: Record<ColorRampName, readonly string[]> = {
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  magma: ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
  turbo: ['#30123b', '#4662d7', '#36aaf9', '#1ae4b6', '#72fe5e', '#c7ef34', '#faba39', '#f66b19', '#cb2a04', '#7a0403'],
  greys: ['#000000', '#ffffff'],
  rdylbu: ['#313695', '#4575b4', '#74add1', '#abd9e9', '#e0f3f8', '#fee090', '#fdae61', '#f46d43', '#d73027', '#a50026'],
};

export const RAMP_NAMES = Object.keys(STOPS) as ColorRampName[];

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

const tables = new Map<ColorRampName, Uint8Array>();

/** 256 × RGB look-up table of a ramp. */
export function rampTable(name: ColorRampName): Uint8Array {
  const hit = tables.get(name);
  if (hit) return hit;
  const stops = STOPS[name].map(hex);
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(pos));
    const f = pos - k;
    for (let ch = 0; ch < 3; ch++) t[i * 3 + ch] = Math.round(stops[k][ch] * (1 - f) + stops[k + 1][ch] * f);
  }
  tables.set(name, t);
  return t;
}

export function rampCss(name: ColorRampName): string {
  return `linear-gradient(to right, ${STOPS[name].join(', ')})`;
}

export interface Stretch {
  /** Value drawn with the ramp's first colour. */
  readonly min: number;
  /** Value drawn with the ramp's last colour. */
  readonly max: number;
  /** Map log10(value) instead of value (positive values only; others are transparent). */
  readonly log: boolean;
}

/** Value at percentile p (0…100) of finite values, linear interpolation (numpy's default). */
export function percentile(sorted: Float32Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The stretch of a band under a style: min–max of the finite values, a percentile clip, or
 * min–max of the positive values in log10. Throws when the band has no value to show, so the
 * layer panel can say so instead of drawing a blank image.
 */
export function computeStretch(values: Float32Array, style: Pick<RasterStyle, 'stretch' | 'percentiles'>): Stretch {
  const log = style.stretch === 'log';
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (finite.length === 0) throw new Error(log ? 'the band has no positive value, so a log stretch cannot show it; choose min–max' : 'the band holds no valid value (all nodata)');
  if (style.stretch === 'percentile') {
    finite.sort();
    const min = percentile(finite, style.percentiles[0]);
    const max = percentile(finite, style.percentiles[1]);
    return { min, max: max > min ? max : min + 1e-12, log: false };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (log) return { min: Math.log10(min), max: Math.log10(max) > Math.log10(min) ? Math.log10(max) : Math.log10(min) + 1e-12, log: true };
  return { min, max: max > min ? max : min + 1e-12, log: false };
}

/** RGBA pixels of a band (row-major, cols × rows); NaN and out-of-domain cells are transparent. */
export function renderBand(values: Float32Array, stretch: Stretch, ramp: ColorRampName): Uint8ClampedArray<ArrayBuffer> {
  const lut = rampTable(ramp);
  const out = new Uint8ClampedArray(new ArrayBuffer(values.length * 4));
  const scale = 255 / (stretch.max - stretch.min);
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (stretch.log) v = v > 0 ? Math.log10(v) : NaN;
    if (!Number.isFinite(v)) continue;
    const k = Math.max(0, Math.min(255, Math.round((v - stretch.min) * scale)));
    out[i * 4] = lut[k * 3];
    out[i * 4 + 1] = lut[k * 3 + 1];
    out[i * 4 + 2] = lut[k * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Legend labels: the stretch ends in data units. */
export function legendLabels(s: Stretch): [string, string] {
  const f = (v: number): string => {
    const x = s.log ? 10 ** v : v;
    return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(2) : x.toPrecision(3);
  };
  return [f(s.min), f(s.max)];
}
