import type { GridSpec } from '../grid/grid-spec.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { layerPoints, readVector } from '../io/vector.ts';
import { EmptyInputError } from '../errors.ts';
import type { Crs } from '../grid/crs.ts';
import { cellOf, inGrid } from '../grid/grid-spec.ts';
import { SiteConflictError } from './site-errors.ts';
import { cellsFromLabelPoints } from './label-points.ts';
import type { CrsFix, CrsLog } from '../grid/reproject.ts';
import type { IndexAlignment } from '../grid/index-alignment.ts';
import { isRasterPath } from '../grid/raster-path.ts';
import { cellsFromLabelRaster, cellsFromPoints, type LabelCells, type OutsidePolicy, type SiteRole } from './label-cells.ts';

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
  /** Layer of a multi-layer vector file (GeoPackage), and the flag quoted in errors. */
  readonly layer?: string;
  readonly layerFlag?: string;
  /**
   * Points of different features in one grid cell (two deposits digitized on one cell): refuse
   * (a SiteConflictError listing the cells) or keep the first feature's. Points of one feature
   * (a MultiPoint) in one cell are always one site. @default 'refuse'
   */
  readonly dedupe?: 'refuse' | 'first';
  /** A label raster on another grid: marked cells become points (label-points.ts). Deposits: non-zero cells; negatives: cells equal to `value`. @default false */
  readonly asPoints?: boolean;
  /** The command's flag that sets assumeCrs, named in CRS errors (null: none). @default { flag: '--crs' } */
  readonly crsFix?: CrsFix;
  /** Receives the reprojection message when the layer is reprojected onto the grid. */
  readonly log?: CrsLog;
}

/** Points of a vector layer with, per shared cell, only the first feature kept (or a SiteConflictError). */
function dedupePoints(path: string, grid: GridSpec, pts: { x: number[]; y: number[]; feature: number[] }, options: SiteFileOptions): { x: number[]; y: number[]; dropped: number } {
  const owner = new Map<number, number>();
  const clashes = new Map<number, Set<number>>();
  const keep: boolean[] = [];
  for (let i = 0; i < pts.x.length; i++) {
    const { row, col } = cellOf(grid, pts.x[i], pts.y[i]);
    const cell = row * grid.cols + col;
    const first = inGrid(grid, row, col) ? owner.get(cell) : undefined;
    if (first === undefined || first === pts.feature[i]) {
      if (inGrid(grid, row, col)) owner.set(cell, pts.feature[i]);
      keep.push(true);
    } else {
      clashes.set(cell, (clashes.get(cell) ?? new Set([first])).add(pts.feature[i]));
      keep.push(false);
    }
  }
  if (clashes.size > 0 && (options.dedupe ?? 'refuse') === 'refuse') {
    const cells = [...clashes].map(([cell, fs]) => ({ row: Math.floor(cell / grid.cols), col: cell % grid.cols, features: [...fs].map((f) => f + 1) }));
    const list = cells.slice(0, 20).map((c) => `row ${c.row} col ${c.col}: features ${c.features.join(', ')}`).join('; ');
    throw new SiteConflictError(
      `${path}: ${cells.length} grid cell(s) hold ${options.role} points of more than one feature (${list}${cells.length > 20 ? '; …' : ''}). ` +
        'Remove the duplicates, or pass --dedupe first to keep the first feature of each cell.',
      { file: path, role: options.role, cells: cells.slice(0, 100) },
    );
  }
  const x = pts.x.filter((_, i) => keep[i]);
  const y = pts.y.filter((_, i) => keep[i]);
  return { x, y, dropped: new Set(pts.feature.filter((_, i) => !keep[i])).size };
}


export async function readSiteCells(path: string, grid: GridSpec, options: SiteFileOptions): Promise<LabelCells & { readonly duplicatesDropped?: number }> {
  if (isRasterPath(path)) {
    const label = await readGeoTiff(path);
    if (options.asPoints) return cellsFromLabelPoints(grid, label, { role: options.role, value: options.role === 'deposit' ? 'non-zero' : (options.value ?? 1), outside: options.outside });
    return cellsFromLabelRaster(grid, label, { value: options.value, alignByIndex: options.alignByIndex, role: options.role, outside: options.outside });
  }
  const layer = await readVector(path, { targetCrs: grid.crs ?? undefined, assumeCrs: options.assumeCrs, grid, log: options.log, crsFix: options.crsFix, layer: options.layer, layerFlag: options.layerFlag });
  const pts = layerPoints(layer);
  if (pts.x.length === 0) {
    throw new EmptyInputError(path, `the layer has ${layer.features.length} feature(s) but no points`, `Give the ${options.role} locations as Point features or as a label raster`);
  }
  const kept = dedupePoints(path, grid, pts, options);
  return { ...cellsFromPoints(grid, kept.x, kept.y, { role: options.role, source: path, outside: options.outside }), duplicatesDropped: kept.dropped };
}
