import type { GridSpec } from '../grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../grid/grid-spec.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, throwIfCancelled } from '../jobs/job.ts';
import { InvalidOptionError } from '../errors.ts';
import { SegmentIndex, pointSegmentDistanceSq, type SegmentSet } from './segment-index.ts';
import { NoFaultsInGridError } from './fault-errors.ts';

/**
 * Distance to the nearest fault at every cell centre of a grid, in CRS units (metres).
 *
 * From polylines: exact point-to-segment distance. The grid is processed in blocks of
 * `blockCells`² cells; for each block the exact distance d₀ from its centre to the nearest
 * segment bounds every cell's distance by d₀ + h (h = half the block diagonal), so only
 * segments within d₀ + 2h of the centre can be nearest to any cell of the block. Those are
 * gathered once from the SegmentIndex and every cell is tested against all of them: the
 * result equals brute force over all segments (tested), at a cost close to
 * cells × (segments near the block).
 *
 * From a raster: the exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012,
 * "Distance transforms of sampled functions", Theory of Computing 8) between cell centres,
 * with separate x and y cell sizes. Fault cells are at distance 0.
 */

export interface SegmentDistanceOptions {
  /** Cells per block side for the candidate search. @default 16 */
  readonly blockCells?: number;
  /** Bucket size of the segment index in CRS units. @default automatic (about one segment per bucket) */
  readonly bucketSize?: number;
}

export function distanceFromSegments(
  grid: GridSpec,
  segments: SegmentSet,
  options: SegmentDistanceOptions = {},
  ctx?: JobContext,
): Float64Array {
  const block = options.blockCells ?? 16;
  if (!Number.isInteger(block) || block < 1) throw new InvalidOptionError(`blockCells must be a positive integer, got ${block}`);
  const index = new SegmentIndex(segments, options.bucketSize);
  const p = index.pieces;
  const out = new Float64Array(grid.rows * grid.cols);
  const blockRows = Math.ceil(grid.rows / block);
  const blockCols = Math.ceil(grid.cols / block);
  for (let br = 0; br < blockRows; br++) {
    throwIfCancelled(ctx, 'fault distance');
    report(ctx, br / blockRows, 'distance to faults');
    const r0 = br * block;
    const r1 = Math.min(grid.rows, r0 + block);
    for (let bc = 0; bc < blockCols; bc++) {
      const c0 = bc * block;
      const c1 = Math.min(grid.cols, c0 + block);
      // Block of cell centres: its bounding box and centre.
      const xa = cellCenterX(grid, c0);
      const xb = cellCenterX(grid, c1 - 1);
      const ya = cellCenterY(grid, r0);
      const yb = cellCenterY(grid, r1 - 1);
      const cx = (xa + xb) / 2;
      const cy = (ya + yb) / 2;
      const h = Math.hypot(xb - xa, ya - yb) / 2;
      const d0 = index.nearestDistance(cx, cy);
      // Relative slack guards the bound against rounding; extra candidates only cost time.
      const radius = (d0 + 2 * h) * (1 + 1e-9) + 1e-9;
      const cand = index.piecesWithin(cx, cy, radius);
      for (let r = r0; r < r1; r++) {
        const y = cellCenterY(grid, r);
        for (let c = c0; c < c1; c++) {
          const x = cellCenterX(grid, c);
          let best = Infinity;
          for (let k = 0; k < cand.length; k++) {
            const j = cand[k];
            const d = pointSegmentDistanceSq(x, y, p.ax[j], p.ay[j], p.bx[j], p.by[j]);
            if (d < best) best = d;
          }
          out[r * grid.cols + c] = Math.sqrt(best);
        }
      }
    }
  }
  report(ctx, 1, 'distance to faults');
  return out;
}

/**
 * 1-D squared distance transform of f sampled at positions i·spacing (lower envelope of
 * parabolas). Infinite samples are skipped; if all are infinite the output stays infinite.
 */
function edt1d(f: Float64Array, n: number, spacing: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    const pq = q * spacing;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s: number;
    for (;;) {
      const pv = v[k] * spacing;
      s = (f[q] + pq * pq - (f[v[k]] + pv * pv)) / (2 * (pq - pv));
      if (s <= z[k] && k > 0) k--;
      else break;
    }
    if (s <= z[k]) {
      // k === 0 and the new parabola dominates the whole line.
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) out[q] = Infinity;
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const pq = q * spacing;
    while (z[j + 1] < pq) j++;
    const d = pq - v[j] * spacing;
    out[q] = d * d + f[v[j]];
  }
}

/**
 * Euclidean distance (metres) from every cell centre to the nearest cell centre where
 * `isFault` is true. Throws NoFaultsInGridError when no cell is a fault.
 */
export function distanceFromFaultMask(grid: GridSpec, isFault: Uint8Array, ctx?: JobContext, source = 'fault raster'): Float64Array {
  const { rows, cols } = grid;
  const n = rows * cols;
  if (isFault.length !== n) throw new InvalidOptionError(`fault mask has ${isFault.length} cells; the ${rows}×${cols} grid needs ${n}`);
  let count = 0;
  for (let i = 0; i < n; i++) if (isFault[i]) count++;
  if (count === 0) {
    throw new NoFaultsInGridError(
      `${source}: no cell of the ${rows}×${cols} grid is marked as a fault (non-zero). Check the raster, or give the faults as lines.`,
      { source, rows, cols, faultCells: 0 },
    );
  }
  return distanceToMarkedCells(grid, isFault, ctx);
}

/**
 * Exact Euclidean distance (metres) from every cell centre to the nearest marked cell centre
 * (Infinity everywhere when nothing is marked). Used for faults and for deposit cells.
 */
export function distanceToMarkedCells(grid: GridSpec, marked: Uint8Array, ctx?: JobContext): Float64Array {
  const { rows, cols } = grid;
  const n = rows * cols;
  if (marked.length !== n) throw new InvalidOptionError(`mask has ${marked.length} cells; the ${rows}×${cols} grid needs ${n}`);
  const isFault = marked;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = isFault[i] ? 0 : Infinity;
  const m = Math.max(rows, cols);
  const f = new Float64Array(m);
  const d = new Float64Array(m);
  const v = new Int32Array(m);
  const z = new Float64Array(m + 1);
  // Columns first (spacing cellSizeY), then rows (spacing cellSizeX).
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) f[r] = sq[r * cols + c];
    edt1d(f, rows, grid.cellSizeY, d, v, z);
    for (let r = 0; r < rows; r++) sq[r * cols + c] = d[r];
  }
  throwIfCancelled(ctx, 'fault distance');
  report(ctx, 0.5, 'distance transform');
  const out = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) f[c] = sq[r * cols + c];
    edt1d(f, cols, grid.cellSizeX, d, v, z);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.sqrt(d[c]);
  }
  report(ctx, 1, 'distance transform');
  return out;
}

/**
 * Fault buffers: one 0/1 mask per width, 1 where the distance is ≤ width (metres). NaN
 * distances (masked cells) give 0.
 */
export function faultBuffers(distanceM: ArrayLike<number>, widthsM: readonly number[]): Uint8Array[] {
  for (const w of widthsM) {
    if (!(Number.isFinite(w) && w >= 0)) throw new InvalidOptionError(`buffer widths must be finite and ≥ 0 metres, got ${w}`);
  }
  return widthsM.map((w) => {
    const m = new Uint8Array(distanceM.length);
    for (let i = 0; i < distanceM.length; i++) m[i] = distanceM[i] <= w ? 1 : 0;
    return m;
  });
}
