import proj4 from 'proj4';
import { CrsError } from '../errors.ts';

/**
 * A coordinate reference system as the workbench carries it: an EPSG code when one is known,
 * and always a proj4 definition that proj4js can use to reproject.
 */
export interface Crs {
  readonly epsg: number | null;
  readonly proj4: string;
  /** Human-readable name shown in the UI and reports. */
  readonly name: string;
  /** True for longitude/latitude systems (degrees), which distance work refuses. */
  readonly geographic: boolean;
}

/** EPSG codes outside the UTM families that proj4js does not know by itself. */
const EXTRA_EPSG: Readonly<Record<number, { name: string; def: string }>> = {
  4326: { name: 'WGS 84', def: '+proj=longlat +datum=WGS84 +no_defs' },
  4490: { name: 'China Geodetic Coordinate System 2000', def: '+proj=longlat +ellps=GRS80 +no_defs' },
  4283: { name: 'GDA94', def: '+proj=longlat +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +no_defs' },
  3857: {
    name: 'WGS 84 / Pseudo-Mercator',
    def: '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs',
  },
  28992: {
    name: 'Amersfoort / RD New',
    def:
      '+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 ' +
      '+ellps=bessel +towgs84=565.417,50.3319,465.552,-0.398957,0.343988,-1.8774,4.0725 +units=m +no_defs',
  },
  3577: {
    name: 'GDA94 / Australian Albers',
    def: '+proj=aea +lat_0=0 +lon_0=132 +lat_1=-18 +lat_2=-36 +x_0=0 +y_0=0 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs',
  },
};

function utmDef(epsg: number): { name: string; def: string } | null {
  if (epsg >= 32601 && epsg <= 32660) {
    const zone = epsg - 32600;
    return { name: `WGS 84 / UTM zone ${zone}N`, def: `+proj=utm +zone=${zone} +datum=WGS84 +units=m +no_defs` };
  }
  if (epsg >= 32701 && epsg <= 32760) {
    const zone = epsg - 32700;
    return { name: `WGS 84 / UTM zone ${zone}S`, def: `+proj=utm +zone=${zone} +south +datum=WGS84 +units=m +no_defs` };
  }
  if (epsg >= 28348 && epsg <= 28358) {
    const zone = epsg - 28300;
    return { name: `GDA94 / MGA zone ${zone}`, def: `+proj=utm +zone=${zone} +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs` };
  }
  if (epsg >= 4534 && epsg <= 4554) {
    // CGCS2000 / 3-degree Gauss-Kruger CM 75E … 135E (no false easting zone prefix).
    const lon0 = 75 + (epsg - 4534) * 3;
    return { name: `CGCS2000 / 3-degree Gauss-Kruger CM ${lon0}E`, def: `+proj=tmerc +lat_0=0 +lon_0=${lon0} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs` };
  }
  return null;
}

export function crsFromEpsg(epsg: number): Crs {
  const known = EXTRA_EPSG[epsg] ?? utmDef(epsg);
  if (!known) {
    throw new CrsError(
      `EPSG:${epsg} is not in the workbench's built-in CRS table. Give the CRS as a proj4 string ` +
        `(e.g. --crs "+proj=utm +zone=45 +datum=WGS84 +units=m") or supply a .prj file.`,
      { epsg },
    );
  }
  return { epsg, proj4: known.def, name: `${known.name} (EPSG:${epsg})`, geographic: known.def.includes('+proj=longlat') };
}

/** Parses "EPSG:32645", "32645", a proj4 string or a WKT (.prj contents). */
export function parseCrs(text: string): Crs {
  const t = text.trim();
  const m = /^(?:epsg:)?(\d{4,5})$/i.exec(t);
  if (m) return crsFromEpsg(Number(m[1]));
  if (t.startsWith('+')) {
    try {
      proj4(t);
    } catch (e) {
      throw new CrsError(`"${t}" is not a valid proj4 definition: ${(e as Error).message}`, { crs: t });
    }
    return { epsg: null, proj4: t, name: t, geographic: t.includes('+proj=longlat') || t.includes('+proj=latlong') };
  }
  if (/^(PROJCS|GEOGCS|PROJCRS|GEOGCRS)\[/i.test(t)) return crsFromWkt(t);
  throw new CrsError(`Cannot understand the CRS "${t}". Use EPSG:NNNN, a proj4 string, or WKT.`, { crs: t });
}

export function crsFromWkt(wkt: string): Crs {
  const auth = /AUTHORITY\["EPSG",\s*"?(\d+)"?\]\s*\]\s*$/i.exec(wkt.trim()) ?? /ID\["EPSG",\s*(\d+)\]\s*\]\s*$/i.exec(wkt.trim());
  if (auth) {
    try {
      return crsFromEpsg(Number(auth[1]));
    } catch {
      // fall through to proj4's own WKT parser
    }
  }
  const utm = /UTM[_ ]zone[_ ](\d{1,2})([NS])/i.exec(wkt);
  if (utm && /WGS[_ ]?(?:19)?84/i.test(wkt)) return crsFromEpsg((utm[2].toUpperCase() === 'N' ? 32600 : 32700) + Number(utm[1]));
  try {
    const p = proj4(wkt) as unknown as { oProj?: { projName?: string; units?: string } };
    const projName = p.oProj?.projName ?? '';
    const name = /^(?:PROJCS|GEOGCS|PROJCRS|GEOGCRS)\["([^"]+)"/i.exec(wkt)?.[1] ?? 'custom CRS';
    return { epsg: null, proj4: wkt, name, geographic: projName === 'longlat' || /^GEOG/i.test(wkt) };
  } catch (e) {
    throw new CrsError(`The WKT could not be parsed: ${(e as Error).message}`, { wkt: wkt.slice(0, 200) });
  }
}

export function sameCrs(a: Crs | null, b: Crs | null): boolean {
  if (!a || !b) return a === b;
  if (a.epsg !== null && b.epsg !== null) return a.epsg === b.epsg;
  return a.proj4.replace(/\s+/g, ' ').trim() === b.proj4.replace(/\s+/g, ' ').trim();
}

/** Throws unless the CRS is projected (metres): distances, kriging and fault rings need it. */
export function requireProjected(crs: Crs | null, what: string): asserts crs is Crs {
  if (!crs) {
    throw new CrsError(`${what} has no coordinate reference system. Declare one (e.g. --crs EPSG:32645).`, { what });
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
  const conv = proj4(from.proj4, to.proj4);
  return (xy) => {
    const out = conv.forward([xy[0], xy[1]]);
    return [out[0], out[1]];
  };
}
