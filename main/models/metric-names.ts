/**
 * The seven classification metrics of metrics.json, in the paper's order. A module of its own so
 * that readers of run folders (report, export) get the list without loading cross-validation and,
 * through it, TensorFlow.js.
 */
export const METRIC_NAMES = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
