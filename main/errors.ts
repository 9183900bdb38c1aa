/**
 * Named errors of the compute core. Every error that can reach a user carries a message that
 * says what was expected, what was found, and what to do; `details` is plain data so the
 * error can cross the IPC contract as `{ name, message, details }`.
 */
export type ErrorDetails = Record<string, unknown>;

export class WorkbenchError extends Error {
  readonly details: ErrorDetails;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
  toJSON(): { name: string; message: string; details: ErrorDetails } {
    return { name: this.name, message: this.message, details: this.details };
  }
}

/** A file could not be read as the format it claims to be (truncated, corrupt, wrong kind). */
export class InvalidFileError extends WorkbenchError {
  constructor(readonly file: string, problem: string, fix: string, details: ErrorDetails = {}) {
    super(`${file}: ${problem}. ${fix}`, { file, problem, fix, ...details });
  }
}

/** A file is readable but holds nothing usable (empty layer, NaN-only band, no rows). */
export class EmptyInputError extends WorkbenchError {
  constructor(readonly file: string, problem: string, fix: string, details: ErrorDetails = {}) {
    super(`${file}: ${problem}. ${fix}`, { file, problem, fix, ...details });
  }
}

/** A table cell that is neither a number nor a recognised below-detection-limit marker. */
export class UnparseableCellError extends WorkbenchError {
  constructor(readonly file: string, readonly row: number, readonly column: string, readonly value: string) {
    super(
      `${file}: row ${row}, column "${column}" holds "${value}", which is neither a number nor a ` +
        `below-detection-limit marker (<DL, -DL, ND). Correct the cell or exclude the column.`,
      { file, row, column, value },
    );
  }
}

/** Missing or unknown coordinate reference system, or one unsuitable for the operation. */
export class CrsError extends WorkbenchError {}

/**
 * The layer's CRS cannot be written in the requested format (e.g. no .prj definition for it).
 * Here rather than in export/: the WKT writer (grid/crs-wkt.ts) and the GeoPackage writer (io/) throw it.
 */
export class UnsupportedCrsError extends WorkbenchError {}

/** Two grids that must be cell-for-cell aligned are not. */
export class GridMismatchError extends WorkbenchError {}

/** Band names of a stack do not match what a model or operation expects. */
export class BandMismatchError extends WorkbenchError {}

/** Options out of range or inconsistent. */
export class InvalidOptionError extends WorkbenchError {}

/** A linear system could not be solved (coincident points, degenerate variogram). */
export class SingularSystemError extends WorkbenchError {}

/** A long job was cancelled by the user. */
export class CancelledError extends WorkbenchError {
  constructor(what = 'job') {
    super(`${what} was cancelled`, { what });
  }
}

export function isWorkbenchError(e: unknown): e is WorkbenchError {
  return e instanceof WorkbenchError;
}

/** Plain-data form of any thrown value, for logs, JSON reports and the IPC contract. */
export function serializeError(e: unknown): { name: string; message: string; details: ErrorDetails } {
  if (e instanceof WorkbenchError) return e.toJSON();
  if (e instanceof Error) return { name: e.name, message: e.message, details: {} };
  return { name: 'Error', message: String(e), details: {} };
}
