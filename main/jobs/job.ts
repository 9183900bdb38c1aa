import { CancelledError } from '../errors.ts';

/**
 * What every long computation receives: a cancellation signal and a progress callback.
 * Compute functions stay plain async functions; the CLI prints progress, the app streams it
 * over the contract as `jobProgress` events, tests pass `quietJob()`.
 */
export type ProgressFn = (fraction: number, message: string) => void;

export interface JobContext {
  readonly signal?: AbortSignal;
  readonly progress?: ProgressFn;
  /** Messages worth keeping beside the progress, e.g. "reprojected faults.shp from EPSG:4326 to EPSG:3067 (12 features)". */
  readonly log?: (message: string) => void;
}

export function throwIfCancelled(ctx: JobContext | undefined, what = 'job'): void {
  if (ctx?.signal?.aborted) throw new CancelledError(what);
}

export function report(ctx: JobContext | undefined, fraction: number, message: string): void {
  ctx?.progress?.(Math.min(1, Math.max(0, fraction)), message);
}

/** A sub-context mapping [0, 1] of a step onto [from, to] of the parent's progress. */
export function subJob(ctx: JobContext | undefined, from: number, to: number, prefix = ''): JobContext {
  return {
    signal: ctx?.signal,
    progress: (f, m) => report(ctx, from + (to - from) * f, prefix ? `${prefix}: ${m}` : m),
  };
}

export function quietJob(): JobContext {
  return {};
}
