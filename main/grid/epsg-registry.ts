import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The EPSG registry, offline, from the `epsg-index` package (EPSG v10 through epsg.io: 7,050
 * projected and geographic 2D entries, of which 5,563 carry an EPSG authority (the rest are ESRI
 * codes, skipped below) and 5,540 have both a WKT and a proj4 definition, each with OGC WKT 1, a proj4 definition, area of use
 * and bounding box).
 *
 * Why epsg-index and not PROJ's database through gdal3.js (measured by bench/crs-registry.ts on
 * this machine against the installed GDAL 3.6 / PROJ 9.1 proj.db; numbers in docs/crs.md):
 * - Coverage: 5,019 of proj.db's 5,135 non-deprecated EPSG projected CRSs and 520 of its 545
 *   geographic 2D CRSs resolve here (the rest are absent from epsg-index's EPSG v10 snapshot or
 *   have no proj4 definition there). gdal3.js embeds PROJ itself, so it would cover all of them plus compound/vertical
 *   CRSs, which no command here uses.
 * - Accuracy: the definitions are what PROJ exports, so proj4js with them agrees with gdaltransform
 *   to ≤ 0.01 m where no datum shift is involved (tests/grid/crs-fixtures.test.ts, 8 CRSs; in the
 *   bench's random sample, median 4e-9 m); where PROJ applies a datum transformation that the
 *   registry's +towgs84 does not spell (GSK-2011, NAD83(HARN), …) they differ by up to metres.
 *   GDAL identifies 59 of 60 sampled .prj files we write as the same code.
 * - Install size: epsg-index is 16.2 MB of JSON (a 1 kB file per code plus all.json); the peer's
 *   proj.db is 8.3 MB plus 4 MB of libproj; gdal3.js 2.8.1, which bundles GDAL and PROJ as
 *   WebAssembly, is 41 MB installed (measured by hand outside the project: docs/crs.md).
 * - Load time: the first lookup of a code takes < 1 ms (one file read, synchronous); all.json
 *   (220–470 ms to parse on the shared 2-core machine) is read only to match a WKT or proj4 string that names
 *   no EPSG code. gdal3.js must instantiate its WASM module before the first lookup (545–1,005 ms
 *   measured),
 *   and its API is asynchronous, which every CRS parse here (GeoTIFF, .prj, --crs) would have to
 *   become; one `gdalsrsinfo` process takes ~300–400 ms for comparison.
 * So the registry is read lazily, code by code, synchronously.
 */

export interface EpsgEntry {
  readonly code: number;
  /** "CRS-PROJCRS", "CRS-GEOGCRS", … (epsg-index's kind). */
  readonly kind: string;
  readonly name: string;
  /** OGC WKT 1 with AUTHORITY nodes, as GDAL's exportToWkt writes it. */
  readonly wkt: string;
  readonly proj4: string;
  /** Area of use, degrees: west, south, east, north (null when the registry has none). */
  readonly bbox: { readonly west: number; readonly south: number; readonly east: number; readonly north: number } | null;
  readonly area: string;
}

interface RawEntry {
  code: string;
  kind: string;
  name: string;
  wkt: string | null;
  proj4: string | null;
  bbox: [number, number, number, number] | null;
  area: string | null;
}

const require = createRequire(import.meta.url);
let root: string | null = null;
function registryRoot(): string {
  root ??= dirname(require.resolve('epsg-index/package.json'));
  return root;
}

/** The authority of the CRS's own (last) AUTHORITY node: "EPSG", or "ESRI" for the ~1,300 ESRI codes epsg.io mixes in. */
function ownAuthority(wkt: string): string | null {
  return /AUTHORITY\["(\w+)","\d+"\]\]\s*$/.exec(wkt)?.[1] ?? null;
}

function toEntry(raw: RawEntry): EpsgEntry | null {
  if (!raw.proj4 || !raw.wkt) return null;
  // epsg-index also lists ESRI codes (54030 World_Robinson, 102xxx, …) under s/<code>.json; they
  // are not EPSG codes (GDAL knows them as ESRI:N), so "EPSG:54030" must not resolve.
  const authority = ownAuthority(raw.wkt);
  if (authority !== null && authority !== 'EPSG') return null;
  // epsg-index's bbox is [north, west, south, east] (epsg.io's order).
  const b = raw.bbox;
  return {
    code: Number(raw.code),
    kind: raw.kind,
    name: raw.name,
    wkt: raw.wkt,
    proj4: raw.proj4.replace(/\s*\+type=crs\b/, '').trim(),
    bbox: b && b.every(Number.isFinite) ? { north: b[0], west: b[1], south: b[2], east: b[3] } : null,
    area: raw.area ?? '',
  };
}

const cache = new Map<number, EpsgEntry | null>();

/** The registry entry of an EPSG code usable as a map CRS (projected or geographic 2D), or null. */
export function lookupEpsg(code: number): EpsgEntry | null {
  if (!Number.isInteger(code) || code <= 0) return null;
  const hit = cache.get(code);
  if (hit !== undefined) return hit;
  const file = join(registryRoot(), 's', `${code}.json`);
  let entry: EpsgEntry | null = null;
  if (existsSync(file)) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as RawEntry;
    entry = raw.kind === 'CRS-PROJCRS' || raw.kind === 'CRS-GEOGCRS' ? toEntry(raw) : null;
  }
  cache.set(code, entry);
  return entry;
}

let all: EpsgEntry[] | null = null;

/** Every projected and geographic 2D entry (reads all.json once; for WKT matching only). */
export function allEpsgEntries(): readonly EpsgEntry[] {
  if (all) return all;
  const raw = JSON.parse(readFileSync(join(registryRoot(), 'all.json'), 'utf8')) as Record<string, RawEntry>;
  all = [];
  for (const r of Object.values(raw)) {
    if (r.kind !== 'CRS-PROJCRS' && r.kind !== 'CRS-GEOGCRS') continue;
    const e = toEntry(r);
    if (e) {
      all.push(e);
      if (!cache.has(e.code)) cache.set(e.code, e);
    }
  }
  return all;
}
