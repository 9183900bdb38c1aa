import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { CancelledError } from '../errors.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { QUEUE_NAME, cancelKey, openQueueConnection } from './connection.ts';
import { QueueUnitFailedError, QueueUnreachableError } from './queue-errors.ts';
import type { QueueUnit, UnitReceipt } from './units.ts';

/**
 * The command side of a queue run: enqueue a run's units, follow them with aggregated progress
 * (units done/total, workers seen, ETA), and resolve with each unit's receipt once all are done.
 * Cancel (the job's signal) removes the pending units, sets the run's cancel key so workers stop
 * the running ones, waits until none is active and removes every job of the run, so no key of the
 * run is left in Redis. A failed unit fails the run the same way, with the unit's error rebuilt by
 * name (InputHashMismatchError, BandMismatchError…).
 */
export interface RunUnitsOptions {
  /** Name in progress lines. */
  readonly label: string;
  /** Lines for the user (stderr in the CLI): the redacted queue URL, per-run summary. */
  readonly log?: (line: string) => void;
  /** Tries per unit for errors that are not named workbench errors (a worker crash, a stalled lock). @default 3 */
  readonly attempts?: number;
  /** Longest wait for running units to stop after a cancel. @default 15000 */
  readonly cancelWaitMs?: number;
  /**
   * Called once per unit as soon as it is done (its result file is complete), while the others
   * still run: lets the command assemble results as they arrive instead of after the last unit.
   * An error thrown here fails the run like a failed unit.
   */
  readonly onUnitDone?: (index: number) => void;
}

/** A fresh run id: job ids are `${runId}-${index}` (BullMQ forbids ':' in custom ids). */
export function newRunId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function jobIdOf(unit: Pick<QueueUnit, 'runId' | 'index'>): string {
  return `${unit.runId}-${unit.index}`;
}

const POLL_MS = 500;

/** Fraction and worker a unit reports through job.updateProgress. */
export interface UnitProgress {
  readonly fraction: number;
  readonly worker: string;
}

export async function runUnits(queueUrl: string, units: readonly QueueUnit[], options: RunUnitsOptions, ctx?: JobContext): Promise<UnitReceipt[]> {
  throwIfCancelled(ctx, options.label);
  const conn = await openQueueConnection(queueUrl);
  const queue = new Queue(QUEUE_NAME, { connection: conn.options });
  const events = new QueueEvents(QUEUE_NAME, { connection: conn.options });
  // Errors of these connections are handled by the calls that fail; do not let them print the host.
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  const ids = units.map(jobIdOf);
  const index = new Map(ids.map((id, i) => [id, i]));
  const receipts: (UnitReceipt | undefined)[] = new Array(units.length);
  const fractions = new Float64Array(units.length);
  const workers = new Set<string>();
  const t0 = Date.now();
  let done = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const progress = (): void => {
    let f = 0;
    for (const x of fractions) f += x;
    const frac = f / units.length;
    const elapsed = (Date.now() - t0) / 1000;
    const eta = frac > 0 && frac < 1 ? `, ETA ${Math.round((elapsed * (1 - frac)) / frac)} s` : '';
    report(ctx, frac, `${options.label}: ${done}/${units.length} units, ${workers.size} worker${workers.size === 1 ? '' : 's'}${eta}`);
  };
  const finish = (i: number, receipt: UnitReceipt): void => {
    if (receipts[i]) return;
    receipts[i] = receipt;
    workers.add(receipt.worker);
    fractions[i] = 1;
    done++;
    progress();
    try {
      options.onUnitDone?.(i);
    } catch (e) {
      failure ??= e instanceof Error ? e : new Error(String(e));
    }
    poke();
  };
  const fail = (jobId: string, reason: string): void => {
    if (failure) return;
    failure = unitError(reason, units[index.get(jobId) ?? 0]);
    poke();
  };
  try {
    events.on('progress', ({ jobId, data }) => {
      const i = index.get(jobId);
      if (i === undefined || receipts[i]) return;
      const p = data as unknown as UnitProgress;
      if (typeof p?.fraction === 'number') fractions[i] = Math.min(0.999, Math.max(0, p.fraction));
      if (typeof p?.worker === 'string') workers.add(p.worker);
      progress();
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      const i = index.get(jobId);
      if (i !== undefined) finish(i, parseReceipt(returnvalue));
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (!index.has(jobId)) return;
      // A failure that will be retried (attempts left) is not the end of the unit.
      void queue.getJobState(jobId).then((state) => {
        if (state === 'failed') fail(jobId, failedReason);
      });
    });
    await events.waitUntilReady();
    await queue.addBulk(
      units.map((u, i) => ({
        name: u.kind,
        data: u,
        opts: { jobId: ids[i], attempts: options.attempts ?? 3, backoff: { type: 'fixed', delay: 200 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    options.log?.(`queue ${conn.redacted}: ${units.length} ${options.label} units enqueued (run ${units[0]?.runId ?? '-'})`);
    progress();
    const aborted = new Promise<void>((res) => {
      if (ctx?.signal?.aborted) res();
      ctx?.signal?.addEventListener('abort', () => res(), { once: true });
    });
    while (done < units.length && !failure && !ctx?.signal?.aborted) {
      await Promise.race([new Promise<void>((res) => {
        wake = res;
        setTimeout(res, POLL_MS);
      }), aborted]);
      // Events can be missed (a reconnect); the job's state in Redis is the truth.
      try {
        await pollStates(queue, ids, receipts, finish, fail);
      } catch (e) {
        throw new QueueUnreachableError(conn.redacted, `lost during the run: ${(e as Error).message.split(conn.url).join(conn.redacted)}`);
      }
    }
    if (ctx?.signal?.aborted) throw new CancelledError(options.label);
    if (failure) throw failure;
    options.log?.(`queue ${conn.redacted}: ${units.length} units done by ${workers.size} worker(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return receipts as UnitReceipt[];
  } catch (e) {
    await stopRun(conn.redis, queue, units[0]?.runId ?? '', ids, options.cancelWaitMs ?? 15_000);
    throw e;
  } finally {
    await removeJobs(queue, ids);
    await conn.redis.del(cancelKey(units[0]?.runId ?? '')).catch(() => 0);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await conn.close();
  }
}

async function pollStates(
  queue: Queue,
  ids: readonly string[],
  receipts: readonly (UnitReceipt | undefined)[],
  finish: (i: number, r: UnitReceipt) => void,
  fail: (id: string, reason: string) => void,
): Promise<void> {
  for (let i = 0; i < ids.length; i++) {
    if (receipts[i]) continue;
    const state = await queue.getJobState(ids[i]);
    if (state === 'completed' || state === 'failed') {
      const job = await queue.getJob(ids[i]);
      if (!job) continue;
      if (state === 'completed') finish(i, parseReceipt(job.returnvalue));
      else fail(ids[i], job.failedReason);
    }
  }
}

function parseReceipt(v: unknown): UnitReceipt {
  const r = (typeof v === 'string' ? JSON.parse(v) : v) as UnitReceipt;
  return {
    worker: String(r?.worker ?? '?'), ms: Number(r?.ms ?? 0), bytes: Number(r?.bytes ?? 0), maxRssKB: Number(r?.maxRssKB ?? 0),
    ...(r?.phases ? { phases: r.phases } : {}),
    ...(typeof r?.startedAt === 'number' ? { startedAt: r.startedAt } : {}),
    ...(typeof r?.endedAt === 'number' ? { endedAt: r.endedAt } : {}),
  };
}

/** Workers send named errors as JSON ({name, message, details}); anything else becomes QueueUnitFailedError. */
function unitError(reason: string, unit: QueueUnit | undefined): Error {
  try {
    const e = JSON.parse(reason) as { name?: unknown; message?: unknown; details?: unknown };
    if (typeof e.name === 'string' && typeof e.message === 'string') return rebuildError({ name: e.name, message: e.message, details: (e.details ?? {}) as Record<string, unknown> });
  } catch {
    // not JSON: a plain error message
  }
  return new QueueUnitFailedError(`${unit?.label ?? 'a unit'} failed on a worker: ${reason}`, { unit: unit?.label, reason });
}

/** Cancel: pending units removed, running ones told to stop (cancel key) and awaited. */
async function stopRun(redis: import('ioredis').Redis, queue: Queue, runId: string, ids: readonly string[], waitMs: number): Promise<void> {
  await redis.set(cancelKey(runId), '1', 'EX', 3600).catch(() => undefined);
  const until = Date.now() + waitMs;
  for (;;) {
    await removeJobs(queue, ids);
    let active = 0;
    for (const id of ids) if ((await queue.getJobState(id).catch(() => 'unknown')) === 'active') active++;
    if (active === 0 || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Removes every job of the run that is not locked by a worker (BullMQ refuses to remove an active job). */
async function removeJobs(queue: Queue, ids: readonly string[]): Promise<void> {
  for (const id of ids) await queue.remove(id).catch(() => 0);
}
