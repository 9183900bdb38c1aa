import type { ComputeJobRequest, ComputeRequestName, Result, SampleTableMapping, VariogramPreview } from '../../../main/api/contract.ts';
import type { StepRun, StudyState, TableSummary } from '../../../main/project/study-types.ts';
import type { PowerLawReport } from './fault-actions.ts';
import type { EpochProgress as LossPoint } from '../../../main/jobs/progress-detail.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';
import type { JobOutcome } from './jobs.svelte.ts';
import { workflowResultOf } from '../../../main/workflows/workflow-results.ts';
import { pendingTrainRunName } from '../../../main/util/display-names.ts';
import { predictionNaming } from './project-records.ts';

/**
 * The ONE adapter between the guided study and the backend's requests (issue #18): every
 * request the wizard makes goes through here, so a change of request payloads (helper "flows"
 * types them) is adapted in this file only. Each `run*` starts the step's `geoanomaly` command
 * as a job (progress, ETA and cancel come from the job system; a cancelled or failed command
 * leaves no partial file, its outputs being written atomically) and returns the step record to
 * store (StepRun) with what the step's picture needs.
 */

/** Options of each step, with the defaults a geochemist accepts or changes (study-options.ts). */
export interface StudyOptions {
  readonly table: SampleTableMapping;
  readonly fields: readonly string[];
  readonly cellM: number;
  readonly log: boolean;
  readonly negatives: number | null;
  /** Negatives at least this far from any deposit / fault (m); null = 3 cells / 1 cell of the kriged grid (the command's 10 / 5 cells leave no room on a small survey grid). */
  readonly minDepositM: number | null;
  readonly minFaultM: number | null;
  /** Deposits of different features in one cell count once (`--dedupe first`); else the command refuses them. */
  readonly dedupe: boolean;
  readonly seed: number;
  readonly models: readonly string[];
  readonly epochs: number;
  readonly folds: number;
  readonly patchSize: number;
}

export type StepOutcome<T> = { readonly error: string } | { readonly error: null; readonly run: StepRun; readonly view: T };

const now = (): string => new Date().toISOString();
const jobError = (o: { error: { name: string; message: string } | null }, what: string): string => (o.error ? `${o.error.name}: ${o.error.message}` : `the ${what} job failed`);

async function job(wb: Workbench, kind: ComputeRequestName, options: ComputeJobRequest['options'], title: string, onStarted: (jobId: string) => void, onEpoch?: (p: LossPoint) => void): Promise<string | null> {
  const outcome = await jobOutcome(wb, kind, options, title, onStarted, onEpoch);
  return outcome.ok ? null : jobError(outcome, kind);
}

/** The same, resolving with the whole outcome (its typed workflow result included). */
async function jobOutcome(wb: Workbench, kind: ComputeRequestName, options: ComputeJobRequest['options'], title: string, onStarted: (jobId: string) => void, onEpoch?: (p: LossPoint) => void): Promise<JobOutcome> {
  let unsubscribe: (() => void) | null = null;
  const outcome = await wb.jobs.start(kind, { options }, title, (jobId) => {
    onStarted(jobId);
    if (onEpoch) unsubscribe = wb.api.on('jobProgress', (e) => e.jobId === jobId && e.detail?.kind === 'epoch' && onEpoch(e.detail));
  });
  (unsubscribe as (() => void) | null)?.();
  return outcome;
}

export async function studyStatus(wb: Workbench, study: StudyState): Promise<Result<'studyStatus'>> {
  return wb.api.request('studyStatus', { study });
}

export async function recordStudyStep(wb: Workbench, study: StudyState, run: StepRun): Promise<StudyState> {
  return wb.api.request('recordStudyStep', { study, run });
}

/** Step 1: the table summary (no job: a read). */
export async function runTableStep(wb: Workbench, samples: string, table: SampleTableMapping): Promise<StepOutcome<TableSummary>> {
  const startedAt = now();
  try {
    const view = await wb.api.request('studyTableSummary', { path: samples, table });
    return { error: null, view, run: { step: 'table', inputs: [{ role: 'samples', path: samples }], options: { x: table.x, y: table.y, crs: table.crs }, outputs: [], startedAt, finishedAt: now() } };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Step 2: `krige` of the chosen elements; the picture is the first element's variogram. */
export async function runKrigingStep(wb: Workbench, samples: string, o: StudyOptions, onStarted: (jobId: string) => void): Promise<StepOutcome<{ stack: string; variogram: VariogramPreview | null }>> {
  const startedAt = now();
  const out = runOutputPath(wb, 'study-krige', 'tif');
  const variance = out.replace(/\.tif$/, '-variance.tif');
  const options = { samples, x: o.table.x, y: o.table.y, crs: o.table.crs, fields: o.fields.join(','), cell: o.cellM, out, variance, model: 'auto', ...(o.log ? { log: true } : {}) };
  const err = await job(wb, 'krige', options, `Study · kriging ${o.fields.join(', ')}`, onStarted);
  if (err) return { error: err };
  let variogram: VariogramPreview | null = null;
  try {
    variogram = await wb.api.request('krigeVariogram', { samples, table: o.table, field: o.fields[0], log: o.log, model: 'auto' });
  } catch (e) {
    wb.addLog('warn', `Study: variogram preview failed: ${errorText(e)}`);
  }
  // Named from the files, with the units krige records per band (issue 18).
  for (const path of [out, variance]) {
    const e = await wb.importLayer({ kind: 'raster', path });
    if (e) return { error: e };
  }
  return { error: null, view: { stack: out, variogram }, run: { step: 'kriging', inputs: [{ role: 'samples', path: samples }], options, outputs: [out, variance], startedAt, finishedAt: now() } };
}

/** Step 3: `faults` on the kriging grid: distance and weight maps and the log–log power law. */
export async function runFaultsStep(wb: Workbench, faults: string, deposits: string, grid: string, o: StudyOptions, onStarted: (jobId: string) => void): Promise<StepOutcome<{ weight: string; report: PowerLawReport }>> {
  const startedAt = now();
  const distance = runOutputPath(wb, 'study-fault-distance', 'tif');
  const weight = distance.replace('fault-distance', 'fault-weight');
  const report = distance.replace('fault-distance', 'fault-powerlaw').replace(/\.tif$/, '.json');
  const options = { faults, grid, deposits, distance, weight, report, ...(o.dedupe ? { dedupe: 'first' } : {}) };
  const err = await job(wb, 'faults', options, 'Study · faults', onStarted);
  if (err) return { error: err };
  try {
    const r = (await wb.api.request('readJsonResult', { path: report })) as PowerLawReport;
    const e = await wb.importLayer({ kind: 'raster', path: weight });
    if (e) return { error: e };
    const inputs = [{ role: 'faults', path: faults }, { role: 'deposits', path: deposits }, { role: 'grid', path: grid }];
    return { error: null, view: { weight, report: r }, run: { step: 'faults', inputs, options, outputs: [distance, weight, report], startedAt, finishedAt: now() } };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Step 4: `sites` with automatic negatives on the kriging grid; the picture is the counts per class. */
export async function runSitesStep(wb: Workbench, deposits: string, faults: string | null, grid: string, o: StudyOptions, onStarted: (jobId: string) => void): Promise<StepOutcome<{ sites: string; positive: number; negative: number }>> {
  const startedAt = now();
  const out = runOutputPath(wb, 'study-sites', 'geojson');
  const minDeposit = o.minDepositM ?? 3 * o.cellM;
  const minFault = o.minFaultM ?? o.cellM;
  const options = { deposits, grid, negatives: 'auto', seed: o.seed, out, 'min-deposit-dist': minDeposit, ...(faults ? { 'min-fault-dist': minFault } : {}), ...(o.dedupe ? { dedupe: 'first' } : {}), ...(faults ? { faults } : {}), ...(o.negatives !== null ? { count: o.negatives } : {}) };
  const err = await job(wb, 'sites', options, 'Study · training sites', onStarted);
  if (err) return { error: err };
  try {
    const { sites } = await wb.api.request('readSites', { path: out, gridSource: grid });
    const positive = sites.filter((s) => s.label === 1).length;
    const inputs = [{ role: 'deposits', path: deposits }, { role: 'grid', path: grid }, ...(faults ? [{ role: 'faults', path: faults }] : [])];
    return { error: null, view: { sites: out, positive, negative: sites.length - positive }, run: { step: 'sites', inputs, options, outputs: [out], startedAt, finishedAt: now() } };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Step 5: `train` on the kriged stack (or the study's own stack) with the step-4 sites; the picture is the learning curves. */
export async function runTrainingStep(wb: Workbench, stack: string, sites: string, knowledge: string | null, o: StudyOptions, onStarted: (jobId: string) => void, onLoss: (p: LossPoint) => void): Promise<StepOutcome<{ runDir: string; metrics: unknown }>> {
  const startedAt = now();
  const runDir = runOutputPath(wb, 'study-train', 'run');
  const options = { stack, sites, model: o.models.join(','), epochs: o.epochs, folds: o.folds, repeats: 1, seed: o.seed, 'patch-size': o.patchSize, threads: 1, out: runDir, ...(knowledge ? { knowledge } : {}) };
  const outcome = await jobOutcome(wb, 'train', options, `Study · ${pendingTrainRunName(options)}`, onStarted, onLoss);
  if (!outcome.ok) return { error: jobError(outcome, 'train') };
  try {
    // The metrics file's path is the typed result's, not the run store's naming convention.
    const metrics = await wb.api.request('readJsonResult', { path: workflowResultOf(outcome.result, 'train').outputs.metrics });
    const inputs = [{ role: 'stack', path: stack }, { role: 'sites', path: sites }, ...(knowledge ? [{ role: 'knowledge', path: knowledge }] : [])];
    return { error: null, view: { runDir, metrics }, run: { step: 'training', inputs, options, outputs: [runDir], startedAt, finishedAt: now() } };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Step 6: `predict` every model of the run; the probability bands become one layer for the Compare tab. */
export async function runCompareStep(wb: Workbench, runDir: string, stack: string, onStarted: (jobId: string) => void): Promise<StepOutcome<{ probability: string }>> {
  const startedAt = now();
  const out = `${runDir}-probability.tif`;
  const options = { run: runDir, stack, model: 'all', threads: 1, out };
  const naming = predictionNaming(wb.doc, runDir, 'Study · prediction maps');
  const err = await job(wb, 'predict', options, naming.title, onStarted);
  if (err) return { error: err };
  const e = await wb.importLayer({ kind: 'raster', path: out }, { run: naming.run });
  if (e) return { error: e };
  return { error: null, view: { probability: out }, run: { step: 'compare', inputs: [{ role: 'stack', path: stack }], options, outputs: [out], startedAt, finishedAt: now() } };
}

/** Step 7: `report` (HTML) of the run with its probability map and the deposits. */
export async function runReportStep(wb: Workbench, runDir: string, map: string, deposits: string, onStarted: (jobId: string) => void): Promise<StepOutcome<{ report: string }>> {
  const startedAt = now();
  const out = `${runDir}-report.html`;
  const options = { run: runDir, map, deposits, out };
  const err = await job(wb, 'report', options, 'Study · report', onStarted);
  if (err) return { error: err };
  return { error: null, view: { report: out }, run: { step: 'report', inputs: [{ role: 'deposits', path: deposits }], options, outputs: [out], startedAt, finishedAt: now() } };
}
