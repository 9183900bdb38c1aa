import type { ComputeJobRequest, RasterLayerSpec } from '../../../main/api/contract.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';
import { modelEntries } from './comparisons.ts';
import { workflowResultOf } from '../../../main/workflows/workflow-results.ts';
import { pendingTrainRunName } from '../../../main/util/display-names.ts';
import { predictionNaming } from './project-records.ts';

export const MODEL_KINDS = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
/** The seven metrics of metrics.json, in the paper's order. */
export const METRICS = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'] as const;
export type MetricName = (typeof METRICS)[number];

export interface TrainParams {
  readonly stack: RasterLayerSpec;
  /** Knowledge raster for the geology term of gk-* models ('' = none). */
  readonly knowledge: string;
  readonly models: readonly ModelKind[];
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly lambda: number;
  readonly folds: number;
  readonly repeats: number;
  readonly seed: number;
  readonly patchSize: number;
  /**
   * Worker threads of `train --threads`. 1 keeps every fit in the job's own thread, whose
   * per-epoch progress messages feed the live loss chart; more threads give the same numbers
   * faster, but the parallel path reports only overall progress (no per-epoch losses).
   */
  readonly threads: number;
}

export interface MetricsEntry {
  readonly mean: Record<MetricName, number>;
  readonly sd: Record<MetricName, number>;
}

/** One point of a live loss curve: the typed epoch event of main/models/train.ts. */
export type { EpochProgress as LossPoint } from '../../../main/jobs/progress-detail.ts';

/**
 * Writes the digitized sites onto the stack's grid, runs `train` as a job (its typed epoch
 * events feed the loss plot) and returns the run folder with its metrics.json.
 */
export async function runTraining(
  wb: Workbench,
  p: TrainParams,
  onStarted: (jobId: string) => void,
): Promise<{ error: string | null; runDir: string | null; metrics: Record<string, MetricsEntry> | null }> {
  const fail = (error: string) => ({ error, runDir: null, metrics: null });
  if (wb.sites.length === 0) return fail('digitize or select sites first (Sites tab)');
  const runDir = runOutputPath(wb, 'train', 'run');
  const sitesFile = `${runDir}-sites.geojson`;
  try {
    await wb.api.request('writeSites', { path: sitesFile, gridSource: p.stack.source, sites: wb.sites });
  } catch (e) {
    return fail(errorText(e));
  }
  const options: Record<string, string | number> = {
    stack: p.stack.source,
    sites: sitesFile,
    model: p.models.join(','),
    epochs: p.epochs,
    batch: p.batch,
    lr: p.lr,
    lambda: p.lambda,
    folds: p.folds,
    repeats: p.repeats,
    seed: p.seed,
    'patch-size': p.patchSize,
    threads: p.threads,
    out: runDir,
  };
  if (p.knowledge) options.knowledge = p.knowledge;
  const request: ComputeJobRequest = { options };
  const outcome = await wb.jobs.start('train', request, pendingTrainRunName(options), onStarted);
  if (!outcome.ok) return fail(outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the training job failed');
  try {
    // Where the run's files are comes from the typed result, not from the run store's file names.
    const { outputs } = workflowResultOf(outcome.result, 'train');
    const metrics = modelEntries<MetricsEntry>((await wb.api.request('readJsonResult', { path: outputs.metrics })) as Record<string, unknown>);
    return { error: null, runDir: outputs.runDir, metrics };
  } catch (e) {
    return fail(errorText(e));
  }
}

/** Runs `predict` for every model of a run and adds the probability bands as one layer. */
export async function runPrediction(wb: Workbench, runDir: string, stack: RasterLayerSpec, onStarted: (jobId: string) => void): Promise<string | null> {
  const out = `${runDir}-probability.tif`;
  // threads 1: the command already runs in its own worker thread here, and `predict`'s documented
  // default ("all cores") is refused by its own number parser when no --threads is given.
  const naming = predictionNaming(wb.doc, runDir, 'Prediction maps');
  const outcome = await wb.jobs.start('predict', { options: { run: runDir, stack: stack.source, model: 'all', threads: 1, out } }, naming.title, onStarted);
  if (!outcome.ok) return outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the prediction job failed';
  return wb.importLayer({ kind: 'raster', path: out }, { run: naming.run });
}
