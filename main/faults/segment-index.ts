/**
 * Exact nearest-segment queries over many line segments (fault traces).
 *
 * Hand-written because kdbush (installed) indexes points, and a point index over segment
 * midpoints needs a per-query radius bound equal to the longest segment, which long fault
 * segments make useless. Here every segment is first cut into pieces no longer than one bucket
 * and registered in each bucket of a uniform grid that its bounding box touches; a radius query
 * then only visits the buckets its square overlaps. Cutting a segment into collinear pieces does
 * not change the distance to it (the union of the pieces is the segment).
 */

/** Struct-of-arrays segment list, in CRS units (metres). */
export interface SegmentSet {
  readonly ax: Float64Array;
  readonly ay: Float64Array;
  readonly bx: Float64Array;
  readonly by: Float64Array;
}

export function segmentCount(s: SegmentSet): number {
  return s.ax.length;
}

/** Squared Euclidean distance from (px, py) to the closed segment a–b. */
export function pointSegmentDistanceSq(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const wx = px - ax;
  const wy = py - ay;
  const len2 = vx * vx + vy * vy;
  let t = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  const dx = wx - t * vx;
  const dy = wy - t * vy;
  return dx * dx + dy * dy;
}

/** Brute-force distance to the nearest segment; the reference the index is tested against. */
export function bruteForceDistance(s: SegmentSet, px: number, py: number): number {
  let best = Infinity;
  for (let i = 0; i < s.ax.length; i++) {
    const d = pointSegmentDistanceSq(px, py, s.ax[i], s.ay[i], s.bx[i], s.by[i]);
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

export class SegmentIndex {
  readonly bucketSize: number;
  private readonly x0: number;
  private readonly y0: number;
  private readonly nx: number;
  private readonly ny: number;
  /** CSR layout: bucket b holds piece ids ids[start[b] .. start[b+1]). */
  private readonly start: Int32Array;
  private readonly ids: Int32Array;
  /** The pieces (segments cut to at most one bucket long). */
  readonly pieces: SegmentSet;
  /** Query stamp per piece, so a piece registered in several buckets is tested once per query. */
  private readonly seen: Int32Array;
  private stamp = 0;

  /**
   * @param segments the segments to index (at least one).
   * @param bucketSize bucket edge in CRS units; default: about one segment per bucket.
   */
  constructor(segments: SegmentSet, bucketSize?: number) {
    const n = segmentCount(segments);
    if (n === 0) throw new RangeError('SegmentIndex needs at least one segment');
    let xmin = Infinity;
    let ymin = Infinity;
    let xmax = -Infinity;
    let ymax = -Infinity;
    let totalLength = 0;
    for (let i = 0; i < n; i++) {
      xmin = Math.min(xmin, segments.ax[i], segments.bx[i]);
      xmax = Math.max(xmax, segments.ax[i], segments.bx[i]);
      ymin = Math.min(ymin, segments.ay[i], segments.by[i]);
      ymax = Math.max(ymax, segments.ay[i], segments.by[i]);
      totalLength += Math.hypot(segments.bx[i] - segments.ax[i], segments.by[i] - segments.ay[i]);
    }
    const span = Math.max(xmax - xmin, ymax - ymin, 1e-9);
    // About one segment per bucket over the bounding box, never more than 512 buckets a side,
    // and no bucket much shorter than the mean segment (or pieces would multiply).
    const minSide = span / 512;
    const perSegment = Math.sqrt((Math.max(xmax - xmin, minSide) * Math.max(ymax - ymin, minSide)) / n);
    const auto = Math.max(minSide, Math.min(perSegment, totalLength / n));
    const size = bucketSize !== undefined && bucketSize > 0 ? bucketSize : auto;
    this.bucketSize = size;
    this.x0 = xmin;
    this.y0 = ymin;
    this.nx = Math.max(1, Math.floor((xmax - xmin) / size) + 1);
    this.ny = Math.max(1, Math.floor((ymax - ymin) / size) + 1);

    const pax: number[] = [];
    const pay: number[] = [];
    const pbx: number[] = [];
    const pby: number[] = [];
    for (let i = 0; i < n; i++) {
      const ax = segments.ax[i];
      const ay = segments.ay[i];
      const bx = segments.bx[i];
      const by = segments.by[i];
      const parts = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / size));
      for (let p = 0; p < parts; p++) {
        const t0 = p / parts;
        const t1 = (p + 1) / parts;
        // Endpoints of the original segment are kept exactly (t = 0 and t = 1).
        pax.push(p === 0 ? ax : ax + (bx - ax) * t0);
        pay.push(p === 0 ? ay : ay + (by - ay) * t0);
        pbx.push(p === parts - 1 ? bx : ax + (bx - ax) * t1);
        pby.push(p === parts - 1 ? by : ay + (by - ay) * t1);
      }
    }
    this.pieces = { ax: Float64Array.from(pax), ay: Float64Array.from(pay), bx: Float64Array.from(pbx), by: Float64Array.from(pby) };
    const m = pax.length;
    this.seen = new Int32Array(m);

    const nb = this.nx * this.ny;
    const counts = new Int32Array(nb + 1);
    const forEachBucket = (j: number, fn: (b: number) => void): void => {
      const [c0, c1] = this.span(Math.min(pax[j], pbx[j]) - this.x0, Math.max(pax[j], pbx[j]) - this.x0, this.nx);
      const [r0, r1] = this.span(Math.min(pay[j], pby[j]) - this.y0, Math.max(pay[j], pby[j]) - this.y0, this.ny);
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) fn(r * this.nx + c);
    };
    for (let j = 0; j < m; j++) forEachBucket(j, (b) => counts[b + 1]++);
    for (let b = 0; b < nb; b++) counts[b + 1] += counts[b];
    this.start = counts;
    const fill = counts.slice(0, nb);
    this.ids = new Int32Array(counts[nb]);
    for (let j = 0; j < m; j++) forEachBucket(j, (b) => (this.ids[fill[b]++] = j));
  }

  /** Bucket range [i0, i1] (clamped) covering the coordinate interval [lo, hi] relative to the origin. */
  private span(lo: number, hi: number, n: number): [number, number] {
    const i0 = Math.min(n - 1, Math.max(0, Math.floor(lo / this.bucketSize)));
    const i1 = Math.min(n - 1, Math.max(0, Math.floor(hi / this.bucketSize)));
    return [i0, i1];
  }

  /**
   * Calls fn(pieceId) once for every piece registered in a bucket that overlaps the square
   * [x − radius, x + radius] × [y − radius, y + radius]. Every piece whose distance to (x, y)
   * is ≤ radius is visited (its points within the disc lie in such a bucket); others may be.
   */
  forEachNear(x: number, y: number, radius: number, fn: (piece: number) => void): void {
    const stamp = ++this.stamp;
    if (stamp === 0x7fffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const s = this.stamp;
    const [c0, c1] = this.span(x - radius - this.x0, x + radius - this.x0, this.nx);
    const [r0, r1] = this.span(y - radius - this.y0, y + radius - this.y0, this.ny);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const b = r * this.nx + c;
        for (let k = this.start[b]; k < this.start[b + 1]; k++) {
          const id = this.ids[k];
          if (this.seen[id] === s) continue;
          this.seen[id] = s;
          fn(id);
        }
      }
    }
  }

  /** Exact distance from (x, y) to the nearest segment. */
  nearestDistance(x: number, y: number): number {
    const p = this.pieces;
    // Distance to the index's bounding box is a lower bound; start the search radius there.
    const bx = Math.max(0, this.x0 - x, x - (this.x0 + this.nx * this.bucketSize));
    const by = Math.max(0, this.y0 - y, y - (this.y0 + this.ny * this.bucketSize));
    let radius = Math.max(this.bucketSize, Math.hypot(bx, by) + this.bucketSize);
    for (;;) {
      let best = Infinity;
      this.forEachNear(x, y, radius, (j) => {
        const d = pointSegmentDistanceSq(x, y, p.ax[j], p.ay[j], p.bx[j], p.by[j]);
        if (d < best) best = d;
      });
      const dist = Math.sqrt(best);
      // Exact once the best candidate lies inside the searched square's inscribed disc.
      if (dist <= radius) return dist;
      radius *= 2;
    }
  }

  /** Pieces within `radius` of (x, y) (a superset filter is applied exactly here). */
  piecesWithin(x: number, y: number, radius: number): number[] {
    const p = this.pieces;
    const r2 = radius * radius;
    const out: number[] = [];
    this.forEachNear(x, y, radius, (j) => {
      if (pointSegmentDistanceSq(x, y, p.ax[j], p.ay[j], p.bx[j], p.by[j]) <= r2) out.push(j);
    });
    return out;
  }
}
