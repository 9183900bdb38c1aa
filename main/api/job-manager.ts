import { serializeError, CancelledError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import type { Events, JobInfo, JobResult } from './contract.ts';

export type EmitFn = <E extends keyof Events>(name: E, payload: Events[E]) => void;

interface JobEntry {
  info: JobInfo;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * Runs long jobs for the contract: each gets an id and an AbortController, streams throttled
 * `jobProgress` events, and ends with exactly one `jobDone` or `jobFailed` (a cancelled job
 * fails with CancelledError). The job function does the heavy work off the event loop itself
 * (see command-job.ts, which runs a CLI command in a worker thread).
 */
export class JobManager {
  private readonly jobs = new Map<string, JobEntry>();
  private seq = 0;

  /** @param progressIntervalMs minimum spacing of progress events per job (the UI needs no more). */
  constructor(private readonly emit: EmitFn, private readonly progressIntervalMs = 100) {}

  start(kind: string, run: (ctx: JobContext) => Promise<JobResult>): string {
    const jobId = `${kind}-${++this.seq}`;
    const controller = new AbortController();
    let lastEmit = 0;
    const entry: JobEntry = {
      info: { jobId, kind, state: 'running', fraction: 0, message: 'starting' },
      controller,
      done: Promise.resolve(),
    };
    // The newest message the throttle held back, sent when the interval is over unless a newer
    // event went out first: without it a burst ("patches ready", then "fold 1/5: cnn epoch 1/30:
    // batch 1/12" a millisecond later) left the UI on the burst's first message until the next
    // event passed, which for a first epoch can be minutes (issue 18).
    let pending: { fraction: number; message: string } | null = null;
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const clearPending = (): void => {
      pending = null;
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
    };
    const send = (payload: Events['jobProgress']): void => {
      clearPending();
      lastEmit = Date.now();
      this.emit('jobProgress', payload);
    };
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (fraction, message, detail) => {
        if (entry.info.state !== 'running') return;
        entry.info = { ...entry.info, fraction, message };
        // Events that carry data (a learning-curve point) are never dropped by the throttle:
        // the plot needs every epoch, and there are at most a few per second.
        if (detail) return send({ jobId, fraction, message, detail });
        const wait = lastEmit + this.progressIntervalMs - Date.now();
        if (fraction >= 1 || wait <= 0) return send({ jobId, fraction, message });
        pending = { fraction, message };
        flushTimer ??= setTimeout(() => {
          flushTimer = null;
          const p = pending;
          if (p && entry.info.state === 'running') send({ jobId, fraction: p.fraction, message: p.message });
        }, wait);
      },
    };
    this.jobs.set(jobId, entry);
    (entry as { done: Promise<void> }).done = (async () => {
      try {
        // Yield once so the caller receives the job id before any event about it.
        await Promise.resolve();
        // Cancel ends the job at once even if the job function ignores its signal; whatever
        // it still computes afterwards is dropped.
        const aborted = new Promise<never>((_res, rej) => {
          const fail = (): void => rej(new CancelledError(kind));
          if (controller.signal.aborted) fail();
          else controller.signal.addEventListener('abort', fail, { once: true });
        });
        const result = await Promise.race([run(ctx), aborted]);
        if (controller.signal.aborted) throw new CancelledError(kind);
        clearPending();
        entry.info = { ...entry.info, state: 'done', fraction: 1, message: 'done' };
        this.emit('jobDone', { jobId, result });
      } catch (e) {
        clearPending();
        const cancelled = controller.signal.aborted || e instanceof CancelledError;
        const error = cancelled && !(e instanceof CancelledError) ? serializeError(new CancelledError(kind)) : serializeError(e);
        entry.info = { ...entry.info, state: cancelled ? 'cancelled' : 'failed', message: error.message };
        this.emit('jobFailed', { jobId, error });
      }
    })();
    return jobId;
  }

  cancel(jobId: string): boolean {
    const e = this.jobs.get(jobId);
    if (!e || e.info.state !== 'running') return false;
    e.controller.abort();
    return true;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => e.info);
  }

  /** Resolves when the job has emitted its final event (tests, shutdown). */
  async settled(jobId: string): Promise<void> {
    await this.jobs.get(jobId)?.done;
  }

  cancelAll(): void {
    for (const id of this.jobs.keys()) this.cancel(id);
  }
}
