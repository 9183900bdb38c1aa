import { readFile } from 'node:fs/promises';
import { extname, posix } from 'node:path';
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
 *
 * A KMZ's doc.kml often holds no Placemark but NetworkLinks to other documents in the archive
 * (GDAL's LIBKML driver writes `<NetworkLink><Link><href>layers/NAME.kml</href>`; Google Earth
 * too). togeojson does not follow links, so the linked documents are read here, depth first in
 * document order, each once. A link to something outside the archive (http://…, a file on disk)
 * is an error naming it: the workbench fetches nothing, and dropping a layer silently would
 * give a partial map.
 */

/** Links nested deeper than this are a loop or a mistake. */
const MAX_LINK_DEPTH = 16;

type Doc = ReturnType<DOMParser['parseFromString']>;

function parseKml(file: string, name: string, text: string): Doc {
  const problems: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && problems.push(msg)) }).parseFromString(text, 'text/xml');
  if (problems.length > 0 || !doc.documentElement || doc.getElementsByTagName('kml').length === 0) {
    throw new InvalidFileError(file, `${name ? `${name}: ` : ''}not a readable KML document (${problems[0] ?? 'no <kml> element'})`, 'Save the layer again as KML (ogr2ogr -f KML, or QGIS Save Features As)');
  }
  return doc;
}

/** href of every NetworkLink (KML 2.2 <Link>, KML 2.0 <Url>), in document order. */
function networkLinks(doc: Doc): string[] {
  const out: string[] = [];
  const links = doc.getElementsByTagName('NetworkLink');
  for (let i = 0; i < links.length; i++) {
    const hrefs = links[i].getElementsByTagName('href');
    const href = hrefs.length > 0 ? (hrefs[0].textContent ?? '').trim() : '';
    if (href) out.push(href);
  }
  return out;
}

function features(doc: Doc): Feature[] {
  // togeojson's types name the browser Document; xmldom's implements the parts it walks.
  return kml(doc as unknown as Parameters<typeof kml>[0]).features as Feature[];
}

async function archiveEntries(file: string, bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const entries = new Map<string, Uint8Array>();
  try {
    for (const e of unzipEntries(bytes)) if (/\.kml$/i.test(e.filename) && !e.filename.includes('__MACOSX')) entries.set(posix.normalize(e.filename), await e.read());
  } catch (e) {
    throw new InvalidFileError(file, `not a readable KMZ (zip) archive (${(e as Error).message})`, 'Save the layer again as KMZ or KML');
  }
  return entries;
}

export async function readKml(file: string): Promise<{ crs: Crs; features: Feature[] }> {
  const bytes = new Uint8Array(await readFile(file)); // async: read on the app's event loop (issue 19)
  const crs = crsFromEpsg(4326);
  if (extname(file).toLowerCase() !== '.kmz') {
    const doc = parseKml(file, '', new TextDecoder().decode(bytes));
    const links = networkLinks(doc);
    const out = features(doc);
    if (links.length > 0) {
      throw new InvalidFileError(file, `the KML links to ${links.map((l) => `"${l}"`).join(', ')} (NetworkLink), which the workbench does not follow outside a KMZ`, 'Give the linked file itself, or save the layers together as one KML or KMZ (ogr2ogr -f LIBKML out.kmz …)');
    }
    return { crs, features: out };
  }
  const entries = await archiveEntries(file, bytes);
  const names = [...entries.keys()];
  const main = names.find((n) => n.toLowerCase() === 'doc.kml') ?? names[0];
  if (!main) throw new InvalidFileError(file, 'the KMZ archive holds no .kml document', 'Save the layer again as KMZ or KML');
  const out: Feature[] = [];
  const visited = new Set<string>();
  const visit = (name: string, depth: number, from: string | null): void => {
    if (visited.has(name)) return; // a document linked twice (or a loop) is read once
    if (depth > MAX_LINK_DEPTH) throw new InvalidFileError(file, `NetworkLinks nest deeper than ${MAX_LINK_DEPTH} documents (at ${name})`, 'Save the layers again as one KML or KMZ');
    visited.add(name);
    const data = entries.get(name);
    if (!data) {
      throw new InvalidFileError(file, `${from} links to "${name}", which is not in the archive (it holds ${names.join(', ')})`, 'Save the layers again as one KMZ (ogr2ogr -f LIBKML out.kmz …)');
    }
    const doc = parseKml(file, name, new TextDecoder().decode(data));
    out.push(...features(doc));
    for (const href of networkLinks(doc)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !/^file:/i.test(href)) {
        throw new InvalidFileError(file, `${name} links to "${href}" (NetworkLink), outside the archive; the workbench fetches nothing from the network`, 'Download the linked layer and give it as its own file');
      }
      const target = posix.normalize(posix.join(posix.dirname(name), decodeURI(href.replace(/^file:(\/\/)?/i, '').split('#')[0])));
      visit(target, depth + 1, name);
    }
  };
  visit(main, 0, null);
  return { crs, features: out };
}
