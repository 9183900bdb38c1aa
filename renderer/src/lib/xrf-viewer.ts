import type { XrfAxis } from '../../../main/api/contract.ts';

/** Pure helpers of the Micro-XRF spectrum viewer (pixel picking, plot scales, series). */

export interface PixelRC {
  readonly row: number;
  readonly col: number;
}

/** The cube pixel under a pointer at (x, y) CSS pixels inside an element of the given size showing rows × cols pixels. */
export function pixelAt(x: number, y: number, width: number, height: number, rows: number, cols: number): PixelRC {
  const col = Math.min(cols - 1, Math.max(0, Math.floor((x / width) * cols)));
  const row = Math.min(rows - 1, Math.max(0, Math.floor((y / height) * rows)));
  return { row, col };
}

export interface SpectrumLine {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
  readonly dashed?: boolean;
}

export const LINE_COLORS = ['#dc2626', '#1d4ed8', '#059669', '#d97706', '#7c3aed', '#0891b2'];

/** SVG path of one spectrum against the axis values, in a box [x0, x1] × [y0, y1] (y up) scaled to [lo, hi]. */
export function spectrumPath(axis: readonly number[], values: readonly number[], box: { x0: number; x1: number; y0: number; y1: number }, xr: readonly [number, number], yr: readonly [number, number]): string {
  const sx = (v: number): number => box.x0 + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * (box.x1 - box.x0);
  const sy = (v: number): number => box.y1 - ((v - yr[0]) / (yr[1] - yr[0] || 1)) * (box.y1 - box.y0);
  // Channels in axis order (ENVI lists and element-map folders need not be sorted).
  const order = axis.map((_, i) => i).sort((a, b) => axis[a] - axis[b]);
  return order.map((i, k) => `${k === 0 ? 'M' : 'L'}${sx(axis[i]).toFixed(1)},${sy(values[i]).toFixed(1)}`).join('');
}

export function axisRange(values: readonly number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

export function axisLabel(a: XrfAxis): string {
  return a.quantity === 'channel' ? 'channel' : `${a.quantity === 'energy' ? 'Energy' : 'Wavelength'} (${a.unit})`;
}
