import { CancelledError } from '../errors.ts';
import type { ProgressDetail } from './progress-detail.ts';

export type { EpochProgress, ProgressDetail } from './progress-detail.ts';

/**
 * What every long computation receives: a cancellation signal and a progress callback.
 * Compute functions stay plain async functions; the CLI prints progress, the app streams it
 * over the contract as `jobProgress` events, tests pass `quietJob()`.
 */
export type ProgressFn = (fraction: number, message: string, detail?: ProgressDetail) => void;

export interface JobContext {
  readonly signal?: AbortSignal;
  readonly progress?: ProgressFn;
  /** Messages worth keeping beside the progress, e.g. "reprojected faults.shp from EPSG:4326 to EPSG:3067 (12 features)". */
  readonly log?: (message: string) => void;
}

export function throwIfCancelled(ctx: JobContext | undefined, what = 'job'): void {
  if (ctx?.signal?.aborted) throw new CancelledError(what);
}

/** Reports progress; `detail` is data for the app (a learning-curve point), passed on unchanged by every relay. */
export function report(ctx: JobContext | undefined, fraction: number, message: string, detail?: ProgressDetail): void {
  if (detail) ctx?.progress?.(Math.min(1, Math.max(0, fraction)), message, detail);
  else ctx?.progress?.(Math.min(1, Math.max(0, fraction)), message);
}

/** A sub-context mapping [0, 1] of a step onto [from, to] of the parent's progress. */
export function subJob(ctx: JobContext | undefined, from: number, to: number, prefix = ''): JobContext {
  return {
    signal: ctx?.signal,
    progress: (f, m, detail) => report(ctx, from + (to - from) * f, prefix ? `${prefix}: ${m}` : m, detail),
  };
}

export function quietJob(): JobContext {
  return {};
}
