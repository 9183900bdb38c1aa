import type { GridSpec } from '../grid/grid-spec.ts';
import { cellOf, compareGrids, inGrid, type AlignmentReport } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { GridMismatchError, InvalidOptionError } from '../errors.ts';
import { DepositsOutsideGridError, SitesOutsideGridError } from './site-errors.ts';

/**
 * Cells of the reference grid marked by points or by a label raster.
 *
 * Label rasters must be on the reference grid. When they are not (the GK-DCN case study ships
 * label grids 67 km west / 87 km north of its element grids, paired by array index), the
 * caller may say so explicitly with `alignByIndex`: label cell (r, c) is reference cell
 * (r + rows, c + cols). Without it a mismatch is a GridMismatchError — never a silent shift.
 */

// IndexAlignment and its helpers live in grid/ (faults/ uses them too); re-exported for existing callers.
import type { IndexAlignment } from '../grid/index-alignment.ts';
export { bandOnGridByIndex, parseIndexAlignment, type IndexAlignment } from '../grid/index-alignment.ts';

export type OutsidePolicy = 'error' | 'drop';

export interface LabelCells {
  /** Unique reference cells, as row·cols + col, in first-seen (row-major for rasters) order. */
  readonly cells: number[];
  /** Inputs that fell outside the grid and were dropped (policy 'drop'). */
  readonly dropped: { x: number; y: number }[] | { row: number; col: number }[];
  /** Inputs that hit an already-marked cell (two deposits in one cell). */
  readonly merged: number;
  /** For label rasters: how the label grid differs from the reference (null for points). */
  readonly alignment: AlignmentReport | null;
}

export type SiteRole = 'deposit' | 'negative' | 'site';

function outsideError(role: SiteRole, message: string, details: Record<string, unknown>): Error {
  return role === 'deposit' ? new DepositsOutsideGridError(message, details) : new SitesOutsideGridError(message, details);
}

/** Cells holding the given points (x, y in the grid's CRS). */
export function cellsFromPoints(
  grid: GridSpec,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { role?: SiteRole; source?: string; outside?: OutsidePolicy } = {},
): LabelCells {
  const role = options.role ?? 'deposit';
  const source = options.source ?? `${role} points`;
  const seen = new Set<number>();
  const cells: number[] = [];
  const outside: { x: number; y: number }[] = [];
  let merged = 0;
  for (let i = 0; i < x.length; i++) {
    const { row, col } = cellOf(grid, x[i], y[i]);
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i]) || !inGrid(grid, row, col)) {
      outside.push({ x: x[i], y: y[i] });
      continue;
    }
    const id = row * grid.cols + col;
    if (seen.has(id)) merged++;
    else {
      seen.add(id);
      cells.push(id);
    }
  }
  if (outside.length > 0 && (options.outside ?? 'error') === 'error') {
    const sample = outside.slice(0, 5).map((p) => `(${p.x}, ${p.y})`).join(', ');
    throw outsideError(
      role,
      `${source}: ${outside.length} of ${x.length} ${role} point(s) lie outside the ${grid.rows}×${grid.cols} grid ` +
        `[first: ${sample}]. Check the CRS of the points (the grid is in ${grid.crs?.name ?? 'an undeclared CRS'}), ` +
        `or drop them explicitly (--drop-outside).`,
      { source, outside: outside.length, total: x.length, sample: outside.slice(0, 5) },
    );
  }
  if (cells.length === 0) {
    throw outsideError(role, `${source}: none of the ${x.length} ${role} point(s) lies inside the grid`, { source, total: x.length });
  }
  return { cells, dropped: outside, merged, alignment: null };
}

export interface LabelRasterOptions {
  /** Cell value that marks a site. @default 1 (the case study's negative raster uses 0: pass 0) */
  readonly value?: number;
  /** Explicit index pairing for a label grid that is not the reference grid. */
  readonly alignByIndex?: IndexAlignment;
  readonly role?: SiteRole;
  readonly outside?: OutsidePolicy;
  /**
   * Largest share of the label grid that may be marked before the coding is suspected to be
   * inverted (sites are sparse). @default 0.5
   */
  readonly maxMarkedFraction?: number;
}

/** Reference cells marked with `value` in band 0 of a label raster. */
export function cellsFromLabelRaster(reference: GridSpec, label: RasterStack, options: LabelRasterOptions = {}): LabelCells {
  const role = options.role ?? 'deposit';
  const value = options.value ?? 1;
  const source = label.source ?? `${role} raster`;
  if (label.bands.length !== 1) {
    throw new InvalidOptionError(`${source}: a label raster needs exactly one band, found ${label.bands.length}`);
  }
  const lg = label.grid;
  const alignment = compareGrids(reference, lg);
  if (!options.alignByIndex && !alignment.aligned) {
    // Not assertAligned's generic "resample nearest or bilinear": resampling drops (nearest) or
    // smears (bilinear) sparse deposit cells, so the fix offered is reading the cells as points.
    throw new GridMismatchError(
      `${source} is not aligned with the reference grid: ${alignment.problems.join('; ')}. Resampling a sparse label raster drops or smears its deposit cells; ` +
        `read its marked cells as points instead (--labels-as-points on geoanomaly sites and evaluate: each marked cell becomes a point at its centre in the label raster's own ` +
        `georeferencing and lands in the reference cell that holds it), or, if the files are known to be paired by array index, pass --align-by-index R,C.`,
      { source, ...alignment },
    );
  }
  if (Math.abs(reference.cellSizeX - lg.cellSizeX) > 1e-6 * reference.cellSizeX || Math.abs(reference.cellSizeY - lg.cellSizeY) > 1e-6 * reference.cellSizeY) {
    throw new GridMismatchError(
      `${source}: cells of ${lg.cellSizeX}×${lg.cellSizeY} cannot be paired by index with reference cells of ` +
        `${reference.cellSizeX}×${reference.cellSizeY}; resample the label raster onto the reference grid instead.`,
      { source, ...alignment },
    );
  }
  const off = options.alignByIndex ?? { rows: 0, cols: 0 };
  const band = label.bands[0];
  const marked: number[] = [];
  for (let i = 0; i < band.length; i++) if (band[i] === value) marked.push(i);
  const maxFrac = options.maxMarkedFraction ?? 0.5;
  if (marked.length > maxFrac * band.length) {
    throw new InvalidOptionError(
      `${source}: ${marked.length} of ${band.length} cells hold the site value ${value}; sites are sparse, so the coding looks ` +
        `inverted. If another value marks the sites (the GK-DCN negative raster marks them with 0), give that value ` +
        `(--negative-value / --deposit-value).`,
      { source, marked: marked.length, cells: band.length, value },
    );
  }
  if (marked.length === 0) {
    throw new InvalidOptionError(`${source}: no cell holds the site value ${value}; give the value that marks the sites`, { source, value });
  }
  const cells: number[] = [];
  const dropped: { row: number; col: number }[] = [];
  for (const i of marked) {
    const row = Math.floor(i / lg.cols) + off.rows;
    const col = (i % lg.cols) + off.cols;
    if (!inGrid(reference, row, col)) dropped.push({ row: row - off.rows, col: col - off.cols });
    else cells.push(row * reference.cols + col);
  }
  if (dropped.length > 0 && (options.outside ?? 'error') === 'error') {
    const sample = dropped.slice(0, 5).map((p) => `(row ${p.row}, col ${p.col})`).join(', ');
    throw outsideError(
      role,
      `${source}: ${dropped.length} of ${marked.length} marked cell(s) fall outside the ${reference.rows}×${reference.cols} ` +
        `reference grid after index alignment (${off.rows}, ${off.cols}) [first: ${sample}]. Check the alignment, or drop them explicitly (--drop-outside).`,
      { source, outside: dropped.length, total: marked.length, sample: dropped.slice(0, 5) },
    );
  }
  return { cells, dropped, merged: 0, alignment };
}
