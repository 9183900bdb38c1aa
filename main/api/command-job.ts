import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CancelledError, WorkbenchError } from '../errors.ts';
import { throwIfCancelled, type JobContext } from '../jobs/job.ts';
import type { ComputeJobRequest, JobResult } from './contract.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import type { CommandWorkerInput, CommandWorkerMessage } from './command-worker.ts';
import { moduleUrl } from '../util/module-url.ts';

/** A command failed inside its worker; carries the original error's name and details. */
export class CommandJobError extends WorkbenchError {}

// Node 20 loads a worker's entry before `--import tsx` hooks apply, so the worker starts from a
// CommonJS bootstrap that imports the entry (the mechanism of main/jobs/worker-pool.ts and
// main/cli/bin.mjs). From the sources the entry is TypeScript and the bootstrap registers tsx
// first; from the compiled package (dist/) it is JavaScript and needs no loader.
const WORKER_URL = moduleUrl('./command-worker.ts', import.meta.url);
const BOOTSTRAP =
  (/\.ts$/.test(WORKER_URL.pathname) ? `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/esm/api'))}).register();\n` : '') +
  `import(${JSON.stringify(WORKER_URL.href)}).catch((e) => { setImmediate(() => { throw e; }); });\n`;

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
  throwIfCancelled(ctx, command);
  return new Promise<JobResult>((resolvePromise, reject) => {
    const data: CommandWorkerInput = { command, argv };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data });
    const lines: string[] = [];
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
        finish(() => reject(new CancelledError(command)));
      }, cancelGraceMs);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: CommandWorkerMessage) => {
      if (m.t === 'out') lines.push(m.line);
      else if (m.t === 'progress') ctx.progress?.(m.fraction, m.message);
      else if (m.t === 'done') finish(() => resolvePromise({ exitCode: m.exitCode, lines }));
      else if (m.t === 'error') {
        finish(() =>
          reject(m.error.name === 'CancelledError' ? new CancelledError(command) : rebuildError(m.error)),
        );
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new CommandJobError(`${command} worker exited with code ${code} before finishing`, { command, code }))));
  });
}
