import { basename } from 'node:path';
import type { Feature, Geometry, Position } from 'geojson';
import proj4 from 'proj4';
import { CrsError } from '../errors.ts';
import { crsFlagValue, makeTransform, sameCrs, type Crs } from './crs.ts';
import type { GridSpec } from './grid-spec.ts';

/**
 * Automatic reprojection of inputs onto the grid's CRS (faults, deposits/sites, sample tables),
 * one place for all of them, over proj4js (the EPSG registry's proj4 definitions: agrees with
 * gdaltransform/ogr2ogr to ≤ 0.01 m where no datum grid is involved, tests/grid/crs-fixtures.test.ts).
 * Every reprojection is logged ("reprojected faults.shp from EPSG:4326 to EPSG:3067 (12 features)")
 * through the caller's log, which the CLI prints and the app shows in the job's messages.
 * Also the plausibility checks (issue 19): coordinates that cannot be in the declared CRS are
 * refused with the probable CRS named, instead of producing a 1×1-cell map.
 */

/** Where reprojection messages go (CLI: stderr; app: job messages). */
export type CrsLog = (message: string) => void;

/** Coordinates implausible for the CRS they are declared in. */
export class ImplausibleCoordinatesError extends CrsError {}

/** A layer without a declared CRS whose coordinates fit the grid: the grid's CRS is the probable one. */
export class UndeclaredCrsError extends CrsError {}

/** "EPSG:3067" or the CRS's name. */
export function crsLabel(crs: Crs): string {
  return crs.epsg !== null ? `EPSG:${crs.epsg}` : crs.name;
}

/** A geometry with every position mapped by f (reprojection, axis swaps). */
export function mapPositions(g: Geometry, f: (p: Position) => Position): Geometry {
  switch (g.type) {
    case 'Point':
      return { ...g, coordinates: f(g.coordinates) };
    case 'MultiPoint':
    case 'LineString':
      return { ...g, coordinates: g.coordinates.map(f) };
    case 'MultiLineString':
    case 'Polygon':
      return { ...g, coordinates: g.coordinates.map((l) => l.map(f)) };
    case 'MultiPolygon':
      return { ...g, coordinates: g.coordinates.map((p) => p.map((l) => l.map(f))) };
    case 'GeometryCollection':
      return { ...g, geometries: g.geometries.map((x) => mapPositions(x, f)) };
  }
}

function checkFinite(what: string, from: Crs, to: Crs): (xy: readonly [number, number]) => [number, number] {
  const t = makeTransform(from, to);
  return (xy) => {
    const out = t(xy);
    if (!Number.isFinite(out[0]) || !Number.isFinite(out[1])) {
      throw new ImplausibleCoordinatesError(
        `${what}: the point (${xy[0]}, ${xy[1]}) in ${crsLabel(from)} has no position in ${crsLabel(to)} (the projection is undefined there); ` +
          'the layer\'s declared CRS is probably wrong.',
        { what, from: crsLabel(from), to: crsLabel(to), x: xy[0], y: xy[1] },
      );
    }
    return out;
  };
}

/** Features reprojected from → to (a copy; the input is untouched), logged once when the CRSs differ. */
export function reprojectFeatures(file: string, features: readonly Feature[], from: Crs, to: Crs, log?: CrsLog): Feature[] {
  if (sameCrs(from, to)) return [...features];
  const t = checkFinite(file, from, to);
  const out = features.map((f) => (f.geometry ? { ...f, geometry: mapPositions(f.geometry, (p) => [...t([p[0], p[1]]), ...p.slice(2)]) } : f));
  log?.(`reprojected ${basename(file)} from ${crsLabel(from)} to ${crsLabel(to)} (${features.length} feature${features.length === 1 ? '' : 's'})`);
  return out;
}

/** x/y arrays reprojected from → to (new arrays), logged once when the CRSs differ. */
export function reprojectPoints(file: string, x: readonly number[], y: readonly number[], from: Crs, to: Crs, log?: CrsLog): { x: number[]; y: number[] } {
  if (sameCrs(from, to)) return { x: [...x], y: [...y] };
  const t = checkFinite(file, from, to);
  const ox = new Array<number>(x.length);
  const oy = new Array<number>(y.length);
  for (let i = 0; i < x.length; i++) [ox[i], oy[i]] = t([x[i], y[i]]);
  log?.(`reprojected ${basename(file)} from ${crsLabel(from)} to ${crsLabel(to)} (${x.length} point${x.length === 1 ? '' : 's'})`);
  return { x: ox, y: oy };
}

export interface Bounds {
  readonly xmin: number;
  readonly ymin: number;
  readonly xmax: number;
  readonly ymax: number;
}

export function boundsOfPositions(positions: Iterable<readonly number[]>): Bounds | null {
  let xmin = Infinity, ymin = Infinity, xmax = -Infinity, ymax = -Infinity;
  for (const p of positions) {
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) continue;
    xmin = Math.min(xmin, p[0]); xmax = Math.max(xmax, p[0]);
    ymin = Math.min(ymin, p[1]); ymax = Math.max(ymax, p[1]);
  }
  return xmin <= xmax ? { xmin, ymin, xmax, ymax } : null;
}

export function featureBounds(features: readonly Feature[]): Bounds | null {
  const all: Position[] = [];
  for (const f of features) if (f.geometry) mapPositions(f.geometry, (p) => (all.push(p), p));
  return boundsOfPositions(all);
}

export function gridBounds(grid: GridSpec): Bounds {
  const x2 = grid.originX + grid.cols * grid.cellSizeX;
  const y2 = grid.originY - grid.rows * grid.cellSizeY;
  return { xmin: Math.min(grid.originX, x2), xmax: Math.max(grid.originX, x2), ymin: Math.min(grid.originY, y2), ymax: Math.max(grid.originY, y2) };
}

const overlaps = (a: Bounds, b: Bounds): boolean => a.xmin <= b.xmax && a.xmax >= b.xmin && a.ymin <= b.ymax && a.ymax >= b.ymin;
const fmt = (b: Bounds): string => `x ${b.xmin.toFixed(2)}…${b.xmax.toFixed(2)}, y ${b.ymin.toFixed(2)}…${b.ymax.toFixed(2)}`;

/**
 * How the user fixes a wrong or missing CRS on this input: the command's flag that exists
 * (e.g. "--crs" on faults, sites and krige), or null when the command has none (the file must
 * then be fixed, with ogr2ogr -a_srs).
 */
export type CrsFix = { readonly flag: string } | null;

function fixText(fix: CrsFix, value: string): string {
  return fix ? `${fix.flag} ${value}` : `ogr2ogr -a_srs ${value} (assigns the CRS to the layer file)`;
}

/** Degrees beyond EPSG's area of use still accepted (data just past a UTM zone edge is common). */
const AREA_MARGIN_DEG = 3;

/**
 * Refuses coordinates that cannot be in the declared CRS (issue 19):
 * - all within ±180/±90 under a projected CRS: degrees, so the probable CRS is EPSG:4326;
 * - beyond ±180/±90 under a geographic CRS: projected coordinates; the grid's CRS when they fall in its extent;
 * - entirely outside the CRS's area of use (EPSG bbox + 3°): the grid's CRS when they fall in its extent.
 * @param what the file (or "FILE, columns x/y") named in the error.
 * @param grid the grid the input goes onto, when there is one (names its CRS as the probable one).
 */
export function assertPlausibleCoordinates(what: string, b: Bounds | null, crs: Crs, fix: CrsFix, grid?: GridSpec | null): void {
  if (!b) return;
  const lonLatLike = Math.abs(b.xmin) <= 180 && Math.abs(b.xmax) <= 180 && Math.abs(b.ymin) <= 90 && Math.abs(b.ymax) <= 90;
  const gridCrs = grid?.crs ?? null;
  const inGrid = grid && gridCrs ? overlaps(b, gridBounds(grid)) : false;
  if (!crs.geographic && lonLatLike) {
    // A projected CRS whose whole layer fits in 360 × 180 units: metres would be a 400 m-wide survey
    // at the false origin, which no EPSG projected CRS places on land; degrees are the explanation.
    throw new ImplausibleCoordinatesError(
      `${what}: every coordinate lies within ±180/±90 (${fmt(b)}), as longitude/latitude in degrees do, but the CRS is ${crs.name}, ` +
        `which is projected. The probable CRS is EPSG:4326 (WGS 84 longitude/latitude): give ${fixText(fix, 'EPSG:4326')}; the input is then reprojected.`,
      { what, crs: crsLabel(crs), probable: 'EPSG:4326', bounds: b },
    );
  }
  if (crs.geographic && !lonLatLike) {
    const probable = inGrid && gridCrs ? crsFlagValue(gridCrs) : null;
    throw new ImplausibleCoordinatesError(
      `${what}: the CRS is ${crs.name} (degrees), but the coordinates reach beyond ±180/±90 (${fmt(b)}), so they are projected. ` +
        (probable ? `They fall inside the grid, so the probable CRS is the grid's, ${gridCrs!.name}: give ${fixText(fix, probable)}.` : `Give the layer's projected CRS: ${fixText(fix, 'EPSG:NNNN')}.`),
      { what, crs: crsLabel(crs), probable, bounds: b },
    );
  }
  const area = crs.areaOfUse;
  if (!area) return;
  let ll: Bounds | null;
  try {
    if (crs.geographic) ll = b;
    else {
      const inv = proj4(crs.proj4, 'EPSG:4326');
      const corners = [[b.xmin, b.ymin], [b.xmin, b.ymax], [b.xmax, b.ymin], [b.xmax, b.ymax], [(b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2]];
      ll = boundsOfPositions(corners.map((c) => inv.forward(c)));
    }
  } catch {
    ll = null;
  }
  const m = AREA_MARGIN_DEG;
  const useBox: Bounds = { xmin: area.west - m, xmax: (area.east < area.west ? area.east + 360 : area.east) + m, ymin: area.south - m, ymax: area.north + m };
  const wrap = (x: Bounds): Bounds => (area.east < area.west && x.xmin < area.west - m ? { ...x, xmin: x.xmin + 360, xmax: x.xmax + 360 } : x);
  if (ll && overlaps(wrap(ll), useBox)) return;
  const probable = inGrid && gridCrs && !sameCrs(gridCrs, crs) ? gridCrs : null;
  throw new ImplausibleCoordinatesError(
    `${what}: the coordinates (${fmt(b)}) lie ${ll ? `at longitude ${ll.xmin.toFixed(1)}…${ll.xmax.toFixed(1)}, latitude ${ll.ymin.toFixed(1)}…${ll.ymax.toFixed(1)}, ` : ''}` +
      `outside the area of use of ${crs.name} (longitude ${area.west}…${area.east}, latitude ${area.south}…${area.north}), so the declared CRS is probably wrong. ` +
      (probable ? `They fall inside the grid, so the probable CRS is the grid's, ${probable.name}: give ${fixText(fix, crsFlagValue(probable))}.` : `Give the layer's actual CRS: ${fixText(fix, 'EPSG:NNNN')}.`),
    { what, crs: crsLabel(crs), probable: probable ? crsLabel(probable) : null, bounds: b },
  );
}

/**
 * The error for a layer that declares no CRS (a GeoJSON with projected-looking numbers and no
 * `crs` member, a .shp without .prj): when its coordinates fall inside the grid's extent, the
 * grid's CRS is named as the probable one, with the flag that accepts it.
 */
export function undeclaredCrsError(file: string, b: Bounds | null, grid: GridSpec | null | undefined, fix: CrsFix): UndeclaredCrsError {
  const gridCrs = grid?.crs ?? null;
  if (b && grid && gridCrs && overlaps(b, gridBounds(grid))) {
    const v = crsFlagValue(gridCrs);
    return new UndeclaredCrsError(
      `${file}: the layer declares no CRS, and its coordinates (${fmt(b)}) are not longitude/latitude. They fall inside the grid's extent, ` +
        `so the probable CRS is the grid's, ${gridCrs.name}: give ${fixText(fix, v)}.`,
      { file, probable: crsLabel(gridCrs), bounds: b },
    );
  }
  return new UndeclaredCrsError(
    `${file}: the layer declares no CRS, and its coordinates${b ? ` (${fmt(b)})` : ''} are not longitude/latitude${grid ? ' and lie outside the grid' : ''}. ` +
      `Declare its CRS: ${fixText(fix, 'EPSG:NNNN')}.`,
    { file, bounds: b },
  );
}
