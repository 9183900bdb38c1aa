import type { JobContext } from '../jobs/job.ts';
import type { ComputeJobRequest, JobResult } from './contract.ts';
import { runWorkflowRequestInWorker } from '../workflows/run-in-worker.ts';
import type { WorkflowName } from '../workflows/registry.ts';
import type { WorkflowJobResult } from '../workflows/workflow-results.ts';

/**
 * A compute request of a registered workflow as a job: the workflow function runs
 * in a worker thread (main/workflows/run-in-worker.ts; no CLI, no argv), its log lines and the
 * lines the CLI would print form the job's `lines`, and its typed result travels as `workflow`.
 */
export async function runWorkflowJob(name: WorkflowName, request: ComputeJobRequest, ctx: JobContext, cancelGraceMs?: number): Promise<JobResult> {
  const log: string[] = [];
  const { result, lines } = await runWorkflowRequestInWorker(name, request.options, { ...ctx, log: (line) => log.push(line) }, cancelGraceMs);
  return { exitCode: 0, lines: [...log, ...lines], workflow: { workflow: name, result } as WorkflowJobResult };
}

/** The request with the session's queue URL added (Settings → Compute), for this job only: never recorded in the project. */
export function withQueue(request: ComputeJobRequest, queueUrl: string | null): ComputeJobRequest {
  return queueUrl ? { ...request, options: { ...request.options, queue: queueUrl } } : request;
}
