// Type-only import: grid-spec.ts pulls in crs.ts and proj4, which every worker would then have to
// load at start-up for two one-line formulas (cell centres, written out below).
import type { GridSpec } from '../grid/grid-spec.ts';
import { KrigingPredictor, type PredictionOutput } from './kriging-predictor.ts';
import type { PreparedKriging } from './prepare-samples.ts';

/** The part of PreparedKriging a prediction worker needs (the fits stay on the main thread). */
export type PredictionData = Pick<PreparedKriging, 'origin' | 'x' | 'y' | 'groups' | 'options'> & { readonly grid: GridSpec };

/** One unit of work: rows [rowStart, rowEnd) of one variable group. */
export interface BlockTask {
  readonly group: number;
  readonly rowStart: number;
  readonly rowEnd: number;
}

export interface BlockResult {
  readonly group: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  /** Field-major: field f, row r, col c at (f·rows + (r − rowStart))·cols + c. */
  readonly pred: Float32Array;
  readonly variance: Float32Array;
  /** Cells left NaN for too few neighbours, per field of the group. */
  readonly tooFew: number[];
}

/**
 * Keeps the predictor of the last group used by this thread. Tasks arrive group by group, so
 * consecutive blocks of one group reuse it (and, in global kriging, its n×n factorisation), while
 * at most one group's matrices are held at a time (39 global factors of 2,000 points would be 1.2 GB).
 */
export class PredictorCache {
  private group = -1;
  private predictor: KrigingPredictor | null = null;
  constructor(private readonly data: PredictionData) {}
  get(group: number): KrigingPredictor {
    let p = this.group === group ? this.predictor : null;
    if (!p) {
      this.predictor = null;
      const g = this.data.groups[group];
      const gx = Float64Array.from(g.pointIndex, (i) => this.data.x[i]);
      const gy = Float64Array.from(g.pointIndex, (i) => this.data.y[i]);
      const o = this.data.options;
      p = new KrigingPredictor(gx, gy, g.fields, { nmax: o.nmax, nmin: o.nmin, maxDistM: o.maxDistM, mean: o.mean, maxGlobalPoints: o.maxGlobalPoints }, this.data.origin);
      this.predictor = p;
      this.group = group;
    }
    return p;
  }
}

/** Predicts one block of rows; `progress` gets the fraction of the block done, `checkCancel` runs once per row. */
export function predictBlock(data: PredictionData, cache: PredictorCache, task: BlockTask, progress?: (f: number) => void, checkCancel?: () => void): BlockResult {
  const { grid, origin } = data;
  const predictor = cache.get(task.group);
  const nf = predictor.fields.length;
  const rows = task.rowEnd - task.rowStart;
  const cols = grid.cols;
  const pred = new Float32Array(nf * rows * cols);
  const variance = new Float32Array(nf * rows * cols);
  const tooFew = new Array<number>(nf).fill(0);
  const out: PredictionOutput = { pred: new Float64Array(nf), variance: new Float64Array(nf), lagrange: new Float64Array(nf) };
  const log = data.options.log;
  const nmin = data.options.nmin;
  // Serpentine order: consecutive cells are neighbours, so their neighbour sets (and the cached
  // factorisations) coincide more often.
  for (let r = 0; r < rows; r++) {
    checkCancel?.();
    // A fresh factorisation per row makes every row's numbers independent of how rows are
    // split into blocks and threads (same inputs → same output, whatever the thread count).
    predictor.resetFactor();
    const row = task.rowStart + r;
    const qy = grid.originY - (row + 0.5) * grid.cellSizeY - origin.y; // cellCenterY
    const reverse = (r & 1) === 1;
    predictor.setTravelDirection(reverse ? -1 : 1, 0);
    for (let cc = 0; cc < cols; cc++) {
      const c = reverse ? cols - 1 - cc : cc;
      const k = predictor.predict(grid.originX + (c + 0.5) * grid.cellSizeX - origin.x, qy, out); // cellCenterX
      const short = k < nmin || k === 0;
      for (let f = 0; f < nf; f++) {
        const at = (f * rows + r) * cols + c;
        if (short) tooFew[f]++;
        const v = out.variance[f];
        // Lognormal back-transform (Cressie 1993, §3.2.2): exp(ŷ + σ²/2 + m) with m the Lagrange
        // multiplier in the system C·λ + m·1 = c (m = 0 in simple kriging).
        pred[at] = log ? Math.exp(out.pred[f] + v / 2 + out.lagrange[f]) : out.pred[f];
        variance[at] = v;
      }
    }
    progress?.((r + 1) / rows);
  }
  return { group: task.group, rowStart: task.rowStart, rowEnd: task.rowEnd, pred, variance, tooFew };
}
