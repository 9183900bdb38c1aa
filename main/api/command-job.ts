import { CancelledError, WorkbenchError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { runCancellableWorker, workerBootstrap } from '../jobs/cancellable-worker.ts';
import type { ComputeJobRequest, JobResult } from './contract.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import type { CommandWorkerInput, CommandWorkerMessage } from './command-worker.ts';
import { moduleUrl } from '../util/module-url.ts';

/** A command failed inside its worker; carries the original error's name and details. */
export class CommandJobError extends WorkbenchError {}

// The worker starts from a bootstrap that imports its entry (sources through tsx, or dist/ JS).
const WORKER_URL = moduleUrl('./command-worker.ts', import.meta.url);
const BOOTSTRAP = workerBootstrap(WORKER_URL, import.meta.url);

/** How long a cancelled command may take to stop by itself before its worker is terminated. */
const CANCEL_GRACE_MS = 2000;

/**
 * The same for a command running through a queue: its cancel removes the run's pending units
 * and waits (up to 15 s, main/queue/queue-client.ts) for the running ones to stop before it
 * removes every job of the run; terminating it earlier would leave the run's jobs in Redis.
 * The job itself ends at once (JobManager); only the worker thread's cleanup takes this long.
 */
export const QUEUE_CANCEL_GRACE_MS = 20_000;

/** `{ options: { out: 'x', seed: 3, verbose: true, band: ['a','b'] }, positionals }` → argv. */
export function toArgv(req: ComputeJobRequest): string[] {
  const argv: string[] = [];
  for (const [k, v] of Object.entries(req.options)) {
    if (v === false) continue;
    if (v === true) argv.push(`--${k}`);
    else if (Array.isArray(v)) for (const x of v) argv.push(`--${k}`, String(x));
    else argv.push(`--${k}`, String(v));
  }
  return [...argv, ...(req.positionals ?? [])];
}

/**
 * Runs `geoanomaly <command> <argv>` in a worker thread (the same code as the CLI: dist/ JS, or the sources through tsx),
 * relaying progress to the job context. Cancel asks the command to stop through its signal and
 * terminates the worker if it has not stopped within `cancelGraceMs` (CANCEL_GRACE_MS; QUEUE_CANCEL_GRACE_MS for --queue runs).
 */
export function runCommandInWorker(command: string, argv: readonly string[], ctx: JobContext, cancelGraceMs = CANCEL_GRACE_MS): Promise<JobResult> {
  const lines: string[] = [];
  const data: CommandWorkerInput = { command, argv };
  return runCancellableWorker<CommandWorkerMessage, JobResult>(
    BOOTSTRAP,
    {
      name: command,
      workerData: data,
      onMessage(m, done, fail) {
        if (m.t === 'out') lines.push(m.line);
        else if (m.t === 'progress') ctx.progress?.(m.fraction, m.message, m.detail);
        else if (m.t === 'done') done({ exitCode: m.exitCode, lines });
        else if (m.t === 'error') fail(m.error.name === 'CancelledError' ? new CancelledError(command) : rebuildError(m.error));
      },
      exitError: (code) => new CommandJobError(`${command} worker exited with code ${code} before finishing`, { command, code }),
    },
    ctx,
    cancelGraceMs,
  );
}
