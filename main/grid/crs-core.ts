import proj4 from 'proj4';
import { CrsError } from '../errors.ts';
import { lookupEpsg } from './epsg-registry.ts';

/** Area of use in degrees (EPSG's bounding box). */
export interface AreaOfUse {
  readonly west: number;
  readonly south: number;
  readonly east: number;
  readonly north: number;
}

/**
 * A coordinate reference system as the workbench carries it: an EPSG code when one is known,
 * and always a definition proj4js can use to reproject (a proj4 string, or the WKT it came
 * from when it matched no EPSG code).
 */
export interface Crs {
  readonly epsg: number | null;
  readonly proj4: string;
  /** Human-readable name shown in the UI and reports. */
  readonly name: string;
  /** True for longitude/latitude systems (degrees), which distance work refuses. */
  readonly geographic: boolean;
  /** OGC WKT 1 (with AUTHORITY) from the EPSG registry, or the WKT the CRS was read from. */
  readonly wkt?: string;
  /** EPSG's area of use, when the CRS is a registry entry. */
  readonly areaOfUse?: AreaOfUse | null;
}

/** The CRS of an EPSG code, from the offline registry (main/grid/epsg-registry.ts). */
export function crsFromEpsg(epsg: number): Crs {
  const e = lookupEpsg(epsg);
  if (!e) {
    throw new CrsError(
      `EPSG:${epsg} is not a projected or geographic CRS of the EPSG registry (vertical, compound and ` +
        `geocentric CRSs and retired codes cannot place a map). Check the code at https://epsg.io/${epsg}, ` +
        `or give the CRS as a proj4 string (--crs "+proj=utm +zone=45 +datum=WGS84 +units=m") or a .prj file.`,
      { epsg },
    );
  }
  return {
    epsg,
    proj4: e.proj4,
    name: `${e.name} (EPSG:${epsg})`,
    geographic: e.kind === 'CRS-GEOGCRS',
    wkt: e.wkt,
    areaOfUse: e.bbox,
  };
}

/** A CRS from a proj4 string (checked by proj4js), with no EPSG code. */
export function crsFromProj4(def: string): Crs {
  const t = def.trim();
  let projName = '';
  try {
    projName = (new proj4.Proj(t) as unknown as { projName?: string }).projName ?? '';
  } catch (e) {
    throw new CrsError(`"${t}" is not a valid proj4 definition: ${(e as Error).message}`, { crs: t });
  }
  if (!projName || /\+proj=(?!\w)/.test(t)) throw new CrsError(`"${t}" is not a valid proj4 definition: it names no projection (+proj=…)`, { crs: t });
  return { epsg: null, proj4: t, name: t, geographic: projName === 'longlat' || projName === 'latlong' };
}
