import { readFileSync } from 'node:fs';
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import wkx from 'wkx';
import type { Feature, Geometry } from 'geojson';
import type { Crs } from '../grid/crs.ts';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { crsFromDeclaration } from './declared-crs.ts';

/**
 * GeoPackage vector layers (OGC 12-128r18) read with sql.js (SQLite compiled to wasm, no native
 * build) and wkx (WKB → GeoJSON). A layer is a row of gpkg_contents with data_type 'features'
 * joined to gpkg_geometry_columns; its CRS is the gpkg_spatial_ref_sys row of its srs_id.
 * Each geometry blob is the GeoPackage header ('GP', version, flags, srs_id, optional
 * envelope) followed by standard WKB; the flags give the header's byte order and envelope size,
 * the WKB carries its own byte order.
 */

export interface GeoPackageLayerInfo {
  readonly name: string;
  readonly geometryColumn: string;
  /** geometry_type_name of gpkg_geometry_columns (POINT, LINESTRING, MULTIPOLYGON, GEOMETRY, …). */
  readonly geometryType: string;
  readonly featureCount: number;
  readonly srsId: number;
  /** srs_name, with the organisation code ("WGS 84 / UTM zone 45N (EPSG:32645)"). */
  readonly srsName: string;
}

let sqlModule: Promise<initSqlJs.SqlJsStatic> | null = null;
/** One wasm instance per process: instantiating SQLite costs ~30 ms. */
export function sqlJs(): Promise<initSqlJs.SqlJsStatic> {
  sqlModule ??= initSqlJs();
  return sqlModule;
}

const quoteId = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function rows(db: Database, sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
  const st = db.prepare(sql);
  try {
    st.bind(params);
    const out: Record<string, SqlValue>[] = [];
    while (st.step()) out.push(st.getAsObject());
    return out;
  } finally {
    st.free();
  }
}

async function openGeoPackage(file: string): Promise<Database> {
  const SQL = await sqlJs();
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes.length < 100 || new TextDecoder().decode(bytes.subarray(0, 15)) !== 'SQLite format 3') {
    throw new InvalidFileError(file, 'not a GeoPackage (the file is not an SQLite database)', 'Save the layer again as GeoPackage (QGIS: Export → Save Features As → GeoPackage)');
  }
  const db = new SQL.Database(bytes);
  const tables = new Set(rows(db, "SELECT name FROM sqlite_master WHERE type IN ('table','view')").map((r) => String(r.name)));
  for (const t of ['gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys']) {
    if (!tables.has(t)) {
      db.close();
      throw new InvalidFileError(file, `an SQLite database without the GeoPackage table ${t}`, 'Save the layer again as GeoPackage (ogr2ogr -f GPKG, or QGIS Save Features As)');
    }
  }
  return db;
}

interface LayerRow {
  readonly name: string;
  readonly column: string;
  readonly type: string;
  readonly srsId: number;
}

function layerRows(db: Database): LayerRow[] {
  return rows(
    db,
    `SELECT c.table_name AS name, g.column_name AS col, g.geometry_type_name AS type, g.srs_id AS srs
       FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
      WHERE c.data_type = 'features' ORDER BY c.table_name`,
  ).map((r) => ({ name: String(r.name), column: String(r.col), type: String(r.type).toUpperCase(), srsId: Number(r.srs) }));
}

function srsRow(db: Database, srsId: number): { name: string; organization: string; code: number; definition: string } | null {
  const r = rows(db, 'SELECT srs_name, organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?', [srsId])[0];
  if (!r) return null;
  return { name: String(r.srs_name ?? ''), organization: String(r.organization ?? ''), code: Number(r.organization_coordsys_id), definition: String(r.definition ?? '') };
}

/** The CRS of srs_id: EPSG organisation code first, then the WKT definition; -1/0 (undefined) → null. */
function layerCrs(file: string, db: Database, srsId: number): Crs | null {
  if (srsId === -1 || srsId === 0) return null;
  const s = srsRow(db, srsId);
  if (!s) throw new InvalidFileError(file, `srs_id ${srsId} is missing from gpkg_spatial_ref_sys`, 'The GeoPackage is incomplete; save the layer again');
  const epsg = s.organization.toUpperCase() === 'EPSG' && Number.isInteger(s.code) && s.code > 0 ? s.code : null;
  return crsFromDeclaration(file, { epsg, wkt: s.definition });
}

/** Lists the feature layers of a GeoPackage: name, geometry type, feature count, CRS name. */
export async function listGeoPackageLayers(file: string): Promise<GeoPackageLayerInfo[]> {
  const db = await openGeoPackage(file);
  try {
    return layerRows(db).map((l) => {
      const n = Number(rows(db, `SELECT COUNT(*) AS n FROM ${quoteId(l.name)}`)[0].n);
      const s = l.srsId === -1 || l.srsId === 0 ? null : srsRow(db, l.srsId);
      const srsName = s ? `${s.name}${s.organization && s.organization.toUpperCase() !== 'NONE' ? ` (${s.organization.toUpperCase()}:${s.code})` : ''}` : 'undefined';
      return { name: l.name, geometryColumn: l.column, geometryType: l.type, featureCount: n, srsId: l.srsId, srsName };
    });
  } finally {
    db.close();
  }
}

/** Header length implied by the envelope indicator (bits 1–3 of the flags byte). */
const ENVELOPE_BYTES: Readonly<Record<number, number>> = { 0: 0, 1: 32, 2: 48, 3: 48, 4: 64 };

/**
 * GeoPackage geometry blob → GeoJSON geometry (null for an empty geometry). Hand-parsed header
 * because it is 8 bytes plus an envelope; wkx decodes the WKB that follows.
 */
export function decodeGeoPackageGeometry(blob: Uint8Array, where: string, file: string): Geometry | null {
  if (blob.length < 8 || blob[0] !== 0x47 || blob[1] !== 0x50) {
    throw new InvalidFileError(file, `${where}: the geometry is not a GeoPackage geometry blob (no "GP" magic)`, 'Save the layer again as GeoPackage');
  }
  const flags = blob[3];
  if (flags & 0x20) throw new InvalidFileError(file, `${where}: an extended GeoPackage geometry (flags 0x${flags.toString(16)})`, 'Save the layer again with standard geometry types');
  if (flags & 0x10) return null;
  const envelope = (flags >> 1) & 0x07;
  const envBytes = ENVELOPE_BYTES[envelope];
  if (envBytes === undefined) throw new InvalidFileError(file, `${where}: invalid envelope indicator ${envelope} in the geometry header`, 'Save the layer again as GeoPackage');
  const start = 8 + envBytes;
  if (blob.length <= start) throw new InvalidFileError(file, `${where}: the geometry blob ends inside its header`, 'Save the layer again as GeoPackage');
  let g: { type: string };
  try {
    g = wkx.Geometry.parse(Buffer.from(blob.buffer, blob.byteOffset + start, blob.length - start)).toGeoJSON() as { type: string };
  } catch (e) {
    throw new InvalidFileError(file, `${where}: the WKB cannot be decoded (${(e as Error).message})`, 'Save the layer again as GeoPackage');
  }
  return g as Geometry;
}

function pickLayer(file: string, layers: readonly LayerRow[], wanted: string | undefined, layerFlag: string): LayerRow {
  const names = layers.map((l) => `${l.name} (${l.type})`).join(', ');
  if (layers.length === 0) throw new InvalidFileError(file, 'the GeoPackage holds no feature layer', 'Save a vector layer into it (ogr2ogr -f GPKG, or QGIS Save Features As)');
  if (wanted !== undefined) {
    const l = layers.find((x) => x.name === wanted) ?? layers.find((x) => x.name.toLowerCase() === wanted.toLowerCase());
    if (!l) throw new InvalidOptionError(`${file}: no layer "${wanted}"; the GeoPackage holds ${names}. Choose one with ${layerFlag} NAME.`, { file, layers: layers.map((x) => x.name) });
    return l;
  }
  if (layers.length > 1) {
    throw new InvalidOptionError(`${file}: the GeoPackage holds ${layers.length} layers (${names}); choose one with ${layerFlag} NAME.`, { file, layers: layers.map((x) => x.name) });
  }
  return layers[0];
}

export interface GeoPackageReadOptions {
  /** Layer name; required when the file holds several feature layers. */
  readonly layer?: string;
  /** The command's flag that names a layer, quoted in errors. @default '--layer' */
  readonly layerFlag?: string;
}

/** Reads one feature layer: features with GeoJSON geometries, `id` = the primary key, other columns as properties. */
export async function readGeoPackageLayer(file: string, options: GeoPackageReadOptions = {}): Promise<{ crs: Crs | null; features: Feature[]; layer: string }> {
  const db = await openGeoPackage(file);
  try {
    const layer = pickLayer(file, layerRows(db), options.layer, options.layerFlag ?? '--layer');
    const crs = layerCrs(file, db, layer.srsId);
    const info = rows(db, `PRAGMA table_info(${quoteId(layer.name)})`);
    const pk = info.find((c) => Number(c.pk) === 1)?.name;
    const pkName = pk === undefined ? null : String(pk);
    // BOOLEAN columns hold 0/1 (spec §1.1.1.1.3); give them back as booleans, as GeoJSON had them.
    const booleans = new Set(info.filter((c) => String(c.type).toUpperCase() === 'BOOLEAN').map((c) => String(c.name)));
    const features: Feature[] = [];
    const st = db.prepare(`SELECT * FROM ${quoteId(layer.name)}${pkName ? ` ORDER BY ${quoteId(pkName)}` : ''}`);
    try {
      let i = 0;
      while (st.step()) {
        i++;
        const r = st.getAsObject();
        const blob = r[layer.column];
        const id = pkName ? r[pkName] : undefined;
        const where = `layer ${layer.name}, feature ${i}${id !== undefined ? ` (fid ${String(id)})` : ''}`;
        const geometry = blob instanceof Uint8Array ? decodeGeoPackageGeometry(blob, where, file) : null;
        const properties: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) if (k !== layer.column && k !== pkName) properties[k] = v instanceof Uint8Array ? null : booleans.has(k) && v !== null ? v !== 0 : v;
        features.push({ type: 'Feature', ...(id !== undefined && id !== null ? { id: id as number } : {}), geometry: geometry as Geometry, properties });
      }
    } finally {
      st.free();
    }
    return { crs, features, layer: layer.name };
  } finally {
    db.close();
  }
}
