/**
 * Worker-thread body of main/workflows/run-in-worker.ts: runs one workflow with the given
 * options, forwarding its progress and log lines to the parent, honouring a 'cancel' message,
 * and posting the typed result (structured clone) when it is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.ts';
import type { ProgressDetail } from '../jobs/progress-detail.ts';
import { isWorkflowName, loadWorkflow, type WorkflowName, type WorkflowOptions } from './registry.ts';
import { optionsFromRequest } from './option-table.ts';

export interface WorkflowWorkerInput {
  readonly workflow: string;
  /** Typed options (runWorkflowInWorker) … */
  readonly options?: unknown;
  /** … or a compute request's flag → value options, parsed here by the workflow's table (runWorkflowRequestInWorker). */
  readonly request?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export type WorkflowWorkerMessage =
  | { readonly t: 'log'; readonly line: string }
  | { readonly t: 'progress'; readonly fraction: number; readonly message: string; readonly detail?: ProgressDetail }
  | { readonly t: 'done'; readonly result: unknown; readonly lines: readonly string[] }
  | { readonly t: 'error'; readonly error: { name: string; message: string; details: Record<string, unknown> } };

const port = parentPort;
if (!port) throw new Error('workflow-worker.ts must run in a worker thread');
const input = workerData as WorkflowWorkerInput;
const ac = new AbortController();
port.on('message', (m: unknown) => {
  if (m === 'cancel') ac.abort();
});
const post = (m: WorkflowWorkerMessage): void => port.postMessage(m);

try {
  if (!isWorkflowName(input.workflow)) throw new Error(`no workflow "${input.workflow}" in this build`);
  const name: WorkflowName = input.workflow;
  const wf = await loadWorkflow(name);
  const options = (input.request ? optionsFromRequest(wf.table, input.request, name) : input.options) as WorkflowOptions<typeof name>;
  const result = await wf.run(options, {
    signal: ac.signal,
    progress: (fraction, message, detail?: ProgressDetail) => post({ t: 'progress', fraction, message, ...(detail ? { detail } : {}) }),
    log: (line) => post({ t: 'log', line }),
  });
  post({ t: 'done', result, lines: wf.lines(result) });
} catch (e) {
  post({ t: 'error', error: serializeError(e) });
}
port.close();
