import type { Feature, FeatureCollection, Point } from 'geojson';
import type { GridSpec } from '../grid/grid-spec.ts';
import { cellCenterX, cellCenterY, cellOf, inGrid } from '../grid/grid-spec.ts';
import type { Crs } from '../grid/crs.ts';
import { InvalidFileError } from '../errors.ts';
import { readVector } from '../io/vector.ts';
import type { CrsFix, CrsLog } from '../grid/reproject.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import type { Site, SiteSet, SiteSource } from './site-blocks.ts';
import { SiteConflictError, SitesOutsideGridError } from './site-errors.ts';

/**
 * Sites as a GeoJSON FeatureCollection: one Point per site cell at the cell centre, in the
 * grid's CRS (declared with the legacy `crs` member, which GDAL/QGIS read), with properties
 * `label` (1 deposit / 0 negative), `siteId` (shared by the cells of one block), `groupId`
 * (shared by overlapping blocks), `source` (deposit | auto | user), `centre` (block centre),
 * and `row`/`col` for readability. The same file is what the app's digitizing tools edit.
 *
 * Reading places each point in the grid cell that contains it (row/col properties are not
 * trusted, points may have been moved). Missing `siteId` becomes `F<feature number>`, missing
 * `groupId` the siteId, missing `source` 'user'. A label other than 0/1, a non-point geometry,
 * a point outside the grid or two sites in one cell is an error naming the feature.
 */

export function sitesToGeoJson(set: SiteSet): FeatureCollection<Point> & { crs?: unknown } {
  const g = set.grid;
  const features: Feature<Point>[] = set.sites.map((s) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [cellCenterX(g, s.col), cellCenterY(g, s.row)] },
    properties: { label: s.label, siteId: s.siteId, groupId: s.groupId, source: s.source, centre: s.centre, row: s.row, col: s.col },
  }));
  const fc: FeatureCollection<Point> & { crs?: unknown } = { type: 'FeatureCollection', features };
  if (g.crs?.epsg) fc.crs = { type: 'name', properties: { name: `urn:ogc:def:crs:EPSG::${g.crs.epsg}` } };
  return fc;
}

export function writeSitesGeoJson(path: string, set: SiteSet): void {
  writeJsonAtomic(path, sitesToGeoJson(set));
}

const SOURCES: readonly SiteSource[] = ['deposit', 'auto', 'user'];

/** Sites from parsed features (already in the grid's CRS). */
export function sitesFromFeatures(grid: GridSpec, features: readonly Feature[], file = 'sites'): SiteSet {
  const sites: Site[] = [];
  const taken = new Map<number, number>();
  const outside: number[] = [];
  features.forEach((f, i) => {
    const where = `feature ${i + 1}`;
    if (!f.geometry || f.geometry.type !== 'Point') {
      throw new InvalidFileError(file, `${where} is a ${f.geometry?.type ?? 'null geometry'}, not a Point`, 'Sites are points; convert the layer to points');
    }
    const p = f.properties ?? {};
    const rawLabel = p.label;
    const label = rawLabel === 1 || rawLabel === '1' ? 1 : rawLabel === 0 || rawLabel === '0' ? 0 : null;
    if (label === null) {
      throw new InvalidFileError(file, `${where} has label ${JSON.stringify(rawLabel)}`, 'Every site needs label 1 (deposit) or 0 (negative)', { feature: i + 1 });
    }
    const source = (SOURCES as readonly unknown[]).includes(p.source) ? (p.source as SiteSource) : p.source === undefined ? 'user' : null;
    if (source === null) {
      throw new InvalidFileError(file, `${where} has source ${JSON.stringify(p.source)}`, 'Use deposit, auto or user', { feature: i + 1 });
    }
    const [x, y] = f.geometry.coordinates;
    const { row, col } = cellOf(grid, x, y);
    if (!inGrid(grid, row, col)) {
      outside.push(i + 1);
      return;
    }
    const cell = row * grid.cols + col;
    const prev = taken.get(cell);
    if (prev !== undefined) {
      throw new SiteConflictError(
        `${file}: features ${prev} and ${i + 1} fall in the same cell (row ${row}, col ${col}); one cell holds one site. Remove one of them.`,
        { file, features: [prev, i + 1], row, col },
      );
    }
    taken.set(cell, i + 1);
    const siteId = p.siteId === undefined || p.siteId === null ? `F${i + 1}` : String(p.siteId);
    sites.push({
      row,
      col,
      label,
      siteId,
      groupId: p.groupId === undefined || p.groupId === null ? siteId : String(p.groupId),
      source,
      centre: p.centre === true,
    });
  });
  if (outside.length > 0) {
    throw new SitesOutsideGridError(
      `${file}: ${outside.length} of ${features.length} site(s) lie outside the ${grid.rows}×${grid.cols} grid (features ${outside.slice(0, 10).join(', ')}). ` +
        `Check the file's CRS against the grid's (${grid.crs?.name ?? 'none declared'}) or delete those sites.`,
      { file, outside: outside.length, features: outside.slice(0, 10) },
    );
  }
  return { grid, sites };
}

/** Reads a sites GeoJSON, reprojecting into the grid's CRS when both CRSs are known. */
export async function readSitesGeoJson(file: string, grid: GridSpec, options: { assumeCrs?: Crs; crsFix?: CrsFix; log?: CrsLog } = {}): Promise<SiteSet> {
  const layer = await readVector(file, { targetCrs: grid.crs ?? undefined, assumeCrs: options.assumeCrs, grid, crsFix: options.crsFix, log: options.log });
  return sitesFromFeatures(grid, layer.features, file);
}
