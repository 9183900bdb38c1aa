import type { SampleTableMapping, VariogramPreview } from '../../../main/api/contract.ts';
import { STUDY_STEP_IDS, type StepRun, type StepStatus, type StudyInputs, type StudyState, type StudyStepId, type TableSummary } from '../../../main/project/study-types.ts';
import type { PowerLawReport } from './fault-actions.ts';
import type { EpochProgress as LossPoint } from '../../../main/jobs/progress-detail.ts';
import * as jobs from './study-jobs.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

/** What the wizard shows per step (titles as main/project/study-steps.ts STEP_TITLES). */
export const STEP_LABELS: Record<StudyStepId, string> = {
  table: '1 Sample table',
  kriging: '2 Kriging',
  faults: '3 Faults',
  sites: '4 Training sites',
  training: '5 Training',
  compare: '6 Compare',
  report: '7 Report',
};

/** The defaults a geochemist accepts or changes: cell ≈ 1/40 of the survey's longer side, rounded to 50 m. */
export function defaultOptions(table: SampleTableMapping, summary: TableSummary | null): jobs.StudyOptions {
  const [x0, y0, x1, y1] = summary?.extent ?? [0, 0, 0, 0];
  const side = Math.max(x1 - x0, y1 - y0);
  const cellM = side > 0 ? Math.max(50, Math.round(side / 40 / 50) * 50) : 500;
  // The pathfinder elements of a gold survey when the table has them, else its first three.
  const names = summary?.elements.map((e) => e.name) ?? [];
  const preferred = ['Au', 'Cu', 'As'].filter((n) => names.includes(n));
  const fields = preferred.length > 0 ? preferred : names.slice(0, 3);
  return { table, fields, cellM, log: true, negatives: null, minDepositM: null, minFaultM: null, dedupe: true, seed: 1, models: ['cnn', 'dcn'], epochs: 3, folds: 2, patchSize: 5 };
}

/** ETA from the elapsed time and the fraction done (job-eta.ts, shared with the Jobs tab). */
export { etaSeconds } from './job-eta.ts';

/**
 * The guided study's state in the renderer: the study record (kept in the project document, so
 * autosave and save carry it), the step statuses from the backend, and each step's picture.
 */
export class StudyController {
  study = $state.raw<StudyState | null>(null);
  statuses = $state.raw<readonly StepStatus[]>([]);
  stale = $state.raw<readonly StudyStepId[]>([]);
  options = $state.raw<jobs.StudyOptions | null>(null);
  summary = $state.raw<TableSummary | null>(null);
  variogram = $state.raw<VariogramPreview | null>(null);
  powerLaw = $state.raw<PowerLawReport | null>(null);
  siteCounts = $state.raw<{ positive: number; negative: number } | null>(null);
  losses = $state.raw<readonly LossPoint[]>([]);
  metrics = $state.raw<unknown>(null);
  jobId = $state<string | null>(null);
  running = $state<StudyStepId | null>(null);
  error = $state<string | null>(null);
  /**
   * The step whose last run was cancelled (shown as "cancelled" until it runs again). Nothing of
   * that run is recorded: its outputs are written atomically at the end, so a cancelled command
   * leaves no file, and the step's earlier record (if any) still names its earlier outputs.
   */
  cancelled = $state<StudyStepId | null>(null);
  /** Steps run by the last "Run stale steps" (the browser test checks only those ran). */
  lastRerun = $state.raw<readonly StudyStepId[]>([]);

  constructor(private readonly wb: Workbench) {}

  /** Picks up the study of the open project (reopen: where the study stands). */
  async load(): Promise<void> {
    const s = this.wb.doc?.study ?? null;
    this.study = s;
    if (!s) return;
    const k = s.steps.table?.options;
    const table: SampleTableMapping = { x: String(k?.x ?? 'x'), y: String(k?.y ?? 'y'), crs: String(k?.crs ?? '') };
    const kr = s.steps.kriging?.options;
    // The options each step last ran with, so "Run stale steps" reruns them the same way.
    const tr = s.steps.training?.options;
    const si = s.steps.sites?.options;
    this.options = {
      ...defaultOptions(table, null),
      ...(kr ? { fields: String(kr.fields).split(','), cellM: Number(kr.cell), log: kr.log === true } : {}),
      ...(si ? { seed: Number(si.seed), dedupe: si.dedupe === 'first', minDepositM: Number(si['min-deposit-dist']), ...(si['min-fault-dist'] !== undefined ? { minFaultM: Number(si['min-fault-dist']) } : {}), ...(si.count !== undefined ? { negatives: Number(si.count) } : {}) } : {}),
      ...(tr ? { models: String(tr.model).split(','), epochs: Number(tr.epochs), folds: Number(tr.folds), patchSize: Number(tr['patch-size']) } : {}),
    };
    await this.refresh();
  }

  async begin(inputs: StudyInputs, table: SampleTableMapping): Promise<void> {
    this.study = { inputs, steps: {}, current: 'table' };
    this.options = defaultOptions(table, null);
    this.wb.recordStudy(this.study);
    await this.runStep('table');
    if (this.summary && this.options) this.options = defaultOptions(table, this.summary);
  }

  async refresh(): Promise<void> {
    if (!this.study) return;
    try {
      const r = await jobs.studyStatus(this.wb, this.study);
      this.statuses = r.statuses;
      this.stale = r.stale;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /** The table picture of a study reopened (or recorded earlier in this session): re-read, not rerun. */
  async ensureSummary(): Promise<void> {
    const s = this.study;
    if (this.summary || this.running || !s?.steps.table || !s.inputs.samples || !this.options) return;
    const r = await jobs.runTableStep(this.wb, s.inputs.samples, this.options.table);
    if (r.error === null) this.summary = r.view;
  }

  setOptions(patch: Partial<jobs.StudyOptions>): void {
    if (this.options) this.options = { ...this.options, ...patch };
  }

  show(step: StudyStepId): void {
    if (!this.study) return;
    this.study = { ...this.study, current: step };
    this.wb.recordStudy(this.study);
  }

  private out(step: StudyStepId, i = 0): string | null {
    return this.study?.steps[step]?.outputs[i] ?? null;
  }

  /** Runs one step with the current options; records it and moves on. Returns false on failure. */
  async runStep(step: StudyStepId): Promise<boolean> {
    const s = this.study;
    const o = this.options;
    if (!s || !o || this.running) return false;
    this.running = step;
    this.error = null;
    this.cancelled = null;
    const started = (id: string): void => {
      this.jobId = id;
    };
    try {
      const r = await this.dispatch(step, s, o, started);
      if (r.error !== null) {
        this.error = r.error;
        // The job's error crosses as "<name>: <message>" (study-jobs.ts jobError).
        if (r.error.startsWith('CancelledError:')) this.cancelled = step;
        return false;
      }
      const next = STUDY_STEP_IDS[Math.min(STUDY_STEP_IDS.indexOf(step) + 1, STUDY_STEP_IDS.length - 1)];
      this.study = { ...(await jobs.recordStudyStep(this.wb, s, r.run)), current: next };
      this.wb.recordStudy(this.study);
      await this.refresh();
      return true;
    } catch (e) {
      this.error = errorText(e);
      return false;
    } finally {
      this.running = null;
      this.jobId = null;
    }
  }

  private async dispatch(step: StudyStepId, s: StudyState, o: jobs.StudyOptions, started: (id: string) => void): Promise<{ error: string } | { error: null; run: StepRun }> {
    const need = (v: string | null, what: string): string => {
      if (!v) throw new Error(`the study has no ${what}: run the steps above first, or pick the file at the start`);
      return v;
    };
    const i = s.inputs;
    switch (step) {
      case 'table': {
        const r = await jobs.runTableStep(this.wb, need(i.samples, 'sample table'), o.table);
        if (r.error === null) this.summary = r.view;
        return r;
      }
      case 'kriging': {
        const r = await jobs.runKrigingStep(this.wb, need(i.samples, 'sample table'), o, started);
        if (r.error === null) this.variogram = r.view.variogram;
        return r;
      }
      case 'faults': {
        const r = await jobs.runFaultsStep(this.wb, need(i.faults, 'faults file'), need(i.deposits, 'deposits file'), need(this.out('kriging'), 'kriged grid'), o, started);
        if (r.error === null) this.powerLaw = r.view.report;
        return r;
      }
      case 'sites': {
        const r = await jobs.runSitesStep(this.wb, need(i.deposits, 'deposits file'), i.faults, need(this.out('kriging'), 'kriged grid'), o, started);
        if (r.error === null) this.siteCounts = { positive: r.view.positive, negative: r.view.negative };
        return r;
      }
      case 'training': {
        this.losses = [];
        const stack = i.stack ?? need(this.out('kriging'), 'kriged stack');
        const r = await jobs.runTrainingStep(this.wb, stack, need(this.out('sites'), 'sites file'), this.out('faults', 1), o, started, (p) => (this.losses = [...this.losses, p]));
        if (r.error === null) this.metrics = r.view.metrics;
        return r;
      }
      case 'compare':
        return jobs.runCompareStep(this.wb, need(this.out('training'), 'training run'), i.stack ?? need(this.out('kriging'), 'kriged stack'), started);
      case 'report':
        return jobs.runReportStep(this.wb, need(this.out('training'), 'training run'), need(this.out('compare'), 'probability map'), need(i.deposits, 'deposits file'), started);
    }
  }

  /** "Run stale steps": the stale steps in DAG order, stopping at the first failure. */
  async runStale(): Promise<void> {
    await this.refresh();
    const todo = [...this.stale];
    const done: StudyStepId[] = [];
    for (const step of todo) {
      if (!(await this.runStep(step))) break;
      done.push(step);
    }
    this.lastRerun = done;
  }

  cancel(): void {
    if (this.jobId) void this.wb.api.request('cancelJob', { jobId: this.jobId });
  }
}
