import { WorkbenchError } from '../errors.ts';

/** Site or deposit locations that fall outside the reference grid. */
export class SitesOutsideGridError extends WorkbenchError {}

/** Deposits (points or label cells) outside the reference grid. */
export class DepositsOutsideGridError extends SitesOutsideGridError {}

/** Automatic negative selection found fewer admissible places than it must fill. */
export class TooFewNegativeCandidatesError extends WorkbenchError {}

/** One cell is claimed as both a positive and a negative site (or twice in a sites file). */
export class SiteConflictError extends WorkbenchError {}
