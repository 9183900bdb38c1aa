import { extname } from 'node:path';
import type { GridSpec } from '../grid/grid-spec.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { layerPoints, readVector } from '../io/vector.ts';
import { EmptyInputError } from '../errors.ts';
import type { Crs } from '../grid/crs.ts';
import type { CrsFix, CrsLog } from '../grid/reproject.ts';
import { cellsFromLabelRaster, cellsFromPoints, type IndexAlignment, type LabelCells, type OutsidePolicy, type SiteRole } from './label-cells.ts';

/**
 * Site cells from a file: a GeoTIFF label raster (cells equal to `value`) or a point layer
 * (GeoJSON / Shapefile; Point and MultiPoint features, reprojected into the grid's CRS).
 */
export interface SiteFileOptions {
  readonly role: SiteRole;
  /** Raster value marking a site. @default 1 */
  readonly value?: number;
  readonly alignByIndex?: IndexAlignment;
  readonly outside?: OutsidePolicy;
  /** CRS to assume for a vector file that declares none. */
  readonly assumeCrs?: Crs;
  /** The command's flag that sets assumeCrs, named in CRS errors (null: none). @default { flag: '--crs' } */
  readonly crsFix?: CrsFix;
  /** Receives the reprojection message when the layer is reprojected onto the grid. */
  readonly log?: CrsLog;
}

export function isRasterPath(path: string): boolean {
  return /^\.tiff?$/i.test(extname(path));
}

export async function readSiteCells(path: string, grid: GridSpec, options: SiteFileOptions): Promise<LabelCells> {
  if (isRasterPath(path)) {
    const label = await readGeoTiff(path);
    return cellsFromLabelRaster(grid, label, { value: options.value, alignByIndex: options.alignByIndex, role: options.role, outside: options.outside });
  }
  const layer = await readVector(path, { targetCrs: grid.crs ?? undefined, assumeCrs: options.assumeCrs, grid, log: options.log, crsFix: options.crsFix });
  const pts = layerPoints(layer);
  if (pts.x.length === 0) {
    throw new EmptyInputError(path, `the layer has ${layer.features.length} feature(s) but no points`, `Give the ${options.role} locations as Point features or as a label raster`);
  }
  return cellsFromPoints(grid, pts.x, pts.y, { role: options.role, source: path, outside: options.outside });
}
