import type { HashedInput } from './input-hash.ts';
import type { JobContext } from '../jobs/job.ts';

/**
 * A unit of work on the queue (one BullMQ job): plain data. It names its input files with their
 * SHA-256 (checked by the worker before it runs), the unit-scoped path where the worker writes
 * its result (on the shared storage, atomically), and the payload its kind's handler receives.
 * A unit is seeded by its identity (run, kind, index: seeds are computed by the command into the
 * payload), never by the worker that runs it, so any number of workers gives the same bits.
 */
export interface QueueUnit<P = unknown> {
  /** Id of the command's run: every job id and key of the run starts with it. */
  readonly runId: string;
  readonly index: number;
  readonly kind: UnitKind;
  /** For logs: what the unit computes ("predict tile rows 0–8"). */
  readonly label: string;
  readonly inputs: readonly HashedInput[];
  readonly resultPath: string;
  readonly payload: P;
}

export type UnitKind = 'predict-tile' | 'train' | 'krige-block' | 'xrf-method';

/**
 * One BullMQ job: consecutive units of one run, run in order by one worker. Small units (tiny
 * trainings of tens of ms) cost as much queue time per job as big ones (fetch + lock, complete,
 * the command's bookkeeping: milliseconds), so the command packs them into batches of about a
 * second (queue-client.ts planBatches). Each unit keeps its own identity, seed and result path, so
 * batching changes neither the results nor their assembly. The job id is the id of its first unit.
 */
export interface QueueBatch {
  readonly runId: string;
  readonly units: readonly QueueUnit[];
}

/**
 * What a batch job reports through job.updateProgress: the unit running now and its fraction, and
 * every unit of the batch finished so far with its receipt. The record lives on the job in Redis,
 * so when the batch is run again (a worker SIGKILLed mid-batch, or one that returned the rest of
 * the batch on SIGTERM) the next worker skips the units it lists instead of running them twice.
 */
export interface BatchProgress {
  readonly worker: string;
  /** Index (QueueUnit.index) of the unit running now, and its fraction done. */
  readonly unit?: number;
  readonly fraction?: number;
  /** Finished units of the batch by index (string keys: JSON). */
  readonly done: Readonly<Record<string, UnitReceipt>>;
}

/** A finished batch job's return value: the receipt of each of its units by index. */
export interface BatchReceipt {
  readonly receipts: Readonly<Record<string, UnitReceipt>>;
}

/** What a worker returns for a finished unit (its result itself lies in the unit's resultPath). */
export interface UnitReceipt {
  readonly worker: string;
  readonly ms: number;
  readonly bytes: number;
  /** Peak resident memory of the worker process so far (KB, its own VmHWM: peak-rss.ts). */
  readonly maxRssKB: number;
  /** Where the unit's time went on the worker (ms; their sum ≈ `ms`): bench/scale-out.ts splits the queue overhead with them. */
  readonly phases?: UnitPhases;
  /** Wall-clock start and end of the unit on the worker (epoch ms): the gaps between a worker's units are queue time too. */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

export interface UnitPhases {
  /** Cancel-key check and the first progress update (Redis round trips). */
  readonly prepMs: number;
  /** SHA-256 check of the inputs (a file is hashed once per process while size and mtime stay). */
  readonly checkMs: number;
  /** The handler: the local path's code (model loading on a process's first unit of a run included). */
  readonly runMs: number;
  /** Writing the result atomically to the shared storage. */
  readonly writeMs: number;
}

/** Runs one unit's payload with the local path's code; returns the result bytes the worker writes. */
export type UnitHandler = (payload: unknown, ctx: JobContext & { readonly threads: number | null }) => Promise<Uint8Array>;

/** Handlers by kind, imported lazily so a worker loads tfjs / ONNX Runtime only for units that need them. */
export const UNIT_HANDLERS: Readonly<Record<UnitKind, () => Promise<UnitHandler>>> = {
  'predict-tile': async () => (await import('./predict-units.ts')).runPredictTileUnit,
  train: async () => (await import('./train-units.ts')).runTrainUnit,
  'krige-block': async () => (await import('./krige-units.ts')).runKrigeBlockUnit,
  'xrf-method': async () => (await import('./xrf-units.ts')).runXrfMethodUnit,
};
