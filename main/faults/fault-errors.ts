import { WorkbenchError } from '../errors.ts';

/** The fault layer has no segment (or the fault raster no cell) inside the grid. */
export class NoFaultsInGridError extends WorkbenchError {}

/** The density–distance power law cannot be fitted (fewer than two usable rings, …). */
export class PowerLawFitError extends WorkbenchError {}
