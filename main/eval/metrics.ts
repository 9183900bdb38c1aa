import { WorkbenchError } from '../errors.ts';

/**
 * Binary classification metrics with scikit-learn's semantics (the reference the fixtures come
 * from: sklearn 1.2, `tests/fixtures/metrics/make_fixtures.py`).
 *
 * Conventions (sklearn's defaults, stated once here):
 * - labels are 0/1 numbers, 1 = positive (deposit); scores are finite numbers, higher = more
 *   likely positive; a sample is predicted positive when `score >= threshold`.
 * - ROC thresholds are the distinct scores in decreasing order; the curve starts at (0, 0)
 *   with threshold `max(score) + 1` (sklearn 1.2; sklearn ≥ 1.3 uses +∞ there instead).
 * - ties in score are one threshold: the ROC curve moves diagonally across a tie, so the AUC
 *   counts a tied positive/negative pair as one half (Mann–Whitney U with ties).
 * - precision = TP/(TP+FP) is 0 when nothing is predicted positive (sklearn's
 *   `zero_division="warn"` returns 0); recall likewise 0 when there is no positive; F1 is 0 when
 *   precision + recall = 0; MCC is 0 when any marginal of the confusion matrix is 0.
 * - AUC is undefined when the labels hold one class only: sklearn raises, we throw
 *   UndefinedMetricError (never a silent NaN). classificationMetrics therefore needs both classes.
 *
 * Everything is O(n log n) (two native numeric sorts of Float64Arrays, then linear walks), so
 * 10⁶ scores — a micro-XRF map — take well under a second.
 */

/** Inputs that cannot be scored (length mismatch, non-binary label, non-finite score). */
export class MetricInputError extends WorkbenchError {}

/** A metric that is mathematically undefined for the given labels (one class only). */
export class UndefinedMetricError extends WorkbenchError {}

export interface RocCurve {
  /** False-positive rate at each threshold, increasing from 0 to 1. */
  readonly fpr: number[];
  /** True-positive rate at each threshold, increasing from 0 to 1. */
  readonly tpr: number[];
  /** Decreasing thresholds; thresholds[0] = max score + 1 (no sample predicted positive). */
  readonly thresholds: number[];
}

export interface RocOptions {
  /**
   * Drop thresholds that lie on a straight segment of the curve (sklearn's
   * `drop_intermediate`); the curve and its area are unchanged. @default true
   */
  readonly dropIntermediate?: boolean;
}

export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

export interface ClassificationMetrics {
  /** Accuracy (paper eq. 15). */
  readonly acc: number;
  /** Area under the ROC curve of the scores (threshold-free). */
  readonly auc: number;
  /** Cohen's kappa (eq. 16). */
  readonly kappa: number;
  /** Matthews correlation coefficient (eq. 17). */
  readonly mcc: number;
  /** Precision (eq. 18). */
  readonly precision: number;
  /** Recall (eq. 19). */
  readonly recall: number;
  /** F1 score (eq. 20). */
  readonly f1: number;
}

export type ThresholdMode = 'fixed' | 'f1-optimal';

function checkLabels(labels: ArrayLike<number>, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v !== 0 && v !== 1) {
      throw new MetricInputError(
        `${what}: label ${i} is ${String(v)}; expected 0 (negative) or 1 (positive). Recode the labels as 0/1.`,
        { index: i, value: v },
      );
    }
  }
}

function checkScored(labels: ArrayLike<number>, scores: ArrayLike<number>, what: string): void {
  if (labels.length !== scores.length) {
    throw new MetricInputError(
      `${what}: ${labels.length} labels but ${scores.length} scores; expected one score per label.`,
      { labels: labels.length, scores: scores.length },
    );
  }
  if (labels.length === 0) throw new MetricInputError(`${what}: no samples; expected at least one label and score.`);
  checkLabels(labels, what);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new MetricInputError(
        `${what}: score ${i} is ${String(scores[i])}; expected a finite number. Mask nodata cells before scoring.`,
        { index: i, value: scores[i] },
      );
    }
  }
}

/**
 * Scores of the positives and of the negatives, each sorted ascending (native numeric sort).
 * Walking both from the top visits the distinct thresholds in decreasing order.
 */
function splitSorted(labels: ArrayLike<number>, scores: ArrayLike<number>): { pos: Float64Array; neg: Float64Array } {
  let p = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) p++;
  const pos = new Float64Array(p);
  const neg = new Float64Array(labels.length - p);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[ip++] = scores[i];
    else neg[ineg++] = scores[i];
  }
  pos.sort();
  neg.sort();
  return { pos, neg };
}

/**
 * Cumulative true/false positives at each distinct score, in decreasing score order (sklearn's
 * `_binary_clf_curve` without sample weights).
 */
function clfCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): { fps: number[]; tps: number[]; thresholds: number[] } {
  const { pos, neg } = splitSorted(labels, scores);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let ip = pos.length - 1;
  let ineg = neg.length - 1;
  let tp = 0;
  let fp = 0;
  while (ip >= 0 || ineg >= 0) {
    const v = ip < 0 ? neg[ineg] : ineg < 0 ? pos[ip] : Math.max(pos[ip], neg[ineg]);
    while (ip >= 0 && pos[ip] === v) {
      tp++;
      ip--;
    }
    while (ineg >= 0 && neg[ineg] === v) {
      fp++;
      ineg--;
    }
    fps.push(fp);
    tps.push(tp);
    thresholds.push(v);
  }
  return { fps, tps, thresholds };
}

function requireBothClasses(p: number, n: number, what: string): void {
  if (p === 0 || n === 0) {
    throw new UndefinedMetricError(
      `${what} is undefined: the labels hold ${p} positive(s) and ${n} negative(s); both classes are needed. ` +
        'Evaluate on a set (fold, region) that contains deposits and non-deposits.',
      { positives: p, negatives: n },
    );
  }
}

/** ROC curve with sklearn.metrics.roc_curve semantics (see the module comment). */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>, options: RocOptions = {}): RocCurve {
  const dropIntermediate = options.dropIntermediate ?? true;
  checkScored(labels, scores, 'ROC curve');
  const c = clfCurve(labels, scores);
  const m = c.fps.length;
  requireBothClasses(c.tps[m - 1], c.fps[m - 1], 'the ROC curve');
  let keep: number[];
  if (dropIntermediate && m > 2) {
    // Keep a point where the second difference of fps or tps is non-zero (a corner), plus both ends.
    keep = [0];
    for (let i = 1; i < m - 1; i++) {
      const d2f = c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1];
      const d2t = c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1];
      if (d2f !== 0 || d2t !== 0) keep.push(i);
    }
    keep.push(m - 1);
  } else {
    keep = c.fps.map((_, i) => i);
  }
  const totalN = c.fps[m - 1];
  const totalP = c.tps[m - 1];
  const fpr = [0];
  const tpr = [0];
  const thresholds = [c.thresholds[keep[0]] + 1];
  for (const i of keep) {
    fpr.push(c.fps[i] / totalN);
    tpr.push(c.tps[i] / totalP);
    thresholds.push(c.thresholds[i]);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Area under the ROC curve (sklearn.metrics.roc_auc_score for binary labels). The trapezoid
 * area is accumulated in integers (2·Σ ΔFP·(TP_prev + TP_cur)) and divided once, so the result
 * is the correctly rounded value of the exact area; exact for n up to ~10⁸ samples.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkScored(labels, scores, 'ROC AUC');
  const { pos, neg } = splitSorted(labels, scores);
  requireBothClasses(pos.length, neg.length, 'ROC AUC');
  let ip = pos.length - 1;
  let ineg = neg.length - 1;
  let tp = 0;
  let twiceArea = 0;
  while (ip >= 0 || ineg >= 0) {
    const v = ip < 0 ? neg[ineg] : ineg < 0 ? pos[ip] : Math.max(pos[ip], neg[ineg]);
    let dp = 0;
    let dn = 0;
    while (ip >= 0 && pos[ip] === v) {
      dp++;
      ip--;
    }
    while (ineg >= 0 && neg[ineg] === v) {
      dn++;
      ineg--;
    }
    twiceArea += dn * (2 * tp + dp);
    tp += dp;
  }
  return twiceArea / (2 * pos.length * neg.length);
}

/** Confusion counts of 0/1 predictions against 0/1 labels. */
export function confusion(labels: ArrayLike<number>, predicted: ArrayLike<number>): Confusion {
  if (labels.length !== predicted.length) {
    throw new MetricInputError(
      `confusion matrix: ${labels.length} labels but ${predicted.length} predictions; expected one prediction per label.`,
      { labels: labels.length, predicted: predicted.length },
    );
  }
  checkLabels(labels, 'confusion matrix (labels)');
  checkLabels(predicted, 'confusion matrix (predictions)');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] === 1) {
      if (labels[i] === 1) tp++;
      else fp++;
    } else if (labels[i] === 1) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/**
 * Threshold-dependent metrics from a confusion matrix, computed with the same formulas (and
 * so the same rounding) as sklearn 1.2: accuracy_score, cohen_kappa_score, matthews_corrcoef,
 * precision/recall/f1 via precision_recall_fscore_support.
 */
export function metricsFromConfusion(c: Confusion): Omit<ClassificationMetrics, 'auc'> {
  const { tp, fp, tn, fn } = c;
  const n = tp + fp + tn + fn;
  const acc = (tp + tn) / n;
  // Cohen's kappa as 1 − Σ w·C / Σ w·E with w = 1 off the diagonal, E = outer(pred, true)/n.
  const pred0 = tn + fn;
  const pred1 = fp + tp;
  const true0 = tn + fp;
  const true1 = fn + tp;
  const kappa = 1 - (fp + fn) / ((pred0 * true1) / n + (pred1 * true0) / n);
  // MCC as sklearn: covariances from marginals; 0 when a marginal is empty.
  const covTP = (tp + tn) * n - (true0 * pred0 + true1 * pred1);
  const covPP = n * n - (pred0 * pred0 + pred1 * pred1);
  const covTT = n * n - (true0 * true0 + true1 * true1);
  const mcc = covPP * covTT === 0 ? 0 : covTP / Math.sqrt(covTT * covPP);
  const precision = pred1 === 0 ? 0 : tp / pred1;
  const recall = true1 === 0 ? 0 : tp / true1;
  const denom = precision + recall;
  const f1 = (2 * precision * recall) / (denom === 0 ? 1 : denom);
  return { acc, kappa, mcc, precision, recall, f1 };
}

/** 0/1 predictions: 1 where score ≥ threshold. */
export function predictAt(scores: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] >= threshold ? 1 : 0;
  return out;
}

/**
 * Accuracy, AUC, kappa, MCC, precision, recall and F1 (paper eqs. 15–20) of scores against
 * labels, predicting positive where score ≥ threshold. Needs both classes in the labels.
 */
export function classificationMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): ClassificationMetrics {
  if (!Number.isFinite(threshold)) throw new MetricInputError(`classification metrics: threshold is ${threshold}; expected a finite number.`);
  const auc = rocAuc(labels, scores);
  const m = metricsFromConfusion(confusion(labels, predictAt(scores, threshold)));
  return { acc: m.acc, auc, kappa: m.kappa, mcc: m.mcc, precision: m.precision, recall: m.recall, f1: m.f1 };
}

/**
 * The decision threshold, chosen on TRAINING scores only (never on a test fold).
 * - 'fixed': returns `fixed` (default 0.5).
 * - 'f1-optimal': the threshold that maximises F1 on these labels/scores. Candidates are the
 *   distinct scores (predict positive at score ≥ s); among equal F1 the highest candidate wins
 *   (fewest positives). The returned value is the midpoint between that score and the next
 *   lower distinct score, so that unseen scores falling in the gap are split evenly rather
 *   than all going to one side; when the best candidate is the lowest score it is returned as is.
 *   Needs at least one positive.
 */
export function chooseThreshold(labels: ArrayLike<number>, scores: ArrayLike<number>, mode: ThresholdMode, fixed = 0.5): number {
  if (mode === 'fixed') {
    if (!Number.isFinite(fixed)) throw new MetricInputError(`threshold: fixed value is ${fixed}; expected a finite number.`);
    return fixed;
  }
  if (mode !== 'f1-optimal') {
    throw new MetricInputError(`threshold mode "${String(mode)}" is unknown; expected 'fixed' or 'f1-optimal'.`);
  }
  checkScored(labels, scores, 'F1-optimal threshold');
  const c = clfCurve(labels, scores);
  const m = c.fps.length;
  const totalP = c.tps[m - 1];
  if (totalP === 0) {
    throw new UndefinedMetricError(
      'F1-optimal threshold is undefined: the training labels hold no positive. Use mode "fixed" or include deposits.',
    );
  }
  let best = -1;
  let bestF1 = -1;
  for (let i = 0; i < m; i++) {
    // F1 = 2TP / (2TP + FP + FN) with FN = P − TP; compare exactly via the same formula each time.
    const tp = c.tps[i];
    const f1 = (2 * tp) / (tp + c.fps[i] + totalP);
    if (f1 > bestF1) {
      bestF1 = f1;
      best = i;
    }
  }
  if (best === m - 1) return c.thresholds[best];
  return (c.thresholds[best] + c.thresholds[best + 1]) / 2;
}
