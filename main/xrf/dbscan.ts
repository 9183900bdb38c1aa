import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { throwIfCancelled } from '../jobs/job.ts';

/**
 * Exact DBSCAN (Ester et al. 1996) with scikit-learn's semantics, on a uniform grid index.
 *
 * Why not `density-clustering`: its DBSCAN runs a linear scan per region query (O(n²) distance
 * evaluations, ~5·10⁹ for 10⁵ pixels, minutes to hours in JS), see docs/micro-xrf.md for the
 * measurement. Here cells have side ε/√d, so every pair of points in one cell is within ε
 * (Gunawan 2013; Gan & Tao 2015): a cell with ≥ minSamples points makes all of them core
 * without a single distance, two core cells are merged as soon as one core pair is within ε,
 * and queries look only at the (2⌈√d⌉+1)^d nearby cells. This is meant for low-dimensional
 * feature spaces (d ≤ 4; the pseudo-label step uses 3 principal components).
 *
 * scikit-learn semantics reproduced exactly (sklearn.cluster.DBSCAN, `_dbscan_inner.pyx`):
 * neighbourhoods are closed balls (distance ≤ ε) that include the point itself; a point is core
 * when its neighbourhood holds ≥ minSamples points; clusters are numbered in the order of their
 * lowest-index core point; a border point reachable from several clusters takes the one with the
 * lowest number (the first to reach it in sklearn's index-order expansion); noise is −1.
 */
export interface DbscanResult {
  /** Cluster id per point (0, 1, …), −1 for noise. */
  readonly labels: Int32Array;
  readonly isCore: Uint8Array;
  readonly clusterCount: number;
}

export function dbscan(points: Float64Array, dims: number, eps: number, minSamples: number, ctx?: JobContext): DbscanResult {
  if (!Number.isInteger(dims) || dims < 1 || dims > 4) throw new InvalidOptionError(`DBSCAN: the grid index supports 1–4 dimensions, got ${dims}; reduce the features first (e.g. PCA)`);
  if (!(eps > 0)) throw new InvalidOptionError(`DBSCAN: eps must be > 0, got ${eps}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new InvalidOptionError(`DBSCAN: minSamples must be an integer ≥ 1, got ${minSamples}`);
  if (points.length % dims !== 0) throw new InvalidOptionError(`DBSCAN: ${points.length} coordinates are not a multiple of ${dims} dimensions`);
  const n = points.length / dims;
  for (let i = 0; i < points.length; i++) if (!Number.isFinite(points[i])) throw new InvalidOptionError(`DBSCAN: point ${Math.floor(i / dims)} has a non-finite coordinate`);
  const eps2 = eps * eps;
  const side = eps / Math.sqrt(dims);
  // Integer cell coordinates and a dense numeric key.
  const lo = new Float64Array(dims).fill(Infinity);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) lo[d] = Math.min(lo[d], points[i * dims + d]);
  const cellCoord = new Int32Array(n * dims);
  const extent = new Array<number>(dims).fill(1);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) {
      const c = Math.floor((points[i * dims + d] - lo[d]) / side);
      cellCoord[i * dims + d] = c;
      if (c + 1 > extent[d]) extent[d] = c + 1;
    }
  }
  const R = Math.ceil(Math.sqrt(dims));
  const stride: number[] = [];
  let total = 1;
  for (let d = 0; d < dims; d++) {
    stride.push(total);
    total *= extent[d] + 2 * R;
  }
  if (total > Number.MAX_SAFE_INTEGER) throw new InvalidOptionError(`DBSCAN: eps ${eps} is tiny for the data's extent (grid of ${total.toExponential(2)} cells); scale the features first`);
  const keyOf = (i: number): number => {
    let k = 0;
    for (let d = 0; d < dims; d++) k += (cellCoord[i * dims + d] + R) * stride[d];
    return k;
  };
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = keyOf(i);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const cellStart: number[] = [];
  const cellKey: number[] = [];
  const cellOfPoint = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    if (j === 0 || keys[order[j]] !== keys[order[j - 1]]) {
      cellStart.push(j);
      cellKey.push(keys[order[j]]);
    }
    cellOfPoint[order[j]] = cellStart.length - 1;
  }
  const cellCount = cellStart.length;
  cellStart.push(n);
  const members = Int32Array.from(order);
  const cellIndex = new Map<number, number>(cellKey.map((k, c) => [k, c]));
  // Neighbour offsets whose closest approach is within eps.
  const offsets: number[] = [];
  const rec = (d: number, key: number, gap2: number): void => {
    if (d === dims) {
      if (gap2 <= eps2 * (1 + 1e-12)) offsets.push(key);
      return;
    }
    for (let o = -R; o <= R; o++) {
      const g = Math.max(Math.abs(o) - 1, 0) * side;
      rec(d + 1, key + o * stride[d], gap2 + g * g);
    }
  };
  rec(0, 0, 0);
  const neighbourCells: Int32Array[] = new Array(cellCount);
  for (let c = 0; c < cellCount; c++) {
    const list: number[] = [];
    for (const off of offsets) {
      const other = cellIndex.get(cellKey[c] + off);
      if (other !== undefined) list.push(other);
    }
    neighbourCells[c] = Int32Array.from(list);
  }
  const dist2 = (a: number, b: number): number => {
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const t = points[a * dims + d] - points[b * dims + d];
      s += t * t;
    }
    return s;
  };
  // 1. Core points.
  const isCore = new Uint8Array(n);
  for (let c = 0; c < cellCount; c++) {
    if ((c & 1023) === 0) throwIfCancelled(ctx, 'DBSCAN');
    const a0 = cellStart[c], a1 = cellStart[c + 1];
    if (a1 - a0 >= minSamples) {
      for (let j = a0; j < a1; j++) isCore[members[j]] = 1;
      continue;
    }
    for (let j = a0; j < a1; j++) {
      const p = members[j];
      let count = 0;
      for (const nc of neighbourCells[c]) {
        for (let q = cellStart[nc]; q < cellStart[nc + 1] && count < minSamples; q++) if (dist2(p, members[q]) <= eps2) count++;
        if (count >= minSamples) break;
      }
      if (count >= minSamples) isCore[p] = 1;
    }
  }
  // 2. Connected core cells (union–find over cells).
  const parent = Int32Array.from({ length: cellCount }, (_, c) => c);
  const find = (c: number): number => {
    while (parent[c] !== c) {
      parent[c] = parent[parent[c]];
      c = parent[c];
    }
    return c;
  };
  const coresOf: Int32Array[] = new Array(cellCount);
  for (let c = 0; c < cellCount; c++) {
    const list: number[] = [];
    for (let j = cellStart[c]; j < cellStart[c + 1]; j++) if (isCore[members[j]]) list.push(members[j]);
    coresOf[c] = Int32Array.from(list);
  }
  for (let c = 0; c < cellCount; c++) {
    if ((c & 1023) === 0) throwIfCancelled(ctx, 'DBSCAN');
    const A = coresOf[c];
    if (A.length === 0) continue;
    for (const nc of neighbourCells[c]) {
      if (nc <= c || coresOf[nc].length === 0 || find(nc) === find(c)) continue;
      const Bc = coresOf[nc];
      let linked = false;
      for (let i = 0; i < A.length && !linked; i++) for (let j = 0; j < Bc.length; j++) if (dist2(A[i], Bc[j]) <= eps2) { linked = true; break; }
      if (linked) parent[find(nc)] = find(c);
    }
  }
  // 3. Cluster numbers in the order of each cluster's lowest-index core point.
  const labels = new Int32Array(n).fill(-1);
  const rootLabel = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (!isCore[i]) continue;
    const root = find(cellOfPoint[i]);
    let l = rootLabel.get(root);
    if (l === undefined) {
      l = rootLabel.size;
      rootLabel.set(root, l);
    }
    labels[i] = l;
  }
  // 4. Border points: the lowest-numbered cluster with a core point within eps.
  for (let p = 0; p < n; p++) {
    if (isCore[p]) continue;
    let best = -1;
    for (const nc of neighbourCells[cellOfPoint[p]]) {
      const A = coresOf[nc];
      if (A.length === 0) continue;
      const l = labels[A[0]];
      if (best !== -1 && l >= best) continue;
      for (let j = 0; j < A.length; j++) if (dist2(p, A[j]) <= eps2) { best = l; break; }
    }
    labels[p] = best;
  }
  return { labels, isCore, clusterCount: rootLabel.size };
}
