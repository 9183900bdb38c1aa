import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { CancelledError, WorkbenchError, serializeError } from '../errors.ts';
import { QUEUE_NAME, cancelKey, openQueueConnection, type QueueConnection } from './connection.ts';
import { verifyInputs } from './input-hash.ts';
import { peakRssKB } from './peak-rss.ts';
import { writeUnitResult } from './unit-result-write.ts';
import { UNIT_HANDLERS, type BatchProgress, type BatchReceipt, type QueueBatch, type QueueUnit, type UnitPhases, type UnitReceipt } from './units.ts';

/**
 * The worker loop behind `geoanomaly worker`: pulls jobs (batches of units, units.ts QueueBatch)
 * from the queue, and for each unit in order checks its inputs' SHA-256, runs it with the local
 * path's code (units.ts UNIT_HANDLERS) and writes its result atomically to the unit's result path.
 * BullMQ brings the rest: a lock per running job renewed every lockDuration/2, and stalled-job
 * recovery (a batch whose worker died goes back to the queue after lockDuration and runs elsewhere,
 * skipping the units its progress record lists as done). A unit's result is a pure function of its
 * payload and inputs, so a unit that runs twice (a stalled lock) writes the same bytes twice.
 */
export interface QueueWorkerOptions {
  /** Jobs (batches of units) run at once in this process. @default 1 */
  readonly concurrency?: number;
  /** Threads per unit where a unit leaves that open (ONNX Runtime intra-op threads); null = the unit's own. @default null */
  readonly threads?: number | null;
  /** Run one job (a batch of units: one unit unless the command batches), then exit (Kubernetes Jobs, Slurm array tasks). @default false */
  readonly once?: boolean;
  /** BullMQ lock of a running unit; a dead worker's unit is retried after this. @default 30000 */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled units of dead workers. @default 30000 */
  readonly stalledIntervalMs?: number;
  readonly log?: (line: string) => void;
  /** Stops the loop (SIGTERM): the running unit of each batch finishes first, the rest of its batch goes back to the queue. */
  readonly signal?: AbortSignal;
}

export interface QueueWorkerSummary {
  readonly worker: string;
  /** Units run by this process. */
  readonly units: number;
  /** Jobs (batches) that failed here. */
  readonly failed: number;
}

export function workerIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

const CANCEL_POLL_MS = 300;
/**
 * How often a batch records its finished units on the job (one Redis round trip): at most every
 * 200 ms, so units of tens of ms do not each pay a round trip, and a batch run again after a crash
 * reruns at most ~200 ms of finished units (same bytes: a unit is a pure function of its payload).
 */
const RECORD_MS = 200;

/** Units of a job: a batch (QueueBatch) or, from a command of an earlier version, a single unit. */
function unitsOf(job: Job): readonly QueueUnit[] {
  const d = job.data as QueueBatch | QueueUnit;
  return 'units' in d && Array.isArray(d.units) ? d.units : [d as QueueUnit];
}

/**
 * Runs a batch job's units in order (each: inputs checked, handler run, result written atomically)
 * and returns their receipts. Units the job's progress record lists as done (an earlier attempt
 * of this batch, on a worker that died or returned it) are skipped, not run twice. `stopping()`
 * (SIGTERM) is checked between units: the rest of the batch goes back to the queue (moveToWait)
 * after the running unit finished. Named errors are not retried.
 */
async function processBatch(conn: QueueConnection, job: Job, token: string | undefined, me: string, threads: number | null, log: (l: string) => void, stopping: () => boolean, counted: () => void): Promise<BatchReceipt> {
  const units = unitsOf(job);
  const runId = units[0]?.runId ?? '';
  const prior = (job.progress as Partial<BatchProgress> | undefined)?.done;
  const done: Record<string, UnitReceipt> = prior && typeof prior === 'object' ? { ...prior } : {};
  const ac = new AbortController();
  const poll = setInterval(() => {
    void conn.redis.exists(cancelKey(runId)).then((n) => n > 0 && ac.abort(), () => undefined);
  }, CANCEL_POLL_MS);
  let current: QueueUnit | undefined;
  try {
    let t = performance.now();
    // Wall-clock start of the next unit's Redis prep (receipts: the gaps between units stay queue time, not prep twice).
    let prepAt: number | null = Date.now();
    if ((await conn.redis.exists(cancelKey(runId))) > 0) throw new CancelledError(units[0]?.label ?? 'unit');
    await job.updateProgress({ worker: me, done: { ...done } } satisfies BatchProgress);
    // Redis time before a unit (the batch's first round trips, or the record after the previous unit): its prep phase.
    let redisMs = performance.now() - t;
    let lastRecord = performance.now();
    for (let k = 0; k < units.length; k++) {
      const unit = units[k];
      current = unit;
      if (done[String(unit.index)]) {
        log(`skip ${unit.label} (run ${unit.runId}, unit ${unit.index}): done by an earlier attempt of its batch`);
        continue;
      }
      if (ac.signal.aborted) throw new CancelledError(unit.label);
      if (stopping()) {
        // SIGTERM between units: record what is done, then give the rest back (another worker runs it).
        await job.updateProgress({ worker: me, done: { ...done } } satisfies BatchProgress);
        if (!token) throw new Error('a batch cannot be returned to the queue without its lock token');
        await job.moveToWait(token);
        log(`returned ${units.length - k} unit(s) of batch ${job.id} to the queue (stopping)`);
        throw new WaitingError();
      }
      const t0 = performance.now();
      const startedAt = prepAt ?? Date.now();
      prepAt = null;
      log(`start ${unit.label} (run ${unit.runId}, unit ${unit.index}, attempt ${job.attemptsMade + 1})`);
      await verifyInputs(unit.inputs);
      const tCheck = performance.now();
      const load = UNIT_HANDLERS[unit.kind];
      if (!load) throw new WorkbenchError(`unit kind "${String(unit.kind)}" is unknown to this worker; run the same geoanomaly version on every machine`, { kind: unit.kind });
      const handler = await load();
      let lastProgress = 0;
      const bytes = await handler(unit.payload, {
        signal: ac.signal,
        threads,
        progress: (f) => {
          const now = Date.now();
          if (now - lastProgress < 250) return;
          lastProgress = now;
          void job.updateProgress({ worker: me, unit: unit.index, fraction: f, done: { ...done } } satisfies BatchProgress).catch(() => undefined);
        },
      });
      if (ac.signal.aborted) throw new CancelledError(unit.label);
      const tRun = performance.now();
      writeUnitResult(unit.resultPath, bytes);
      const tEnd = performance.now();
      const phases: UnitPhases = { prepMs: redisMs, checkMs: tCheck - t0, runMs: tRun - tCheck, writeMs: tEnd - tRun };
      const ms = redisMs + (tEnd - t0);
      done[String(unit.index)] = { worker: me, ms, bytes: bytes.length, maxRssKB: peakRssKB(), phases, startedAt, endedAt: Date.now() };
      counted();
      log(`ran ${unit.label} (run ${unit.runId}, unit ${unit.index}) in ${(ms / 1000).toFixed(2)} s`);
      redisMs = 0;
      if (k < units.length - 1 && tEnd - lastRecord >= RECORD_MS) {
        t = performance.now();
        prepAt = Date.now();
        await job.updateProgress({ worker: me, done: { ...done } } satisfies BatchProgress);
        lastRecord = performance.now();
        redisMs = lastRecord - t;
      }
    }
    return { receipts: done };
  } catch (e) {
    if (e instanceof WaitingError) throw e;
    const label = current?.label ?? 'unit';
    log(`failed ${label} (run ${runId}, unit ${current?.index ?? '?'}): ${serializeError(e).name}: ${serializeError(e).message}`);
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
      // Manual fetch: exactly one job, and no next job fetched on completion.
      const worker = new Worker(QUEUE_NAME, null, { connection: conn.options, lockDuration, stalledInterval, autorun: false });
      worker.on('error', () => undefined);
      try {
        const token = `${me}:once`;
        let job: Job | undefined;
        while (!job && !options.signal?.aborted) job = await worker.getNextJob(token, { block: true });
        if (!job) return { worker: me, units: 0, failed: 0 };
        const keep = setInterval(() => void job.extendLock(token, lockDuration).catch(() => 0), lockDuration / 2);
        try {
          const receipt = await processBatch(conn, job, token, me, threads, log, () => options.signal?.aborted === true, () => units++);
          await job.moveToCompleted(receipt, token, false);
        } catch (e) {
          // A batch given back on SIGTERM is already waiting again: not a failure.
          if (!(e instanceof WaitingError)) {
            await job.moveToFailed(e as Error, token, false);
            failed++;
          }
        } finally {
          clearInterval(keep);
        }
        return { worker: me, units, failed };
      } finally {
        await worker.close();
      }
    }
    const stopping = (): boolean => options.signal?.aborted === true;
    const worker = new Worker(QUEUE_NAME, async (job: Job, token?: string) => processBatch(conn, job, token, me, threads, log, stopping, () => units++), {
      connection: conn.options,
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval,
      maxStalledCount: 2,
    });
    worker.on('failed', () => failed++);
    worker.on('error', (e) => log(`queue error: ${e.message.split(conn.url).join(conn.redacted)}`));
    await new Promise<void>((res) => {
      if (options.signal?.aborted) res();
      options.signal?.addEventListener('abort', () => res(), { once: true });
    });
    // The rest of each running batch goes back to the queue (processBatch, between units).
    log(`worker ${me}: stopping (finishing running units)`);
    await worker.close();
    return { worker: me, units, failed };
  } finally {
    await conn.close();
  }
}

