/**
 * The typed results of the workflows, as the app's contract carries them to the renderer
 * (main/api/contract.ts JobResult.workflow). Plain data, structured-clone safe, and free of
 * Node and library imports: the renderer's type check (no Node types) reads this file.
 * The workflow modules return these types, so a change there that breaks them fails to compile.
 */
import type { EvaluateWorkflowResult } from './evaluate-result.ts';
import type { XrfWorkflowResult } from './xrf-result.ts';
import type { LayoutWorkflowResult } from './layout-result.ts';
import type { ReportWorkflowResult } from './report-result.ts';

export type * from './evaluate-result.ts';
export type * from './xrf-result.ts';
export type * from './layout-result.ts';
export type * from './report-result.ts';

import type { ExplainWorkflowResult } from './explain-result.ts';

/** A trust warning (main/eval/trust-checks.ts TrustWarning), with its fix naming real flags. */
export interface WorkflowWarning {
  readonly code: string;
  readonly step: string;
  readonly subject?: string;
  readonly message: string;
  readonly fix: string;
  readonly details: Readonly<Record<string, number | string | boolean>>;
}

// ---------------------------------------------------------------------------------------------
// krige

/** Leave-one-out cross-validation summary of one element (main/kriging/cross-validation.ts CvSummary). */
export interface KrigeCvSummary {
  readonly n: number;
  readonly notPredicted: number;
  readonly meanError: number;
  readonly rmse: number;
  readonly msse: number;
  readonly meanZscore: number;
  readonly scale: 'linear' | 'log';
}

/** One kriged element of a KrigeWorkflowResult. */
export interface KrigedElement {
  readonly name: string;
  /** gstat-style model line, as the GeoTIFF metadata VARIOGRAM_<name> writes it. */
  readonly modelSpec: string;
  /** Weighted SSE of the variogram fit; null for a fixed --variogram. */
  readonly fitSse: number | null;
  /** Cells left empty (fewer than nmin samples within maxdist). */
  readonly emptyCells: number;
  readonly extrapolation: { readonly cells: number; readonly outsideHull: number; readonly beyondRange: number; readonly practicalRangeM: number };
  /** Leave-one-out cross-validation summary (with `cv`). */
  readonly cv?: KrigeCvSummary;
}

/** What "krige" produced: the files, the grid and per element its model, fit and checks. */
export interface KrigeWorkflowResult {
  readonly outputs: { readonly prediction: string; readonly variance?: string; readonly extrapolationMask?: string; readonly cv?: string };
  readonly grid: { readonly cols: number; readonly rows: number; readonly cellSizeM: number; readonly crs: string };
  readonly samples: number;
  readonly mergedDuplicates: number;
  readonly elements: readonly KrigedElement[];
}

// ---------------------------------------------------------------------------------------------
// train

export type WorkflowMetricName = 'acc' | 'auc' | 'kappa' | 'mcc' | 'precision' | 'recall' | 'f1';

/** Cross-validated metrics of one model: mean, sd and site-bootstrap 95% interval over folds × repeats. */
export interface CvMetrics {
  readonly mean: Readonly<Record<WorkflowMetricName, number>>;
  readonly sd: Readonly<Record<WorkflowMetricName, number>>;
  readonly ci95: Readonly<Record<WorkflowMetricName, [number, number]>>;
}

/** One epoch of a learning curve (main/models/train.ts EpochRecord; manifest.json models.<kind>.history). */
export interface LearningRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss?: number;
  readonly learningRate?: number;
  readonly geologyShare?: number;
  readonly a?: readonly number[];
  readonly b?: number;
}

/** One trained model of a run, as TrainWorkflowResult lists it. */
export interface TrainedModelSummary {
  readonly kind: string;
  readonly type: 'network' | 'baseline';
  /** The final model's file (model.json or baseline.json). */
  readonly path: string;
  readonly cv: CvMetrics;
  /** The kept epoch of the final model (0 for baselines). */
  readonly epochs: number;
  readonly stoppedEarly?: boolean;
  /** The final model's learning curve, per epoch (networks). */
  readonly history?: readonly LearningRecord[];
  readonly tuning?: { readonly final: Readonly<Record<string, number>>; readonly folds: readonly { readonly repeat: number; readonly fold: number; readonly chosen: Readonly<Record<string, number>> }[] };
  readonly geology?: { readonly a: readonly number[]; readonly b: number };
  readonly geologyShare?: number;
}

/** A region hold-out's score of one model (main/eval/region-holdout.ts HoldoutMetrics). */
export interface HoldoutModelScore {
  readonly auc: number | null;
  readonly ci95: [number, number] | null;
  readonly aucInRegion: number | null;
  readonly ci95InRegion: [number, number] | null;
  readonly deposits: number;
  readonly cvAuc: number | null;
  readonly regions: { readonly region: string; readonly deposits: number; readonly heldOutSites: number; readonly trainingSamples: number; readonly auc: number | null; readonly aucInRegion: number | null }[];
}

/** What "train" wrote and measured: the run folder's files, per model its metrics and learning history. */
export interface TrainWorkflowResult {
  readonly outputs: { readonly runDir: string; readonly metrics: string; readonly manifest: string; readonly roc: string; readonly models: string };
  readonly protocol: 'grouped' | 'leaky';
  readonly folds: number;
  readonly repeats: number;
  readonly engine: { readonly requested: string; readonly name: 'tfjs' | 'onnx'; readonly detail: string };
  /** Networks first (training order), then baselines. */
  readonly models: readonly TrainedModelSummary[];
  readonly comparisons: readonly { readonly a: string; readonly b: string; readonly metric: string; readonly diff: number; readonly ci95: [number, number] }[];
  readonly holdout?: { readonly method: string; readonly rules: string; readonly models: Readonly<Record<string, HoldoutModelScore>> };
  readonly warnings: readonly WorkflowWarning[];
}

// ---------------------------------------------------------------------------------------------
// predict

/** What "predict" wrote: the map, its bands, the ensemble members per model and the trust warnings. */
export interface PredictWorkflowResult {
  readonly outputs: { readonly map: string };
  readonly bandNames: readonly string[];
  readonly modelNames: readonly string[];
  readonly ensemble: string;
  /** Model → the members averaged into its p_ band. */
  readonly members: Readonly<Record<string, readonly string[]>>;
  readonly grid: { readonly rows: number; readonly cols: number; readonly crs: string | null };
  /** Windows predicted (cells × members). */
  readonly windows: number;
  readonly seconds: number;
  readonly threads: number;
  /** The engine that ran, in words (also in the GeoTIFF metadata). */
  readonly engine: string;
  readonly warnings: readonly WorkflowWarning[];
}

// ---------------------------------------------------------------------------------------------
// faults, sites, rpca: each in its own Node-free file beside its workflow

import type { FaultsWorkflowResult } from './faults-result.ts';
export type * from './faults-result.ts';
import type { SitesWorkflowResult } from './sites-result.ts';
export type * from './sites-result.ts';
import type { RpcaWorkflowResult } from './rpca-result.ts';
export type * from './rpca-result.ts';

/** A finished workflow job's typed result, tagged by the workflow's name. */
export type WorkflowJobResult =
  | { readonly workflow: 'krige'; readonly result: KrigeWorkflowResult }
  | { readonly workflow: 'train'; readonly result: TrainWorkflowResult }
  | { readonly workflow: 'predict'; readonly result: PredictWorkflowResult }
  | { readonly workflow: 'faults'; readonly result: FaultsWorkflowResult }
  | { readonly workflow: 'sites'; readonly result: SitesWorkflowResult }
  | { readonly workflow: 'rpca'; readonly result: RpcaWorkflowResult }
  | { readonly workflow: 'explain'; readonly result: ExplainWorkflowResult }
  | { readonly workflow: 'evaluate'; readonly result: EvaluateWorkflowResult }
  | { readonly workflow: 'xrf'; readonly result: XrfWorkflowResult }
  | { readonly workflow: 'layout'; readonly result: LayoutWorkflowResult }
  | { readonly workflow: 'report'; readonly result: ReportWorkflowResult };

/** Workflow name → its typed result, read off WorkflowJobResult (one place to extend). */
export type WorkflowResultByName = { readonly [W in WorkflowJobResult as W['workflow']]: W['result'] };

/**
 * The typed result of a finished job of workflow `name` (JobResult.workflow), for the renderer:
 * it reads output paths and numbers from here instead of rebuilding file names or parsing lines.
 * Throws when the job carried no result of that workflow (a job of another kind, or an old host).
 */
export function workflowResultOf<K extends keyof WorkflowResultByName>(job: { readonly workflow?: WorkflowJobResult } | null | undefined, name: K): WorkflowResultByName[K] {
  const w = job?.workflow;
  if (!w || w.workflow !== name) throw new Error(`the ${name} job returned no typed ${name} result (got ${w ? w.workflow : 'none'})`);
  // The tag was checked above; TypeScript cannot narrow a union through a generic key.
  return w.result as WorkflowResultByName[K];
}
