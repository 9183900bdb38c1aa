/** The session log shown under the side panels, and the "Loading…" counter of the toolbar. */

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

/** Keeps the log short: the side bar shows the latest lines, the Jobs tab keeps each job's own log. */
const MAX_LOG_LINES = 50;

export function errorText(e: unknown): string {
  const err = e as { name?: string; message?: string };
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : String(err.message ?? e);
}

export class StatusStore {
  log = $state.raw<readonly LogLine[]>([]);
  /** Requests in flight (project opens, layer loads); > 0 shows "Loading…" and keeps the map from fitting early. */
  loading = $state(0);

  addLog(level: LogLine['level'], message: string): void {
    this.log = [...this.log.slice(-(MAX_LOG_LINES - 1)), { level, message }];
  }

  /** Runs `f` counted as loading; resolves with its result (the counter drops even when it throws). */
  async busy<T>(f: () => Promise<T>): Promise<T> {
    this.loading++;
    try {
      return await f();
    } finally {
      this.loading--;
    }
  }
}
