import type { ComputeJobRequest, ComputeRequestName, ContractError, JobResult, WorkbenchApi } from '../../../main/api/contract.ts';
import type { EpochProgress } from '../../../main/jobs/progress-detail.ts';

/** Log lines kept per job: progress messages are throttled to ≤ 10/s, so this is minutes of history. */
const MAX_LOG_LINES = 500;

export interface JobView {
  readonly jobId: string;
  readonly kind: ComputeRequestName;
  readonly title: string;
  /** The command's flags as started (recorded with the project when the job finishes). */
  readonly request: ComputeJobRequest;
  readonly state: 'running' | 'done' | 'failed' | 'cancelled';
  /** 0 … 1. */
  readonly fraction: number;
  readonly message: string;
  /** Date.now() at start / end (ms). */
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** Progress messages (deduplicated), then the command's stdout lines, then the error. */
  readonly log: readonly string[];
  /** The learning curves so far: one typed point per model and epoch, as the job reported them (nothing parsed from messages). */
  readonly epochs: readonly EpochProgress[];
  readonly result: JobResult | null;
  readonly error: ContractError | null;
}

export interface JobOutcome {
  readonly ok: boolean;
  readonly result: JobResult | null;
  readonly error: ContractError | null;
}

/**
 * Every compute job started from the UI, fed by the contract's jobProgress / jobDone /
 * jobFailed events. Panels start jobs through `start()` and await the returned outcome; the
 * Jobs panel lists them all with progress, elapsed time, cancel and logs.
 */
export class JobTracker {
  jobs = $state.raw<readonly JobView[]>([]);
  /** Ticks once a second while a job runs, so elapsed times refresh. */
  now = $state(Date.now());
  private readonly waiters = new Map<string, (o: JobOutcome) => void>();
  /** Events that arrived before `start()` learned the job id (the contract yields once, but be safe). */
  private readonly early = new Map<string, (() => void)[]>();
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** Called once when a job ends successfully (the Workbench records it in the project's runs). */
  onDone: ((job: JobView) => void) | null = null;

  constructor(private readonly api: WorkbenchApi) {
    api.on('jobProgress', (e) =>
      this.apply(e.jobId, (j) => ({
        ...j,
        fraction: e.fraction,
        message: e.message,
        log: e.message && j.log[j.log.length - 1] !== e.message ? [...j.log.slice(-(MAX_LOG_LINES - 1)), e.message] : j.log,
        epochs: e.detail?.kind === 'epoch' ? [...j.epochs, e.detail] : j.epochs,
      })),
    );
    api.on('jobDone', (e) => {
      this.apply(e.jobId, (j) => ({ ...j, state: 'done', fraction: 1, message: 'done', endedAt: Date.now(), result: e.result, log: [...j.log, ...e.result.lines] }));
      this.settle(e.jobId, { ok: true, result: e.result, error: null });
    });
    api.on('jobFailed', (e) => {
      const cancelled = e.error.name === 'CancelledError';
      this.apply(e.jobId, (j) => ({ ...j, state: cancelled ? 'cancelled' : 'failed', message: cancelled ? 'cancelled' : e.error.message, endedAt: Date.now(), error: e.error, log: [...j.log, `${e.error.name}: ${e.error.message}`] }));
      this.settle(e.jobId, { ok: false, result: null, error: e.error });
    });
  }

  get running(): number {
    return this.jobs.filter((j) => j.state === 'running').length;
  }

  /** Starts a compute request; resolves with its outcome when the job ends (never rejects). */
  async start(kind: ComputeRequestName, request: ComputeJobRequest, title: string, onStarted?: (jobId: string) => void): Promise<JobOutcome> {
    let jobId: string;
    try {
      jobId = (await this.api.request(kind, request)).jobId;
    } catch (e) {
      const err = e as Partial<ContractError>;
      return { ok: false, result: null, error: { name: err.name ?? 'Error', message: err.message ?? String(e), details: err.details ?? {} } };
    }
    const view: JobView = { jobId, kind, title, request, state: 'running', fraction: 0, message: 'starting', startedAt: Date.now(), endedAt: null, log: [], epochs: [], result: null, error: null };
    this.jobs = [view, ...this.jobs];
    this.tick();
    onStarted?.(jobId);
    const done = new Promise<JobOutcome>((resolve) => this.waiters.set(jobId, resolve));
    for (const f of this.early.get(jobId) ?? []) f();
    this.early.delete(jobId);
    return done;
  }

  /** Gives a job the name it gets once recorded ("Training run 3: …" for a finished training run). */
  retitle(jobId: string, title: string): void {
    if (this.jobs.some((j) => j.jobId === jobId && j.title !== title)) this.jobs = this.jobs.map((j) => (j.jobId === jobId ? { ...j, title } : j));
  }

  async cancel(jobId: string): Promise<void> {
    await this.api.request('cancelJob', { jobId });
  }

  private apply(jobId: string, f: (j: JobView) => JobView): void {
    if (!this.jobs.some((j) => j.jobId === jobId)) {
      const list = this.early.get(jobId) ?? [];
      list.push(() => this.apply(jobId, f));
      this.early.set(jobId, list);
      return;
    }
    this.jobs = this.jobs.map((j) => (j.jobId === jobId ? f(j) : j));
    this.tick();
  }

  private settle(jobId: string, outcome: JobOutcome): void {
    const w = this.waiters.get(jobId);
    if (w) {
      this.waiters.delete(jobId);
      const view = this.jobs.find((j) => j.jobId === jobId);
      if (outcome.ok && view && this.onDone) this.onDone(view);
      w(outcome);
    } else if (!this.jobs.some((j) => j.jobId === jobId)) {
      const list = this.early.get(jobId) ?? [];
      list.push(() => this.settle(jobId, outcome));
      this.early.set(jobId, list);
    }
  }

  private tick(): void {
    this.now = Date.now();
    if (this.running > 0 && !this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    else if (this.running === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }
}

/** "12 s", "3 min 05 s". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
