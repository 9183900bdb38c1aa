import proj4 from 'proj4';
import type { Crs } from './crs.ts';
import { lookupEpsg } from './epsg-registry.ts';
import { projectionFamily } from './crs-match.ts';
import { children, isNode, nodeName, parseWktTree, writeWktTree, type WktNode, type WktValue } from './wkt-tree.ts';
import { UnsupportedCrsError } from '../errors.ts';

/**
 * WKT for what we write: OGC WKT 1 (GeoPackage's gpkg_spatial_ref_sys, GDAL's own dialect) and
 * ESRI WKT 1 (a shapefile's .prj, what ArcGIS and QGIS write).
 *
 * An EPSG CRS takes the registry's OGC WKT (epsg-index, with AUTHORITY nodes); a custom CRS is
 * written from proj4js's reading of its definition. ESRI WKT is derived from the OGC WKT by the
 * renames GDAL's morphToESRI applies (D_ datum prefix, GCS_ names, Title_Case parameters,
 * ESRI projection names, no AUTHORITY/TOWGS84/AXIS). Hand-written because no maintained npm
 * package writes WKT (proj4js and wkt-parser only read it) and GDAL is not a runtime
 * dependency. GDAL identifies the EPSG code of every .prj we write for the fixture CRSs
 * (tests/grid/crs-fixtures.test.ts) and of a random registry sample (bench/crs-registry.ts: 59 of 60).
 */

// ─── custom CRS → OGC WKT 1 ─────────────────────────────────────────────────────────────────

type ProjFields = Record<string, unknown> & { names?: string[]; projName?: string };

const deg = (rad: unknown): number => (typeof rad === 'number' && Number.isFinite(rad) ? (rad * 180) / Math.PI : 0);
const numOr = (v: unknown, f: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : f);


/**
 * proj4js's built-in datum names (`+datum=`, proj4js lib/constants/Datum.js) → the EPSG
 * geographic CRS of that datum. Without it a custom CRS on +datum=WGS84 would be written with an
 * "unknown" datum on the WGS 84 ellipsoid, which GDAL reads as +ellps=WGS84: the datum is lost.
 */
const PROJ4_DATUM_GEOGCS: Readonly<Record<string, number>> = {
  WGS84: 4326,
  NAD83: 4269,
  NAD27: 4267,
  GGRS87: 4121,
  potsdam: 4314,
  carthage: 4223,
  hermannskogel: 4312,
  ire65: 4299,
  nzgd49: 4272,
  OSGB36: 4277,
};

function geogcsOf(p: ProjFields, name: string): string {
  const code = typeof p.datumCode === 'string' ? PROJ4_DATUM_GEOGCS[p.datumCode] : undefined;
  const registry = code !== undefined ? lookupEpsg(code) : null;
  if (registry && /^GEOGCS\[/.test(registry.wkt)) return registry.wkt;
  const a = numOr(p.a, 6378137);
  const es = numOr(p.es, 0);
  const rf = es === 0 ? 0 : 1 / (1 - Math.sqrt(1 - es));
  const dp = (p.datum_params as number[] | undefined) ?? (p.datum as { datum_params?: number[] } | undefined)?.datum_params;
  const towgs = Array.isArray(dp) && dp.length >= 3 ? `,TOWGS84[${[...dp, 0, 0, 0, 0].slice(0, 7).join(',')}]` : '';
  return `GEOGCS["${name}",DATUM["${name}",SPHEROID["${name}",${a},${Number(rf.toPrecision(12))}]${towgs}],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`;
}

function customOgcWkt(crs: Crs): string {
  let p: ProjFields;
  try {
    p = new proj4.Proj(crs.proj4) as unknown as ProjFields;
  } catch (e) {
    throw new UnsupportedCrsError(`${crs.name}: its definition cannot be read (${(e as Error).message})`, { crs: crs.name });
  }
  const label = crs.name.replace(/\s*\((?:custom|EPSG:\d+)\)$/, '').slice(0, 80).replace(/"/g, "'") || 'custom';
  const geog = geogcsOf(p, 'unknown');
  const fam = projectionFamily(p);
  if (fam === 'longlat') return geog.replace('GEOGCS["unknown"', `GEOGCS["${label}"`);
  const lat0 = deg(p.lat0);
  const lon0 = deg(p.long0);
  const k0 = numOr(p.k0, 1);
  const x0 = numOr(p.x0, 0);
  const y0 = numOr(p.y0, 0);
  const par = (list: [string, number][]): string => list.map(([k, v]) => `PARAMETER["${k}",${v}]`).join(',');
  let body: string;
  switch (fam) {
    case 'tmerc':
      body = `PROJECTION["Transverse_Mercator"],${par([['latitude_of_origin', lat0], ['central_meridian', lon0], ['scale_factor', k0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'lcc': {
      const lat1 = deg(p.lat1);
      const lat2 = p.lat2 === undefined ? lat1 : deg(p.lat2);
      body =
        Math.abs(lat1 - lat2) < 1e-12
          ? `PROJECTION["Lambert_Conformal_Conic_1SP"],${par([['latitude_of_origin', lat1], ['central_meridian', lon0], ['scale_factor', k0], ['false_easting', x0], ['false_northing', y0]])}`
          : `PROJECTION["Lambert_Conformal_Conic_2SP"],${par([['standard_parallel_1', lat1], ['standard_parallel_2', lat2], ['latitude_of_origin', lat0], ['central_meridian', lon0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    }
    case 'aea':
      body = `PROJECTION["Albers_Conic_Equal_Area"],${par([['standard_parallel_1', deg(p.lat1)], ['standard_parallel_2', deg(p.lat2)], ['latitude_of_center', lat0], ['longitude_of_center', lon0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'laea':
      body = `PROJECTION["Lambert_Azimuthal_Equal_Area"],${par([['latitude_of_center', lat0], ['longitude_of_center', lon0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'merc':
      body = `PROJECTION["Mercator_1SP"],${par([['central_meridian', lon0], ['scale_factor', k0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'sterea':
      body = `PROJECTION["Oblique_Stereographic"],${par([['latitude_of_origin', lat0], ['central_meridian', lon0], ['scale_factor', k0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'cass':
      body = `PROJECTION["Cassini_Soldner"],${par([['latitude_of_origin', lat0], ['central_meridian', lon0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    case 'somerc':
      body = `PROJECTION["Hotine_Oblique_Mercator_Azimuth_Center"],${par([['latitude_of_center', lat0], ['longitude_of_center', lon0], ['azimuth', 90], ['rectified_grid_angle', 90], ['scale_factor', k0], ['false_easting', x0], ['false_northing', y0]])}`;
      break;
    default:
      throw new UnsupportedCrsError(
        `${crs.name}: the ${fam || 'unknown'} projection of this custom CRS has no WKT writer here (supported: Transverse Mercator/UTM, Lambert conformal conic, Albers, Lambert azimuthal, Mercator, oblique stereographic, Cassini, Swiss oblique Mercator, geographic). ` +
          'Reproject to an EPSG CRS (--crs EPSG:NNNN on import) or export as GeoJSON.',
        { crs: crs.name, projection: fam },
      );
  }
  const toMeter = numOr(p.to_meter, 1);
  const unit = toMeter === 1 ? 'UNIT["metre",1]' : `UNIT["unknown",${toMeter}]`;
  return `PROJCS["${label}",${geog},${body},${unit}]`;
}

/** OGC WKT 1 of any CRS: the registry's for an EPSG code (AUTHORITY included), else built from its definition. */
export function crsToOgcWkt(crs: Crs): string {
  if (crs.epsg !== null) {
    const e = lookupEpsg(crs.epsg);
    if (e) return e.wkt;
  }
  if (crs.wkt && /^\s*(PROJCS|GEOGCS)\[/i.test(crs.wkt) && !/"D_/.test(crs.wkt)) return crs.wkt.trim();
  return customOgcWkt(crs);
}

/** What a GeoPackage writer puts in gpkg_spatial_ref_sys for a CRS (GeoPackage 1.3 §1.1.2). */
export interface GeoPackageSrs {
  /** srs_id: the EPSG code, or 100000 for a custom CRS (GeoPackage leaves non-EPSG ids to the writer). */
  readonly srsId: number;
  readonly srsName: string;
  /** organization: "EPSG", or "NONE" for a custom CRS. */
  readonly organization: string;
  readonly organizationCoordsysId: number;
  /** OGC WKT 1 (the `definition` column). */
  readonly definition: string;
  readonly description: string;
}

export function crsDefinitionForGeoPackage(crs: Crs): GeoPackageSrs {
  const definition = crsToOgcWkt(crs);
  const name = crs.name.replace(/\s*\((?:custom|EPSG:\d+)\)$/, '');
  if (crs.epsg !== null) {
    return { srsId: crs.epsg, srsName: name, organization: 'EPSG', organizationCoordsysId: crs.epsg, definition, description: crs.areaOfUse ? `EPSG:${crs.epsg}` : name };
  }
  return { srsId: 100000, srsName: name, organization: 'NONE', organizationCoordsysId: 100000, definition, description: `custom CRS: ${crs.proj4.slice(0, 200)}` };
}

// ─── OGC WKT 1 → ESRI WKT 1 ─────────────────────────────────────────────────────────────────

/** OGC projection name → ESRI's, with the ESRI names of parameters that differ. */
const ESRI_PROJECTIONS: Readonly<Record<string, { name: string; params?: Readonly<Record<string, string | null>> }>> = {
  Transverse_Mercator: { name: 'Transverse_Mercator' },
  Transverse_Mercator_South_Orientated: { name: 'Transverse_Mercator_South_Orientated' },
  Lambert_Conformal_Conic_2SP: { name: 'Lambert_Conformal_Conic' },
  Lambert_Conformal_Conic_1SP: { name: 'Lambert_Conformal_Conic', params: { latitude_of_origin: 'Standard_Parallel_1' } },
  Albers_Conic_Equal_Area: { name: 'Albers', params: { latitude_of_center: 'Latitude_Of_Origin', longitude_of_center: 'Central_Meridian' } },
  Lambert_Azimuthal_Equal_Area: { name: 'Lambert_Azimuthal_Equal_Area', params: { latitude_of_center: 'Latitude_Of_Origin', longitude_of_center: 'Central_Meridian' } },
  Mercator_1SP: { name: 'Mercator' },
  Mercator_2SP: { name: 'Mercator' },
  Oblique_Stereographic: { name: 'Double_Stereographic' },
  Polar_Stereographic: { name: 'Stereographic' },
  Hotine_Oblique_Mercator_Azimuth_Center: { name: 'Hotine_Oblique_Mercator_Azimuth_Center', params: { rectified_grid_angle: null } },
  Hotine_Oblique_Mercator: { name: 'Hotine_Oblique_Mercator_Azimuth_Natural_Origin', params: { rectified_grid_angle: null } },
  Cassini_Soldner: { name: 'Cassini' },
  Equirectangular: { name: 'Equidistant_Cylindrical' },
  Polyconic: { name: 'Polyconic' },
  New_Zealand_Map_Grid: { name: 'New_Zealand_Map_Grid' },
  Krovak: { name: 'Krovak' },
  Sinusoidal: { name: 'Sinusoidal' },
  Mollweide: { name: 'Mollweide' },
  Equidistant_Conic: { name: 'Equidistant_Conic' },
  Azimuthal_Equidistant: { name: 'Azimuthal_Equidistant' },
  Orthographic: { name: 'Orthographic' },
  Gnomonic: { name: 'Gnomonic' },
  Robinson: { name: 'Robinson' },
};

const titleCase = (s: string): string => s.split('_').map((w) => (w === '' ? w : w[0].toUpperCase() + w.slice(1))).join('_');
const esriName = (s: string): string => s.replace(/[^A-Za-z0-9+]+/g, '_').replace(/^_+|_+$/g, '');
/** EPSG writes "WGS 84" and "1984" alike; ESRI always says WGS_1984. */
const esriDatumWords = (s: string): string => esriName(s).replace(/^WGS_84$/, 'WGS_1984');

const DROP = new Set(['AUTHORITY', 'AXIS', 'TOWGS84', 'EXTENSION']);

function esriGeogcs(n: WktNode): WktNode {
  const datum = children(n, 'DATUM')[0];
  const sph = datum ? children(datum, 'SPHEROID')[0] : undefined;
  const gname = nodeName(n);
  const dname = esriDatumWords(nodeName(datum ?? null).replace(/^D_/, ''));
  const args: WktValue[] = [gname.startsWith('GCS_') ? gname : `GCS_${esriDatumWords(gname)}`];
  const spheroid: WktNode = sph
    ? { keyword: 'SPHEROID', args: [esriDatumWords(nodeName(sph)), Number(sph.args[1]), Number(sph.args[2])] }
    : { keyword: 'SPHEROID', args: ['WGS_1984', 6378137, 298.257223563] };
  args.push({ keyword: 'DATUM', args: [`D_${dname}`, spheroid] });
  args.push({ keyword: 'PRIMEM', args: ['Greenwich', 0] });
  args.push({ keyword: 'UNIT', args: ['Degree', 0.0174532925199433] });
  return { keyword: 'GEOGCS', args };
}

function esriUnit(n: WktNode): WktNode {
  const f = Number(n.args[1]);
  const name = f === 1 ? 'Meter' : Math.abs(f - 0.3048006096012192) < 1e-12 ? 'Foot_US' : Math.abs(f - 0.3048) < 1e-12 ? 'Foot' : esriName(nodeName(n));
  return { keyword: 'UNIT', args: [name, f] };
}

function esriProjcs(n: WktNode, proj4Ext: string): WktNode {
  const projName = nodeName(children(n, 'PROJECTION')[0] ?? null);
  const geog = children(n, 'GEOGCS')[0];
  const spherical = /\+a=6378137\b/.test(proj4Ext) && /\+b=6378137\b/.test(proj4Ext);
  const params = children(n, 'PARAMETER').map((p) => [nodeName(p).toLowerCase(), Number(p.args[1])] as const);
  const out: WktValue[] = [esriName(nodeName(n))];
  if (projName === 'Mercator_1SP' && spherical) {
    // Web Mercator (EPSG:3857): ESRI's Mercator_Auxiliary_Sphere, sphere of the semi-major axis.
    const get = (k: string): number => params.find(([name]) => name === k)?.[1] ?? 0;
    // ArcGIS's (and GDAL's morphToESRI) name for it; GDAL identifies EPSG:3857 from it with 100 % confidence, 90 % from any other.
    if (/^WGS 84 \/ Pseudo-Mercator$/.test(nodeName(n))) out[0] = 'WGS_1984_Web_Mercator_Auxiliary_Sphere';
    out.push(esriGeogcs(geog), { keyword: 'PROJECTION', args: ['Mercator_Auxiliary_Sphere'] });
    for (const [k, v] of [['False_Easting', get('false_easting')], ['False_Northing', get('false_northing')], ['Central_Meridian', get('central_meridian')], ['Standard_Parallel_1', 0], ['Auxiliary_Sphere_Type', 0]] as const) {
      out.push({ keyword: 'PARAMETER', args: [k, v] });
    }
    out.push({ keyword: 'UNIT', args: ['Meter', 1] });
    return { keyword: 'PROJCS', args: out };
  }
  const spec = ESRI_PROJECTIONS[projName];
  if (!spec) throw new UnsupportedCrsError(`the ${projName} projection has no ESRI .prj name here`, { projection: projName });
  let esriProj = spec.name;
  if (projName === 'Polar_Stereographic') {
    const lat = params.find(([k]) => k === 'latitude_of_origin')?.[1] ?? 90;
    esriProj = lat < 0 ? 'Stereographic_South_Pole' : 'Stereographic_North_Pole';
  }
  out.push(esriGeogcs(geog), { keyword: 'PROJECTION', args: [esriProj] });
  for (const [k, v] of params) {
    let name: string | null = spec.params && k in spec.params ? (spec.params[k] ?? null) : titleCase(k);
    if (projName === 'Polar_Stereographic' && k === 'latitude_of_origin') name = 'Standard_Parallel_1';
    if (name !== null) out.push({ keyword: 'PARAMETER', args: [name, v] });
  }
  const unit = children(n, 'UNIT')[0];
  out.push(unit ? esriUnit(unit) : { keyword: 'UNIT', args: ['Meter', 1] });
  return { keyword: 'PROJCS', args: out };
}

function extensionProj4(n: WktNode): string {
  const ext = children(n, 'EXTENSION')[0];
  return ext && typeof ext.args[1] === 'string' ? ext.args[1] : '';
}

/** ESRI WKT 1 from OGC WKT 1. */
export function ogcToEsriWkt(ogcWkt: string): string {
  const tree = parseWktTree(ogcWkt);
  let esri: WktNode;
  if (tree.keyword === 'GEOGCS') esri = esriGeogcs(tree);
  else if (tree.keyword === 'PROJCS') esri = esriProjcs(tree, extensionProj4(tree));
  else throw new UnsupportedCrsError(`a ${tree.keyword} has no .prj form`, { keyword: tree.keyword });
  const strip = (v: WktValue): WktValue => (isNode(v) ? { keyword: v.keyword, args: v.args.filter((a) => !(isNode(a) && DROP.has(a.keyword))).map(strip) } : v);
  return writeWktTree(strip(esri) as WktNode, { integerDecimals: true });
}

/** The ESRI WKT of a shapefile's .prj, for any CRS the workbench holds. */
export function crsToPrjWkt(crs: Crs): string {
  try {
    return ogcToEsriWkt(crsToOgcWkt(crs));
  } catch (e) {
    if (e instanceof UnsupportedCrsError) {
      throw new UnsupportedCrsError(`${crs.name}: ${e.message}. Export the layer as GeoJSON, or reproject it to another CRS.`, { crs: crs.name });
    }
    throw e;
  }
}
