import proj4 from 'proj4';
import { CrsError } from '../errors.ts';
import { crsFromEpsg, type Crs } from './crs-core.ts';
import { matchEpsg } from './crs-match.ts';
import { lookupEpsg } from './epsg-registry.ts';
import { child, children, nodeName, ownEpsgCode, parseWktTree, writeWktTree, WktSyntaxError, type WktNode } from './wkt-tree.ts';

const HORIZONTAL = ['PROJCS', 'GEOGCS', 'PROJCRS', 'PROJECTEDCRS', 'GEOGCRS', 'GEOGRAPHICCRS', 'GEODCRS', 'GEODETICCRS'];

/** The horizontal CRS node: BOUNDCRS → its SOURCECRS, COMPD_CS/COMPOUNDCRS → its first horizontal part. */
function horizontalNode(n: WktNode): WktNode | null {
  if (HORIZONTAL.includes(n.keyword)) return n;
  if (n.keyword === 'BOUNDCRS') {
    const src = child(n, 'SOURCECRS');
    return src ? horizontalNode(children(src)[0] ?? src) : null;
  }
  if (n.keyword === 'COMPD_CS' || n.keyword === 'COMPOUNDCRS') {
    for (const c of children(n)) {
      const h = horizontalNode(c);
      if (h) return h;
    }
  }
  return null;
}

/**
 * ESRI's Mercator_Auxiliary_Sphere (Web Mercator in a .prj) spells a spherical Mercator on the
 * WGS 84 ellipsoid, which proj4js would project ellipsoidally (kilometres off); it is the
 * sphere of the semi-major axis (Auxiliary_Sphere_Type 0), as PROJ reads it.
 */
function auxiliarySphereProj4(h: WktNode): string | null {
  if (!/^Mercator_Auxiliary_Sphere$/i.test(nodeName(child(h, 'PROJECTION')))) return null;
  const param = (name: string): number => {
    const p = children(h, 'PARAMETER').find((c) => nodeName(c).toLowerCase() === name);
    return typeof p?.args[1] === 'number' ? p.args[1] : 0;
  };
  const sph = child(child(child(h, 'GEOGCS') ?? h, 'DATUM') ?? h, 'SPHEROID');
  const r = typeof sph?.args[1] === 'number' ? sph.args[1] : 6378137;
  return (
    `+proj=merc +a=${r} +b=${r} +lat_ts=${param('standard_parallel_1')} +lon_0=${param('central_meridian')} ` +
    `+x_0=${param('false_easting')} +y_0=${param('false_northing')} +k=1 +units=m +nadgrids=@null +no_defs`
  );
}

/**
 * Reads WKT 1 (OGC or ESRI, as in a .prj) and WKT 2. The CRS's own AUTHORITY/ID names its
 * EPSG code when present; otherwise the definition is matched against the EPSG registry
 * (crs-match.ts); otherwise it stays a custom CRS that proj4js reprojects from the WKT itself.
 */
export function crsFromWkt(wkt: string): Crs {
  let tree: WktNode;
  try {
    tree = parseWktTree(wkt);
  } catch (e) {
    if (e instanceof WktSyntaxError) throw new CrsError(`The WKT cannot be parsed (${e.message}).`, { wkt: wkt.slice(0, 200) });
    throw e;
  }
  const h = horizontalNode(tree);
  if (!h) {
    throw new CrsError(`The WKT is a ${tree.keyword}, not a projected or geographic CRS; a map needs one of those.`, { wkt: wkt.slice(0, 200) });
  }
  const code = ownEpsgCode(h);
  if (code !== null && lookupEpsg(code)) return crsFromEpsg(code);
  const text = h === tree ? wkt.trim() : writeWktTree(h);
  const aux = auxiliarySphereProj4(h);
  if (aux) {
    const match = matchEpsg(aux, nodeName(h));
    return match ? crsFromEpsg(match.code) : { epsg: null, proj4: aux, name: `${nodeName(h) || 'custom CRS'} (custom)`, geographic: false, wkt: text };
  }
  const geographic = /^GEOG|^GEOD/.test(h.keyword);
  try {
    new proj4.Proj(text);
  } catch (e) {
    throw new CrsError(`The WKT could not be turned into a projection: ${(e as Error).message}`, { wkt: wkt.slice(0, 200) });
  }
  const name = nodeName(h) || 'custom CRS';
  const match = matchEpsg(text, name);
  if (match) return crsFromEpsg(match.code);
  return { epsg: null, proj4: text, name: `${name} (custom)`, geographic, wkt: text };
}
