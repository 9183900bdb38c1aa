/**
 * The typed result of the xrf workflow (main/workflows/xrf.ts), as the app's contract carries it
 * (main/api/contract.ts JobResult.workflow). Plain data, free of Node and library imports: the
 * renderer's type check reads this file.
 */

/** One detector's entry of metrics.json (main/xrf/workflow.ts MethodMetrics). */
export interface XrfMethodMetrics {
  /** ROC AUC of the scores against the truth mask; absent without one. */
  readonly auc?: number;
  /** Compute time of the detector, in seconds. */
  readonly seconds: number;
  /** Float32 score GeoTIFF and its grey PNG (absolute paths). */
  readonly scoreTiff: string;
  readonly scorePng: string;
  /** Method-specific fields (seed, normalization, engine, epochs, finalLoss, …). */
  readonly [extra: string]: unknown;
}

/** What "xrf" read and wrote: the output files, the cube and the truth it used, per method its metrics. */
export interface XrfWorkflowResult {
  readonly outputs: {
    /** The output folder (absolute). */
    readonly dir: string;
    readonly metrics: string;
    readonly spectralAxis: string;
    /** With a truth mask: per-method ROC curves, the separability statistics and their box plot. */
    readonly roc?: string;
    readonly separability?: string;
    readonly separabilityPlot?: string;
  };
  readonly cube: { readonly source: string; readonly rows: number; readonly cols: number; readonly bands: number; readonly pixelSizeUm: number | null };
  /** The truth mask used: its file, 'cube' (the cube file's own map), or null (no AUC). */
  readonly truth: string | null;
  /** Per method, in run order: its metrics.json entry. */
  readonly methods: Readonly<Record<string, XrfMethodMetrics>>;
}
