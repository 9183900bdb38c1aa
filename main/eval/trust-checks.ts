/**
 * Checks that say when a result should not be trusted, each with the fix (a flag that exists).
 *
 * Every step runs the checks that apply to its result and passes the warnings on unchanged:
 * the CLI prints them on stderr ("warning [code]: message Fix: …"), the app shows them in the
 * job log (the CLI's stderr lines) and in the result (they are written into the step's JSON
 * output: faults --report, RUN_DIR/manifest.json `warnings`, predict's summary), and the run
 * report lists them. The thresholds are defined once here, with the reason for each.
 */
import type { GridSpec } from '../grid/grid-spec.ts';

export type TrustWarningCode =
  | 'power-law-k-nonnegative'
  | 'power-law-low-r2'
  | 'predictions-collapse'
  | 'validation-never-improves'
  | 'kriging-extrapolation'
  | 'map-saturated';

export interface TrustWarning {
  readonly code: TrustWarningCode;
  /** The step that produced the result ('faults', 'train', 'krige', 'predict'). */
  readonly step: string;
  /** Which model / element / file the warning is about, when there are several. */
  readonly subject?: string;
  readonly message: string;
  /** What to do about it, naming real flags. */
  readonly fix: string;
  readonly details: Readonly<Record<string, number | string | boolean>>;
}

/** One line for the CLI and the job log. */
export function formatWarning(w: TrustWarning): string {
  return `warning [${w.code}]${w.subject ? ` ${w.subject}:` : ''} ${w.message} Fix: ${w.fix}`;
}

/**
 * R² below which a fitted power law is called weak. The demo survey's own fault control fits
 * R² ≈ 0.12 and a flat, uninformative weight map came from R² 0.003 (issue 20); 0.1 separates the two.
 */
export const MIN_POWER_LAW_R2 = 0.1;

/** The fault power law m(d) = N·d^k: density should FALL with distance (k < 0) and the fit should explain something. */
export function checkPowerLaw(fit: { readonly k: number; readonly r2: number; readonly N?: number }, minR2 = MIN_POWER_LAW_R2): TrustWarning[] {
  const out: TrustWarning[] = [];
  const noGeology = 'train without the geology term (--model cnn,dcn), or pass a known exponent (faults --k -0.5)';
  if (fit.k >= 0) {
    out.push({
      code: 'power-law-k-nonnegative',
      step: 'faults',
      message: `the fitted exponent k = ${fit.k.toFixed(4)} is ≥ 0: deposit density does not fall with distance to the faults, so the weight map does not express fault control (it rises away from faults or is flat).`,
      fix: `check the fault layer (faults --fault-threshold V for a continuous fault raster, --fault-where KEY=VALUE for favourable faults), try a wider ring (--ring METRES), or ${noGeology}.`,
      details: { k: fit.k, r2: fit.r2 },
    });
  }
  if (!(fit.r2 >= minR2)) {
    out.push({
      code: 'power-law-low-r2',
      step: 'faults',
      message: `the power law explains little of the ring densities (R² = ${Number.isFinite(fit.r2) ? fit.r2.toFixed(3) : String(fit.r2)} < ${minR2}); the weight map is close to a guess.`,
      fix: `use a wider ring (--ring METRES, e.g. two or three cells) or skip a flat near-fault zone (--min-ring N), or ${noGeology}.`,
      details: { k: fit.k, r2: fit.r2, minR2 },
    });
  }
  return out;
}

/**
 * Share of samples on one side of the threshold above which the predictions are called
 * collapsed: 0.98 leaves room for one or two stray samples in a 100-sample fold.
 */
export const COLLAPSE_SHARE = 0.98;

/** A model that puts (almost) every sample in one class. */
export function checkPredictionCollapse(scores: ArrayLike<number>, threshold: number, subject?: string, share = COLLAPSE_SHARE): TrustWarning[] {
  const n = scores.length;
  if (n === 0) return [];
  let pos = 0;
  for (let i = 0; i < n; i++) if (scores[i] >= threshold) pos++;
  const major = Math.max(pos, n - pos) / n;
  if (major < share) return [];
  const cls = pos >= n - pos ? 'deposit' : 'non-deposit';
  return [
    {
      code: 'predictions-collapse',
      step: 'train',
      ...(subject ? { subject } : {}),
      message: `${(major * 100).toFixed(1)}% of ${n} samples are predicted "${cls}" at threshold ${threshold.toFixed(3)}: the model predicts one class, so accuracy is the class share and kappa, MCC and F1 carry no skill.`,
      fix: 'train longer before early stopping acts (--min-epochs N, --patience N), lower the learning rate (--lr 0.0003), use an F1-optimal threshold (--threshold f1-optimal), or add sites.',
      details: { samples: n, predictedPositive: pos, share: major, threshold },
    },
  ];
}

/** A fold whose held-out samples are all on one side of its threshold (else, without scores: kappa = MCC = 0). */
function foldCollapsed(f: { readonly metrics: { readonly kappa: number; readonly mcc: number }; readonly testScores?: readonly number[]; readonly threshold?: number }, share: number): boolean {
  const s = f.testScores;
  if (s && s.length > 0 && f.threshold !== undefined) {
    const pos = s.filter((v) => v >= f.threshold!).length;
    return Math.max(pos, s.length - pos) / s.length >= share;
  }
  return f.metrics.kappa === 0 && f.metrics.mcc === 0;
}

/**
 * The same on cross-validation folds: warns when at least half the folds predict (almost, share
 * COLLAPSE_SHARE) one class for every held-out sample, so their kappa and MCC are 0.
 */
export function checkFoldCollapse(
  folds: readonly { readonly metrics: { readonly kappa: number; readonly mcc: number }; readonly testScores?: readonly number[]; readonly threshold?: number }[],
  subject?: string,
  share = COLLAPSE_SHARE,
): TrustWarning[] {
  if (folds.length === 0) return [];
  const collapsed = folds.filter((f) => foldCollapsed(f, share)).length;
  if (collapsed * 2 < folds.length) return [];
  return [
    {
      code: 'predictions-collapse',
      step: 'train',
      ...(subject ? { subject } : {}),
      message: `${collapsed} of ${folds.length} cross-validation folds predict a single class for (almost) every held-out sample, so their accuracy is the class share and kappa, MCC, precision, recall and F1 carry no skill.`,
      fix: 'train longer before early stopping acts (--min-epochs N, --patience N), lower the learning rate (--lr 0.0003), use --threshold f1-optimal, or add sites.',
      details: { folds: folds.length, collapsed },
    },
  ];
}

/**
 * A learning curve whose validation loss never goes (meaningfully) below its first epoch:
 * the kept weights are then the first epoch's, barely trained. 1% counts as improvement.
 */
export function checkValidationImproves(history: readonly { readonly epoch: number; readonly valLoss?: number }[], subject?: string): TrustWarning[] {
  const v = history.filter((h) => h.valLoss !== undefined).map((h) => h.valLoss!);
  if (v.length < 2) return [];
  const best = Math.min(...v.slice(1));
  if (best < v[0] * 0.99) return [];
  return [
    {
      code: 'validation-never-improves',
      step: 'train',
      ...(subject ? { subject } : {}),
      message: `the validation loss never improved on epoch 1 (${v[0].toFixed(4)}; best later ${best.toFixed(4)} over ${v.length} epochs): the model learned nothing that carries to held-out sites.`,
      fix: 'lower the learning rate (--lr 0.0003) with a schedule (--lr-schedule plateau), add augmentation (--augment dihedral), hold out more sites (--val-fraction 0.3), or check the sites and stack.',
      details: { epochs: v.length, first: v[0], best },
    },
  ];
}

/**
 * The same on cross-validation folds, which keep no curve but their kept epoch: a fold whose
 * kept epoch is the first one early stopping could choose (epoch `minEpochs`, 1 by default) saw
 * no validation improvement after it. Warns when at least half the folds are such.
 */
export function checkFoldValidation(folds: readonly { readonly bestEpoch: number }[], minEpochs: number, epochs: number, subject?: string): TrustWarning[] {
  const first = Math.max(1, Math.min(minEpochs, epochs));
  // With a single eligible epoch there is nothing to improve on.
  if (folds.length === 0 || first >= epochs) return [];
  const stuck = folds.filter((f) => f.bestEpoch <= first).length;
  if (stuck * 2 < folds.length) return [];
  const kept = folds.map((f) => f.bestEpoch);
  return [
    {
      code: 'validation-never-improves',
      step: 'train',
      ...(subject ? { subject } : {}),
      message: `${stuck} of ${folds.length} cross-validation folds kept epoch ${first}, the first early stopping could keep (kept epochs: ${kept.join(', ')}): their validation loss never improved after it, so those models are barely trained.`,
      fix: `let early stopping act later (--min-epochs ${Math.max(10, 2 * first)}) with more patience (--patience N), lower the learning rate with a schedule (--lr 0.0003 --lr-schedule plateau), or hold out more sites for validation (--val-fraction 0.3).`,
      details: { folds: folds.length, stuck, firstEligibleEpoch: first },
    },
  ];
}

/** Convex hull (Andrew's monotone chain; ~20 lines, not worth a dependency), counter-clockwise, no repeated end point. */
export function convexHull(xs: ArrayLike<number>, ys: ArrayLike<number>): [number, number][] {
  const pts: [number, number][] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push([xs[i], ys[i]]);
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Inside (or on) a counter-clockwise convex polygon. */
function insideConvex(hull: readonly [number, number][], x: number, y: number): boolean {
  if (hull.length < 3) return false;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    if ((b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) < -1e-9 * (Math.abs(x) + Math.abs(y) + 1)) return false;
  }
  return true;
}

/**
 * Distance beyond which a variogram model says samples no longer inform a cell: the range of a
 * spherical model, 3a for exponential and √3a for gaussian (95% of the sill, gstat's a; see
 * main/kriging/variogram-model.ts), the major range under anisotropy. A pure nugget informs no
 * other point: Infinity, so only the convex hull counts.
 */
export function practicalRangeM(m: { readonly type: string; readonly rangeM: number }): number {
  if (m.type === 'exp') return 3 * m.rangeM;
  if (m.type === 'gau') return Math.sqrt(3) * m.rangeM;
  if (m.type === 'sph' && m.rangeM > 0) return m.rangeM;
  return Infinity;
}

/** Share of kriged cells beyond which the layer is called mostly extrapolation. */
export const MAX_EXTRAPOLATED_SHARE = 0.2;

export interface ExtrapolationSummary {
  /** Cells whose centre is outside the samples' convex hull. */
  readonly outsideHull: number;
  /** Cells whose nearest sample is farther than `farM`. */
  readonly beyondRange: number;
  readonly cells: number;
  /** Per cell: 1 outside the hull or beyond range, else 0 (row-major), for a mask layer. */
  readonly mask: Uint8Array;
}

/**
 * Where a kriged grid is extrapolation: cells outside the convex hull of the samples, or whose
 * nearest sample is farther than `farM` (the variogram range: beyond it ordinary kriging returns
 * the local mean with the sill as variance). Nearest distances use a bucket grid of `farM` cells.
 */
export function extrapolationSummary(grid: GridSpec, xs: ArrayLike<number>, ys: ArrayLike<number>, farM: number): ExtrapolationSummary {
  const hull = convexHull(xs, ys);
  const { rows, cols } = grid;
  const mask = new Uint8Array(rows * cols);
  const buckets = new Map<string, number[]>();
  const key = (bx: number, by: number): string => `${bx},${by}`;
  for (let i = 0; i < xs.length; i++) {
    const k = key(Math.floor(xs[i] / farM), Math.floor(ys[i] / farM));
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = []));
    b.push(i);
  }
  let outsideHull = 0;
  let beyondRange = 0;
  const far2 = farM * farM;
  for (let r = 0; r < rows; r++) {
    const y = grid.originY - (r + 0.5) * grid.cellSizeY;
    for (let c = 0; c < cols; c++) {
      const x = grid.originX + (c + 0.5) * grid.cellSizeX;
      const out = !insideConvex(hull, x, y);
      let near = false;
      const bx = Math.floor(x / farM);
      const by = Math.floor(y / farM);
      for (let dy = -1; dy <= 1 && !near; dy++) {
        for (let dx = -1; dx <= 1 && !near; dx++) {
          for (const i of buckets.get(key(bx + dx, by + dy)) ?? []) {
            const ex = xs[i] - x;
            const ey = ys[i] - y;
            if (ex * ex + ey * ey <= far2) {
              near = true;
              break;
            }
          }
        }
      }
      if (out) outsideHull++;
      if (!near) beyondRange++;
      if (out || !near) mask[r * cols + c] = 1;
    }
  }
  return { outsideHull, beyondRange, cells: rows * cols, mask };
}

export function checkKrigingExtrapolation(s: Pick<ExtrapolationSummary, 'outsideHull' | 'beyondRange' | 'cells'>, farM: number, subject?: string, maxShare = MAX_EXTRAPOLATED_SHARE): TrustWarning[] {
  const hullShare = s.outsideHull / s.cells;
  const rangeShare = s.beyondRange / s.cells;
  if (hullShare <= maxShare && rangeShare <= maxShare) return [];
  return [
    {
      code: 'kriging-extrapolation',
      step: 'krige',
      ...(subject ? { subject } : {}),
      message: `${(hullShare * 100).toFixed(1)}% of the cells lie outside the samples' convex hull and ${(rangeShare * 100).toFixed(1)}% are farther than the variogram range (${farM.toFixed(0)} m) from any sample: there the prediction is extrapolation (towards the local mean), not data.`,
      fix: `${Number.isFinite(farM) ? `leave them empty (krige --maxdist ${farM.toFixed(0)}), ` : ''}write and show the kriging variance (--variance VAR.tif) and the extrapolation mask (--extrapolation-mask MASK.tif), or restrict training and prediction to the sampled area (--mask AREA.tif).`,
      details: { cells: s.cells, outsideHull: s.outsideHull, beyondRange: s.beyondRange, rangeM: farM },
    },
  ];
}

/** Probabilities this close to 0 or 1 count as saturated; over this share of the grid the map is called saturated. */
export const SATURATION_EPS = 0.01;
export const MAX_SATURATED_SHARE = 0.5;

/** A probability map that is 0 or 1 over most of the grid ranks nothing there. */
export function checkSaturatedMap(p: ArrayLike<number>, subject?: string, eps = SATURATION_EPS, maxShare = MAX_SATURATED_SHARE): TrustWarning[] {
  let n = 0;
  let low = 0;
  let high = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (!Number.isFinite(v)) continue;
    n++;
    if (v <= eps) low++;
    else if (v >= 1 - eps) high++;
  }
  if (n === 0 || (low + high) / n <= maxShare) return [];
  return [
    {
      code: 'map-saturated',
      step: 'predict',
      ...(subject ? { subject } : {}),
      message: `${(((low + high) / n) * 100).toFixed(1)}% of the ${n} mapped cells have probability ≤ ${eps} or ≥ ${1 - eps} (${low} near 0, ${high} near 1): the map cannot rank targets there, and far from the training sites the confidence is not earned.`,
      fix: 'restrict the map to the sampled area (--mask AREA.tif), regularise more (train --weight-decay 0.001, --augment noise), or rank by the C–A classes (geoanomaly evaluate) rather than reading raw probabilities.',
      details: { cells: n, nearZero: low, nearOne: high, eps },
    },
  ];
}
