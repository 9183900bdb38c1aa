import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MessageChannel, isMainThread, workerData, type MessagePort, type Transferable } from 'node:worker_threads';
import type Tinypool from 'tinypool';
import * as errors from '../errors.ts';
import { CancelledError, InvalidOptionError, WorkbenchError, serializeError, type ErrorDetails } from '../errors.ts';
import type { JobContext } from './job.ts';
import { report, throwIfCancelled } from './job.ts';

/**
 * Worker-thread pools on Tinypool (a well-kept pool: thread start-up, task queue, worker reuse and
 * crash handling are its job), with what Tinypool lacks added here: per-task progress, cooperative
 * cancel before termination, named errors rebuilt across the thread boundary, and TypeScript
 * workers on Node 20.
 *
 * Worker side: the worker module calls `serveTasks(handler)` and reads the pool's shared input with
 * `workerInput()`. Each task travels with its own MessageChannel port: the worker posts progress and
 * then the result on it (with a transfer list, so big arrays move rather than copy), and listens on
 * it for 'cancel'. Tinypool's own result is only an acknowledgement.
 *
 * The sources are TypeScript, and `new Worker(url, { execArgv: ['--import', 'tsx'] })` does not work
 * on Node 20 (the worker's entry is loaded before the --import hooks apply). Tinypool loads a
 * generated entry file instead (written once per process and worker module, under the OS temp dir):
 * 1. by default the worker module and its imports bundled into one CommonJS script with esbuild
 *    (the transpiler tsx runs on, so it is installed wherever tsx is): no loader in the worker,
 *    start-up in milliseconds, where tsx would spend ~0.3–0.6 s of CPU per worker;
 * 2. with `loader: 'tsx'`, or when bundling fails (native addons such as onnxruntime-node cannot be
 *    bundled), a tiny CommonJS entry that registers tsx's loader (for a .ts module only: from the
 *    compiled dist/ the worker module is JavaScript) and imports the worker module.
 * Worker modules must therefore not depend on import.meta at their top level.
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
  /**
   * On cancel, wait up to CANCEL_GRACE_MS for busy workers to stop their task (they must pass
   * TaskContext.signal on and yield) before terminating them. Needed where a task runs native
   * code (ONNX Runtime); pure-JS tasks are terminated at once. @default false
   */
  readonly stopBeforeTerminate?: boolean;
}

/**
 * How long a cancelled pool waits for a busy worker to stop its task by itself (its handler sees
 * TaskContext.signal at its next cancellation point) before terminating it. Terminating a worker
 * in the middle of a native call (an ONNX Runtime session run) aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", issue 19).
 */
export const CANCEL_GRACE_MS = 5000;

/** Messages on a task's own port. */
type ToWorker = 'cancel';
type FromWorker =
  | { kind: 'progress'; fraction: number }
  | { kind: 'done'; result: unknown }
  | { kind: 'failed'; error: { name: string; message: string; details: ErrorDetails } };

/** What Tinypool hands the worker's entry: the task and the port its progress and result go back on. */
interface PoolTaskMessage {
  readonly port: MessagePort;
  readonly task: unknown;
}

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
 * CommonJS bootstrap for a single `new Worker(script, { eval: true })` that imports the module named
 * in `workerData.entry` (data-parallel training and the app's command and workflow jobs, which run
 * one worker per job, not a pool). A `.ts` entry (the sources) registers tsx's loader first; a `.js`
 * entry (the compiled dist/) needs no loader.
 */
export function tsxBootstrap(): string {
  const tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api');
  return (
    `const { workerData } = require('node:worker_threads');\n` +
    `if (/\\.ts$/.test(new URL(workerData.entry).pathname)) require(${JSON.stringify(tsxApi)}).register();\n` +
    `import(workerData.entry).catch((e) => { setImmediate(() => { throw e; }); });\n`
  );
}

// ---------------------------------------------------------------------------------------------
// Generated entry files for Tinypool (one per worker module and loader, per process).

const ENTRY_DIR = join(tmpdir(), `geoanomaly-pool-${process.pid}`);
let entryDirCleanup = false;
const entries = new Map<string, Promise<string>>();
/** This module's own URL: the worker's entry imports it to reach the handler serveTasks registered. */
const POOL_MODULE_URL = import.meta.url;

function writeEntry(key: string, text: string): string {
  mkdirSync(ENTRY_DIR, { recursive: true });
  if (!entryDirCleanup) {
    entryDirCleanup = true;
    process.once('exit', () => rmSync(ENTRY_DIR, { recursive: true, force: true }));
  }
  const file = join(ENTRY_DIR, `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.cjs`);
  writeFileSync(file, text);
  return file;
}

async function bundledEntry(workerUrl: URL): Promise<string | null> {
  try {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      stdin: {
        contents: `import ${JSON.stringify(fileURLToPath(workerUrl))};\nexport { handlePoolTask as default } from ${JSON.stringify(fileURLToPath(POOL_MODULE_URL))};\n`,
        resolveDir: fileURLToPath(new URL('.', workerUrl)),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // Only the pool side uses Tinypool (loaded lazily); the worker never does.
      external: ['tinypool'],
    });
    return writeEntry(`bundle:${workerUrl.href}`, r.outputFiles[0].text);
  } catch {
    return null;
  }
}

function tsxEntry(workerUrl: URL): string {
  const tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api');
  const text =
    `if (/\\.ts$/.test(new URL(${JSON.stringify(workerUrl.href)}).pathname)) require(${JSON.stringify(tsxApi)}).register();\n` +
    `let ready;\n` +
    `module.exports = async function (message) {\n` +
    `  ready ??= import(${JSON.stringify(workerUrl.href)}).then(() => import(${JSON.stringify(POOL_MODULE_URL)}));\n` +
    `  return (await ready).handlePoolTask(message);\n` +
    `};\n`;
  return writeEntry(`tsx:${workerUrl.href}`, text);
}

function entryFile(workerUrl: URL, loader: 'auto' | 'tsx'): Promise<string> {
  const key = `${loader}:${workerUrl.href}`;
  let p = entries.get(key);
  if (!p) {
    // A compiled .js worker (dist/) is bundled too: one script loads faster than its many modules.
    p = (async () => (loader === 'auto' ? await bundledEntry(workerUrl) : null) ?? tsxEntry(workerUrl))();
    entries.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Worker side

interface TinypoolState {
  readonly isTinypoolWorker?: boolean;
  readonly workerData?: unknown;
}

/** Worker side: the pool's `workerData` (undefined on the main thread). */
export function workerInput<D>(): D {
  const state = (process as unknown as { __tinypool_state__?: TinypoolState }).__tinypool_state__;
  if (state?.isTinypoolWorker) return state.workerData as D;
  // A single worker started with tsxBootstrap() ({ entry, input }).
  return (workerData as { input?: unknown } | undefined)?.input as D;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export interface TaskContext {
  /** Report the fraction (0…1) of the current task done. */
  progress(fraction: number): void;
  /** Aborted when the pool is cancelled: pass it on as JobContext.signal. */
  readonly signal: AbortSignal;
}

/** What a handler returns: the result, and optionally buffers to move rather than copy. */
export interface TaskOutput<R> {
  readonly result: R;
  readonly transfer?: Transferable[];
}

type Handler = (task: unknown, ctx: TaskContext) => TaskOutput<unknown> | Promise<TaskOutput<unknown>>;
let registered: Handler | null = null;

/**
 * Worker side: registers the handler of this worker module's tasks. Call once at the top level of
 * the worker module; a no-op when imported on the main thread.
 */
export function serveTasks<T, R>(handler: (task: T, ctx: TaskContext) => TaskOutput<R> | Promise<TaskOutput<R>>): void {
  if (isMainThread) return;
  registered = handler as Handler;
}

/** The generated entry's default export: runs one task, answering on the task's own port. */
export async function handlePoolTask(message: PoolTaskMessage): Promise<'answered'> {
  const { port, task } = message;
  const cancel = new AbortController();
  port.on('message', (m: ToWorker) => {
    if (m === 'cancel') cancel.abort();
  });
  let lastPost = 0;
  const tctx: TaskContext = {
    signal: cancel.signal,
    progress(fraction) {
      const now = Date.now();
      if (now - lastPost < 100) return;
      lastPost = now;
      port.postMessage({ kind: 'progress', fraction } satisfies FromWorker);
    },
  };
  try {
    if (!registered) throw new WorkbenchError('the worker module registered no task handler (serveTasks was not called at its top level)');
    const out = await registered(task, tctx);
    port.postMessage({ kind: 'done', result: out.result } satisfies FromWorker, out.transfer ?? []);
  } catch (e) {
    port.postMessage({ kind: 'failed', error: serializeError(e) } satisfies FromWorker);
  }
  // The pool side closes the port once it has the answer; this side must not keep the thread busy.
  port.unref();
  return 'answered';
}

// ---------------------------------------------------------------------------------------------
// Pool side

interface InFlight {
  readonly port: MessagePort;
  readonly answered: Promise<void>;
}

/**
 * A pool of worker threads started from one worker module: `run` queues a task and resolves with its
 * result; `close` ends the pool (after asking busy workers to stop, when cancelling).
 */
export class TaskPool<T, R> {
  private readonly inFlight = new Set<InFlight>();
  private closed = false;

  private constructor(
    private readonly pool: Tinypool,
    private readonly label: string,
    private readonly stopBeforeTerminate: boolean,
  ) {}

  /** Starts `threads` workers of `workerUrl`, each given `workerData` once. */
  static async open<T, R>(workerUrl: URL, options: WorkerPoolOptions & { readonly threads: number }): Promise<TaskPool<T, R>> {
    const { threads } = options;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new InvalidOptionError(`threads must be an integer ≥ 1, got ${threads}`);
    const filename = await entryFile(workerUrl, options.loader ?? 'auto');
    const { default: Pool } = await import('tinypool');
    // Workers live as long as the pool (idleTimeout ∞): a pool serves one job and is closed after it.
    const pool = new Pool({ filename, minThreads: threads, maxThreads: threads, workerData: options.workerData, idleTimeout: Number.MAX_SAFE_INTEGER });
    return new TaskPool<T, R>(pool, options.label ?? 'worker job', options.stopBeforeTerminate ?? false);
  }

  /** Queues `task`; resolves with its result, rejects with the worker's error (rebuilt with its name). */
  run(task: T, onProgress?: (fraction: number) => void): Promise<R> {
    if (this.closed) return Promise.reject(new CancelledError(this.label));
    const { port1, port2 } = new MessageChannel();
    let answer: (r: { ok: true; result: R } | { ok: false; error: Error }) => void = () => undefined;
    const answered = new Promise<{ ok: true; result: R } | { ok: false; error: Error }>((resolve) => (answer = resolve));
    port1.on('message', (m: FromWorker) => {
      if (m.kind === 'progress') onProgress?.(m.fraction);
      else if (m.kind === 'done') answer({ ok: true, result: m.result as R });
      else answer({ ok: false, error: rebuildError(m.error) });
    });
    const entry: InFlight = { port: port1, answered: answered.then(() => undefined) };
    this.inFlight.add(entry);
    const ran = this.pool.run({ port: port2, task } satisfies PoolTaskMessage, { transferList: [port2] });
    ran.catch((e: unknown) => {
      // The worker died (or the pool was destroyed) before it answered.
      answer({ ok: false, error: this.closed ? new CancelledError(this.label) : new WorkbenchError(`${this.label}: a worker thread exited early before finishing its task (${(e as Error).message})`, {}) });
    });
    return answered.then((r) => {
      this.inFlight.delete(entry);
      port1.close();
      if (!r.ok) throw r.error;
      return r.result;
    });
  }

  /**
   * Ends the pool. With `cancel`, queued tasks are dropped and busy workers are asked to stop their
   * task first (when the pool was opened with stopBeforeTerminate, waiting up to CANCEL_GRACE_MS for
   * them: terminating a worker inside a native call aborts the process); then the workers are terminated.
   */
  async close(cancel = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (cancel) {
      this.pool.cancelPendingTasks();
      const busy = [...this.inFlight];
      for (const t of busy) t.port.postMessage('cancel' satisfies ToWorker);
      if (this.stopBeforeTerminate && busy.length > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.all(busy.map((t) => t.answered)), new Promise((r) => (timer = setTimeout(r, CANCEL_GRACE_MS)))]);
        clearTimeout(timer);
      }
    }
    await this.pool.destroy().catch(() => undefined);
  }
}

/**
 * Runs `tasks` on worker threads started from `workerUrl` and resolves with their results in task
 * order. Rejects with the first task's error (re-created with its name) or CancelledError, and in
 * both cases ends every worker before settling.
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
  if (tasks.length === 0) return [];
  const fractions = new Float64Array(tasks.length);
  let fractionSum = 0;
  const setFraction = (i: number, f: number): void => {
    const clamped = Math.min(1, Math.max(0, f));
    fractionSum += clamped - fractions[i];
    fractions[i] = clamped;
    report(ctx, fractionSum / tasks.length, `${label}: ${Math.round((100 * fractionSum) / tasks.length)}%`);
  };
  const pool = await TaskPool.open<T, R>(workerUrl, { ...options, threads: Math.min(threads, tasks.length) });
  let failure: Error | null = null;
  const onAbort = (): void => {
    failure ??= new CancelledError(label);
    void pool.close(true);
  };
  ctx?.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx?.signal?.aborted) onAbort();
  try {
    const results = await Promise.all(
      tasks.map((task, i) =>
        pool.run(task, (f) => setFraction(i, f)).then(
          (r) => {
            setFraction(i, 1);
            return r;
          },
          (e: unknown) => {
            // The first failure ends the job: the other workers are stopped, their tasks dropped.
            if (!failure) {
              failure = e as Error;
              void pool.close(true);
            }
            throw failure;
          },
        ),
      ),
    );
    return results;
  } catch {
    throw failure ?? new CancelledError(label);
  } finally {
    ctx?.signal?.removeEventListener('abort', onAbort);
    await pool.close(failure !== null);
  }
}
