import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { kml } from '@tmcw/togeojson';
import { DOMParser } from '@xmldom/xmldom';
import { iter as unzipEntries } from 'but-unzip';
import type { Feature } from 'geojson';
import type { Crs } from '../grid/crs.ts';
import { crsFromEpsg } from '../grid/crs.ts';
import { InvalidFileError } from '../errors.ts';

/**
 * KML (.kml) and KMZ (.kmz: a zip whose main document is doc.kml, or else its first .kml) via
 * Mapbox's @tmcw/togeojson on an @xmldom/xmldom document. KML coordinates are always WGS 84
 * longitude/latitude (OGC 07-147r2 §6.2), so the CRS is EPSG:4326.
 */
async function kmlText(file: string): Promise<string> {
  const bytes = new Uint8Array(readFileSync(file));
  if (extname(file).toLowerCase() !== '.kmz') return new TextDecoder().decode(bytes);
  const docs: { name: string; read: () => Promise<Uint8Array> | Uint8Array }[] = [];
  try {
    for (const e of unzipEntries(bytes)) if (/\.kml$/i.test(e.filename) && !e.filename.includes('__MACOSX')) docs.push({ name: e.filename, read: () => e.read() });
  } catch (e) {
    throw new InvalidFileError(file, `not a readable KMZ (zip) archive (${(e as Error).message})`, 'Save the layer again as KMZ or KML');
  }
  const main = docs.find((d) => d.name.toLowerCase() === 'doc.kml') ?? docs[0];
  if (!main) throw new InvalidFileError(file, 'the KMZ archive holds no .kml document', 'Save the layer again as KMZ or KML');
  return new TextDecoder().decode(await main.read());
}

export async function readKml(file: string): Promise<{ crs: Crs; features: Feature[] }> {
  const text = await kmlText(file);
  const problems: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && problems.push(msg)) }).parseFromString(text, 'text/xml');
  if (problems.length > 0 || !doc.documentElement || doc.getElementsByTagName('kml').length === 0) {
    throw new InvalidFileError(file, `not a readable KML document (${problems[0] ?? 'no <kml> element'})`, 'Save the layer again as KML (ogr2ogr -f KML, or QGIS Save Features As)');
  }
  // togeojson's types name the browser Document; xmldom's implements the parts it walks.
  const fc = kml(doc as unknown as Parameters<typeof kml>[0]);
  return { crs: crsFromEpsg(4326), features: fc.features as Feature[] };
}
