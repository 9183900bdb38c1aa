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
 * `groupId` the siteId, missing `source` 'user'. A label other than 0/1, a non-point geometry
 * or a point outside the grid is an error naming the feature; two sites in one cell are refused
 * with the list of cells, or with `dedupe: 'first'` the first feature of each cell is kept.
 *
 * Sites made elsewhere (one point per site, no `centre` property on any feature) get their
 * centres inferred: per site (features sharing a siteId, else a groupId, else the feature
 * alone) the feature nearest the site's centroid, or the only one. `inferredCentres` says so.
 */

/** What to do with two or more site features in one grid cell. */
export type DedupePolicy = 'refuse' | 'first';
export const DEDUPE_POLICIES: readonly DedupePolicy[] = ['refuse', 'first'];

export interface SitesReadOptions {
  /** @default 'refuse' */
  readonly dedupe?: DedupePolicy;
  /** The caller's flag for dedupe 'first' ("--dedupe first"), offered in the refusal; none named when absent (the app). */
  readonly dedupeFlag?: string;
}

/** A SiteSet as read from a file, with what the reader had to decide. */
export interface SitesRead extends SiteSet {
  /** Sites whose centre was inferred (no `centre` property in the file); 0 when the file had them. */
  readonly inferredCentres: number;
  /** Features dropped under dedupe 'first' (another site held their cell). */
  readonly duplicatesDropped: number;
}

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
export function sitesFromFeatures(grid: GridSpec, features: readonly Feature[], file = 'sites', options: SitesReadOptions = {}): SitesRead {
  const dedupe = options.dedupe ?? 'refuse';
  const sites: Site[] = [];
  /** Per site: its group key for centre inference and its point. */
  const keys: string[] = [];
  const xy: [number, number][] = [];
  const taken = new Map<number, number>();
  const duplicates = new Map<number, number[]>();
  const outside: number[] = [];
  const hasCentres = features.some((f) => f.properties?.centre !== undefined && f.properties?.centre !== null);
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
      duplicates.set(cell, [...(duplicates.get(cell) ?? [prev]), i + 1]);
      return;
    }
    taken.set(cell, i + 1);
    keys.push(p.siteId !== undefined && p.siteId !== null ? `s:${String(p.siteId)}` : p.groupId !== undefined && p.groupId !== null ? `g:${String(p.groupId)}` : `f:${i + 1}`);
    xy.push([x, y]);
    const siteId = p.siteId === undefined || p.siteId === null ? `F${i + 1}` : String(p.siteId);
    sites.push({
      row,
      col,
      label,
      siteId,
      groupId: p.groupId === undefined || p.groupId === null ? siteId : String(p.groupId),
      source,
      centre: p.centre === true || p.centre === 1 || p.centre === 'true',
    });
  });
  if (duplicates.size > 0 && dedupe === 'refuse') {
    const cells = [...duplicates].map(([cell, fs]) => ({ row: Math.floor(cell / grid.cols), col: cell % grid.cols, features: fs }));
    const list = cells.slice(0, 20).map((c) => `row ${c.row} col ${c.col}: features ${c.features.join(', ')}`).join('; ');
    throw new SiteConflictError(
      `${file}: ${cells.length} cell(s) hold more than one site (${list}${cells.length > 20 ? '; …' : ''}); one cell holds one site. ` +
        `Remove the extra features${options.dedupeFlag ? `, or pass ${options.dedupeFlag} to keep the first feature of each cell` : ''}.`,
      { file, cells: cells.slice(0, 100) },
    );
  }
  const duplicatesDropped = [...duplicates.values()].reduce((n, fs) => n + fs.length - 1, 0);
  if (outside.length > 0) {
    throw new SitesOutsideGridError(
      `${file}: ${outside.length} of ${features.length} site(s) lie outside the ${grid.rows}×${grid.cols} grid (features ${outside.slice(0, 10).join(', ')}). ` +
        `Check the file's CRS against the grid's (${grid.crs?.name ?? 'none declared'}) or delete those sites.`,
      { file, outside: outside.length, features: outside.slice(0, 10) },
    );
  }
  const inferredCentres = hasCentres ? 0 : inferCentres(sites, keys, xy);
  return { grid, sites, inferredCentres, duplicatesDropped };
}

/** Marks, per site key, the site nearest the key's centroid (first in file order on a tie) as its centre; returns the number of sites. */
function inferCentres(sites: Site[], keys: readonly string[], xy: readonly (readonly [number, number])[]): number {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => groups.set(k, [...(groups.get(k) ?? []), i]));
  for (const members of groups.values()) {
    const cx = members.reduce((s, i) => s + xy[i][0], 0) / members.length;
    const cy = members.reduce((s, i) => s + xy[i][1], 0) / members.length;
    let best = members[0];
    let bestD = Infinity;
    for (const i of members) {
      const d = (xy[i][0] - cx) ** 2 + (xy[i][1] - cy) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    sites[best] = { ...sites[best], centre: true };
  }
  return groups.size;
}

/** Reads a sites file (GeoJSON, GeoPackage, Shapefile, …), reprojecting into the grid's CRS when both CRSs are known. */
export async function readSitesGeoJson(
  file: string,
  grid: GridSpec,
  options: { assumeCrs?: Crs; crsFix?: CrsFix; log?: CrsLog; layer?: string; layerFlag?: string } & SitesReadOptions = {},
): Promise<SitesRead> {
  const layer = await readVector(file, { targetCrs: grid.crs ?? undefined, assumeCrs: options.assumeCrs, grid, crsFix: options.crsFix, log: options.log, layer: options.layer, layerFlag: options.layerFlag });
  return sitesFromFeatures(grid, layer.features, file, { dedupe: options.dedupe, dedupeFlag: options.dedupeFlag });
}

/** The log line saying what readSitesGeoJson decided (inferred centres, dropped duplicates), or null. */
export function sitesReadNote(file: string, r: SitesRead): string | null {
  const notes: string[] = [];
  if (r.inferredCentres > 0) notes.push(`no "centre" property: inferred the centre of each of ${r.inferredCentres} site(s) (the feature nearest its site's centroid, or the only one)`);
  if (r.duplicatesDropped > 0) notes.push(`--dedupe first: dropped ${r.duplicatesDropped} feature(s) in cells already holding a site`);
  return notes.length ? `${file}: ${notes.join('; ')}` : null;
}
