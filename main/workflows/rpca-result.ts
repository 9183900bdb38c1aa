/**
 * What the "rpca" workflow returns (main/workflows/rpca.ts), as the app's contract carries it
 * (main/workflows/workflow-results.ts WorkflowJobResult). Plain data, structured-clone safe, and
 * free of Node and library imports: the renderer's type check reads this file.
 */

/** What "rpca" wrote and estimated: the files, the robust centre/covariance, the PCs and the MCD. */
export interface RpcaWorkflowResult {
  readonly outputs: {
    readonly dir: string;
    /** PC1…PCk score bands. */
    readonly scores: string;
    /** Squared robust distance band. */
    readonly robustDistance: string;
    /** Everything below plus the biplot's cell sample (main/eval/robust-pca.ts RobustPca). */
    readonly loadings: string;
    readonly biplot: string;
    readonly biplotSvg: string;
    readonly maps: string;
  };
  readonly stack: string;
  readonly bands: readonly string[];
  readonly transform: 'log10' | 'clr';
  /** The score bands written: PC1 … PCk. */
  readonly components: readonly string[];
  /** Robust centre in the transformed space, one value per band. */
  readonly center: readonly number[];
  /** Robust covariance in the transformed space, band × band. */
  readonly covariance: readonly (readonly number[])[];
  /** Eigenvalues of the robust covariance, decreasing. */
  readonly eigenvalues: readonly number[];
  /** Share of the total robust variance per component. */
  readonly explained: readonly number[];
  /** loadings[band][k]: weight of the band on PC k+1 (unit columns, largest entry positive). */
  readonly loadings: readonly (readonly number[])[];
  /** χ²(0.975) cut-off of the squared robust distance (above: multivariate outlier). */
  readonly distanceCutoff: number;
  readonly mcd: { readonly alpha: number; readonly h: number; readonly cellsUsed: number; readonly subsampled: boolean; readonly seed: number; readonly outliers: number };
  readonly cells: { readonly total: number; readonly valid: number; readonly nodata: number; readonly nonPositive: number };
}
