/**
 * The typed result of the evaluate workflow (main/workflows/evaluate.ts), as the app's contract
 * carries it (main/api/contract.ts JobResult.workflow). Plain data, structured-clone safe, free of
 * Node and library imports: the renderer's type check reads this file. The curves (success-rate,
 * P–A, C–A) stay in the EVAL.json it names; the scalar metrics are here as data.
 */

/** A paired comparison of two bands' map AUCs at the same deposits (main/eval/bootstrap.ts Comparison). */
export interface EvaluateComparison {
  readonly a: string;
  readonly b: string;
  readonly metric: string;
  readonly diff: number;
  readonly ci95: [number, number];
  readonly method: 'site bootstrap' | 'deposit bootstrap';
  readonly replicates: number;
  /** Whether the interval includes 0 (no evidence of a difference at the 95 % level). */
  readonly includesZero: boolean;
}

/** What "evaluate" wrote and measured. */
export interface EvaluateWorkflowResult {
  /** evaluation: EVAL.json (curves, counts, inputs); classes: the C–A classes raster, when asked. */
  readonly outputs: { readonly evaluation: string; readonly classes?: string };
  /** The map band evaluated. */
  readonly band: string;
  /** ROC AUC of deposit cells against every other study cell. */
  readonly auc: number;
  /** Area under the success-rate curve. */
  readonly successRateAuc: number;
  readonly paIntersection: { readonly threshold: number; readonly predictionRate: number; readonly areaShare: number; readonly normalizedDensity: number; readonly weight: number };
  readonly caBreaks: readonly number[];
  /** 'auto' (fitted) or 'user' (--ca-breaks). */
  readonly caSource: 'auto' | 'user';
  /** EVAL.json's counts: study cells, deposits given / used / excluded / in nodata / outside the map or mask. */
  readonly counts: Readonly<Record<string, number | null>>;
  /** Pairwise comparisons of --compare bands (empty without --compare). */
  readonly comparisons: readonly EvaluateComparison[];
}
