import proj4 from 'proj4';
import { CrsError } from '../errors.ts';
import { crsFromEpsg, crsFromProj4, type Crs } from './crs-core.ts';
import { matchEpsg, projectionFamily } from './crs-match.ts';
import { lookupEpsg } from './epsg-registry.ts';

/**
 * GeoTIFF GeoKeys (OGC GeoTIFF 1.1) ↔ Crs, including user-defined projected CRSs
 * (ProjectedCSTypeGeoKey = 32767 with ProjCoordTransGeoKey and the projection parameter keys,
 * as GDAL writes a CRS that has no EPSG code).
 *
 * Hand-written: geotiff.js decodes the keys but does not interpret them, and geotiff-geokeys-to-proj4
 * is not a dependency of this project; the mapping below is the table of GeoTIFF 1.1 §7.5
 * (coordinate transformation codes) and the parameter keys GDAL's gt_wkt_srs.cpp uses for each.
 */

export const USER_DEFINED = 32767;

type Keys = Readonly<Record<string, unknown>>;

const CT = {
  TransverseMercator: 1,
  ObliqueMercator: 3,
  Mercator: 7,
  LambertConfConic_2SP: 8,
  LambertConfConic_1SP: 9,
  LambertAzimEqualArea: 10,
  AlbersEqualArea: 11,
  PolarStereographic: 15,
  ObliqueStereographic: 16,
  Equirectangular: 17,
  CassiniSoldner: 18,
} as const;

/** EPSG ellipsoid codes (GeogEllipsoidGeoKey) that proj4 names. */
const ELLIPSOIDS: Readonly<Record<number, string>> = {
  7001: 'airy',
  7004: 'bessel',
  7008: 'clrk66',
  7012: 'clrk80',
  7015: 'evrst30',
  7019: 'GRS80',
  7022: 'intl',
  7024: 'krass',
  7030: 'WGS84',
  7043: 'WGS72',
};

const num = (keys: Keys, ...names: string[]): number | undefined => {
  for (const n of names) {
    const v = keys[n];
    const x = Array.isArray(v) ? v[0] : v;
    if (typeof x === 'number' && Number.isFinite(x)) return x;
  }
  return undefined;
};

/** The datum/ellipsoid part of a proj4 definition, from the geographic keys. */
function datumProj4(keys: Keys): string {
  const gcs = num(keys, 'GeographicTypeGeoKey');
  if (gcs !== undefined && gcs !== USER_DEFINED) {
    const e = lookupEpsg(gcs);
    if (e) return e.proj4.split(/\s+/).filter((t) => /^\+(datum|ellps|towgs84|a|b|rf|nadgrids|pm)=/.test(t)).join(' ');
  }
  const datum = num(keys, 'GeogGeodeticDatumGeoKey');
  if (datum !== undefined && datum !== USER_DEFINED && datum >= 6000 && datum < 7000) {
    // EPSG datum 6xxx is the datum of geographic CRS 4xxx for every classic datum.
    const e = lookupEpsg(datum - 2000);
    if (e) return e.proj4.split(/\s+/).filter((t) => /^\+(datum|ellps|towgs84|a|b|rf|nadgrids|pm)=/.test(t)).join(' ');
  }
  const parts: string[] = [];
  const ell = num(keys, 'GeogEllipsoidGeoKey');
  const a = num(keys, 'GeogSemiMajorAxisGeoKey');
  const invF = num(keys, 'GeogInvFlatteningGeoKey');
  const b = num(keys, 'GeogSemiMinorAxisGeoKey');
  if (ell !== undefined && ELLIPSOIDS[ell]) parts.push(`+ellps=${ELLIPSOIDS[ell]}`);
  else if (a !== undefined && invF !== undefined) parts.push(invF === 0 ? `+a=${a} +b=${a}` : `+a=${a} +rf=${invF}`);
  else if (a !== undefined && b !== undefined) parts.push(`+a=${a} +b=${b}`);
  else parts.push('+ellps=WGS84');
  const towgs = keys.GeogTOWGS84GeoKey;
  if (Array.isArray(towgs) && towgs.length >= 3) parts.push(`+towgs84=${towgs.join(',')}`);
  return parts.join(' ');
}

function unitsProj4(keys: Keys): string {
  const u = num(keys, 'ProjLinearUnitsGeoKey');
  if (u === undefined || u === 9001) return '+units=m';
  if (u === 9002) return '+units=ft';
  if (u === 9003) return '+units=us-ft';
  const size = num(keys, 'ProjLinearUnitSizeGeoKey');
  return size !== undefined ? `+to_meter=${size}` : '+units=m';
}

/** proj4 projection part of a user-defined projected CRS, or null when the method is not supported. */
function projectionProj4(keys: Keys): string | null {
  const projection = num(keys, 'ProjectionGeoKey');
  if (projection !== undefined && projection >= 16001 && projection <= 16060) return `+proj=utm +zone=${projection - 16000}`;
  if (projection !== undefined && projection >= 16101 && projection <= 16160) return `+proj=utm +zone=${projection - 16100} +south`;
  const ct = num(keys, 'ProjCoordTransGeoKey');
  const g = (...n: string[]): number => num(keys, ...n) ?? 0;
  const fe = g('ProjFalseEastingGeoKey', 'ProjFalseOriginEastingGeoKey', 'ProjCenterEastingGeoKey');
  const fn = g('ProjFalseNorthingGeoKey', 'ProjFalseOriginNorthingGeoKey', 'ProjCenterNorthingGeoKey');
  const k = num(keys, 'ProjScaleAtNatOriginGeoKey', 'ProjScaleAtCenterGeoKey') ?? 1;
  const off = `+x_0=${fe} +y_0=${fn}`;
  const lat0 = g('ProjNatOriginLatGeoKey', 'ProjFalseOriginLatGeoKey', 'ProjCenterLatGeoKey');
  const lon0 = g('ProjNatOriginLongGeoKey', 'ProjFalseOriginLongGeoKey', 'ProjCenterLongGeoKey');
  switch (ct) {
    case CT.TransverseMercator:
      return `+proj=tmerc +lat_0=${lat0} +lon_0=${lon0} +k=${k} ${off}`;
    case CT.Mercator: {
      const lat1 = num(keys, 'ProjStdParallel1GeoKey');
      return lat1 !== undefined && lat1 !== 0 ? `+proj=merc +lat_ts=${lat1} +lon_0=${lon0} ${off}` : `+proj=merc +lon_0=${lon0} +k=${k} ${off}`;
    }
    case CT.LambertConfConic_2SP:
      return `+proj=lcc +lat_1=${g('ProjStdParallel1GeoKey')} +lat_2=${g('ProjStdParallel2GeoKey')} +lat_0=${g('ProjFalseOriginLatGeoKey', 'ProjNatOriginLatGeoKey')} +lon_0=${g('ProjFalseOriginLongGeoKey', 'ProjNatOriginLongGeoKey')} ${off}`;
    case CT.LambertConfConic_1SP:
      return `+proj=lcc +lat_1=${lat0} +lat_0=${lat0} +lon_0=${lon0} +k_0=${k} ${off}`;
    case CT.LambertAzimEqualArea:
      return `+proj=laea +lat_0=${g('ProjCenterLatGeoKey', 'ProjNatOriginLatGeoKey')} +lon_0=${g('ProjCenterLongGeoKey', 'ProjNatOriginLongGeoKey')} ${off}`;
    case CT.AlbersEqualArea:
      return `+proj=aea +lat_1=${g('ProjStdParallel1GeoKey')} +lat_2=${g('ProjStdParallel2GeoKey')} +lat_0=${lat0} +lon_0=${lon0} ${off}`;
    case CT.ObliqueStereographic:
      return `+proj=sterea +lat_0=${lat0} +lon_0=${lon0} +k=${k} ${off}`;
    case CT.PolarStereographic:
      return `+proj=stere +lat_0=${lat0 < 0 ? -90 : 90} +lat_ts=${lat0} +lon_0=${g('ProjStraightVertPoleLongGeoKey', 'ProjNatOriginLongGeoKey')} +k=${k} ${off}`;
    case CT.CassiniSoldner:
      return `+proj=cass +lat_0=${lat0} +lon_0=${lon0} ${off}`;
    case CT.Equirectangular:
      return `+proj=eqc +lat_ts=${g('ProjStdParallel1GeoKey')} +lon_0=${lon0} ${off}`;
    case CT.ObliqueMercator: {
      const alpha = g('ProjAzimuthAngleGeoKey');
      const lat = g('ProjCenterLatGeoKey');
      const lon = g('ProjCenterLongGeoKey');
      if (Math.abs(alpha - 90) < 1e-9) return `+proj=somerc +lat_0=${lat} +lon_0=${lon} +k_0=${k} ${off}`;
      return `+proj=omerc +lat_0=${lat} +lonc=${lon} +alpha=${alpha} +gamma=${num(keys, 'ProjRectifiedGridAngleGeoKey') ?? alpha} +k=${k} ${off}`;
    }
    default:
      return null;
  }
}

export interface GeoKeyCrs {
  readonly crs: Crs | null;
  /** Why the keys could not be turned into a CRS (an unsupported method), for the caller's message. */
  readonly problem?: string;
}

/** The CRS that a GeoTIFF's GeoKeys declare, or null when it declares none. */
export function crsFromGeoKeys(keys: Keys | null): GeoKeyCrs {
  if (!keys) return { crs: null };
  const model = num(keys, 'GTModelTypeGeoKey');
  const pcs = num(keys, 'ProjectedCSTypeGeoKey');
  const gcs = num(keys, 'GeographicTypeGeoKey');
  if (pcs !== undefined && pcs !== USER_DEFINED) {
    if (lookupEpsg(pcs)) return { crs: crsFromEpsg(pcs) };
    return { crs: null, problem: `ProjectedCSTypeGeoKey ${pcs} is not a projected CRS of the EPSG registry` };
  }
  const citation = String(keys.PCSCitationGeoKey ?? keys.GTCitationGeoKey ?? keys.GeogCitationGeoKey ?? '').replace(/\|+$/, '');
  if (model === 2 || (pcs === undefined && model !== 1)) {
    if (gcs !== undefined && gcs !== USER_DEFINED && lookupEpsg(gcs)) return { crs: crsFromEpsg(gcs) };
    if (gcs === undefined && num(keys, 'GeogSemiMajorAxisGeoKey', 'GeogEllipsoidGeoKey', 'GeogGeodeticDatumGeoKey') === undefined) return { crs: null };
    const def = `+proj=longlat ${datumProj4(keys)} +no_defs`;
    return { crs: identify(def, citation) };
  }
  // A projected model type with no CRS code and no projection keys at all declares no CRS (our own
  // writer does this for a raster without a CRS, and so do some tools): unknown, not an error.
  if (pcs === undefined && num(keys, 'ProjectionGeoKey', 'ProjCoordTransGeoKey') === undefined) return { crs: null };
  const projection = projectionProj4(keys);
  if (!projection) {
    const ct = num(keys, 'ProjCoordTransGeoKey');
    return { crs: null, problem: `user-defined projection with ProjCoordTransGeoKey ${ct ?? 'missing'} is not supported` };
  }
  return { crs: identify(`${projection} ${datumProj4(keys)} ${unitsProj4(keys)} +no_defs`, citation) };
}

function identify(def: string, name: string): Crs {
  const match = matchEpsg(def, name);
  if (match) return crsFromEpsg(match.code);
  const c = crsFromProj4(def);
  return { ...c, name: `${name || 'user-defined CRS'} (custom)` };
}

// ─── writing ────────────────────────────────────────────────────────────────────────────────

/** One GeoKey directory entry: [key, tag location (0 = value, 34736 = double, 34737 = ascii), count, value or offset]. */
export type GeoKeyEntry = [number, number, number, number];

export interface GeoKeyDirectory {
  /** GeoKeyDirectoryTag (34735). */
  readonly dir: number[];
  /** GeoDoubleParamsTag (34736); empty when none. */
  readonly doubles: number[];
  /** GeoAsciiParamsTag (34737). */
  readonly ascii: string;
}

type ProjFields = Record<string, unknown> & { names?: string[] };

const degOf = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? (v * 180) / Math.PI : 0);
const numOf = (v: unknown, f: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : f);

/**
 * GeoKeys for a CRS: the EPSG code for a registry CRS; for a custom projected CRS the
 * user-defined keys (32767 + method + parameters + ellipsoid + TOWGS84) GDAL reads back.
 */
export function geoKeysForCrs(crs: Crs | null): GeoKeyDirectory {
  const keys: GeoKeyEntry[] = [];
  const doubles: number[] = [];
  let ascii = '';
  const addAscii = (key: number, text: string): void => {
    const t = `${text.replace(/\|/g, '/')}|`;
    keys.push([key, 34737, t.length, ascii.length]);
    ascii += t;
  };
  const addDouble = (key: number, ...v: number[]): void => {
    keys.push([key, 34736, v.length, doubles.length]);
    doubles.push(...v);
  };
  const addShort = (key: number, v: number): void => {
    keys.push([key, 0, 1, v]);
  };
  const geographic = crs?.geographic ?? false;
  addShort(1024, geographic ? 2 : 1); // GTModelTypeGeoKey
  addShort(1025, 1); // GTRasterTypeGeoKey = PixelIsArea
  addAscii(1026, crs?.name ?? 'unknown CRS');
  if (crs?.epsg) {
    addShort(geographic ? 2048 : 3072, crs.epsg);
  } else if (crs) {
    writeUserDefined(crs, { addShort, addDouble });
  }
  keys.sort((a, b) => a[0] - b[0]);
  return { dir: [1, 1, 0, keys.length, ...keys.flat()], doubles, ascii };
}

interface Adders {
  addShort(key: number, v: number): void;
  addDouble(key: number, ...v: number[]): void;
}


function writeUserDefined(crs: Crs, { addShort, addDouble }: Adders): void {
  const p = new proj4.Proj(crs.proj4) as unknown as ProjFields;
  // Geographic part: user-defined datum on an explicit ellipsoid.
  addShort(2048, USER_DEFINED);
  addShort(2050, USER_DEFINED);
  addShort(2051, 8901); // Greenwich
  addShort(2054, 9102); // degrees
  addShort(2056, USER_DEFINED);
  const a = numOf(p.a, 6378137);
  const es = numOf(p.es, 0);
  addDouble(2057, a);
  addDouble(2059, es === 0 ? 0 : 1 / (1 - Math.sqrt(1 - es)));
  const dp = (p.datum_params as number[] | undefined) ?? (p.datum as { datum_params?: number[] } | undefined)?.datum_params;
  if (Array.isArray(dp) && dp.length >= 3) addDouble(2062, ...dp.map(Number));
  if (crs.geographic) return;
  addShort(3072, USER_DEFINED);
  addShort(3074, USER_DEFINED);
  const toMeter = numOf(p.to_meter, 1);
  if (toMeter === 1) addShort(3076, 9001);
  else {
    addShort(3076, USER_DEFINED);
    addDouble(3077, toMeter);
  }
  const lat0 = degOf(p.lat0);
  const lon0 = degOf(p.long0);
  const k0 = numOf(p.k0, 1);
  const x0 = numOf(p.x0, 0) / toMeter;
  const y0 = numOf(p.y0, 0) / toMeter;
  const fam = projectionFamily(p);
  const natural = (ct: number): void => {
    addShort(3075, ct);
    addDouble(3080, lon0);
    addDouble(3081, lat0);
    addDouble(3082, x0);
    addDouble(3083, y0);
  };
  switch (fam) {
    case 'tmerc':
      natural(CT.TransverseMercator);
      addDouble(3092, k0);
      return;
    case 'merc':
      natural(CT.Mercator);
      addDouble(3092, k0);
      return;
    case 'sterea':
      natural(CT.ObliqueStereographic);
      addDouble(3092, k0);
      return;
    case 'cass':
      natural(CT.CassiniSoldner);
      return;
    case 'lcc': {
      const lat1 = degOf(p.lat1);
      const lat2 = p.lat2 === undefined ? lat1 : degOf(p.lat2);
      if (Math.abs(lat1 - lat2) < 1e-12) {
        natural(CT.LambertConfConic_1SP);
        addDouble(3092, k0);
        return;
      }
      addShort(3075, CT.LambertConfConic_2SP);
      addDouble(3078, lat1);
      addDouble(3079, lat2);
      addDouble(3084, lon0);
      addDouble(3085, lat0);
      addDouble(3086, x0);
      addDouble(3087, y0);
      return;
    }
    case 'aea':
      natural(CT.AlbersEqualArea);
      addDouble(3078, degOf(p.lat1));
      addDouble(3079, degOf(p.lat2));
      return;
    case 'laea':
      addShort(3075, CT.LambertAzimEqualArea);
      addDouble(3088, lon0);
      addDouble(3089, lat0);
      addDouble(3082, x0);
      addDouble(3083, y0);
      return;
    case 'somerc':
      addShort(3075, CT.ObliqueMercator);
      addDouble(3088, lon0);
      addDouble(3089, lat0);
      addDouble(3094, 90);
      addDouble(3096, 90);
      addDouble(3093, k0);
      addDouble(3082, x0);
      addDouble(3083, y0);
      return;
    default:
      throw new CrsError(
        `${crs.name}: a custom CRS with the ${fam || 'unknown'} projection has no GeoTIFF GeoKeys here (supported: Transverse Mercator, Mercator, Lambert conformal conic, Albers, Lambert azimuthal, oblique stereographic, Cassini, Swiss oblique Mercator, geographic). ` +
          'Give the grid an EPSG CRS (--crs EPSG:NNNN where the command has it, or gdalwarp -t_srs EPSG:NNNN).',
        { crs: crs.name, projection: fam },
      );
  }
}
