import type { ModelSiteExplanation } from '../../../main/api/contract.ts';

/**
 * Drawing of the Compare view's site panels, as plain functions (no DOM, unit-testable and used
 * by the browser test as the reference for the canvas pixels): the Grad-CAM colours and the
 * geometry of the offset quiver.
 */

/** matplotlib's "hot" colour map (its segment data: black-red → red → yellow → white), v in 0 … 1. */
export function hotColor(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const r = Math.min(1, 0.0416 + ((1 - 0.0416) * t) / 0.365079);
  const g = Math.min(1, Math.max(0, (t - 0.365079) / (0.746032 - 0.365079)));
  const b = Math.min(1, Math.max(0, (t - 0.746032) / (1 - 0.746032)));
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/** RGBA pixels of a size × size Grad-CAM map scaled by its peak (0 … peak → 0 … 1; an all-zero map stays black). */
export function gradCamPixels(values: readonly number[], size: number, peak: number): Uint8ClampedArray<ArrayBuffer> {
  const px = new Uint8ClampedArray(new ArrayBuffer(size * size * 4));
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = hotColor(peak > 0 ? values[i] / peak : 0);
    px.set([r, g, b, 255], i * 4);
  }
  return px;
}

export interface QuiverGeometry {
  /** Drawing box: layer cells are unit squares, (0, 0) = top-left of the layer's input grid. */
  readonly width: number;
  readonly height: number;
  /** Mean offset per output cell: arrow from the cell centre, scaled by `arrowScale` for visibility. */
  readonly cells: { readonly x: number; readonly y: number; readonly dx: number; readonly dy: number; readonly mask: number; readonly magnitude: number }[];
  /** The centre cell's taps: regular grid position → learned sampling point (not scaled). */
  readonly taps: { readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly mask: number }[];
  readonly arrowScale: number;
}

/**
 * Geometry of the offset panel, in the layer's input-cell units (Δy down the rows, as the
 * offsets are stored): per output cell the mean offset vector and mean mask, and for the
 * centre cell every tap from its regular sampling position to the learned one. With stride 1
 * and 'same' padding (the architectures' deformable layers) output cell (r, c) sits on input
 * cell (r, c). Mean vectors are short (they average over taps), so they are drawn scaled so the
 * longest is 0.45 cell; the taps are drawn at true length.
 */
export function quiverGeometry(o: NonNullable<ModelSiteExplanation['offsets']>): QuiverGeometry {
  const cells = o.meanDx.map((dx, i) => ({ x: (i % o.width) + 0.5, y: Math.floor(i / o.width) + 0.5, dx, dy: o.meanDy[i], mask: o.meanMaskPerCell[i], magnitude: o.meanMagnitude[i] }));
  const longest = Math.max(1e-12, ...cells.map((c) => Math.hypot(c.dx, c.dy)));
  const arrowScale = 0.45 / longest;
  const taps = o.centreTaps.map((t) => ({ x0: t.col - t.dx + 0.5, y0: t.row - t.dy + 0.5, x1: t.col + 0.5, y1: t.row + 0.5, mask: t.mask }));
  return { width: o.width, height: o.height, cells, taps, arrowScale };
}
