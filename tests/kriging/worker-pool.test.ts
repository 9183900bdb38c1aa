import { describe, expect, it } from 'vitest';
import { runTasks, defaultThreads } from '../../main/jobs/worker-pool.ts';
import { CancelledError, SingularSystemError } from '../../main/errors.ts';
import { availableParallelism } from 'node:os';

const WORKER = new URL('./helpers/pool-test-worker.ts', import.meta.url);
type Task = { value: number; mode: 'square' | 'fail' | 'spin' };
type Result = { value: number; squared: Float64Array };

describe('worker pool (TypeScript workers started through tsx)', () => {
  it('returns results in task order, with shared input, transferred buffers and progress up to 1', async () => {
    const tasks: Task[] = Array.from({ length: 9 }, (_, i) => ({ value: i, mode: 'square' }));
    const fractions: number[] = [];
    const results = await runTasks<Task, Result>(WORKER, tasks, { threads: 2, workerData: { offset: 0.5 } }, { progress: (f) => fractions.push(f) });
    expect(results.map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Exact arithmetic: i² + 0.5 is representable.
    expect(results.map((r) => r.squared[0])).toEqual(tasks.map((t) => t.value * t.value + 0.5));
    expect(fractions[fractions.length - 1]).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
  });

  it('also runs workers through the tsx loader (the path taken when esbuild is unavailable)', async () => {
    const tasks: Task[] = Array.from({ length: 3 }, (_, i) => ({ value: i + 2, mode: 'square' }));
    const results = await runTasks<Task, Result>(WORKER, tasks, { threads: 2, workerData: { offset: 1 }, loader: 'tsx' });
    expect(results.map((r) => r.squared[0])).toEqual([5, 10, 17]);
  });

  it('re-creates a worker error with its class and details', async () => {
    const tasks: Task[] = [{ value: 1, mode: 'square' }, { value: 7, mode: 'fail' }];
    const err = await runTasks<Task, Result>(WORKER, tasks, { threads: 2, workerData: { offset: 0 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SingularSystemError);
    expect((err as SingularSystemError).message).toBe('task 7 failed on purpose');
    expect((err as SingularSystemError).details).toEqual({ value: 7 });
  });

  it('cancels through the AbortSignal by terminating workers stuck in a busy loop', async () => {
    const ac = new AbortController();
    const tasks: Task[] = [{ value: 1, mode: 'spin' }, { value: 2, mode: 'spin' }];
    const p = runTasks<Task, Result>(WORKER, tasks, { threads: 2, workerData: { offset: 0 } }, {
      signal: ac.signal,
      // Abort once a worker reports it is inside its endless loop.
      progress: (f) => { if (f > 0) ac.abort(); },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });

  it('refuses to start when already cancelled, and defaults to the available cores', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runTasks(WORKER, [{ value: 1, mode: 'square' }], {}, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(defaultThreads()).toBe(availableParallelism());
  });
});
