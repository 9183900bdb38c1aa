import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CancelledError, WorkbenchError } from '../errors.ts';
import { throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import { moduleUrl } from '../util/module-url.ts';
import type { WorkflowName, WorkflowOptions, WorkflowResult } from './registry.ts';
import type { WorkflowWorkerInput, WorkflowWorkerMessage } from './workflow-worker.ts';

/** A workflow's worker stopped without a result or an error of its own. */
export class WorkflowWorkerError extends WorkbenchError {}

// Node 20 loads a worker's entry before `--import tsx` hooks apply, so the worker starts from a
// CommonJS bootstrap that imports the entry (as main/jobs/worker-pool.ts does). From the sources
// the entry is TypeScript and the bootstrap registers tsx first; from dist/ it is JavaScript.
const WORKER_URL = moduleUrl('./workflow-worker.ts', import.meta.url);
const BOOTSTRAP =
  (/\.ts$/.test(WORKER_URL.pathname) ? `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/esm/api'))}).register();\n` : '') +
  `import(${JSON.stringify(WORKER_URL.href)}).catch((e) => { setImmediate(() => { throw e; }); });\n`;

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

async function runInWorker<K extends WorkflowName>(data: WorkflowWorkerInput, name: K, ctx: JobContext, cancelGraceMs: number): Promise<{ result: WorkflowResult<K>; lines: readonly string[] }> {
  throwIfCancelled(ctx, name);
  return await new Promise<{ result: WorkflowResult<K>; lines: readonly string[] }>((resolvePromise, reject) => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
    let settled = false;
    let killTimer: ReturnType<typeof setTimeout> | null = null;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => {
      worker.postMessage('cancel');
      killTimer = setTimeout(() => {
        void worker.terminate();
        finish(() => reject(new CancelledError(name)));
      }, cancelGraceMs);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkflowWorkerMessage) => {
      if (m.t === 'log') ctx.log?.(m.line);
      else if (m.t === 'progress') ctx.progress?.(m.fraction, m.message);
      else if (m.t === 'done') finish(() => resolvePromise({ result: m.result as WorkflowResult<K>, lines: m.lines }));
      else if (m.t === 'error') finish(() => reject(m.error.name === 'CancelledError' ? new CancelledError(name) : rebuildError(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new WorkflowWorkerError(`${name} worker exited with code ${code} before finishing`, { workflow: name, code }))));
  });
}
