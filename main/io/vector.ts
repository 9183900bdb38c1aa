import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import type { Crs } from '../grid/crs.ts';
import { crsFromEpsg, crsFromWkt } from '../grid/crs.ts';
import type { GridSpec } from '../grid/grid-spec.ts';
import { assertPlausibleCoordinates, featureBounds, mapPositions, reprojectFeatures, undeclaredCrsError, UndeclaredCrsError, type CrsFix, type CrsLog } from '../grid/reproject.ts';
import { CrsError, EmptyInputError, InvalidFileError } from '../errors.ts';
// Each format's reader (and its library: shpjs, but-unzip, sql.js, flatgeobuf, togeojson + xmldom)
// is imported only when a file of that format is read: `info FILE` and the commands that read one
// GeoJSON would otherwise load all of them at start-up (bench/startup.ts measures it).
import { validateFeatures } from './geometry-validation.ts';

/** A vector layer in its own (or the requested) CRS. Coordinates are never silently reprojected. */
export interface VectorLayer {
  readonly file: string;
  readonly crs: Crs | null;
  readonly features: Feature[];
}

export interface VectorReadOptions {
  /** Reproject into this CRS (requires the layer's CRS to be known). */
  readonly targetCrs?: Crs;
  /** CRS to assume when the file declares none (a .shp without .prj, GeoJSON with projected coordinates). */
  readonly assumeCrs?: Crs;
  /** Accept a layer with no features. @default false */
  readonly allowEmpty?: boolean;
  /** Layer of a multi-layer file (GeoPackage); required when it holds several. */
  readonly layer?: string;
  /** The command's flag that names the layer, quoted in errors. @default '--layer' */
  readonly layerFlag?: string;
  /** The grid the layer goes onto: names its CRS as the probable one when the layer declares none. */
  readonly grid?: GridSpec | null;
  /** Receives "reprojected FILE from EPSG:A to EPSG:B (n features)" (main/grid/reproject.ts). */
  readonly log?: CrsLog;
  /** The command's flag that assigns a CRS, quoted in CRS errors; null when it has none. @default { flag: '--crs' } */
  readonly crsFix?: CrsFix;
}

/** File extensions readVector understands (the CLI's `info` dispatches on the same list). */
export const VECTOR_EXTENSIONS: readonly string[] = ['.geojson', '.json', '.shp', '.zip', '.gpkg', '.fgb', '.kml', '.kmz'];


/** Calls fn on every vertex of every feature. */
export function forEachPosition(features: readonly Feature[], fn: (p: Position) => void): void {
  const visit = (g: Geometry | null): void => {
    if (!g) return;
    mapPositions(g, (p) => {
      fn(p);
      return p;
    });
  };
  features.forEach((ft) => visit(ft.geometry));
}

function geojsonCrs(obj: { crs?: { properties?: { name?: string } } }, features: Feature[]): Crs | null {
  const name = obj.crs?.properties?.name;
  if (name) {
    if (/CRS84/i.test(name)) return crsFromEpsg(4326);
    // urn:ogc:def:crs:EPSG::3067, urn:ogc:def:crs:EPSG:6.6:3067, EPSG:3067 (GDAL writes the first).
    const m = /EPSG:(?:[\d.]*:)?:?(\d+)\s*$/i.exec(name);
    if (m) return crsFromEpsg(Number(m[1]));
  }
  // RFC 7946: no crs member means WGS 84 longitude/latitude — but only if the numbers fit.
  let projectedLooking = false;
  forEachPosition(features, (p) => {
    if (Math.abs(p[0]) > 180 || Math.abs(p[1]) > 90) projectedLooking = true;
  });
  return projectedLooking ? null : crsFromEpsg(4326);
}

// The reads below are asynchronous: the app's backend reads layers on its event loop (issue 19).
async function readGeoJson(file: string): Promise<{ crs: Crs | null; features: Feature[] }> {
  let obj: FeatureCollection | Feature | Geometry;
  try {
    obj = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InvalidFileError(file, `not valid JSON (${(e as Error).message})`, 'Re-export the layer as GeoJSON');
  }
  let features: Feature[];
  if (obj.type === 'FeatureCollection') features = obj.features ?? [];
  else if (obj.type === 'Feature') features = [obj];
  else if (typeof obj.type === 'string' && 'coordinates' in obj) features = [{ type: 'Feature', geometry: obj, properties: {} }];
  else throw new InvalidFileError(file, 'not a GeoJSON FeatureCollection, Feature or Geometry', 'Re-export the layer as GeoJSON');
  return { crs: geojsonCrs(obj as { crs?: { properties?: { name?: string } } }, features), features };
}

interface ShapefileParts {
  shp: Uint8Array;
  dbf?: Uint8Array;
  prj?: string;
  cpg?: string;
}

async function shapefilePartsFromZip(file: string): Promise<ShapefileParts> {
  const parts: Partial<ShapefileParts> = {};
  let shpCount = 0;
  const { iter: unzipEntries } = await import('but-unzip');
  try {
    for (const entry of unzipEntries(new Uint8Array(await readFile(file)))) {
      if (entry.filename.includes('__MACOSX')) continue;
      const ext = extname(entry.filename).toLowerCase();
      if (ext === '.shp') shpCount++;
      if (ext === '.shp' || ext === '.dbf') parts[ext.slice(1) as 'shp' | 'dbf'] = await entry.read();
      else if (ext === '.prj' || ext === '.cpg') parts[ext.slice(1) as 'prj' | 'cpg'] = new TextDecoder().decode(await entry.read());
    }
  } catch (e) {
    throw new InvalidFileError(file, `not a readable zip archive (${(e as Error).message})`, 'Zip the .shp, .shx, .dbf and .prj files again');
  }
  if (!parts.shp) throw new InvalidFileError(file, 'the zip holds no .shp file', 'Zip the .shp, .shx, .dbf and .prj of one layer');
  if (shpCount > 1) throw new InvalidFileError(file, `the zip holds ${shpCount} shapefiles`, 'Zip one layer per archive');
  return parts as ShapefileParts;
}

async function shapefilePartsFromFolder(file: string): Promise<ShapefileParts> {
  const base = join(dirname(file), basename(file, extname(file)));
  const sibling = (ext: string): string | null => {
    for (const e of [ext, ext.toUpperCase()]) if (existsSync(base + e)) return base + e;
    return null;
  };
  const dbf = sibling('.dbf');
  const prj = sibling('.prj');
  const cpg = sibling('.cpg');
  return {
    shp: new Uint8Array(await readFile(file)),
    dbf: dbf ? new Uint8Array(await readFile(dbf)) : undefined,
    prj: prj ? await readFile(prj, 'utf8') : undefined,
    cpg: cpg ? await readFile(cpg, 'utf8') : undefined,
  };
}

async function readShapefileParts(file: string, parts: ShapefileParts, assumeCrs: Crs | undefined): Promise<{ crs: Crs | null; features: Feature[] }> {
  const { parseShp, parseDbf, combine } = await import('shpjs');
  let crs: Crs | null = null;
  if (parts.prj) {
    try {
      crs = crsFromWkt(parts.prj);
    } catch (e) {
      throw new CrsError(`${file}: the .prj cannot be understood (${(e as Error).message}). Replace it with the ESRI WKT of the layer's CRS.`, { file });
    }
  } else if (assumeCrs) crs = assumeCrs;
  // No .prj and no assumed CRS: readVector's undeclared-CRS error (it names the grid's CRS when the points fit the grid).
  let fc: FeatureCollection;
  try {
    // parseShp without a projection keeps the file's own coordinates; shpjs's top-level API
    // would reproject to WGS 84, which we never want silently.
    const geoms = parseShp(parts.shp);
    const rows = parts.dbf ? parseDbf(parts.dbf, parts.cpg) : undefined;
    fc = combine([geoms, rows]) as FeatureCollection;
  } catch (e) {
    throw new InvalidFileError(file, `the shapefile cannot be decoded (${(e as Error).message})`, 'The .shp/.dbf is truncated or corrupt; export the layer again');
  }
  return { crs, features: fc.features };
}

/**
 * Reads GeoJSON, a Shapefile (.shp with siblings, or a .zip), a GeoPackage layer, FlatGeobuf or
 * KML/KMZ keeping its own coordinates; every geometry is checked (geometry-validation.ts).
 */
export async function readVector(file: string, options: VectorReadOptions = {}): Promise<VectorLayer> {
  if (!existsSync(file)) throw new InvalidFileError(file, 'file not found', 'Check the path');
  const ext = extname(file).toLowerCase();
  let read: { crs: Crs | null; features: Feature[] };
  if (ext === '.geojson' || ext === '.json') read = await readGeoJson(file);
  else if (ext === '.shp') read = await readShapefileParts(file, await shapefilePartsFromFolder(file), options.assumeCrs);
  else if (ext === '.zip') read = await readShapefileParts(file, await shapefilePartsFromZip(file), options.assumeCrs);
  else if (ext === '.gpkg') read = await (await import('./geopackage-read.ts')).readGeoPackageLayer(file, { layer: options.layer, layerFlag: options.layerFlag });
  else if (ext === '.fgb') read = await (await import('./flatgeobuf.ts')).readFlatGeobuf(file);
  else if (ext === '.kml' || ext === '.kmz') read = await (await import('./kml.ts')).readKml(file);
  else {
    throw new InvalidFileError(
      file,
      `unsupported vector type "${ext}"`,
      'Use GeoJSON (.geojson/.json), a Shapefile (.shp or zipped), GeoPackage (.gpkg), FlatGeobuf (.fgb) or KML/KMZ',
    );
  }
  let { crs, features } = read;
  if (!crs && options.assumeCrs) crs = options.assumeCrs;
  const total = features.length;
  validateFeatures(file, features); // before filtering, so the feature numbers are the file's
  features = features.filter((f) => f.geometry !== null && f.geometry !== undefined);
  if (features.length === 0 && !options.allowEmpty) {
    throw new EmptyInputError(
      file,
      total === 0 ? 'the layer has 0 features, and this command needs at least one' : `none of the layer's ${total} feature(s) has a geometry`,
      ext === '.gpkg'
        ? `Choose a layer that holds features with ${options.layerFlag ?? '--layer'} NAME ("geoanomaly info ${file}" lists the layers and their feature counts)`
        : 'Export the layer again with its features, or give another file ("geoanomaly info FILE" shows the feature count)',
      { features: total },
    );
  }
  const crsFix = options.crsFix === undefined ? { flag: '--crs' } : options.crsFix;
  const isShapefile = ext === '.shp' || ext === '.zip';
  if (!crs && (options.targetCrs || isShapefile)) {
    const e = undeclaredCrsError(file, featureBounds(features), options.grid, crsFix);
    if (isShapefile && !options.targetCrs) {
      throw new UndeclaredCrsError(`${file}: the shapefile has no .prj, so its coordinate system is unknown; add the .prj next to the .shp (or inside the zip), or declare the CRS (${crsFix ? `${crsFix.flag} EPSG:NNNN` : 'ogr2ogr -a_srs EPSG:NNNN'}).`, { file });
    }
    if (isShapefile) throw new UndeclaredCrsError(`${file}: the shapefile has no .prj, so its coordinate system is unknown; add the .prj next to the .shp (or inside the zip), or declare the CRS. ${e.message}`, e.details);
    throw e;
  }
  // --crs only assigns a CRS to a layer that declares none: a wrong declared CRS is fixed in the file.
  if (crs) assertPlausibleCoordinates(file, featureBounds(features), crs, crs === options.assumeCrs ? crsFix : null, options.grid);
  if (options.targetCrs && crs) {
    features = reprojectFeatures(file, features, crs, options.targetCrs, options.log);
    crs = options.targetCrs;
  }
  return { file, crs, features };
}

/** Point coordinates of a layer (Point and MultiPoint features), with each point's feature index. */
export function layerPoints(layer: VectorLayer): { x: number[]; y: number[]; feature: number[] } {
  const out = { x: [] as number[], y: [] as number[], feature: [] as number[] };
  layer.features.forEach((f, i) => {
    const g = f.geometry;
    if (g.type === 'Point') {
      out.x.push(g.coordinates[0]);
      out.y.push(g.coordinates[1]);
      out.feature.push(i);
    } else if (g.type === 'MultiPoint') {
      for (const p of g.coordinates) {
        out.x.push(p[0]);
        out.y.push(p[1]);
        out.feature.push(i);
      }
    }
  });
  return out;
}
