import type { GridSpec } from './grid-spec.ts';
import { cellCenterX, cellCenterY, compareGrids } from './grid-spec.ts';
import { sameCrs } from './crs.ts';
import { makeStack, type RasterStack } from './raster.ts';
import { CrsError, InvalidOptionError } from '../errors.ts';

export type ResampleMethod = 'nearest' | 'bilinear';

/**
 * Resamples a stack onto a target grid in the same CRS — an explicit user choice, never done
 * behind the user's back. Nearest takes the source cell containing each target cell centre;
 * bilinear interpolates between the four surrounding source cell centres (NaN if any is NaN,
 * so nodata never bleeds into values). Target cells outside the source become NaN.
 */
export function resampleToGrid(stack: RasterStack, target: GridSpec, method: ResampleMethod): RasterStack {
  if (!sameCrs(stack.grid.crs, target.crs)) {
    throw new CrsError(
      `cannot resample ${stack.source ?? 'the stack'} (${stack.grid.crs?.name ?? 'no CRS'}) onto a grid in ${target.crs?.name ?? 'no CRS'}: reproject it first (gdalwarp -t_srs)`,
      { source: stack.source },
    );
  }
  const s = stack.grid;
  const n = target.rows * target.cols;
  const bands = stack.bands.map(() => new Float32Array(n).fill(NaN));
  for (let r = 0; r < target.rows; r++) {
    const y = cellCenterY(target, r);
    const fr = (s.originY - y) / s.cellSizeY - 0.5; // fractional source row of the centre
    for (let c = 0; c < target.cols; c++) {
      const x = cellCenterX(target, c);
      const fc = (x - s.originX) / s.cellSizeX - 0.5;
      const t = r * target.cols + c;
      if (method === 'nearest') {
        const sr = Math.floor(fr + 0.5);
        const sc = Math.floor(fc + 0.5);
        if (sr < 0 || sc < 0 || sr >= s.rows || sc >= s.cols) continue;
        for (let b = 0; b < bands.length; b++) bands[b][t] = stack.bands[b][sr * s.cols + sc];
      } else {
        // Clamp to the outermost centres so edge cells still interpolate (as GDAL does).
        const r0 = Math.floor(fr);
        const c0 = Math.floor(fc);
        if (fr < -0.5 || fc < -0.5 || fr > s.rows - 0.5 || fc > s.cols - 0.5) continue;
        const ra = Math.min(Math.max(r0, 0), s.rows - 1);
        const rb = Math.min(Math.max(r0 + 1, 0), s.rows - 1);
        const ca = Math.min(Math.max(c0, 0), s.cols - 1);
        const cb = Math.min(Math.max(c0 + 1, 0), s.cols - 1);
        const wy = Math.min(Math.max(fr - r0, 0), 1);
        const wx = Math.min(Math.max(fc - c0, 0), 1);
        for (let b = 0; b < bands.length; b++) {
          const src = stack.bands[b];
          const v00 = src[ra * s.cols + ca];
          const v01 = src[ra * s.cols + cb];
          const v10 = src[rb * s.cols + ca];
          const v11 = src[rb * s.cols + cb];
          bands[b][t] = (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
        }
      }
    }
  }
  return makeStack(target, [...stack.bandNames], bands, stack.source);
}

export interface IndexOffset {
  /** Source cell (r, c) lands on target cell (r + rows, c + cols). */
  readonly rows: number;
  readonly cols: number;
}

/**
 * Pairs a stack with a target grid by array index: source cell (r, c) lands on target cell
 * (r + offset.rows, c + offset.cols) — the CLI's `--align-by-index R,C` — ignoring the
 * source's georeferencing. This reproduces how
 * some published data sets were paired (the Tianshan labels, whose georeferencing disagrees with
 * the element grids) and is offered only as an explicit, reported choice. Cells with no source
 * cell become NaN; the result reports how many.
 */
export function alignByIndex(stack: RasterStack, target: GridSpec, offset: IndexOffset): RasterStack & { uncovered: number; report: string } {
  if (!Number.isInteger(offset.rows) || !Number.isInteger(offset.cols)) {
    throw new InvalidOptionError(`index offset must be whole cells, got rows ${offset.rows}, cols ${offset.cols}`);
  }
  const s = stack.grid;
  const n = target.rows * target.cols;
  const bands = stack.bands.map(() => new Float32Array(n).fill(NaN));
  let uncovered = 0;
  for (let r = 0; r < target.rows; r++) {
    const sr = r - offset.rows;
    for (let c = 0; c < target.cols; c++) {
      const sc = c - offset.cols;
      if (sr < 0 || sc < 0 || sr >= s.rows || sc >= s.cols) {
        uncovered++;
        continue;
      }
      for (let b = 0; b < bands.length; b++) bands[b][r * target.cols + c] = stack.bands[b][sr * s.cols + sc];
    }
  }
  const geo = compareGrids(target, s);
  const report =
    `${stack.source ?? 'layer'} paired with the target grid by array index (offset ${offset.rows} rows, ${offset.cols} cols), ` +
    `ignoring its georeferencing (${geo.aligned ? 'which agrees' : geo.problems.join('; ')}); ` +
    `${uncovered} target cell(s) have no source cell; ${Math.max(0, s.rows + offset.rows - target.rows)} source row(s) and ` +
    `${Math.max(0, s.cols + offset.cols - target.cols)} source column(s) beyond the target are dropped.`;
  return { ...makeStack(target, [...stack.bandNames], bands, stack.source), uncovered, report };
}
