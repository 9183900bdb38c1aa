import type { FoldResult } from './cross-validate.ts';

/**
 * `roc.json` of a training run: every cross-validation fold's ROC curve (the test fold's
 * points as `rocCurve` gives them, sklearn's `roc_curve` with drop_intermediate) and a mean
 * curve per model, for the Training panel's ROC chart (the paper's ROC figures).
 *
 * The mean curve is vertical averaging (Fawcett 2006, "An introduction to ROC analysis", §7.1):
 * each fold's TPR is read at a fixed FPR grid (linear between the fold's ROC points, the
 * upper end of a vertical step at a grid point, as the trapezoid AUC assumes) and averaged.
 * Folds keep no test scores after training, so a pooled curve over all test scores cannot be
 * rebuilt here; the vertical average is the usual summary of k curves (scikit-learn's
 * "ROC with cross validation" example does the same).
 */

export const ROC_FILE = 'roc.json';

/** Points of the mean curve's FPR grid (0, 0.01, …, 1). */
export const MEAN_ROC_GRID_POINTS = 101;

export interface FoldRoc {
  readonly repeat: number;
  readonly fold: number;
  /** The fold's AUC (rank statistic; equals the trapezoid area under fpr/tpr). */
  readonly auc: number;
  readonly fpr: readonly number[];
  readonly tpr: readonly number[];
}

export interface ModelRoc {
  readonly folds: readonly FoldRoc[];
  readonly mean: {
    readonly method: 'vertical-average';
    readonly fpr: readonly number[];
    readonly tpr: readonly number[];
    /** Trapezoid area under the mean curve. */
    readonly auc: number;
  };
}

/** Trapezoid area under a curve given by increasing x. */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

/** TPR of one ROC curve at false-positive rate `f` (upper end of a vertical step). */
export function tprAt(fpr: readonly number[], tpr: readonly number[], f: number): number {
  let i = 0;
  while (i + 1 < fpr.length && fpr[i + 1] <= f) i++;
  if (fpr[i] === f || i + 1 >= fpr.length) return tpr[i];
  const t = (f - fpr[i]) / (fpr[i + 1] - fpr[i]);
  return tpr[i] + t * (tpr[i + 1] - tpr[i]);
}

/** Vertical average of several ROC curves on an even FPR grid; starts at (0, 0). */
export function meanRoc(curves: readonly { readonly fpr: readonly number[]; readonly tpr: readonly number[] }[], gridPoints = MEAN_ROC_GRID_POINTS): ModelRoc['mean'] {
  const fpr = [0];
  const tpr = [0];
  for (let g = 0; g < gridPoints; g++) {
    const f = g / (gridPoints - 1);
    fpr.push(f);
    tpr.push(curves.reduce((s, c) => s + tprAt(c.fpr, c.tpr, f), 0) / curves.length);
  }
  return { method: 'vertical-average', fpr, tpr, auc: trapezoidArea(fpr, tpr) };
}

export function modelRoc(folds: readonly FoldResult[]): ModelRoc {
  const fr = folds.map((f) => ({ repeat: f.repeat, fold: f.fold, auc: f.metrics.auc, fpr: f.roc.fpr, tpr: f.roc.tpr }));
  return { folds: fr, mean: meanRoc(fr) };
}
