import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The EPSG registry, offline, from the `epsg-index` package (EPSG v10 through epsg.io: 7,050
 * projected and geographic 2D entries, of which 5,563 carry an EPSG authority (the rest are ESRI
 * codes, skipped below), each with OGC WKT 1, a proj4 definition, area of use
 * and bounding box).
 *
 * Why epsg-index and not PROJ's database through gdal3.js (see docs/crs.md and
 * bench/crs-registry.ts for the measurements):
 * - Coverage: every non-deprecated projected and geographic 2D EPSG CRS in PROJ 9's proj.db
 *   that proj4js can represent is in epsg-index (the bench script counts the difference on the
 *   installed GDAL's proj.db); gdal3.js has PROJ itself, so it also covers compound/vertical
 *   CRSs, which no command here uses.
 * - Accuracy: the definitions are what PROJ exports (`projinfo -o PROJ`), so proj4js with them
 *   agrees with gdaltransform to millimetres where no datum grid is involved
 *   (tests/grid/crs-gdaltransform.test.ts, ≤ 0.01 m). gdal3.js would be exact, including grid
 *   shifts, but we do not ship grids either way.
 * - Install size and start-up: epsg-index is 40 MB on disk but we read one ~1 kB file per code
 *   (`s/<code>.json`, < 1 ms); all.json (8 MB, ~60 ms to parse) is read only to match a WKT that
 *   names no EPSG code. gdal3.js is ~ 30 MB of WebAssembly + data (`npm view gdal3.js
 *   dist.unpackedSize`) and must instantiate its WASM module (hundreds of ms) before the first
 *   lookup, and it is asynchronous, which every CRS parse here would have to become.
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
