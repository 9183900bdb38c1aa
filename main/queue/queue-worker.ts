import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { CancelledError, WorkbenchError, serializeError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { QUEUE_NAME, cancelKey, openQueueConnection, type QueueConnection } from './connection.ts';
import { verifyInputs } from './input-hash.ts';
import { peakRssKB } from './peak-rss.ts';
import { UNIT_HANDLERS, type QueueUnit, type UnitPhases, type UnitReceipt } from './units.ts';
import type { UnitProgress } from './queue-client.ts';

/**
 * The worker loop behind `geoanomaly worker`: pulls units from the queue, checks their inputs'
 * SHA-256, runs them with the local path's code (units.ts UNIT_HANDLERS) and writes each result
 * atomically to the unit's result path. BullMQ brings the rest: a lock per running unit renewed
 * every lockDuration/2, and stalled-unit recovery (a unit whose worker died goes back to the
 * queue after lockDuration and runs elsewhere). A unit's result is a pure function of its payload
 * and inputs, so a unit that runs twice (a stalled lock) writes the same bytes twice.
 */
export interface QueueWorkerOptions {
  /** Units run at once in this process. @default 1 */
  readonly concurrency?: number;
  /** Threads per unit where a unit leaves that open (ONNX Runtime intra-op threads); null = the unit's own. @default null */
  readonly threads?: number | null;
  /** Run one unit, then exit (Kubernetes Jobs, Slurm array tasks). @default false */
  readonly once?: boolean;
  /** BullMQ lock of a running unit; a dead worker's unit is retried after this. @default 30000 */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled units of dead workers. @default 30000 */
  readonly stalledIntervalMs?: number;
  readonly log?: (line: string) => void;
  /** Stops the loop: the running units finish first (SIGTERM). */
  readonly signal?: AbortSignal;
}

export interface QueueWorkerSummary {
  readonly worker: string;
  readonly units: number;
  readonly failed: number;
}

export function workerIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

const CANCEL_POLL_MS = 300;

/** Runs one unit (any kind): inputs checked, handler run, result written; named errors are not retried. */
async function processUnit(conn: QueueConnection, job: Job, me: string, threads: number | null, log: (l: string) => void): Promise<UnitReceipt> {
  const unit = job.data as QueueUnit;
  const t0 = performance.now();
  const startedAt = Date.now();
  const ac = new AbortController();
  const poll = setInterval(() => {
    void conn.redis.exists(cancelKey(unit.runId)).then((n) => n > 0 && ac.abort(), () => undefined);
  }, CANCEL_POLL_MS);
  let lastProgress = 0;
  try {
    if ((await conn.redis.exists(cancelKey(unit.runId))) > 0) throw new CancelledError(unit.label);
    log(`start ${unit.label} (run ${unit.runId}, unit ${unit.index}, attempt ${job.attemptsMade + 1})`);
    await job.updateProgress({ fraction: 0, worker: me } satisfies UnitProgress);
    const tPrep = performance.now();
    await verifyInputs(unit.inputs);
    const tCheck = performance.now();
    const load = UNIT_HANDLERS[unit.kind];
    if (!load) throw new WorkbenchError(`unit kind "${String(unit.kind)}" is unknown to this worker; run the same geoanomaly version on every machine`, { kind: unit.kind });
    const handler = await load();
    const bytes = await handler(unit.payload, {
      signal: ac.signal,
      threads,
      progress: (f) => {
        const now = Date.now();
        if (now - lastProgress < 250) return;
        lastProgress = now;
        void job.updateProgress({ fraction: f, worker: me } satisfies UnitProgress).catch(() => undefined);
      },
    });
    if (ac.signal.aborted) throw new CancelledError(unit.label);
    const tRun = performance.now();
    writeFileAtomic(unit.resultPath, bytes);
    const tEnd = performance.now();
    const ms = tEnd - t0;
    log(`ran ${unit.label} (run ${unit.runId}, unit ${unit.index}) in ${(ms / 1000).toFixed(2)} s`);
    const phases: UnitPhases = { prepMs: tPrep - t0, checkMs: tCheck - tPrep, runMs: tRun - tCheck, writeMs: tEnd - tRun };
    return { worker: me, ms, bytes: bytes.length, maxRssKB: peakRssKB(), phases, startedAt, endedAt: Date.now() };
  } catch (e) {
    log(`failed ${unit.label} (run ${unit.runId}, unit ${unit.index}): ${serializeError(e).name}: ${serializeError(e).message}`);
    // A named error (bad input, hash mismatch, cancel) fails the same way on every worker: no retry.
    if (e instanceof WorkbenchError) throw new UnrecoverableError(JSON.stringify(serializeError(e)));
    throw e;
  } finally {
    clearInterval(poll);
  }
}

export async function runQueueWorker(queueUrl: string, options: QueueWorkerOptions = {}): Promise<QueueWorkerSummary> {
  const log = options.log ?? (() => undefined);
  const conn = await openQueueConnection(queueUrl);
  const me = workerIdentity();
  const threads = options.threads ?? null;
  let units = 0;
  let failed = 0;
  const lockDuration = options.lockDurationMs ?? 30_000;
  const stalledInterval = options.stalledIntervalMs ?? 30_000;
  log(`worker ${me} on queue ${conn.redacted}${options.once ? ' (one unit)' : ''}, concurrency ${options.concurrency ?? 1}`);
  try {
    if (options.once) {
      // Manual fetch: exactly one unit, and no next unit fetched on completion.
      const worker = new Worker(QUEUE_NAME, null, { connection: conn.options, lockDuration, stalledInterval, autorun: false });
      worker.on('error', () => undefined);
      try {
        const token = `${me}:once`;
        let job: Job | undefined;
        while (!job && !options.signal?.aborted) job = await worker.getNextJob(token, { block: true });
        if (!job) return { worker: me, units: 0, failed: 0 };
        const keep = setInterval(() => void job.extendLock(token, lockDuration).catch(() => 0), lockDuration / 2);
        try {
          const receipt = await processUnit(conn, job, me, threads, log);
          await job.moveToCompleted(receipt, token, false);
          units++;
        } catch (e) {
          await job.moveToFailed(e as Error, token, false);
          failed++;
        } finally {
          clearInterval(keep);
        }
        return { worker: me, units, failed };
      } finally {
        await worker.close();
      }
    }
    const worker = new Worker(QUEUE_NAME, async (job: Job) => processUnit(conn, job, me, threads, log), {
      connection: conn.options,
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval,
      maxStalledCount: 2,
    });
    worker.on('completed', () => units++);
    worker.on('failed', () => failed++);
    worker.on('error', (e) => log(`queue error: ${e.message.split(conn.url).join(conn.redacted)}`));
    await new Promise<void>((res) => {
      if (options.signal?.aborted) res();
      options.signal?.addEventListener('abort', () => res(), { once: true });
    });
    log(`worker ${me}: stopping (finishing running units)`);
    await worker.close();
    return { worker: me, units, failed };
  } finally {
    await conn.close();
  }
}

