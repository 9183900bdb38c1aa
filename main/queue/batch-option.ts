import { InvalidOptionError } from '../errors.ts';

/**
 * Units per BullMQ job, as the commands' `--queue-batch` gives it (RunUnitsOptions.batch): a whole
 * number ≥ 1, or 'auto' (time the first units, then pack the rest into ≈ 1 s jobs). No bullmq
 * import here: the workflows check the flag before they load the queue client.
 */
export type UnitsPerJob = number | 'auto';

export function parseQueueBatch(value: string | undefined, fallback: UnitsPerJob, cmd: string): UnitsPerJob {
  if (value === undefined || value === '') return fallback;
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidOptionError(`geoanomaly ${cmd}: --queue-batch must be a whole number ≥ 1 or "auto", got "${value}"`, { value });
  return n;
}
