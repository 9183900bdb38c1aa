import type { Crs } from './crs.ts';
import { sameCrs } from './crs.ts';
import { GridMismatchError } from '../errors.ts';

/**
 * A north-up regular grid. (originX, originY) is the outer top-left corner of cell (0, 0);
 * rows go south. Cell (r, c) covers [originX + c·cellSizeX, originX + (c+1)·cellSizeX] ×
 * [originY − (r+1)·cellSizeY, originY − r·cellSizeY]; both cell sizes are positive, in CRS units.
 */
export interface GridSpec {
  readonly originX: number;
  readonly originY: number;
  readonly cellSizeX: number;
  readonly cellSizeY: number;
  readonly rows: number;
  readonly cols: number;
  readonly crs: Crs | null;
}

export interface Extent {
  readonly xmin: number;
  readonly ymin: number;
  readonly xmax: number;
  readonly ymax: number;
}

export function gridExtent(g: GridSpec): Extent {
  return {
    xmin: g.originX,
    xmax: g.originX + g.cols * g.cellSizeX,
    ymax: g.originY,
    ymin: g.originY - g.rows * g.cellSizeY,
  };
}

export function cellCenterX(g: GridSpec, col: number): number {
  return g.originX + (col + 0.5) * g.cellSizeX;
}

export function cellCenterY(g: GridSpec, row: number): number {
  return g.originY - (row + 0.5) * g.cellSizeY;
}

/** Row/column of the cell containing (x, y); may lie outside [0, rows) × [0, cols). */
export function cellOf(g: GridSpec, x: number, y: number): { row: number; col: number } {
  return { row: Math.floor((g.originY - y) / g.cellSizeY), col: Math.floor((x - g.originX) / g.cellSizeX) };
}

export function inGrid(g: GridSpec, row: number, col: number): boolean {
  return row >= 0 && col >= 0 && row < g.rows && col < g.cols;
}

/** GDAL geotransform [originX, cellX, 0, originY, 0, −cellY]. */
export function geoTransform(g: GridSpec): [number, number, number, number, number, number] {
  return [g.originX, g.cellSizeX, 0, g.originY, 0, -g.cellSizeY];
}

/** A grid covering an extent with square cells; the extent is snapped outward to whole cells. */
export function gridFromExtent(extent: Extent, cellSize: number, crs: Crs | null): GridSpec {
  const cols = Math.max(1, Math.ceil((extent.xmax - extent.xmin) / cellSize - 1e-9));
  const rows = Math.max(1, Math.ceil((extent.ymax - extent.ymin) / cellSize - 1e-9));
  return { originX: extent.xmin, originY: extent.ymax, cellSizeX: cellSize, cellSizeY: cellSize, rows, cols, crs };
}

export interface AlignmentReport {
  readonly aligned: boolean;
  readonly problems: string[];
  /** Offset of b's origin relative to a's, in cells of a (positive: b is east / south). */
  readonly offsetCells: { rows: number; cols: number };
  readonly offsetMetres: { x: number; y: number };
  readonly sizeDifference: { rows: number; cols: number };
}

const REL_TOL = 1e-6;

function close(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(scale));
}

/** Compares two grids and describes every difference in cells and metres. */
export function compareGrids(a: GridSpec, b: GridSpec): AlignmentReport {
  const problems: string[] = [];
  if (!sameCrs(a.crs, b.crs)) problems.push(`CRS differs: ${a.crs?.name ?? 'none'} vs ${b.crs?.name ?? 'none'}`);
  if (!close(a.cellSizeX, b.cellSizeX, a.cellSizeX) || !close(a.cellSizeY, b.cellSizeY, a.cellSizeY)) {
    problems.push(`cell size differs: ${a.cellSizeX}×${a.cellSizeY} vs ${b.cellSizeX}×${b.cellSizeY}`);
  }
  const dx = b.originX - a.originX;
  const dy = a.originY - b.originY;
  const offCols = dx / a.cellSizeX;
  const offRows = dy / a.cellSizeY;
  if (!close(dx, 0, a.cellSizeX) || !close(dy, 0, a.cellSizeY)) {
    const lattice = close(offCols, Math.round(offCols), 1) && close(offRows, Math.round(offRows), 1);
    problems.push(
      `origin differs by ${dx.toFixed(3)} m east, ${(-dy).toFixed(3)} m north ` +
        `(${offCols.toFixed(3)} columns, ${offRows.toFixed(3)} rows)` +
        (lattice ? '' : '; the origins are not on the same cell lattice'),
    );
  }
  if (a.rows !== b.rows || a.cols !== b.cols) {
    problems.push(`size differs: ${a.rows}×${a.cols} vs ${b.rows}×${b.cols} (rows×cols)`);
  }
  return {
    aligned: problems.length === 0,
    problems,
    offsetCells: { rows: offRows, cols: offCols },
    offsetMetres: { x: dx, y: -dy },
    sizeDifference: { rows: b.rows - a.rows, cols: b.cols - a.cols },
  };
}

/** Throws GridMismatchError naming both grids and every difference, in cells and metres. */
export function assertAligned(a: GridSpec, b: GridSpec, nameA: string, nameB: string): void {
  const r = compareGrids(a, b);
  if (r.aligned) return;
  throw new GridMismatchError(
    `${nameB} is not aligned with ${nameA}: ${r.problems.join('; ')}. Resample ${nameB} onto ${nameA}'s grid ` +
      `(nearest or bilinear), or, if the files are known to be paired by array index, align them explicitly by an index offset.`,
    { a: nameA, b: nameB, ...r },
  );
}
