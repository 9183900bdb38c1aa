import { extname } from 'node:path';
import type { GridSpec } from '../grid/grid-spec.ts';
import { compareGrids } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { readVector } from '../io/vector.ts';
import { EmptyInputError, GridMismatchError } from '../errors.ts';
import { regionCells } from './region-holdout.ts';

/**
 * `--mask AREA.tif|.gpkg`: the study area, one flag on train, predict, evaluate (and C–A).
 * Cells outside it are treated as nodata everywhere: they enter no transform statistic, no patch
 * (patch cells outside are filled like any nodata, main/sites/patches.ts), no map window (the
 * prediction reads them as NaN, so a cell outside gets nodata out) and no evaluation (neither as
 * deposit nor as background).
 *
 * Why: on a real Li district about two thirds of the grid was IDW extrapolation outside the
 * sampled belt; without a mask its values set the standardisation and the background of every AUC.
 *
 * A raster mask must be on the stack's grid (no silent resampling): a cell is inside when its
 * value is finite, not the file's nodata and not 0. A vector mask (GeoJSON, GeoPackage, …) is
 * rasterised by cell centres (region-holdout.ts regionCells, checked against gdal_rasterize).
 */

export interface StudyMask {
  readonly path: string;
  /** 1 = the cell is inside the study area. */
  readonly cells: Uint8Array;
  readonly inside: number;
}

export async function readStudyMask(path: string, grid: GridSpec): Promise<StudyMask> {
  let cells: Uint8Array;
  if (/^\.tiff?$/i.test(extname(path))) {
    const r = await readGeoTiff(path);
    const cmp = compareGrids(grid, r.grid);
    if (!cmp.aligned) {
      throw new GridMismatchError(
        `--mask ${path} is not on the stack's grid (${cmp.problems.join('; ')}). Resample the mask onto the stack grid (gdalwarp -r near -te … -tr …), or give the study area as a polygon (.gpkg / .geojson).`,
        { file: path, ...cmp },
      );
    }
    const b = r.bands[0];
    cells = Uint8Array.from(b, (v) => (Number.isFinite(v) && v !== 0 && v !== r.nodata ? 1 : 0));
  } else {
    const layer = await readVector(path, grid.crs ? { targetCrs: grid.crs } : {});
    cells = regionCells(grid, layer.features, path);
  }
  let inside = 0;
  for (const v of cells) inside += v;
  if (inside === 0) {
    throw new EmptyInputError(path, `the study-area mask covers none of the ${grid.rows}×${grid.cols} grid's cells`, 'Check the mask\'s CRS and extent (geoanomaly info FILE), or its values (inside = non-zero)');
  }
  return { path, cells, inside };
}

/** The values with cells outside the mask set to NaN (a copy). */
export function maskValues(values: ArrayLike<number>, mask: Pick<StudyMask, 'cells'>): Float32Array {
  return Float32Array.from(values as ArrayLike<number>, (v, i) => (mask.cells[i] ? v : NaN));
}

/** A stack whose cells outside the mask are nodata (NaN), every band; the input is not changed. */
export function maskStack<T extends RasterStack>(stack: T, mask: Pick<StudyMask, 'cells'>): T {
  return { ...stack, bands: stack.bands.map((b) => maskValues(b, mask)) };
}
