import type { JobContext } from '../jobs/job.ts';
import type { KrigeWorkflowOptions, KrigeWorkflowResult } from './krige.ts';
import type { PredictWorkflowOptions, PredictWorkflowResult } from './predict.ts';
import type { TrainWorkflowOptions, TrainWorkflowResult } from './train.ts';

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
}

export type WorkflowName = keyof Workflows;
export type WorkflowOptions<K extends WorkflowName> = Workflows[K]['options'];
export type WorkflowResult<K extends WorkflowName> = Workflows[K]['result'];
export type WorkflowFn<K extends WorkflowName> = (options: WorkflowOptions<K>, ctx?: JobContext) => Promise<WorkflowResult<K>>;

const LOADERS: { readonly [K in WorkflowName]: () => Promise<WorkflowFn<K>> } = {
  krige: async () => (await import('./krige.ts')).krigeWorkflow,
  train: async () => (await import('./train.ts')).trainWorkflow,
  predict: async () => (await import('./predict.ts')).predictWorkflow,
};

export const WORKFLOW_NAMES = Object.keys(LOADERS) as readonly WorkflowName[];

export function isWorkflowName(name: string): name is WorkflowName {
  return (WORKFLOW_NAMES as readonly string[]).includes(name);
}

/** The workflow function of `name` (its module loaded on first use). */
export function loadWorkflow<K extends WorkflowName>(name: K): Promise<WorkflowFn<K>> {
  return LOADERS[name]();
}

/** Runs workflow `name` in the calling thread. */
export async function runWorkflow<K extends WorkflowName>(name: K, options: WorkflowOptions<K>, ctx: JobContext = {}): Promise<WorkflowResult<K>> {
  return (await loadWorkflow(name))(options, ctx);
}
