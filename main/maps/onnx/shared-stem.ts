/**
 * Names, index layout and tap classes shared by the exporter of the shared-stem graphs
 * (export-model.ts, buildTileModels) and the runtime that feeds them (onnx-classifier.ts). Kept out
 * of export-model.ts because that module loads tfjs, and prediction workers of the onnx engine
 * must not.
 */
/** Input of the stem graph: one padded tile, NHWC [1, rows, cols, C]. */
export const TILE_INPUT = 'tile';
/** Output of the stem graph / input of the head graph: the stem's class maps [classes, rows, cols, F] (head: [classes·rows·cols, F]). */
export const STEM_MAPS = 'stem_maps';
/** Input of the head graph: int32 [batch, k, k], the row of STEM_MAPS each window position reads. */
export const WINDOW_INDEX = 'window_index';

/**
 * How the head graph reads the shared maps (what the runtime needs to build WINDOW_INDEX).
 *
 * The stem graph of a tile (padded rows × cols) emits, per class g, the map of the rows
 * Y ∈ [rowRange[g][0], R − 1 + rowRange[g][1]] and columns X ∈ [colRange[g][0], Cw − 1 + colRange[g][1]]
 * of the tile (R = rows − window + 1 window rows, Cw = cols − window + 1 window columns), i.e.
 * exactly where some window reads class g, as a [Hg·Wg, filters] block; the blocks of all classes
 * follow each other in STEM_MAPS. Window (rr, c) reads position q = (qy, qx) from class
 * g = positionClass[q] at row base(g) + (rr + qy − rowRange[g][0])·Wg + (c + qx − colRange[g][0]).
 */
export interface StemSharing {
  /** Window rows and columns (the model input's spatial size). */
  readonly windowRows: number;
  readonly windowCols: number;
  /** Input bands (the tile's channels, before the zero channels the graph appends). */
  readonly channels: number;
  /** Channels of the shared maps (F). */
  readonly filters: number;
  /** Layers computed once per tile: 1 = the stem, 2 = the stem and the first stage's convolution. */
  readonly sharedLayers: number;
  /** Window positions gathered per window (the head's input rows × cols). */
  readonly positionRows: number;
  readonly positionCols: number;
  /** Class of each gathered position, row-major [positionRows · positionCols]. */
  readonly positionClass: number[];
  /** Per class: the first and last window row / column position q that reads it. */
  readonly rowRange: [number, number][];
  readonly colRange: [number, number][];
}

/** Where each window position reads the shared maps of a tile of `rows` × `cols` padded cells (see StemSharing). */
export function windowIndexPlan(s: StemSharing, rows: number, cols: number): { offset: Int32Array; rowStride: Int32Array; cells: number } {
  const wr = rows - s.windowRows + 1;
  const wc = cols - s.windowCols + 1;
  const n = s.rowRange.length;
  const base = new Int32Array(n);
  const width = new Int32Array(n);
  let cells = 0;
  for (let g = 0; g < n; g++) {
    base[g] = cells;
    width[g] = wc + s.colRange[g][1] - s.colRange[g][0];
    cells += (wr + s.rowRange[g][1] - s.rowRange[g][0]) * width[g];
  }
  const kk = s.positionRows * s.positionCols;
  const offset = new Int32Array(kk);
  const rowStride = new Int32Array(kk);
  for (let qy = 0, q = 0; qy < s.positionRows; qy++)
    for (let qx = 0; qx < s.positionCols; qx++, q++) {
      const g = s.positionClass[q];
      offset[q] = base[g] + (qy - s.rowRange[g][0]) * width[g] + (qx - s.colRange[g][0]);
      rowStride[q] = width[g];
    }
  return { offset, rowStride, cells };
}

/**
 * Tap classes along one axis of a k-cell window for a kernel of half-width `half`: position p
 * sums the taps d ∈ [max(−half, −p), min(half, k − 1 − p)] ('same' zero padding at the WINDOW
 * border drops the others). Positions with the same range share a class: for 3×3 and k ≥ 3 the
 * classes are "first" (no d = −1), "middle" and "last" (no d = +1).
 */
export function tapClasses(k: number, half: number): { ranges: [number, number][]; classOf: number[] } {
  const ranges: [number, number][] = [];
  const classOf: number[] = [];
  for (let p = 0; p < k; p++) {
    const lo = Math.max(-half, -p) || 0; // no −0 (p = 0)
    const hi = Math.min(half, k - 1 - p);
    let c = ranges.findIndex(([a, b]) => a === lo && b === hi);
    if (c < 0) c = ranges.push([lo, hi]) - 1;
    classOf.push(c);
  }
  return { ranges, classOf };
}

/** A piece of a composite class along one axis: taps d0 … d1 of the second convolution read stem class `stemClass`. */
export interface AxisPiece {
  readonly stemClass: number;
  readonly d0: number;
  readonly d1: number;
}

/**
 * Classes of a second 'same' convolution (half-width `half2`) over the stem's k-cell output along
 * one axis, for its output positions 0 … used − 1: position q sums the taps
 * d ∈ [max(−half2, −q), min(half2, k − 1 − q)], and tap d reads the stem at q + d, whose own
 * class is stem.classOf[q + d]. Positions with the same list of (tap, stem class) share a class;
 * its pieces group the consecutive taps that read the same stem class. (For 3×3 convolutions,
 * k = 9 and 8 used positions: q = 0, q = 1, q = 2…6, q = 7.)
 */
export function compositeClasses(k: number, stemClassOf: readonly number[], half2: number, used: number): { pieces: AxisPiece[][]; classOf: number[]; range: [number, number][] } {
  const keys: string[] = [];
  const pieces: AxisPiece[][] = [];
  const range: [number, number][] = [];
  const classOf: number[] = [];
  for (let q = 0; q < used; q++) {
    const lo = Math.max(-half2, -q) || 0;
    const hi = Math.min(half2, k - 1 - q);
    const list: AxisPiece[] = [];
    for (let d = lo; d <= hi; d++) {
      const sc = stemClassOf[q + d];
      const last = list[list.length - 1];
      if (last && last.stemClass === sc && last.d1 === d - 1) list[list.length - 1] = { stemClass: sc, d0: last.d0, d1: d };
      else list.push({ stemClass: sc, d0: d, d1: d });
    }
    const key = JSON.stringify(list);
    let c = keys.indexOf(key);
    if (c < 0) {
      c = keys.push(key) - 1;
      pieces.push(list);
      range.push([q, q]);
    }
    range[c][1] = q;
    classOf.push(c);
  }
  return { pieces, classOf, range };
}
