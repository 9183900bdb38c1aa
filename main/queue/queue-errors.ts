import { WorkbenchError, type ErrorDetails } from '../errors.ts';

/** Redis could not be reached at the queue URL (named redacted: never with its password). */
export class QueueUnreachableError extends WorkbenchError {
  constructor(readonly queue: string, cause: string, details: ErrorDetails = {}) {
    super(
      `the queue at ${queue} cannot be reached (${cause}). Start redis-server there (or fix host, port, password), ` +
        `or run without --queue to compute on this machine.`,
      { queue, cause, ...details },
    );
  }
}

/**
 * A worker read different bytes from an input than the command hashed when it enqueued the unit:
 * the storage is not shared (another file at that path on this machine) or the file changed.
 */
export class InputHashMismatchError extends WorkbenchError {
  constructor(readonly file: string, expected: string, found: string, details: ErrorDetails = {}) {
    super(
      `${file}: the unit expects SHA-256 ${expected} but this worker reads ${found}. Every worker must see the same ` +
        `file at the same path (a shared filesystem such as NFS); do not change inputs while a --queue run is going.`,
      { file, expected, found, ...details },
    );
  }
}

/** A unit of a queue run failed on a worker for a reason that is not a named workbench error. */
export class QueueUnitFailedError extends WorkbenchError {}
