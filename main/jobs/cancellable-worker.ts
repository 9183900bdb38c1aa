import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../errors.ts';
import { throwIfCancelled, type JobContext } from './job.ts';

/**
 * The CommonJS bootstrap a worker thread starts from. Node 20 loads a worker's entry before
 * `--import tsx` hooks apply, so the bootstrap imports the entry itself: from the sources the entry
 * is TypeScript and the bootstrap registers tsx first; from dist/ it is JavaScript and needs no
 * loader (the mechanism of main/jobs/worker-pool.ts and main/cli/bin.mjs).
 */
export function workerBootstrap(entry: URL, importerUrl: string): string {
  return (
    (/\.ts$/.test(entry.pathname) ? `require(${JSON.stringify(createRequire(importerUrl).resolve('tsx/esm/api'))}).register();\n` : '') +
    `import(${JSON.stringify(entry.href)}).catch((e) => { setImmediate(() => { throw e; }); });\n`
  );
}

/** How one kind of job reads its worker's messages and names a worker that exits without an answer. */
export interface CancellableWorkerJob<M, R> {
  /** The job's name in errors (a command or workflow name). */
  readonly name: string;
  readonly workerData: unknown;
  /** Relays progress/log messages, or settles the job through `done`/`fail`. */
  onMessage(m: M, done: (r: R) => void, fail: (e: Error) => void): void;
  exitError(code: number): Error;
}

/**
 * Runs one job in a worker thread started from `bootstrap`, settling exactly once. Cancel
 * (ctx.signal) posts 'cancel' so the job stops through its own signal, and terminates the worker if
 * it has not stopped within `cancelGraceMs`; either way the promise rejects with CancelledError.
 * Shared by the app's command jobs (main/api/command-job.ts) and the workflow jobs
 * (main/workflows/run-in-worker.ts).
 */
export function runCancellableWorker<M, R>(bootstrap: string, job: CancellableWorkerJob<M, R>, ctx: JobContext, cancelGraceMs: number): Promise<R> {
  throwIfCancelled(ctx, job.name);
  return new Promise<R>((resolvePromise, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData: job.workerData });
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
        finish(() => reject(new CancelledError(job.name)));
      }, cancelGraceMs);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: M) =>
      job.onMessage(
        m,
        (r) => finish(() => resolvePromise(r)),
        (e) => finish(() => reject(e)),
      ),
    );
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(job.exitError(code))));
  });
}
