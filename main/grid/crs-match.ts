import proj4 from 'proj4';
import { allEpsgEntries, type EpsgEntry } from './epsg-registry.ts';

/**
 * Finds the EPSG code of a CRS given without one (an ESRI .prj, a WKT without AUTHORITY, a
 * GeoTIFF with user-defined GeoKeys, a proj4 string), the way GDAL's `identify` does it:
 * same projection method, ellipsoid and parameters (within 1e-9 rad / 1 mm), then the
 * registry name closest to the given name breaks ties (ETRS89 / UTM zone 35N and ETRS89 /
 * TM35FIN share every parameter; "EUREF_FIN_TM35FIN" picks the latter). With several
 * parameter matches and no shared name word the CRS stays custom rather than be given a
 * datum it did not declare.
 */

interface Signature {
  readonly family: string;
  readonly geographic: boolean;
  readonly a: number;
  readonly es: number;
  readonly toMeter: number;
  readonly params: Readonly<Record<string, number>>;
  readonly towgs84: readonly number[] | null;
}

type ProjLike = Record<string, unknown> & { names?: string[]; projName?: string };

const ANGLE_KEYS = ['lat0', 'long0', 'lat1', 'lat2', 'lat_ts', 'alpha', 'longc'] as const;
const LENGTH_KEYS = ['x0', 'y0'] as const;

/** proj4js's short projection name of a parsed definition (utm/etmerc → tmerc, latlong → longlat). */
export function projectionFamily(p: { names?: string[]; projName?: unknown }): string {
  const names = (p.names ?? []).map((n) => n.toLowerCase());
  if (names.includes('utm') || names.includes('tmerc') || names.includes('etmerc')) return 'tmerc';
  if (names.includes('longlat') || names.includes('latlong') || p.projName === 'longlat') return 'longlat';
  const short = SHORT_NAMES.find((s) => names.includes(s));
  return short ?? names[names.length - 1] ?? String(p.projName ?? '');
}

const SHORT_NAMES = ['lcc', 'aea', 'laea', 'merc', 'sterea', 'stere', 'cass', 'somerc', 'omerc', 'eqc', 'poly', 'krovak', 'nzmg', 'sinu', 'moll', 'eqdc', 'aeqd', 'ortho', 'gnom', 'robin', 'cea', 'tpers', 'geos'];

/** proj4js's own normalisation of a definition (degrees → radians, utm → tmerc parameters). */
export function signatureOf(def: string): Signature | null {
  let p: ProjLike;
  try {
    p = new proj4.Proj(def) as unknown as ProjLike;
  } catch {
    return null;
  }
  const num = (k: string, fallback = 0): number => (typeof p[k] === 'number' && Number.isFinite(p[k] as number) ? (p[k] as number) : fallback);
  const family = projectionFamily(p);
  const params: Record<string, number> = {};
  for (const k of [...ANGLE_KEYS, ...LENGTH_KEYS]) params[k] = num(k);
  params.k0 = num('k0', 1);
  if (family === 'omerc' && Math.abs(params.alpha - Math.PI / 2) < 1e-9) {
    // Hotine oblique Mercator (variant B) with azimuth 90° is the Swiss oblique Mercator:
    // ESRI .prj files say the former, the EPSG registry's proj4 the latter (+proj=somerc).
    return { ...signatureBase(p, num), family: 'somerc', params: { ...params, long0: params.longc || params.long0, alpha: 0, longc: 0 } };
  }
  // somerc keeps derived constants in alpha; they are not parameters.
  if (family === 'somerc') return { ...signatureBase(p, num), family, params: { ...params, alpha: 0, longc: 0 } };
  return { ...signatureBase(p, num), family, params };
}

function signatureBase(p: ProjLike, num: (k: string, f?: number) => number): Omit<Signature, 'family' | 'params'> {
  const datum = p.datum as { datum_params?: number[] } | undefined;
  const dp = (p.datum_params as number[] | undefined) ?? datum?.datum_params;
  return {
    geographic: projectionFamily(p) === 'longlat',
    a: num('a'),
    es: num('es'),
    toMeter: num('to_meter', 1),
    towgs84: Array.isArray(dp) && dp.length >= 3 ? dp.map(Number) : null,
  };
}

function sameSignature(a: Signature, b: Signature): boolean {
  if (a.family !== b.family || a.geographic !== b.geographic) return false;
  if (Math.abs(a.a - b.a) > 1e-3 || Math.abs(a.es - b.es) > 1e-10) return false;
  if (!a.geographic && Math.abs(a.toMeter - b.toMeter) > 1e-9) return false;
  for (const k of ANGLE_KEYS) if (Math.abs(a.params[k] - b.params[k]) > 1e-9) return false;
  for (const k of LENGTH_KEYS) if (Math.abs(a.params[k] - b.params[k]) > 1e-3) return false;
  if (Math.abs(a.params.k0 - b.params.k0) > 1e-9) return false;
  if (a.towgs84 && b.towgs84) {
    const n = Math.max(a.towgs84.length, b.towgs84.length);
    for (let i = 0; i < n; i++) if (Math.abs((a.towgs84[i] ?? 0) - (b.towgs84[i] ?? 0)) > 1e-6) return false;
  }
  return true;
}

/** Lower-case words of a CRS name, "1989" → "89" so ESRI's ETRS_1989 meets EPSG's ETRS89. */
export function nameWords(name: string): Set<string> {
  const words = name
    .toLowerCase()
    .replace(/\b(?:gcs|d)_/g, ' ')
    .replace(/19(\d\d)/g, ' $1 ')
    .split(/[^a-z0-9]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])/)
    .filter((w) => w !== '');
  return new Set(words);
}

function nameScore(a: Set<string>, b: Set<string>): number {
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / (a.size + b.size - common || 1);
}

const signatureCache = new Map<number, Signature | null>();
function entrySignature(e: EpsgEntry): Signature | null {
  let s = signatureCache.get(e.code);
  if (s === undefined) {
    s = signatureOf(e.proj4);
    signatureCache.set(e.code, s);
  }
  return s;
}

/** Cheap pre-filter on the proj4 text: false easting/northing (UTM's implied) must agree. */
function offsetsOf(proj4Text: string): { x0: number; y0: number } {
  const get = (k: string): number | null => {
    const m = new RegExp(`\\+${k}=([-+.\\deE]+)`).exec(proj4Text);
    return m ? Number(m[1]) : null;
  };
  if (/\+proj=utm\b/.test(proj4Text)) return { x0: 500000, y0: /\+south\b/.test(proj4Text) ? 10000000 : 0 };
  return { x0: get('x_0') ?? 0, y0: get('y_0') ?? 0 };
}

/** The registry entry matching a definition (WKT or proj4) and name, or null. */
export function matchEpsg(def: string, name: string): EpsgEntry | null {
  const sig = signatureOf(def);
  if (!sig) return null;
  const candidates: EpsgEntry[] = [];
  for (const e of allEpsgEntries()) {
    if ((e.kind === 'CRS-GEOGCRS') !== sig.geographic) continue;
    if (!sig.geographic && sig.toMeter === 1 && !/\+(?:units=(?!m\b)|to_meter=)/.test(e.proj4)) {
      // Metre CRSs only: elsewhere the text holds offsets in feet.
      const o = offsetsOf(e.proj4);
      if (Math.abs(o.x0 - sig.params.x0) > 1e-3 || Math.abs(o.y0 - sig.params.y0) > 1e-3) continue;
    }
    const s = entrySignature(e);
    if (s && sameSignature(sig, s)) candidates.push(e);
  }
  if (candidates.length === 0) return null;
  const datum = /\+datum=(\S+)/.exec(def)?.[1];
  if (candidates.length > 1 && datum) {
    // A proj4 string names no CRS, but its +datum does: "+proj=utm +zone=35 +datum=WGS84" is
    // WGS 84 / UTM zone 35N (32635) and not one of the CRSs that merely share the ellipsoid.
    const sameDatum = candidates.filter((c) => new RegExp(`\\+datum=${datum.replace(/[^\w]/g, '')}\\b`).test(c.proj4));
    if (sameDatum.length === 1) return sameDatum[0];
    // "+proj=utm" says UTM: of WGS 84 / UTM zone 35N and WGS 84 / TMzn35N (identical parameters) GDAL identifies the former.
    const utm = /\+proj=utm\b/.test(def) ? sameDatum.filter((c) => /\bUTM zone\b/i.test(c.name)) : [];
    if (utm.length === 1) return utm[0];
  }
  const words = nameWords(name);
  let best: EpsgEntry | null = null;
  let bestScore = -1;
  for (const c of candidates) {
    const score = nameScore(words, nameWords(c.name));
    if (score > bestScore || (score === bestScore && best !== null && c.code < best.code)) {
      best = c;
      bestScore = score;
    }
  }
  return candidates.length === 1 || bestScore > 0 ? best : null;
}
