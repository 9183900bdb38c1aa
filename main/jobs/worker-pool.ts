import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData, type Transferable } from 'node:worker_threads';
import * as errors from '../errors.ts';
import { CancelledError, InvalidOptionError, WorkbenchError, serializeError, type ErrorDetails } from '../errors.ts';
import type { JobContext } from './job.ts';
import { report, throwIfCancelled } from './job.ts';

/**
 * A small generic worker-thread pool: a list of tasks in, their results out (in task order),
 * progress as the fraction of work done, cancellation through the job's AbortSignal (which
 * terminates the workers at once, mid-task).
 *
 * Worker side: the worker module calls `serveTasks(handler)` and reads the shared inputs with
 * `workerInput()`. Each worker is started once per `runTasks` call with the same input (such as
 * the sample points), then receives tasks one at a time.
 *
 * The sources are TypeScript. `new Worker(url, { execArgv: ['--import', 'tsx'] })` does not work
 * on Node 20 (the worker's entry is loaded before the --import hooks apply:
 * ERR_UNKNOWN_FILE_EXTENSION ".ts"). Two ways are used instead, fastest first:
 * 1. The worker module and its imports are bundled once per process into one CommonJS script with
 *    esbuild (the transpiler tsx itself runs on, so it is installed wherever tsx is) and each worker
 *    evaluates that script: no loader in the worker, start-up in milliseconds. Through tsx, each
 *    worker would spend ~0.3–0.6 s of CPU loading the loader and transpiling its imports, which is
 *    as long as kriging a 250 × 250 grid.
 * 2. If esbuild cannot be loaded or bundling fails, each worker starts from a tiny CommonJS
 *    bootstrap that registers tsx's loader (resolved from this file, so the working directory does
 *    not matter) and imports the TypeScript worker module: the mechanism of main/cli/bin.mjs.
 *    From the compiled package (dist/, where callers name their workers with util/module-url.ts)
 *    the worker module is JavaScript and the bootstrap imports it without tsx.
 * Worker modules must therefore not depend on import.meta at their top level.
 *
 * Messages (plain structured-clone data):
 *   pool → worker  { kind: 'task', index, task }
 *   worker → pool  { kind: 'progress', index, fraction } | { kind: 'done', index, result }
 *                | { kind: 'failed', index, error: { name, message, details } }
 */
export interface WorkerPoolOptions {
  /** Worker threads. @default os.availableParallelism() (never more than there are tasks) */
  readonly threads?: number;
  /** Given to every worker (read there with `workerInput()`). */
  readonly workerData?: unknown;
  /** Name of the job in progress and error messages. @default 'worker job' */
  readonly label?: string;
  /** How workers run TypeScript: 'auto' = esbuild bundle, else tsx; 'tsx' = always tsx. @default 'auto' */
  readonly loader?: 'auto' | 'tsx';
}

type ToWorker = { kind: 'task'; index: number; task: unknown };
type FromWorker =
  | { kind: 'progress'; index: number; fraction: number }
  | { kind: 'done'; index: number; result: unknown }
  | { kind: 'failed'; index: number; error: { name: string; message: string; details: ErrorDetails } };

/** Error classes of errors.ts whose constructor is (message, details): rebuilt by name across the thread boundary. */
const REBUILDABLE: Record<string, new (message: string, details?: ErrorDetails) => WorkbenchError> = {
  CrsError: errors.CrsError,
  GridMismatchError: errors.GridMismatchError,
  BandMismatchError: errors.BandMismatchError,
  InvalidOptionError: errors.InvalidOptionError,
  SingularSystemError: errors.SingularSystemError,
  WorkbenchError: errors.WorkbenchError,
};

/** Turns a serialized worker error back into an Error of the same name (WorkbenchError if unknown). */
export function rebuildError(e: { name: string; message: string; details: ErrorDetails }): Error {
  if (e.name === 'CancelledError') return new CancelledError(String(e.details.what ?? 'job'));
  const Ctor = REBUILDABLE[e.name];
  if (Ctor) return new Ctor(e.message, e.details);
  const err = new WorkbenchError(e.message, e.details);
  err.name = e.name;
  return err;
}

/**
 * CommonJS bootstrap that imports the worker module named in `workerData.entry` (fallback path;
 * data-parallel training, prediction and the app's command jobs use it too). A `.ts` entry (the
 * sources) registers tsx's loader first; a `.js` entry (the compiled dist/) needs no loader.
 */
export function tsxBootstrap(): string {
  const tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api');
  return (
    `const { workerData } = require('node:worker_threads');\n` +
    `if (/\\.ts$/.test(new URL(workerData.entry).pathname)) require(${JSON.stringify(tsxApi)}).register();\n` +
    `import(workerData.entry).catch((e) => { setImmediate(() => { throw e; }); });\n`
  );
}

const bundles = new Map<string, Promise<string | null>>();

/** The worker module bundled into one CommonJS script, or null when esbuild is unavailable. */
function bundledWorker(workerUrl: URL): Promise<string | null> {
  let p = bundles.get(workerUrl.href);
  if (!p) {
    p = (async () => {
      try {
        const esbuild = await import('esbuild');
        const r = await esbuild.build({
          entryPoints: [fileURLToPath(workerUrl)],
          bundle: true,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          write: false,
          logLevel: 'silent',
        });
        return r.outputFiles[0].text;
      } catch {
        return null;
      }
    })();
    bundles.set(workerUrl.href, p);
  }
  return p;
}

interface WrappedInput {
  readonly entry: string;
  readonly input: unknown;
}

/** Worker side: the `workerData` given to runTasks (undefined on the main thread). */
export function workerInput<D>(): D {
  return (workerData as WrappedInput | undefined)?.input as D;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs `tasks` on worker threads started from `workerUrl` and resolves with their results in task
 * order. Rejects with the first task's error (re-created with its name) or CancelledError, and in
 * both cases terminates every worker before settling.
 */
export async function runTasks<T, R>(
  workerUrl: URL,
  tasks: readonly T[],
  options: WorkerPoolOptions = {},
  ctx?: JobContext,
): Promise<R[]> {
  const label = options.label ?? 'worker job';
  throwIfCancelled(ctx, label);
  const threads = options.threads ?? defaultThreads();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new InvalidOptionError(`threads must be an integer ≥ 1, got ${threads}`);
  const results: R[] = new Array(tasks.length);
  if (tasks.length === 0) return results;
  const fractions = new Float64Array(tasks.length);
  let fractionSum = 0;
  const setFraction = (i: number, f: number): void => {
    const clamped = Math.min(1, Math.max(0, f));
    fractionSum += clamped - fractions[i];
    fractions[i] = clamped;
    report(ctx, fractionSum / tasks.length, `${label}: ${Math.round((100 * fractionSum) / tasks.length)}%`);
  };
  const workers: Worker[] = [];
  const script = (options.loader === 'tsx' ? null : await bundledWorker(workerUrl)) ?? tsxBootstrap();
  throwIfCancelled(ctx, label);
  return await new Promise<R[]>((resolve, reject) => {
    let next = 0;
    let finished = 0;
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      ctx?.signal?.removeEventListener('abort', onAbort);
      const all = workers.map((w) => w.terminate().catch(() => 0));
      void Promise.all(all).then(() => (err ? reject(err) : resolve(results)));
    };
    const onAbort = (): void => settle(new CancelledError(label));
    ctx?.signal?.addEventListener('abort', onAbort, { once: true });
    const dispatch = (w: Worker): void => {
      if (settled) return;
      if (next >= tasks.length) return;
      const index = next++;
      const msg: ToWorker = { kind: 'task', index, task: tasks[index] };
      w.postMessage(msg);
    };
    const n = Math.min(threads, tasks.length);
    for (let t = 0; t < n; t++) {
      let w: Worker;
      try {
        const wrapped: WrappedInput = { entry: workerUrl.href, input: options.workerData };
        w = new Worker(script, { eval: true, workerData: wrapped });
      } catch (e) {
        settle(e as Error);
        return;
      }
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (settled) return;
        if (m.kind === 'progress') setFraction(m.index, m.fraction);
        else if (m.kind === 'done') {
          results[m.index] = m.result as R;
          setFraction(m.index, 1);
          finished++;
          if (finished === tasks.length) settle(null);
          else dispatch(w);
        } else if (m.kind === 'failed') settle(rebuildError(m.error));
      });
      w.on('error', (e) => settle(e));
      w.on('exit', (code) => {
        if (!settled) settle(new WorkbenchError(`${label}: a worker thread exited early (code ${code}) before finishing its tasks`, { code }));
      });
      dispatch(w);
    }
    if (ctx?.signal?.aborted) onAbort();
  });
}

export interface TaskContext {
  /** Report the fraction (0…1) of the current task done. */
  progress(fraction: number): void;
}

/** What a handler returns: the result, and optionally buffers to move rather than copy. */
export interface TaskOutput<R> {
  readonly result: R;
  readonly transfer?: Transferable[];
}

/**
 * Worker side: answers task messages with `handler`. Call once at the top level of the worker
 * module; a no-op when imported on the main thread.
 */
export function serveTasks<T, R>(handler: (task: T, ctx: TaskContext) => TaskOutput<R> | Promise<TaskOutput<R>>): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  port.on('message', (m: ToWorker) => {
    if (m.kind !== 'task') return;
    const index = m.index;
    let lastPost = 0;
    const tctx: TaskContext = {
      progress(fraction) {
        const now = Date.now();
        if (now - lastPost < 100) return;
        lastPost = now;
        port.postMessage({ kind: 'progress', index, fraction } satisfies FromWorker);
      },
    };
    Promise.resolve()
      .then(() => handler(m.task as T, tctx))
      .then(
        (out) => port.postMessage({ kind: 'done', index, result: out.result } satisfies FromWorker, out.transfer ?? []),
        (e: unknown) => port.postMessage({ kind: 'failed', index, error: serializeError(e) } satisfies FromWorker),
      );
  });
}
