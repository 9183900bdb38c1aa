/**
 * What the "faults" workflow returns (main/workflows/faults.ts), as the app's contract carries it
 * (main/workflows/workflow-results.ts WorkflowJobResult). Plain data, structured-clone safe, and
 * free of Node and library imports: the renderer's type check reads this file.
 */
import type { WorkflowWarning } from './workflow-results.ts';

/** One distance ring of the density–distance law (main/faults/power-law.ts RingStats). */
export interface FaultRing {
  /** Ring number i ≥ 1: distances in ((i−1)·w, i·w]. */
  readonly ring: number;
  readonly innerM: number;
  readonly outerM: number;
  /** Distance the ring stands for in the law, km (outer edge or middle, per ringDistance). */
  readonly dKm: number;
  readonly cells: number;
  readonly areaKm2: number;
  readonly deposits: number;
  /** Deposit cells per km² (0 for an empty ring). */
  readonly density: number;
  readonly usedInFit: boolean;
}

/** The fitted law m(d) = N·d^k (main/faults/power-law.ts PowerLawFit). */
export interface FaultsPowerLaw {
  /** m(1 km) in deposits per km². */
  readonly N: number;
  readonly k: number;
  /** Coefficient of determination of the log–log regression. */
  readonly r2: number;
  readonly ringWidthM: number;
  readonly ringDistance: 'outer' | 'mid';
  readonly maxRing: number;
  readonly depositCells: number;
  /** Deposit cells on nodata of the reference grid, not counted. */
  readonly excludedDeposits: number;
  readonly rings: readonly FaultRing[];
}

/** What "faults" wrote and fitted: the files, the fault input, the law (when fitted) and the weights. */
export interface FaultsWorkflowResult {
  /** The files written (only those asked for). */
  readonly outputs: { readonly distance?: string; readonly weight?: string; readonly buffers?: string; readonly report?: string };
  readonly faults: { readonly file: string; readonly kind: 'lines' | 'raster'; readonly elements: number; readonly elementsInGrid: number };
  readonly grid: { readonly file: string; readonly rows: number; readonly cols: number; readonly cellSizeM: number; readonly crs: string | null };
  /** The deposits read for the fit; null with a given --k and no --deposits. */
  readonly deposits: { readonly file: string; readonly cells: number; readonly droppedOutside: number; readonly duplicatesDropped: number } | null;
  /** The fitted law; null when no --deposits were given. */
  readonly fit: FaultsPowerLaw | null;
  /** The weight map's law: the fitted k, or --k when given (then `givenK` is true). */
  readonly weight: {
    readonly k: number;
    readonly givenK: boolean;
    readonly ringWidthM: number;
    readonly maxRing: number;
    readonly normalisation: 'max' | 'minmax';
    readonly ringDistance: 'outer' | 'mid';
    /** Weight of rings 1 … maxRing. */
    readonly ringWeights: readonly number[];
  };
  /** Buffer widths of the --buffers-out bands, metres. */
  readonly bufferWidthsM: readonly number[];
  /** Trust checks of a fitted law (none for a given --k). */
  readonly warnings: readonly WorkflowWarning[];
}
