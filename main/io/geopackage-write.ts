import type { Feature, Geometry } from 'geojson';
import wkx from 'wkx';
import type { SqlValue } from 'sql.js';
import type { Crs } from '../grid/crs.ts';
import { InvalidOptionError, UnsupportedCrsError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { crsToPrjWkt } from '../grid/crs-wkt.ts';
import { forEachPosition } from './vector.ts';
import { sqlJs } from './geopackage-read.ts';

/**
 * GeoPackage writer (OGC 12-128, written as version 1.2) with sql.js + wkx: the three mandatory metadata
 * tables (gpkg_spatial_ref_sys with the spec's -1/0/4326 rows plus the layer's CRS,
 * gpkg_contents, gpkg_geometry_columns), one feature table per layer with an integer `fid`
 * primary key, typed attribute columns and GeoPackage geometry blobs (little-endian header,
 * xy envelope for non-points, WKB). The database is built in memory and written atomically.
 */

export interface GeoPackageLayer {
  readonly name: string;
  readonly features: readonly Feature[];
  readonly crs: Crs | null;
}

/** srs_id given to a CRS without an EPSG code (GDAL uses 100000+ for user-defined systems too). */
const CUSTOM_SRS_ID = 100000;

const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],' +
  'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]';

/**
 * WKT of gpkg_spatial_ref_sys.definition: the one WKT writer of the export code (crs-wkt.ts).
 * A CRS it cannot spell yet but that has an EPSG code is written as 'undefined', which the
 * spec allows and GDAL resolves from organization/organization_coordsys_id; without an EPSG
 * code there would be nothing to resolve, so that stays an error.
 */
function srsDefinition(crs: Crs): string {
  if (crs.epsg === 4326) return WGS84_WKT;
  try {
    return crsToPrjWkt(crs);
  } catch (e) {
    if (e instanceof UnsupportedCrsError && crs.epsg !== null) return 'undefined';
    throw e;
  }
}

const quoteId = (s: string): string => `"${s.replace(/"/g, '""')}"`;

type ColumnType = 'INTEGER' | 'REAL' | 'TEXT' | 'BOOLEAN';

function columnTypes(features: readonly Feature[]): Map<string, ColumnType> {
  const seen = new Map<string, Set<string>>();
  for (const f of features) {
    for (const [k, v] of Object.entries(f.properties ?? {})) {
      if (!seen.has(k)) seen.set(k, new Set());
      if (v === null || v === undefined) continue;
      const s = seen.get(k) as Set<string>;
      if (typeof v === 'boolean') s.add('BOOLEAN');
      else if (typeof v === 'number') s.add(Number.isInteger(v) ? 'INTEGER' : 'REAL');
      else s.add('TEXT');
    }
  }
  const out = new Map<string, ColumnType>();
  for (const [k, s] of seen) {
    if (s.size === 1) out.set(k, [...s][0] as ColumnType);
    else if (s.size === 2 && s.has('INTEGER') && s.has('REAL')) out.set(k, 'REAL');
    else out.set(k, 'TEXT');
  }
  return out;
}

const GPKG_TYPE: Readonly<Record<Geometry['type'], string>> = {
  Point: 'POINT',
  MultiPoint: 'MULTIPOINT',
  LineString: 'LINESTRING',
  MultiLineString: 'MULTILINESTRING',
  Polygon: 'POLYGON',
  MultiPolygon: 'MULTIPOLYGON',
  GeometryCollection: 'GEOMETRYCOLLECTION',
};

/** GeoPackage geometry blob: 'GP', version 0, flags (little endian, envelope), srs_id, [minx maxx miny maxy], WKB. */
export function encodeGeoPackageGeometry(g: Geometry, srsId: number): Uint8Array {
  const wkb = wkx.Geometry.parseGeoJSON(g).toWkb();
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  if (g.type !== 'Point') {
    forEachPosition([{ type: 'Feature', geometry: g, properties: null }], (p) => {
      xmin = Math.min(xmin, p[0]); xmax = Math.max(xmax, p[0]);
      ymin = Math.min(ymin, p[1]); ymax = Math.max(ymax, p[1]);
    });
  }
  const withEnvelope = g.type !== 'Point' && Number.isFinite(xmin);
  const head = new DataView(new ArrayBuffer(8 + (withEnvelope ? 32 : 0)));
  head.setUint8(0, 0x47);
  head.setUint8(1, 0x50);
  head.setUint8(2, 0);
  head.setUint8(3, (withEnvelope ? 1 << 1 : 0) | 1);
  head.setInt32(4, srsId, true);
  if (withEnvelope) [xmin, xmax, ymin, ymax].forEach((v, i) => head.setFloat64(8 + 8 * i, v, true));
  const out = new Uint8Array(head.byteLength + wkb.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(wkb, head.byteLength);
  return out;
}

/** Writes the layers into a new GeoPackage at path (atomically; an existing file is replaced). */
export async function writeGeoPackage(path: string, layers: readonly GeoPackageLayer[]): Promise<{ path: string; layers: { name: string; features: number; srsId: number }[] }> {
  if (!/\.gpkg$/i.test(path)) throw new InvalidOptionError(`${path}: a GeoPackage path must end in .gpkg`, { path });
  if (layers.length === 0) throw new InvalidOptionError(`${path}: no layer to write`, { path });
  const names = new Set<string>();
  for (const l of layers) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(l.name) || l.name.toLowerCase().startsWith('gpkg_') || l.name.toLowerCase().startsWith('rtree_')) {
      throw new InvalidOptionError(`${path}: "${l.name}" is not a usable GeoPackage layer name (letters, digits and _, not starting with gpkg_ or rtree_)`, { layer: l.name });
    }
    if (names.has(l.name.toLowerCase())) throw new InvalidOptionError(`${path}: two layers named "${l.name}"`, { layer: l.name });
    names.add(l.name.toLowerCase());
  }
  const SQL = await sqlJs();
  const db = new SQL.Database();
  try {
    // application_id 'GPKG' and user_version 10200 mark the file as GeoPackage 1.2, the newest
    // version every GDAL ≥ 2.2 reads without a warning; nothing here needs 1.3/1.4 features.
    db.run('PRAGMA application_id = 1196444487');
    db.run('PRAGMA user_version = 10200');
    db.run(`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
      organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`);
    db.run(`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
      description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
      CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`);
    db.run(`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
      srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
      CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
      CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
      CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`);
    const srs = db.prepare('INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)');
    srs.run(['Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system']);
    srs.run(['Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system']);
    srs.run(['WGS 84 geodetic', 4326, 'EPSG', 4326, WGS84_WKT, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid']);
    const written: { name: string; features: number; srsId: number }[] = [];
    let custom = CUSTOM_SRS_ID;
    for (const layer of layers) {
      let srsId = -1;
      if (layer.crs) {
        const def = srsDefinition(layer.crs);
        srsId = layer.crs.epsg ?? custom++;
        const name = layer.crs.name.replace(/\s*\(EPSG:\d+\)$/, '');
        if (srsId !== 4326) srs.run([name, srsId, layer.crs.epsg !== null ? 'EPSG' : 'NONE', layer.crs.epsg ?? srsId, def, null]);
      }
      const types = new Set(layer.features.map((f) => f.geometry?.type).filter((t): t is Geometry['type'] => t !== undefined));
      const geomType = types.size === 1 ? GPKG_TYPE[[...types][0]] : 'GEOMETRY';
      const cols = columnTypes(layer.features);
      for (const k of cols.keys()) {
        if (k.toLowerCase() === 'fid' || k.toLowerCase() === 'geom') throw new InvalidOptionError(`${path}: layer ${layer.name} has an attribute named "${k}", which the GeoPackage's own columns use; rename it`, { attribute: k });
      }
      const colDefs = [...cols].map(([k, t]) => `${quoteId(k)} ${t}`);
      db.run(`CREATE TABLE ${quoteId(layer.name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom ${geomType}${colDefs.map((c) => `, ${c}`).join('')})`);
      const keys = [...cols.keys()];
      const ins = db.prepare(`INSERT INTO ${quoteId(layer.name)} (geom${keys.map((k) => `, ${quoteId(k)}`).join('')}) VALUES (?${keys.map(() => ', ?').join('')})`);
      let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
      for (const f of layer.features) {
        const p = (f.properties ?? {}) as Record<string, unknown>;
        const values: SqlValue[] = [f.geometry ? encodeGeoPackageGeometry(f.geometry, srsId) : null];
        for (const k of keys) {
          const v = p[k];
          const t = cols.get(k);
          values.push(v === null || v === undefined ? null : t === 'BOOLEAN' ? (v ? 1 : 0) : t === 'TEXT' ? (typeof v === 'object' ? JSON.stringify(v) : String(v)) : Number(v));
        }
        ins.run(values);
      }
      ins.free();
      forEachPosition(layer.features.filter((f) => f.geometry), (q) => {
        xmin = Math.min(xmin, q[0]); xmax = Math.max(xmax, q[0]);
        ymin = Math.min(ymin, q[1]); ymax = Math.max(ymax, q[1]);
      });
      const bbox = Number.isFinite(xmin) ? [xmin, ymin, xmax, ymax] : [null, null, null, null];
      db.run('INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        layer.name, 'features', layer.name, '', ...bbox, srsId,
      ]);
      db.run('INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)', [layer.name, 'geom', geomType, srsId]);
      written.push({ name: layer.name, features: layer.features.length, srsId });
    }
    srs.free();
    writeFileAtomic(path, db.export());
    return { path, layers: written };
  } finally {
    db.close();
  }
}
