import type { Crs } from '../grid/crs.ts';
import { UnsupportedCrsError } from './export-errors.ts';

/**
 * ESRI-flavoured WKT 1 (what a shapefile's .prj holds) for the CRSs the workbench knows.
 *
 * Hand-written because no maintained npm package turns a proj4 definition into WKT (proj4js
 * and wkt-parser only go the other way), and GDAL is not a runtime dependency. Covered: the
 * geographic CRSs and the Transverse Mercator family (UTM on WGS 84 / GRS 80, Gauss–Krüger),
 * i.e. every EPSG code of main/grid/crs.ts except Pseudo-Mercator, RD New and Australian
 * Albers; a CRS that came from a .prj (WKT) is written back verbatim. Anything else is an
 * UnsupportedCrsError naming the CRS, never a .prj that silently says WGS 84.
 */

interface Ellipsoid {
  readonly spheroid: string;
  readonly a: number;
  readonly invF: number;
}

const WGS84: Ellipsoid = { spheroid: 'WGS_1984', a: 6378137, invF: 298.257223563 };
const GRS80: Ellipsoid = { spheroid: 'GRS_1980', a: 6378137, invF: 298.257222101 };

function params(proj4: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const tok of proj4.trim().split(/\s+/)) {
    const t = tok.replace(/^\+/, '');
    const eq = t.indexOf('=');
    if (eq < 0) m.set(t, '');
    else m.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return m;
}

/** Datum and geographic CRS names, from the EPSG family when known (GDAL matches on these). */
function datumOf(crs: Crs, p: Map<string, string>): { gcs: string; datum: string; ell: Ellipsoid } {
  const e = crs.epsg ?? 0;
  if (p.get('datum') === 'WGS84' || p.get('ellps') === 'WGS84') return { gcs: 'GCS_WGS_1984', datum: 'D_WGS_1984', ell: WGS84 };
  if (p.get('ellps') === 'GRS80') {
    if (e === 4490 || (e >= 4534 && e <= 4554)) return { gcs: 'GCS_China_Geodetic_Coordinate_System_2000', datum: 'D_China_2000', ell: { ...GRS80, spheroid: 'CGCS2000' } };
    if (e === 4283 || (e >= 28348 && e <= 28358)) return { gcs: 'GCS_GDA_1994', datum: 'D_GDA_1994', ell: GRS80 };
    return { gcs: 'GCS_GRS_1980', datum: 'D_GRS_1980', ell: GRS80 };
  }
  throw new UnsupportedCrsError(
    `${crs.name}: its datum (${crs.proj4}) has no .prj definition here. Export the sites as GeoJSON, or reproject the grid to a UTM/WGS 84 CRS.`,
    { crs: crs.name },
  );
}

const num = (s: string | undefined, fallback: number): number => (s === undefined || s === '' ? fallback : Number(s));
const f = (v: number): string => (Number.isInteger(v) ? v.toFixed(1) : String(v));

export function crsToPrjWkt(crs: Crs): string {
  if (/^\s*(PROJCS|GEOGCS)\[/i.test(crs.proj4)) return crs.proj4.trim();
  const p = params(crs.proj4);
  const proj = p.get('proj');
  if (proj !== 'longlat' && proj !== 'latlong' && proj !== 'utm' && proj !== 'tmerc') {
    throw new UnsupportedCrsError(
      `${crs.name}: the ${proj ?? 'unknown'} projection has no .prj writer here (supported: geographic, UTM, Transverse Mercator). Export the sites as GeoJSON instead.`,
      { crs: crs.name, proj },
    );
  }
  const { gcs, datum, ell } = datumOf(crs, p);
  const geog = `GEOGCS["${gcs}",DATUM["${datum}",SPHEROID["${ell.spheroid}",${f(ell.a)},${ell.invF}]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`;
  if (proj === 'longlat' || proj === 'latlong') return geog;
  let lon0: number, k: number, x0: number, y0: number, lat0: number, name: string;
  if (proj === 'utm') {
    const zone = Number(p.get('zone'));
    const south = p.has('south');
    lon0 = -183 + 6 * zone;
    k = 0.9996;
    x0 = 500000;
    y0 = south ? 10000000 : 0;
    lat0 = 0;
    name = `${gcs.replace(/^GCS_/, '')}_UTM_Zone_${zone}${south ? 'S' : 'N'}`;
  } else {
    lon0 = num(p.get('lon_0'), 0);
    k = num(p.get('k') ?? p.get('k_0'), 1);
    x0 = num(p.get('x_0'), 0);
    y0 = num(p.get('y_0'), 0);
    lat0 = num(p.get('lat_0'), 0);
    name = crs.name.replace(/\s*\(EPSG:\d+\)$/, '').replace(/[^A-Za-z0-9]+/g, '_');
  }
  return (
    `PROJCS["${name}",${geog},PROJECTION["Transverse_Mercator"],` +
    `PARAMETER["False_Easting",${f(x0)}],PARAMETER["False_Northing",${f(y0)}],PARAMETER["Central_Meridian",${f(lon0)}],` +
    `PARAMETER["Scale_Factor",${k}],PARAMETER["Latitude_Of_Origin",${f(lat0)}],UNIT["Meter",1.0]]`
  );
}
