import type { Feature, Geometry, Position } from 'geojson';
import type { SegmentSet } from './segment-index.ts';
import type { GridSpec } from '../grid/grid-spec.ts';
import { gridExtent } from '../grid/grid-spec.ts';
import { EmptyInputError } from '../errors.ts';
import { NoFaultsInGridError } from './fault-errors.ts';

/**
 * Fault traces as line segments. LineString and MultiLineString features are fault traces;
 * Polygon and MultiPolygon features (mapped fault zones) contribute their boundary rings.
 * Points carry no fault geometry and are ignored (counted in `ignoredFeatures`).
 */
export interface FaultSegments extends SegmentSet {
  readonly featureOfSegment: Int32Array;
  readonly lineFeatures: number;
  readonly ignoredFeatures: number;
}

export function segmentsFromFeatures(features: readonly Feature[], source = 'fault layer'): FaultSegments {
  const ax: number[] = [];
  const ay: number[] = [];
  const bx: number[] = [];
  const by: number[] = [];
  const owner: number[] = [];
  let lineFeatures = 0;
  let ignored = 0;
  const addLine = (line: readonly Position[], f: number): void => {
    for (let i = 1; i < line.length; i++) {
      const a = line[i - 1];
      const b = line[i];
      if (![a[0], a[1], b[0], b[1]].every(Number.isFinite)) continue;
      ax.push(a[0]);
      ay.push(a[1]);
      bx.push(b[0]);
      by.push(b[1]);
      owner.push(f);
    }
    // A one-vertex "line" is a point fault: keep it as a zero-length segment.
    if (line.length === 1 && Number.isFinite(line[0][0]) && Number.isFinite(line[0][1])) {
      ax.push(line[0][0]);
      ay.push(line[0][1]);
      bx.push(line[0][0]);
      by.push(line[0][1]);
      owner.push(f);
    }
  };
  const visit = (g: Geometry | null, f: number): boolean => {
    if (!g) return false;
    switch (g.type) {
      case 'LineString':
        addLine(g.coordinates, f);
        return true;
      case 'MultiLineString':
      case 'Polygon':
        g.coordinates.forEach((l) => addLine(l, f));
        return true;
      case 'MultiPolygon':
        g.coordinates.forEach((p) => p.forEach((l) => addLine(l, f)));
        return true;
      case 'GeometryCollection':
        return g.geometries.map((x) => visit(x, f)).some(Boolean);
      default:
        return false;
    }
  };
  features.forEach((ft, i) => {
    if (visit(ft.geometry, i)) lineFeatures++;
    else ignored++;
  });
  if (ax.length === 0) {
    throw new EmptyInputError(
      source,
      `no line or polygon geometry among its ${features.length} feature(s) (${ignored} point/empty feature(s))`,
      'Give fault traces as LineString/MultiLineString features, or a fault raster',
      { features: features.length, ignored },
    );
  }
  return {
    ax: Float64Array.from(ax),
    ay: Float64Array.from(ay),
    bx: Float64Array.from(bx),
    by: Float64Array.from(by),
    featureOfSegment: Int32Array.from(owner),
    lineFeatures,
    ignoredFeatures: ignored,
  };
}

/** Liang–Barsky: does segment a–b meet the closed rectangle? */
function segmentMeetsRect(ax: number, ay: number, bx: number, by: number, xmin: number, ymin: number, xmax: number, ymax: number): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = bx - ax;
  const dy = by - ay;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
    return true;
  };
  return clip(-dx, ax - xmin) && clip(dx, xmax - ax) && clip(-dy, ay - ymin) && clip(dy, ymax - ay) && t0 <= t1;
}

/**
 * Throws NoFaultsInGridError unless at least one segment crosses the grid's extent; the usual
 * cause is a layer in another CRS or for another area. Returns how many segments do.
 */
export function assertFaultsInGrid(segments: SegmentSet, grid: GridSpec, source: string): number {
  const e = gridExtent(grid);
  let inside = 0;
  let xmin = Infinity;
  let ymin = Infinity;
  let xmax = -Infinity;
  let ymax = -Infinity;
  for (let i = 0; i < segments.ax.length; i++) {
    xmin = Math.min(xmin, segments.ax[i], segments.bx[i]);
    xmax = Math.max(xmax, segments.ax[i], segments.bx[i]);
    ymin = Math.min(ymin, segments.ay[i], segments.by[i]);
    ymax = Math.max(ymax, segments.ay[i], segments.by[i]);
    if (segmentMeetsRect(segments.ax[i], segments.ay[i], segments.bx[i], segments.by[i], e.xmin, e.ymin, e.xmax, e.ymax)) inside++;
  }
  if (inside === 0) {
    throw new NoFaultsInGridError(
      `${source}: none of its ${segments.ax.length} fault segments crosses the grid ` +
        `(faults span x ${xmin.toFixed(1)} … ${xmax.toFixed(1)}, y ${ymin.toFixed(1)} … ${ymax.toFixed(1)}; ` +
        `grid spans x ${e.xmin} … ${e.xmax}, y ${e.ymin} … ${e.ymax}). Check that the fault layer is in the grid's CRS ` +
        `(${grid.crs?.name ?? 'none declared'}) and covers the same area.`,
      { source, segments: segments.ax.length, faultExtent: { xmin, ymin, xmax, ymax }, gridExtent: e },
    );
  }
  return inside;
}
