/**
 * The typed result of the explain workflow (main/workflows/explain.ts), as the app's contract
 * carries it to the renderer (main/api/contract.ts re-exports these types). Plain data,
 * structured-clone safe, no imports at all: the renderer's type check (no Node types) reads it.
 */

// ---------------------------------------------------------------------------------------------
// One cell (`at`): the Compare view's site panels

export interface ModelSiteExplanation {
  readonly name: string;
  /** Spatial layers Grad-CAM can use, input to output. */
  readonly layers: readonly string[];
  readonly deformableLayers: readonly string[];
  /** Grad-CAM upsampled to the window (size × size, row-major, north up) and at the layer's own resolution. */
  readonly gradcam: { readonly layer: string; readonly size: number; readonly values: readonly number[]; readonly raw: readonly number[]; readonly rawShape: readonly [number, number]; readonly peak: number; readonly centre: number };
  /** Learned offsets (cells; Δy down the rows) of a deformable layer; null for models without one. */
  readonly offsets: {
    readonly layer: string;
    readonly height: number;
    readonly width: number;
    readonly kernel: readonly [number, number];
    /** Per output cell, row-major: mean offset vector and magnitude over the taps, mean modulation mask. */
    readonly meanDx: readonly number[];
    readonly meanDy: readonly number[];
    readonly meanMagnitude: readonly number[];
    readonly meanMaskPerCell: readonly number[];
    /** The centre cell's taps: sampling point (row, col in the layer's input cells), offset and mask. */
    readonly centreTaps: readonly { readonly row: number; readonly col: number; readonly dy: number; readonly dx: number; readonly mask: number }[];
    readonly meanOffsetCells: number;
    readonly meanMask: number;
  } | null;
}

export interface SiteExplanation {
  readonly runDir: string;
  readonly stack: string;
  /** The explained cell and its centre (map coordinates). */
  readonly row: number;
  readonly col: number;
  readonly x: number;
  readonly y: number;
  /** Window size k (cells). */
  readonly window: number;
  readonly cellSizeX: number;
  readonly cellSizeY: number;
  readonly classIndex: number;
  /** Nodata cells of the window filled with the band mean. */
  readonly filledCells: number;
  readonly models: readonly ModelSiteExplanation[];
}

// ---------------------------------------------------------------------------------------------
// The whole run: panels at the deposit sites, map-wide rasters, explain.json

/** One deposit site of explain.json: per model its Grad-CAM peak and centre value, and a DCN's mean offset and mask. */
export interface ExplainedSite {
  readonly siteId: string;
  readonly row: number;
  readonly col: number;
  readonly models: Readonly<Record<string, { readonly gradcamPeak: number; readonly gradcamCentre: number; readonly meanOffsetCells?: number; readonly meanMask?: number }>>;
}

/** One element's share in a band ranking (main/maps/attribution.ts BandRank). */
export interface ExplainBandRank {
  readonly band: string;
  readonly meanAbs: number;
  readonly mean: number;
}

/** What `--attribution` added: per model the band ranking by mean |attribution| at the deposit sites. */
export interface ExplainAttribution {
  readonly method: 'ig' | 'occlusion';
  readonly models: Readonly<Record<string, { readonly ranking: readonly ExplainBandRank[] }>>;
  /** attribution-sites.json and .csv, attribution-<model>.tif unless noMaps. */
  readonly files: readonly string[];
}

export interface ExplainRunResult {
  readonly mode: 'run';
  readonly outputs: { readonly dir: string; readonly json: string; readonly maps?: string };
  /** Every file written by the explanation (figures, explain-maps.tif, explain.json), in writing order. */
  readonly files: readonly string[];
  readonly sites: readonly ExplainedSite[];
  readonly attribution?: ExplainAttribution;
}

export interface ExplainSiteResult {
  readonly mode: 'site';
  readonly site: SiteExplanation;
}

/** What "explain" produced: the run's explanation files and numbers, or one cell's explanation as data. */
export type ExplainWorkflowResult = ExplainRunResult | ExplainSiteResult;
