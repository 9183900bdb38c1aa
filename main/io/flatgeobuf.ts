import { readFileSync } from 'node:fs';
// The geojson entry alone: the package root also loads its OpenLayers adapter.
import { deserialize } from 'flatgeobuf/lib/mjs/geojson.js';
import type { HeaderMeta } from 'flatgeobuf';
import type { Feature, Geometry } from 'geojson';
import type { Crs } from '../grid/crs.ts';
import { InvalidFileError } from '../errors.ts';
import { crsFromDeclaration } from './declared-crs.ts';

/**
 * FlatGeobuf (.fgb) layers through the format's reference reader (`flatgeobuf`): features as
 * GeoJSON in the file's own coordinates, the CRS from the header's (org, code) or its WKT.
 */
export async function readFlatGeobuf(file: string): Promise<{ crs: Crs | null; features: Feature[] }> {
  const bytes = new Uint8Array(readFileSync(file));
  let header: HeaderMeta | null = null;
  const features: Feature[] = [];
  try {
    for await (const f of deserialize(bytes, { headerMetaFn: (h) => (header = h) })) {
      features.push({ type: 'Feature', geometry: f.geometry as Geometry, properties: (f.properties ?? {}) as Feature['properties'] });
    }
  } catch (e) {
    throw new InvalidFileError(file, `not a readable FlatGeobuf file (${(e as Error).message})`, 'Save the layer again as FlatGeobuf (ogr2ogr -f FlatGeobuf)');
  }
  const h = header as HeaderMeta | null;
  const c = h?.crs ?? null;
  if (!c || (c.code === 0 && !c.wkt)) return { crs: null, features };
  const org = (c.org ?? 'EPSG').toUpperCase();
  return { crs: crsFromDeclaration(file, { epsg: org === 'EPSG' && c.code > 0 ? c.code : null, wkt: c.wkt }), features };
}
