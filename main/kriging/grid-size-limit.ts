import type { GridSpec } from '../grid/grid-spec.ts';
import { WorkbenchError } from '../errors.ts';

/**
 * Most cells an output grid may have: 100 million. One float32 band of that size is 400 MB and
 * kriging writes a prediction and a variance band per element, so beyond it the run exhausts
 * memory (or, past 2^32 cells, V8 refuses the typed array with an unnamed RangeError) long
 * before it would finish. Checked when the grid is defined, before any work.
 */
export const MAX_GRID_CELLS = 100_000_000;

/** A grid whose cell count exceeds MAX_GRID_CELLS (a cell size too small for the extent). */
export class GridTooLargeError extends WorkbenchError {}

/** Smallest cell size (metres, rounded up to 2 significant digits) that keeps the extent within the limit. */
export function minimumCellSize(widthM: number, heightM: number, limit = MAX_GRID_CELLS): number {
  const exact = Math.sqrt((widthM * heightM) / limit);
  if (!(exact > 0)) return 0;
  const p = 10 ** (Math.floor(Math.log10(exact)) - 1);
  let c = Math.ceil(exact / p) * p;
  while (Math.ceil(widthM / c) * Math.ceil(heightM / c) > limit) c += p;
  return Number(c.toPrecision(3));
}

/** Throws GridTooLargeError naming the grid size, the limit and the fix (a larger --cell). */
export function assertGridSize(grid: GridSpec, options: { readonly cellFlag?: string; readonly limit?: number } = {}): void {
  const limit = options.limit ?? MAX_GRID_CELLS;
  const cells = grid.rows * grid.cols;
  if (cells <= limit) return;
  const flag = options.cellFlag ?? '--cell';
  const suggest = minimumCellSize(grid.cols * grid.cellSizeX, grid.rows * grid.cellSizeY, limit);
  throw new GridTooLargeError(
    `the grid would have ${grid.cols} × ${grid.rows} = ${cells.toLocaleString('en-US')} cells of ${grid.cellSizeX} m, ` +
      `above the limit of ${limit.toLocaleString('en-US')} cells. Give a larger ${flag} (at least ${suggest} for this extent), or a smaller --extent.`,
    { cols: grid.cols, rows: grid.rows, cells, limit, cellSize: grid.cellSizeX, minimumCellSize: suggest },
  );
}
