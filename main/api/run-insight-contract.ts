/**
 * Types of the `runInsight` request (main/api/run-insight-requests.ts): what a saved training
 * run says about whether to trust it. Self-contained, like contract.ts (the renderer imports
 * them; they mirror main/models/train.ts EpochRecord, main/eval/trust-checks.ts TrustWarning,
 * main/eval/region-holdout.ts HoldoutMetrics and main/eval/bootstrap.ts Comparison, which the
 * request's test checks field by field against a real run).
 */

export interface RunInsightParams {
  /** A run folder written by `geoanomaly train`. */
  readonly runDir: string;
}

/** One epoch of a final model's learning curve (manifest.json models.<kind>.history). */
export interface InsightEpoch {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number | null;
  readonly learningRate: number | null;
  readonly geologyShare: number | null;
  /** a₁ (first knowledge raster's coefficient); all of them in `aAll`. */
  readonly a: number | null;
  readonly aAll: readonly number[] | null;
  readonly b: number | null;
}

export interface InsightModel {
  readonly name: string;
  readonly type: 'network' | 'baseline';
  /** The kept ("best") epoch of the final model; 0 for baselines. */
  readonly keptEpoch: number;
  readonly epochsRun: number;
  readonly stoppedEarly: boolean | null;
  readonly geology: { readonly a: readonly number[]; readonly b: number } | null;
  readonly geologyShare: number | null;
  readonly history: readonly InsightEpoch[];
  /** Grouped CV of metrics.json: mean ± sd of the AUC and its 95 % interval (null when absent). */
  readonly cv: { readonly auc: number; readonly sd: number; readonly ci95: readonly [number, number] | null; readonly folds: number } | null;
  /** Region hold-out at map level (metrics.json "holdout"), when the run made one. */
  readonly holdout: {
    readonly auc: number | null;
    readonly ci95: readonly [number, number] | null;
    readonly deposits: number;
    readonly regions: readonly { readonly region: string; readonly deposits: number; readonly auc: number | null }[];
  } | null;
}

export interface InsightWarning {
  readonly code: string;
  readonly step: string;
  readonly subject: string | null;
  readonly message: string;
  readonly fix: string;
}

export interface InsightComparison {
  readonly a: string;
  readonly b: string;
  readonly metric: string;
  readonly diff: number;
  readonly ci95: readonly [number, number];
  readonly includesZero: boolean;
}

export interface RunInsight {
  readonly runDir: string;
  readonly models: readonly InsightModel[];
  readonly warnings: readonly InsightWarning[];
  readonly comparisons: readonly InsightComparison[];
  /** How the region hold-out was made (metrics.json holdout.method / rules), null without one. */
  readonly holdout: { readonly method: string; readonly rules: string } | null;
}

/** Per-element attribution of one clicked cell's window (the site panel, beside Grad-CAM). */
export interface AttributeSiteParams {
  readonly runDir: string;
  /** Map coordinates (the stack's CRS) of the clicked cell. */
  readonly x: number;
  readonly y: number;
  /** Element stack; default: the stack named in the run's manifest. */
  readonly stack?: string;
}

export interface SiteAttribution {
  readonly runDir: string;
  readonly row: number;
  readonly col: number;
  readonly method: 'occlusion';
  /** Per network: P(deposit) of the window, and per element p(x) − p(x with that element at its mean), largest |value| first. */
  readonly models: readonly { readonly name: string; readonly p: number; readonly elements: readonly { readonly band: string; readonly value: number }[] }[];
}
