import { InvalidOptionError } from '../errors.ts';
import { alignByIndex } from './align.ts';
import type { GridSpec } from './grid-spec.ts';

/**
 * An explicit pairing of a label grid with the reference grid by array index: label cell (r, c)
 * is reference cell (r + rows, c + cols). The GK-DCN case study ships label grids 67 km west /
 * 87 km north of its element grids, paired this way. Here in grid/ because faults/ and sites/
 * both place label bands with it.
 */
export interface IndexAlignment {
  /** Added to a label cell's row to get the reference row. */
  readonly rows: number;
  /** Added to a label cell's column to get the reference column. */
  readonly cols: number;
}

/** Parses "R,C" (e.g. "0,0") into an IndexAlignment. */
export function parseIndexAlignment(text: string): IndexAlignment {
  const m = /^\s*(-?\d+)\s*,\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new InvalidOptionError(`--align-by-index expects "ROWS,COLS" (e.g. 0,0), got "${text}"`);
  return { rows: Number(m[1]), cols: Number(m[2]) };
}

/**
 * A label-grid band placed on the reference grid by an explicit index pairing (label cell
 * (r, c) → reference cell (r + rows, c + cols)); reference cells without a label cell are NaN.
 */
export function bandOnGridByIndex(reference: GridSpec, labelGrid: GridSpec, band: Float32Array, align: IndexAlignment): Float32Array {
  return alignByIndex({ grid: labelGrid, bandNames: ['label'], bands: [band] }, reference, align).bands[0];
}
