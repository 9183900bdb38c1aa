import type { Feature, Geometry, Position } from 'geojson';
import { WorkbenchError } from '../errors.ts';

/**
 * Structural validity of GeoJSON geometries (RFC 7946 §3.1): every position is two or more
 * finite numbers, a LineString has at least two positions, a polygon ring at least four with
 * the last equal to the first. Checked on every layer read, whatever its format, so a broken
 * vertex is reported where it is rather than turning into NaN distances later. Self-intersection
 * is not checked (GEOS-level validity is beyond what the workflow needs).
 */

/** A feature whose geometry breaks the GeoJSON rules. */
export class InvalidGeometryError extends WorkbenchError {
  constructor(
    readonly file: string,
    readonly feature: number,
    readonly featureId: string | number | null,
    problem: string,
    fix: string,
  ) {
    super(`${file}: feature ${feature}${featureId !== null ? ` (id ${JSON.stringify(featureId)})` : ''}: ${problem}. ${fix}`, {
      file,
      feature,
      featureId,
      problem,
      fix,
    });
  }
}

const FIX_IN_GIS = 'Fix or delete that feature (QGIS: Vector → Geometry Tools → Check Validity) and save the layer again';

/** Problem with one geometry, or null when it is valid. */
export function geometryProblem(g: Geometry): { problem: string; fix: string } | null {
  const position = (p: unknown, where: string): { problem: string; fix: string } | null => {
    if (!Array.isArray(p) || p.length < 2) return { problem: `${where} is ${JSON.stringify(p)}, not an [x, y] position`, fix: FIX_IN_GIS };
    for (let k = 0; k < p.length; k++) {
      const v: unknown = p[k];
      if (typeof v !== 'number') return { problem: `${where} has the ${typeof v} ${JSON.stringify(v)} as coordinate ${k + 1}, not a number`, fix: 'Write coordinates as JSON numbers (no quotes), then read the layer again' };
      if (!Number.isFinite(v)) return { problem: `${where} has the non-finite coordinate ${v}`, fix: FIX_IN_GIS };
    }
    return null;
  };
  const list = (ps: unknown, where: string): { problem: string; fix: string } | null => {
    if (!Array.isArray(ps)) return { problem: `${where} is ${JSON.stringify(ps)}, not an array of positions`, fix: FIX_IN_GIS };
    for (let i = 0; i < ps.length; i++) {
      const e = position(ps[i], `${where}, vertex ${i + 1}`);
      if (e) return e;
    }
    return null;
  };
  const line = (ps: unknown, where: string): { problem: string; fix: string } | null => {
    const e = list(ps, where);
    if (e) return e;
    const n = (ps as Position[]).length;
    return n < 2 ? { problem: `${where} has ${n} point${n === 1 ? '' : 's'}; a line needs at least 2`, fix: 'Delete the feature or add its missing vertices' } : null;
  };
  const ring = (ps: unknown, where: string): { problem: string; fix: string } | null => {
    const e = list(ps, where);
    if (e) return e;
    const r = ps as Position[];
    if (r.length < 4) return { problem: `${where} has ${r.length} positions; a closed ring needs at least 4 (3 corners + the first repeated)`, fix: 'Delete the feature or digitize the polygon again' };
    const a = r[0];
    const b = r[r.length - 1];
    if (a[0] !== b[0] || a[1] !== b[1]) {
      return { problem: `${where} is not closed: it starts at [${a[0]}, ${a[1]}] and ends at [${b[0]}, ${b[1]}]`, fix: 'Close the ring by repeating its first vertex at the end (QGIS: Fix Geometries)' };
    }
    return null;
  };
  const rings = (rs: unknown, where: string): { problem: string; fix: string } | null => {
    if (!Array.isArray(rs) || rs.length === 0) return { problem: `${where} has no rings`, fix: FIX_IN_GIS };
    for (let i = 0; i < rs.length; i++) {
      const e = ring(rs[i], `${where}, ring ${i + 1}`);
      if (e) return e;
    }
    return null;
  };
  const each = (xs: unknown, where: string, f: (x: unknown, w: string) => { problem: string; fix: string } | null): { problem: string; fix: string } | null => {
    if (!Array.isArray(xs)) return { problem: `${where} has no coordinate array`, fix: FIX_IN_GIS };
    for (let i = 0; i < xs.length; i++) {
      const e = f(xs[i], `${where} part ${i + 1}`);
      if (e) return e;
    }
    return null;
  };
  const type = (g as { type?: unknown }).type;
  switch (type) {
    case 'Point':
      return position(g.type === 'Point' ? g.coordinates : null, 'the Point');
    case 'MultiPoint':
      return list((g as { coordinates: unknown }).coordinates, 'the MultiPoint');
    case 'LineString':
      return line((g as { coordinates: unknown }).coordinates, 'the LineString');
    case 'MultiLineString':
      return each((g as { coordinates: unknown }).coordinates, 'the MultiLineString', line);
    case 'Polygon':
      return rings((g as { coordinates: unknown }).coordinates, 'the Polygon');
    case 'MultiPolygon':
      return each((g as { coordinates: unknown }).coordinates, 'the MultiPolygon', rings);
    case 'GeometryCollection': {
      const gs = (g as { geometries?: unknown }).geometries;
      if (!Array.isArray(gs)) return { problem: 'the GeometryCollection has no geometries array', fix: FIX_IN_GIS };
      for (let i = 0; i < gs.length; i++) {
        const e = geometryProblem(gs[i] as Geometry);
        if (e) return { problem: `geometry ${i + 1} of the GeometryCollection: ${e.problem}`, fix: e.fix };
      }
      return null;
    }
    default:
      return { problem: `the geometry type ${JSON.stringify(type)} is not a GeoJSON geometry type`, fix: FIX_IN_GIS };
  }
}

/** Throws InvalidGeometryError for the first invalid geometry (null geometries are skipped: they carry no shape). */
export function validateFeatures(file: string, features: readonly Feature[]): void {
  features.forEach((f, i) => {
    if (f.geometry === null || f.geometry === undefined) return;
    const e = geometryProblem(f.geometry);
    if (e) {
      const id = f.id ?? (f.properties as Record<string, unknown> | null)?.id;
      throw new InvalidGeometryError(file, i + 1, typeof id === 'string' || typeof id === 'number' ? id : null, e.problem, e.fix);
    }
  });
}
