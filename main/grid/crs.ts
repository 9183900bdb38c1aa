import proj4 from 'proj4';
import { CrsError } from '../errors.ts';
import { crsFromEpsg, crsFromProj4, type Crs } from './crs-core.ts';
import { crsFromWkt } from './crs-from-wkt.ts';
import { matchEpsg } from './crs-match.ts';

/**
 * Coordinate reference systems. Every projected and geographic EPSG code resolves through the
 * offline EPSG registry (epsg-registry.ts: why epsg-index and not gdal3.js is argued there and
 * in docs/crs.md); WKT 1/2 and ESRI .prj text through crs-from-wkt.ts; proj4 strings directly.
 */
export type { Crs, AreaOfUse } from './crs-core.ts';
export { crsFromEpsg, crsFromProj4 } from './crs-core.ts';
export { crsFromWkt } from './crs-from-wkt.ts';

/**
 * Parses "EPSG:32645", "32645", "urn:ogc:def:crs:EPSG::32645", "CRS84", a proj4 string or a
 * WKT (.prj contents). A proj4 string that matches a registry entry gets its EPSG code.
 */
export function parseCrs(text: string): Crs {
  const t = text.trim();
  const m = /^(?:(?:urn:ogc:def:crs:)?epsg:{1,2}(?:[\d.]*:)?)?(\d{4,6})$/i.exec(t);
  if (m) return crsFromEpsg(Number(m[1]));
  if (/^(?:urn:ogc:def:crs:)?OGC:(?:1\.3:)?CRS84$|^CRS84$/i.test(t)) return crsFromEpsg(4326);
  if (t.startsWith('+')) {
    const c = crsFromProj4(t);
    const match = matchEpsg(t, '');
    return match ? crsFromEpsg(match.code) : c;
  }
  if (/^[A-Z_]+\s*[[(]/i.test(t)) return crsFromWkt(t);
  throw new CrsError(
    `Cannot understand the CRS "${t}". Give EPSG:NNNN (e.g. EPSG:3067), a proj4 string (e.g. "+proj=utm +zone=35 +ellps=GRS80 +units=m") or WKT / the contents of a .prj.`,
    { crs: t },
  );
}

export function sameCrs(a: Crs | null, b: Crs | null): boolean {
  if (!a || !b) return a === b;
  if (a.epsg !== null && b.epsg !== null) return a.epsg === b.epsg;
  return a.proj4.replace(/\s+/g, ' ').trim() === b.proj4.replace(/\s+/g, ' ').trim();
}

/** "EPSG:3067" when the CRS has a code, else its proj4 definition: what --crs accepts. */
export function crsFlagValue(crs: Crs): string {
  return crs.epsg !== null ? `EPSG:${crs.epsg}` : `"${crs.proj4.replace(/"/g, '\\"')}"`;
}

/**
 * Throws unless the CRS is projected (metres): distances, kriging and fault rings need it.
 * @param fix what the user can do when there is no CRS at all (a flag that exists for the input).
 */
export function requireProjected(crs: Crs | null, what: string, fix = 'Assign one with gdal_translate -a_srs EPSG:NNNN (or ogr2ogr -a_srs for a vector layer).'): asserts crs is Crs {
  if (!crs) {
    throw new CrsError(`${what} has no coordinate reference system. ${fix}`, { what });
  }
  if (crs.geographic) {
    throw new CrsError(
      `${what} is in geographic coordinates (${crs.name}, degrees); distances in degrees are meaningless for ` +
        `kriging and fault distances. Pick a projected CRS in metres (e.g. the UTM zone of the area) and reproject.`,
      { what, crs: crs.name },
    );
  }
}

/** Returns a function reprojecting [x, y] from one CRS to another (identity when equal). */
export function makeTransform(from: Crs, to: Crs): (xy: readonly [number, number]) => [number, number] {
  if (sameCrs(from, to)) return (xy) => [xy[0], xy[1]];
  if (!from.proj4 || !to.proj4) throw new CrsError(`Cannot reproject from ${from.name} to ${to.name}: no definition for one of them.`, { from: from.name, to: to.name });
  const conv = proj4(from.proj4, to.proj4);
  return (xy) => {
    const out = conv.forward([xy[0], xy[1]]);
    return [out[0], out[1]];
  };
}
