import type { UnitsPerJob } from './batch-option.ts';
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { CancelledError } from '../errors.ts';
import { rebuildError } from '../jobs/worker-pool.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { QUEUE_NAME, cancelKey, openQueueConnection } from './connection.ts';
import { QueueUnitFailedError, QueueUnreachableError } from './queue-errors.ts';
import type { BatchProgress, BatchReceipt, QueueBatch, QueueUnit, UnitReceipt } from './units.ts';

/**
 * The command side of a queue run: enqueue a run's units (one BullMQ job per batch of consecutive
 * units: `batch`, planBatches), follow them with aggregated progress
 * (units done/total, workers seen, ETA), and resolve with each unit's receipt once all are done.
 * A unit counts once, however often its batch ran. Cancel (the job's signal) removes the pending batches, sets the run's cancel key so workers stop
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
  /**
   * Units per BullMQ job: a number, or 'auto': the first few units go alone and time the rest,
   * which are then packed into batches of about `targetJobMs` (planBatches). 1 suits units of a
   * second or more (tiles, kriging blocks, xrf methods); 'auto' suits sweeps of small trainings.
   * @default 1
   */
  readonly batch?: UnitsPerJob;
  /** Target time of one batch job for batch 'auto'. @default 1000 */
  readonly targetJobMs?: number;
}

/** A fresh run id: job ids are `${runId}-${index}` (BullMQ forbids ':' in custom ids). */
export function newRunId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function jobIdOf(unit: Pick<QueueUnit, 'runId' | 'index'>): string {
  return `${unit.runId}-${unit.index}`;
}

const POLL_MS = 500;

/**
 * Batch sizes for `count` units of about `unitMs` each on `workers` workers (guided
 * self-scheduling): each batch takes 1/(2·workers) of the units still to plan, at most as many as
 * fill `targetJobMs` and at least one. Big batches first keep the fixed cost per job (a few ms of
 * Redis round trips and bookkeeping) small against its units; the batches shrink towards the end so
 * the workers finish together instead of one waiting on a last long batch.
 */
export function planBatches(count: number, unitMs: number, workers: number, targetJobMs = DEFAULT_TARGET_JOB_MS): number[] {
  const most = Math.max(1, Math.floor(targetJobMs / Math.max(unitMs, 1e-3)));
  const w = Math.max(1, Math.floor(workers));
  const sizes: number[] = [];
  for (let left = count; left > 0;) {
    const n = Math.min(left, most, Math.max(1, Math.ceil(left / (2 * w))));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

/** Target time of one batch job with `batch: 'auto'`: the per-job queue cost (≈ 5–30 ms) is then < 3 % of it. */
export const DEFAULT_TARGET_JOB_MS = 1000;

interface Batch {
  readonly id: string;
  /** Indexes (into `units`) of its units, consecutive. */
  readonly first: number;
  readonly count: number;
}

export async function runUnits(queueUrl: string, units: readonly QueueUnit[], options: RunUnitsOptions, ctx?: JobContext): Promise<UnitReceipt[]> {
  throwIfCancelled(ctx, options.label);
  const conn = await openQueueConnection(queueUrl);
  const queue = new Queue(QUEUE_NAME, { connection: conn.options });
  const events = new QueueEvents(QUEUE_NAME, { connection: conn.options });
  // Errors of these connections are handled by the calls that fail; do not let them print the host.
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  const runId = units[0]?.runId ?? '';
  // Job ids of the run's batches, in the order they were enqueued (grows while an 'auto' run plans).
  const ids: string[] = [];
  const batches = new Map<string, Batch>();
  const position = new Map(units.map((u, i) => [u.index, i]));
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
  // Once per unit, whichever report comes first (a batch's progress record, its completion, the
  // poll): a unit of a batch that ran twice (a crash, SIGTERM) is still counted and assembled once.
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
  const finishAll = (record: unknown): void => {
    if (!record || typeof record !== 'object') return;
    for (const [k, r] of Object.entries(record as Record<string, unknown>)) {
      const i = position.get(Number(k));
      if (i !== undefined) finish(i, parseReceipt(r));
    }
  };
  const fail = (jobId: string, reason: string): void => {
    if (failure) return;
    const b = batches.get(jobId);
    failure = unitError(reason, b ? units[b.first] : units[0]);
    poke();
  };
  const enqueue = async (from: number, sizes: readonly number[]): Promise<number> => {
    const jobs = [];
    let at = from;
    for (const n of sizes) {
      const id = jobIdOf(units[at]);
      const b: Batch = { id, first: at, count: n };
      batches.set(id, b);
      ids.push(id);
      const data: QueueBatch = { runId, units: units.slice(at, at + n) };
      jobs.push({ name: units[at].kind, data, opts: { jobId: id, attempts: options.attempts ?? 3, backoff: { type: 'fixed' as const, delay: 200 }, removeOnComplete: false, removeOnFail: false } });
      at += n;
    }
    await queue.addBulk(jobs);
    return at;
  };
  try {
    events.on('progress', ({ jobId, data }) => {
      if (!batches.has(jobId)) return;
      const p = data as unknown as Partial<BatchProgress>;
      if (typeof p?.worker === 'string') workers.add(p.worker);
      finishAll(p?.done);
      const i = typeof p?.unit === 'number' ? position.get(p.unit) : undefined;
      if (i !== undefined && !receipts[i] && typeof p?.fraction === 'number') fractions[i] = Math.min(0.999, Math.max(0, p.fraction));
      progress();
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      if (batches.has(jobId)) finishAll(parseBatchReceipt(returnvalue));
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (!batches.has(jobId)) return;
      // A failure that will be retried (attempts left) is not the end of the batch.
      void queue.getJobState(jobId).then((state) => {
        if (state === 'failed') fail(jobId, failedReason);
      });
    });
    await events.waitUntilReady();
    // 'auto': a few single-unit jobs first (the probe); their receipts give the unit time that sizes the rest.
    const auto = options.batch === 'auto';
    const fixed = auto ? 1 : Math.max(1, Math.floor(options.batch ?? 1));
    const seenWorkers = auto ? await queue.getWorkersCount().catch(() => 1) : 1;
    const probe = auto ? Math.min(units.length, Math.max(4, 2 * seenWorkers)) : units.length;
    let planned = await enqueue(0, auto ? new Array<number>(probe).fill(1) : planFixed(units.length, fixed));
    options.log?.(`queue ${conn.redacted}: ${units.length} ${options.label} units enqueued${auto ? ` (${probe} first, to time them; the rest in batches sized from their times)` : fixed > 1 ? ` in ${ids.length} batches of ≤ ${fixed}` : ''} (run ${runId || '-'})`);
    progress();
    const aborted = new Promise<void>((res) => {
      if (ctx?.signal?.aborted) res();
      ctx?.signal?.addEventListener('abort', () => res(), { once: true });
    });
    while (done < units.length && !failure && !ctx?.signal?.aborted) {
      if (planned < units.length) {
        const unitMs = probedUnitMs(receipts.slice(0, planned), probe);
        if (unitMs !== null) {
          const sizes = planBatches(units.length - planned, unitMs, Math.max(seenWorkers, workers.size), options.targetJobMs);
          const from = planned;
          planned = await enqueue(from, sizes);
          options.log?.(`queue ${conn.redacted}: units of ≈ ${unitMs.toFixed(0)} ms: the other ${units.length - from} in ${sizes.length} batches of ${sizes[0]}…${sizes.at(-1)}`);
        }
      }
      await Promise.race([new Promise<void>((res) => {
        wake = res;
        setTimeout(res, POLL_MS);
      }), aborted]);
      // Events can be missed (a reconnect); the job's state in Redis is the truth.
      try {
        await pollStates(queue, ids, batches, receipts, finishAll, fail);
      } catch (e) {
        throw new QueueUnreachableError(conn.redacted, `lost during the run: ${(e as Error).message.split(conn.url).join(conn.redacted)}`);
      }
    }
    if (ctx?.signal?.aborted) throw new CancelledError(options.label);
    if (failure) throw failure;
    options.log?.(`queue ${conn.redacted}: ${units.length} units done by ${workers.size} worker(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return receipts as UnitReceipt[];
  } catch (e) {
    await stopRun(conn.redis, queue, runId, ids, options.cancelWaitMs ?? 15_000);
    throw e;
  } finally {
    await removeJobs(queue, ids);
    await conn.redis.del(cancelKey(runId)).catch(() => 0);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await conn.close();
  }
}

function planFixed(count: number, size: number): number[] {
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

/**
 * The unit time measured by the probe, once it can be trusted: a worker's first unit of a run also
 * loads (backend, models, the run's input), so the estimate waits for a unit some worker ran after
 * another one and takes the fastest such unit; if every probe unit ran on its own worker, the
 * fastest of them once all are done (then the estimate is high, and batches come out smaller).
 */
function probedUnitMs(receipts: readonly (UnitReceipt | undefined)[], probe: number): number | null {
  const got = receipts.slice(0, probe).filter((r): r is UnitReceipt => r !== undefined);
  const byWorker = new Map<string, UnitReceipt[]>();
  for (const r of got) byWorker.set(r.worker, [...(byWorker.get(r.worker) ?? []), r]);
  const later: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    later.push(...list.slice(1).map((r) => r.ms));
  }
  if (later.length > 0) return Math.min(...later);
  if (got.length === probe) return Math.min(...got.map((r) => r.ms));
  return null;
}

async function pollStates(
  queue: Queue,
  ids: readonly string[],
  batches: ReadonlyMap<string, Batch>,
  receipts: readonly (UnitReceipt | undefined)[],
  finishAll: (record: unknown) => void,
  fail: (id: string, reason: string) => void,
): Promise<void> {
  for (const id of ids) {
    const b = batches.get(id);
    if (!b) continue;
    let open = false;
    for (let i = b.first; i < b.first + b.count; i++) if (!receipts[i]) open = true;
    if (!open) continue;
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') {
      const job = await queue.getJob(id);
      if (!job) continue;
      if (state === 'completed') finishAll(parseBatchReceipt(job.returnvalue));
      else fail(id, job.failedReason);
    }
  }
}

/** A batch's return value (BatchReceipt); a job of an earlier worker version returned one unit's receipt. */
function parseBatchReceipt(v: unknown): Record<string, unknown> | null {
  const r = (typeof v === 'string' ? JSON.parse(v) : v) as Partial<BatchReceipt> | null;
  return r && typeof r === 'object' && r.receipts && typeof r.receipts === 'object' ? (r.receipts as Record<string, unknown>) : null;
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
