import { CancelledError, WorkbenchError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { runCancellableWorker, workerBootstrap } from '../jobs/cancellable-worker.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import { moduleUrl } from '../util/module-url.ts';
import type { WorkflowName, WorkflowOptions, WorkflowResult } from './registry.ts';
import type { WorkflowWorkerInput, WorkflowWorkerMessage } from './workflow-worker.ts';

/** A workflow's worker stopped without a result or an error of its own. */
export class WorkflowWorkerError extends WorkbenchError {}

// The worker starts from a bootstrap that imports its entry (sources through tsx, or dist/ JS).
const WORKER_URL = moduleUrl('./workflow-worker.ts', import.meta.url);
const BOOTSTRAP = workerBootstrap(WORKER_URL, import.meta.url);

/** How long a cancelled workflow may take to stop by itself before its worker is terminated. */
export const CANCEL_GRACE_MS = 2000;

/**
 * Runs workflow `name` in a worker thread (off the caller's event loop) and resolves with its
 * typed result, the same value `runWorkflow` returns in the calling thread. Progress and log
 * lines are relayed to `ctx`. Cancel (ctx.signal) asks the workflow to stop through its own
 * signal and terminates the worker if it has not stopped within `cancelGraceMs`; either way the
 * promise rejects with CancelledError.
 */
export async function runWorkflowInWorker<K extends WorkflowName>(name: K, options: WorkflowOptions<K>, ctx: JobContext = {}, cancelGraceMs = CANCEL_GRACE_MS): Promise<WorkflowResult<K>> {
  return (await runInWorker<K>({ workflow: name, options }, name, ctx, cancelGraceMs)).result;
}

/**
 * The same for a compute request of the app: its flag → value options are parsed in the worker
 * by the workflow's option table (the CLI's parser, so both refuse the same values). Resolves
 * with the typed result and the lines the CLI would print for it.
 */
export async function runWorkflowRequestInWorker<K extends WorkflowName>(
  name: K,
  request: Readonly<Record<string, string | number | boolean | readonly string[]>>,
  ctx: JobContext = {},
  cancelGraceMs = CANCEL_GRACE_MS,
): Promise<{ readonly result: WorkflowResult<K>; readonly lines: readonly string[] }> {
  return runInWorker<K>({ workflow: name, request }, name, ctx, cancelGraceMs);
}

function runInWorker<K extends WorkflowName>(data: WorkflowWorkerInput, name: K, ctx: JobContext, cancelGraceMs: number): Promise<{ result: WorkflowResult<K>; lines: readonly string[] }> {
  return runCancellableWorker<WorkflowWorkerMessage, { result: WorkflowResult<K>; lines: readonly string[] }>(
    BOOTSTRAP,
    {
      name,
      workerData: data,
      onMessage(m, done, fail) {
        if (m.t === 'log') ctx.log?.(m.line);
        else if (m.t === 'progress') ctx.progress?.(m.fraction, m.message, m.detail);
        else if (m.t === 'done') done({ result: m.result as WorkflowResult<K>, lines: m.lines });
        else if (m.t === 'error') fail(m.error.name === 'CancelledError' ? new CancelledError(name) : rebuildError(m.error));
      },
      exitError: (code) => new WorkflowWorkerError(`${name} worker exited with code ${code} before finishing`, { workflow: name, code }),
    },
    ctx,
    cancelGraceMs,
  );
}
