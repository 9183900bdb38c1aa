import type { JobContext } from '../jobs/job.ts';
import type { OptionTable } from './option-table.ts';
import type { KrigeWorkflowOptions, KrigeWorkflowResult } from './krige.ts';
import type { PredictWorkflowOptions, PredictWorkflowResult } from './predict.ts';
import type { TrainWorkflowOptions, TrainWorkflowResult } from './train.ts';
import type { FaultsWorkflowOptions } from './faults-options.ts';
import type { FaultsWorkflowResult } from './faults-result.ts';
import type { SitesWorkflowOptions } from './sites-options.ts';
import type { SitesWorkflowResult } from './sites-result.ts';
import type { RpcaWorkflowOptions } from './rpca-options.ts';
import type { RpcaWorkflowResult } from './rpca-result.ts';
import type { ExplainWorkflowOptions } from './explain-options.ts';
import type { DemoDataWorkflowOptions, DemoDataWorkflowResult } from './demo-data-options.ts';
import type { DemoWorkflowOptions, DemoWorkflowResult } from './demo-options.ts';
import type { ExplainWorkflowResult } from './explain-result.ts';
import type { EvaluateWorkflowOptions } from './evaluate-options.ts';
import type { EvaluateWorkflowResult } from './evaluate-result.ts';
import type { XrfWorkflowOptions } from './xrf-options.ts';
import type { XrfWorkflowResult } from './xrf-result.ts';
import type { LayoutWorkflowOptions } from './layout-options.ts';
import type { LayoutWorkflowResult } from './layout-result.ts';
import type { ReportWorkflowOptions } from './report-options.ts';
import type { ReportWorkflowResult } from './report-result.ts';

/**
 * The workflows by name, with their typed options and results: what the CLI's commands and the
 * app's compute requests run (in the calling thread or in a worker, main/workflows/run-in-worker.ts).
 * Types only here: each module is imported when its workflow runs (train must not load
 * TensorFlow.js for a krige job). Adding a workflow is one line in each of the two maps.
 */
export interface Workflows {
  readonly krige: { readonly options: KrigeWorkflowOptions; readonly result: KrigeWorkflowResult };
  readonly train: { readonly options: TrainWorkflowOptions; readonly result: TrainWorkflowResult };
  readonly predict: { readonly options: PredictWorkflowOptions; readonly result: PredictWorkflowResult };
  readonly faults: { readonly options: FaultsWorkflowOptions; readonly result: FaultsWorkflowResult };
  readonly sites: { readonly options: SitesWorkflowOptions; readonly result: SitesWorkflowResult };
  readonly rpca: { readonly options: RpcaWorkflowOptions; readonly result: RpcaWorkflowResult };
  readonly explain: { readonly options: ExplainWorkflowOptions; readonly result: ExplainWorkflowResult };
  readonly 'demo-data': { readonly options: DemoDataWorkflowOptions; readonly result: DemoDataWorkflowResult };
  readonly demo: { readonly options: DemoWorkflowOptions; readonly result: DemoWorkflowResult };
  readonly evaluate: { readonly options: EvaluateWorkflowOptions; readonly result: EvaluateWorkflowResult };
  readonly xrf: { readonly options: XrfWorkflowOptions; readonly result: XrfWorkflowResult };
  readonly layout: { readonly options: LayoutWorkflowOptions; readonly result: LayoutWorkflowResult };
  readonly report: { readonly options: ReportWorkflowOptions; readonly result: ReportWorkflowResult };
}

export type WorkflowName = keyof Workflows;
export type WorkflowOptions<K extends WorkflowName> = Workflows[K]['options'];
export type WorkflowResult<K extends WorkflowName> = Workflows[K]['result'];
export type WorkflowFn<K extends WorkflowName> = (options: WorkflowOptions<K>, ctx?: JobContext) => Promise<WorkflowResult<K>>;

/** A workflow module as the registry loads it: the function, its option table, its printed lines. */
export interface WorkflowModule<K extends WorkflowName> {
  readonly run: WorkflowFn<K>;
  readonly table: OptionTable;
  /** The lines the CLI prints for a result (the app's job log ends with them too). */
  readonly lines: (result: WorkflowResult<K>) => string[];
}

const LOADERS: { readonly [K in WorkflowName]: () => Promise<WorkflowModule<K>> } = {
  krige: async () => {
    const m = await import('./krige.ts');
    return { run: m.krigeWorkflow, table: m.KRIGE_OPTIONS, lines: m.krigeResultLines };
  },
  train: async () => {
    const m = await import('./train.ts');
    return { run: m.trainWorkflow, table: m.TRAIN_OPTIONS, lines: m.trainResultLines };
  },
  predict: async () => {
    const m = await import('./predict.ts');
    return { run: m.predictWorkflow, table: m.PREDICT_OPTIONS, lines: m.predictResultLines };
  },
  faults: async () => {
    const m = await import('./faults.ts');
    return { run: m.faultsWorkflow, table: m.FAULTS_OPTIONS, lines: m.faultsResultLines };
  },
  sites: async () => {
    const m = await import('./sites.ts');
    return { run: m.sitesWorkflow, table: m.SITES_OPTIONS, lines: m.sitesResultLines };
  },
  rpca: async () => {
    const m = await import('./rpca.ts');
    return { run: m.rpcaWorkflow, table: m.RPCA_OPTIONS, lines: m.rpcaResultLines };
  },
  explain: async () => {
    const m = await import('./explain.ts');
    return { run: m.explainWorkflow, table: m.EXPLAIN_OPTIONS, lines: m.explainResultLines };
  },
  evaluate: async () => {
    const m = await import('./evaluate.ts');
    return { run: m.evaluateWorkflow, table: m.EVALUATE_OPTIONS, lines: m.evaluateResultLines };
  },
  xrf: async () => {
    const m = await import('./xrf.ts');
    return { run: m.xrfWorkflow, table: m.XRF_OPTIONS, lines: m.xrfResultLines };
  },
  layout: async () => {
    const m = await import('./layout.ts');
    return { run: m.layoutWorkflow, table: m.LAYOUT_OPTIONS, lines: m.layoutResultLines };
  },
  report: async () => {
    const m = await import('./report.ts');
    return { run: m.reportWorkflow, table: m.REPORT_OPTIONS, lines: m.reportResultLines };
  },
  'demo-data': async () => {
    const m = await import('./demo-data.ts');
    return { run: m.demoDataWorkflow, table: m.DEMO_DATA_OPTIONS, lines: m.demoDataResultLines };
  },
  // Above the other workflows: it runs them (typed options, each through this registry).
  demo: async () => {
    const m = await import('./demo.ts');
    return { run: m.demoWorkflow, table: m.DEMO_OPTIONS, lines: m.demoResultLines };
  },
};

export const WORKFLOW_NAMES = Object.keys(LOADERS) as readonly WorkflowName[];

export function isWorkflowName(name: string): name is WorkflowName {
  return (WORKFLOW_NAMES as readonly string[]).includes(name);
}

/** The workflow module of `name` (loaded on first use). */
export function loadWorkflow<K extends WorkflowName>(name: K): Promise<WorkflowModule<K>> {
  return LOADERS[name]();
}

/** Runs workflow `name` in the calling thread. */
export async function runWorkflow<K extends WorkflowName>(name: K, options: WorkflowOptions<K>, ctx: JobContext = {}): Promise<WorkflowResult<K>> {
  return (await loadWorkflow(name)).run(options, ctx);
}
