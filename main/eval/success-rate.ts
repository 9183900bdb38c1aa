import { EmptyInputError, InvalidOptionError } from '../errors.ts';

/**
 * Map-level evaluation of a prospectivity (probability) or anomaly map against known deposits:
 * success-rate curve, prediction–area (P–A) plot and its intersection, and the ROC AUC of the
 * map. Deposits used here should be held out from training; cells of training sites are
 * excluded from the evaluation area altogether (they would otherwise be scored on their own
 * training labels).
 *
 * Definitions (cells with NaN score and excluded cells are outside the study area):
 * - success-rate curve (Chung & Fabbri 2003): rank cells by decreasing score; x = share of the
 *   area in cells with score ≥ t, y = share of deposits in those cells. Cells of equal score
 *   enter together (a diagonal step). Several deposits in one cell count separately.
 * - `successRate.auc`: the area under that curve (0.5 for a random map, 1 when every deposit
 *   is in the top-scoring cell).
 * - `auc`: the ROC AUC with deposit cells as positives and every other cell of the study area as
 *   negatives (a cell holding several deposits counts once); ties count one half, as sklearn.
 *   It differs from `successRate.auc` only in that x excludes the deposit cells themselves.
 * - P–A plot (Yousefi & Carranza 2015): against the threshold t, the prediction rate P(t) =
 *   share of deposits in cells with score ≥ t, and the occupied area share of cells with
 *   score < t (so the two cross). At the intersection P = 1 − areaAbove: that share of the
 *   deposits lies in that share of the area; normalized density P / areaAbove and its
 *   logarithm (the evidential weight) summarise the map.
 *
 * O(n log n) in the number of cells (native Float64Array sorts, then linear walks).
 */

export interface MapEvaluationOptions {
  /** Cells to leave out of the study area (1/true = excluded), e.g. training-site cells. */
  readonly exclude?: ArrayLike<number | boolean>;
  /** Number of evenly spaced thresholds in the returned P–A curve (the intersection is exact). @default 101 */
  readonly paPoints?: number;
}

export interface SuccessRateCurve {
  /** Share of the study area with score ≥ threshold, increasing from 0 to 1 (corners only). */
  readonly areaShare: number[];
  /** Share of deposits in that area. */
  readonly depositShare: number[];
  /** Score threshold of each point; thresholds[0] = max score + 1 (empty area). */
  readonly thresholds: number[];
  /** Area under the success-rate curve. */
  readonly auc: number;
}

export interface PredictionAreaCurve {
  /** Evenly spaced score thresholds from the minimum to the maximum score. */
  readonly thresholds: number[];
  /** Share of deposits in cells with score ≥ threshold. */
  readonly predictionRate: number[];
  /** Share of the study area in cells with score < threshold (the P–A plot's area curve). */
  readonly occupiedArea: number[];
}

export interface PaIntersection {
  /** Score threshold where the prediction rate meets the occupied-area curve (interpolated). */
  readonly threshold: number;
  /** Share of deposits captured at that threshold. */
  readonly predictionRate: number;
  /** Share of the area above it (= 1 − predictionRate at the intersection). */
  readonly areaShare: number;
  /** predictionRate / areaShare. */
  readonly normalizedDensity: number;
  /** ln(normalizedDensity), the evidential weight of the map. */
  readonly weight: number;
}

export interface MapEvaluation {
  readonly auc: number;
  readonly successRate: SuccessRateCurve;
  readonly pa: PredictionAreaCurve;
  readonly paIntersection: PaIntersection;
  readonly counts: {
    /** Cells with a finite score and not excluded. */
    readonly studyCells: number;
    readonly excludedCells: number;
    /** Deposits given (one cell index each). */
    readonly deposits: number;
    /** Deposits in study cells (the ones evaluated). */
    readonly depositsUsed: number;
    /** Distinct study cells holding at least one deposit. */
    readonly depositCells: number;
    readonly depositsInNodata: number;
    readonly depositsExcluded: number;
  };
}

interface Cumulative {
  /** Distinct scores, decreasing. */
  readonly thresholds: Float64Array;
  /** Study cells with score ≥ thresholds[i]. */
  readonly cells: Float64Array;
  /** Deposits in those cells. */
  readonly deposits: Float64Array;
  /** Distinct deposit cells among them (the ROC positives). */
  readonly depositCells: Float64Array;
}

/**
 * One walk down the distinct scores. All three inputs are sorted here (ascending, native
 * Float64Array sort); studyScores is the expensive one (every cell), the others are small.
 */
function cumulative(studyScores: Float64Array, depositScores: Float64Array, depositCellScores: Float64Array): Cumulative {
  studyScores.sort();
  depositScores.sort();
  depositCellScores.sort();
  const n = studyScores.length;
  const thresholds = new Float64Array(n);
  const cells = new Float64Array(n);
  const deposits = new Float64Array(n);
  const depositCells = new Float64Array(n);
  let m = 0;
  let ic = n - 1;
  let id = depositScores.length - 1;
  let iu = depositCellScores.length - 1;
  while (ic >= 0) {
    const v = studyScores[ic];
    while (ic >= 0 && studyScores[ic] === v) ic--;
    while (id >= 0 && depositScores[id] === v) id--;
    while (iu >= 0 && depositCellScores[iu] === v) iu--;
    thresholds[m] = v;
    cells[m] = n - 1 - ic;
    deposits[m] = depositScores.length - 1 - id;
    depositCells[m] = depositCellScores.length - 1 - iu;
    m++;
  }
  return {
    thresholds: thresholds.subarray(0, m),
    cells: cells.subarray(0, m),
    deposits: deposits.subarray(0, m),
    depositCells: depositCells.subarray(0, m),
  };
}

/**
 * ROC AUC of deposit cells against the other study cells from the cumulative counts: the
 * trapezoid area accumulated in integers and divided once (as rocAuc in metrics.ts, which the
 * tests compare it with), without a second sort of every cell.
 */
function rocAucFromCumulative(c: Cumulative): number {
  const m = c.thresholds.length;
  const positives = c.depositCells[m - 1];
  const negatives = c.cells[m - 1] - positives;
  let twice = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < m; i++) {
    const tp = c.depositCells[i];
    const fp = c.cells[i] - tp;
    twice += (fp - prevFp) * (prevTp + tp);
    prevTp = tp;
    prevFp = fp;
  }
  return twice / (2 * positives * negatives);
}

function successRate(c: Cumulative, totalCells: number, totalDeposits: number): SuccessRateCurve {
  const m = c.thresholds.length;
  // Corners only: drop points on straight segments (as sklearn's drop_intermediate).
  const keep: number[] = [0];
  for (let i = 1; i < m - 1; i++) {
    const d2c = c.cells[i + 1] - 2 * c.cells[i] + c.cells[i - 1];
    const d2d = c.deposits[i + 1] - 2 * c.deposits[i] + c.deposits[i - 1];
    if (d2c !== 0 || d2d !== 0) {
      // Along a run of cells without deposits the curve is horizontal whatever the cell counts.
      const flat = c.deposits[i + 1] === c.deposits[i] && c.deposits[i] === c.deposits[i - 1];
      if (!flat) keep.push(i);
    }
  }
  if (m > 1) keep.push(m - 1);
  const areaShare = [0];
  const depositShare = [0];
  const thresholds = [c.thresholds[0] + 1];
  for (const i of keep) {
    areaShare.push(c.cells[i] / totalCells);
    depositShare.push(c.deposits[i] / totalDeposits);
    thresholds.push(c.thresholds[i]);
  }
  // Exact trapezoid area in integers: Σ Δcells · (D_prev + D_cur), divided once.
  let twice = 0;
  let prevCells = 0;
  let prevDep = 0;
  for (let i = 0; i < m; i++) {
    twice += (c.cells[i] - prevCells) * (prevDep + c.deposits[i]);
    prevCells = c.cells[i];
    prevDep = c.deposits[i];
  }
  return { areaShare, depositShare, thresholds, auc: twice / (2 * totalCells * totalDeposits) };
}

/** Index of the last threshold ≥ t in the decreasing list (−1 when t is above all). */
function countAtOrAbove(thresholds: Float64Array, t: number): number {
  let lo = 0;
  let hi = thresholds.length; // first index with thresholds[i] < t
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (thresholds[mid] >= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function predictionArea(c: Cumulative, totalCells: number, totalDeposits: number, points: number): PredictionAreaCurve {
  const m = c.thresholds.length;
  const max = c.thresholds[0];
  const min = c.thresholds[m - 1];
  const thresholds: number[] = [];
  const predictionRate: number[] = [];
  const occupiedArea: number[] = [];
  for (let k = 0; k < points; k++) {
    const t = points === 1 || max === min ? min : min + ((max - min) * k) / (points - 1);
    const i = countAtOrAbove(c.thresholds, t);
    const cells = i < 0 ? 0 : c.cells[i];
    const dep = i < 0 ? 0 : c.deposits[i];
    thresholds.push(t);
    predictionRate.push(dep / totalDeposits);
    occupiedArea.push(1 - cells / totalCells);
  }
  return { thresholds, predictionRate, occupiedArea };
}

/**
 * Where P(t) = 1 − A(t), A = area share at or above t. Walking thresholds downwards,
 * g = P + A − 1 rises from < 0 to 0 at the lowest threshold (P = A = 1); the crossing is
 * interpolated linearly in g between the two bracketing thresholds.
 */
function paIntersectionOf(c: Cumulative, totalCells: number, totalDeposits: number): PaIntersection {
  const m = c.thresholds.length;
  let prevG = -1;
  let prevT = c.thresholds[0] + 1; // empty area above the maximum
  let prevP = 0;
  let prevA = 0;
  for (let i = 0; i < m; i++) {
    const p = c.deposits[i] / totalDeposits;
    const a = c.cells[i] / totalCells;
    const g = p + a - 1;
    if (g >= 0) {
      const f = g === prevG ? 1 : (0 - prevG) / (g - prevG);
      const threshold = prevT + f * (c.thresholds[i] - prevT);
      const predictionRate = prevP + f * (p - prevP);
      const areaShare = prevA + f * (a - prevA);
      const normalizedDensity = predictionRate / areaShare;
      return { threshold, predictionRate, areaShare, normalizedDensity, weight: Math.log(normalizedDensity) };
    }
    prevG = g;
    prevT = c.thresholds[i];
    prevP = p;
    prevA = a;
  }
  // Unreachable: at the lowest threshold P = A = 1, g = 1.
  throw new InvalidOptionError('P–A intersection not found');
}

/**
 * Evaluates a score map against deposits. `scores` is the map, row-major, NaN = nodata;
 * `depositCells` holds one cell index per deposit (repeat an index for several deposits in a cell).
 */
export function evaluateMap(scores: ArrayLike<number>, depositCells: readonly number[], options: MapEvaluationOptions = {}): MapEvaluation {
  const paPoints = options.paPoints ?? 101;
  if (!Number.isInteger(paPoints) || paPoints < 2) throw new InvalidOptionError(`paPoints = ${paPoints}; expected an integer ≥ 2`);
  const n = scores.length;
  const exclude = options.exclude;
  if (exclude && exclude.length !== n) {
    throw new InvalidOptionError(`exclusion mask has ${exclude.length} cells but the map has ${n}; both must be on one grid`);
  }
  const isExcluded = (i: number): boolean => !!exclude && !!exclude[i];
  const depositsPerCell = new Map<number, number>();
  let depositsInNodata = 0;
  let depositsExcluded = 0;
  for (const cell of depositCells) {
    if (!Number.isInteger(cell) || cell < 0 || cell >= n) {
      throw new InvalidOptionError(`deposit cell index ${cell} is outside the map's ${n} cells`);
    }
    if (!Number.isFinite(scores[cell])) depositsInNodata++;
    else if (isExcluded(cell)) depositsExcluded++;
    else depositsPerCell.set(cell, (depositsPerCell.get(cell) ?? 0) + 1);
  }
  let studyCells = 0;
  let excludedCells = 0;
  for (let i = 0; i < n; i++) {
    if (isExcluded(i)) excludedCells++;
    else if (Number.isFinite(scores[i])) studyCells++;
  }
  const depositsUsed = depositCells.length - depositsInNodata - depositsExcluded;
  if (depositsUsed === 0) {
    throw new EmptyInputError(
      'deposits',
      `none of the ${depositCells.length} deposit(s) falls in a scored cell of the study area ` +
        `(${depositsInNodata} on nodata, ${depositsExcluded} in excluded training-site cells)`,
      'Give deposits that lie on the map and were not used for training',
      { deposits: depositCells.length, depositsInNodata, depositsExcluded },
    );
  }
  if (studyCells === depositsPerCell.size) {
    throw new EmptyInputError('map', 'every cell of the study area holds a deposit; there is no background to rank against', 'Evaluate over a larger area');
  }
  const studyScores = new Float64Array(studyCells);
  const depositScores = new Float64Array(depositsUsed);
  const depositCellScores = new Float64Array(depositsPerCell.size);
  let k = 0;
  for (let i = 0; i < n; i++) if (!isExcluded(i) && Number.isFinite(scores[i])) studyScores[k++] = scores[i];
  k = 0;
  let u = 0;
  for (const [cell, count] of depositsPerCell) {
    depositCellScores[u++] = scores[cell];
    for (let j = 0; j < count; j++) depositScores[k++] = scores[cell];
  }
  const c = cumulative(studyScores, depositScores, depositCellScores);
  const auc = rocAucFromCumulative(c);
  return {
    auc,
    successRate: successRate(c, studyCells, depositsUsed),
    pa: predictionArea(c, studyCells, depositsUsed, paPoints),
    paIntersection: paIntersectionOf(c, studyCells, depositsUsed),
    counts: {
      studyCells,
      excludedCells,
      deposits: depositCells.length,
      depositsUsed,
      depositCells: depositsPerCell.size,
      depositsInNodata,
      depositsExcluded,
    },
  };
}
