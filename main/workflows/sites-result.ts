/**
 * What the "sites" workflow returns (main/workflows/sites.ts), as the app's contract carries it
 * (main/workflows/workflow-results.ts WorkflowJobResult). Plain data, structured-clone safe, and
 * free of Node and library imports: the renderer's type check reads this file.
 */

/** Cells and blocks (siteIds) of one class of training sites. */
export interface SiteClassCount {
  readonly cells: number;
  readonly blocks: number;
}

/** What was read from one label input (deposits or a negatives file). */
export interface SiteLabelInput {
  readonly file: string;
  /** Unique grid cells marked. */
  readonly cells: number;
  /** Points or cells outside the grid, dropped (--drop-outside). */
  readonly droppedOutside: number;
  /** Features dropped by --dedupe first (their cell already held one). */
  readonly duplicatesDropped: number;
  /** Points of one feature that shared a cell and count once. */
  readonly merged: number;
}

/** What "sites" wrote: the file(s), the counts per class, and where the blocks meet nodata. */
export interface SitesWorkflowResult {
  /** `sites`: the --out path; `files`: every file written (a Shapefile's .shp, .shx, .dbf, .prj). */
  readonly outputs: { readonly sites: string; readonly files: readonly string[] };
  readonly format: 'geojson' | 'geopackage' | 'shapefile';
  readonly grid: { readonly file: string; readonly rows: number; readonly cols: number; readonly cellSizeM: number; readonly crs: string | null };
  /** Counts per class: positives (label 1, deposit blocks) and negatives (label 0). */
  readonly positives: SiteClassCount;
  readonly negatives: SiteClassCount;
  /** Deposit cells the positive blocks are centred on. */
  readonly depositCells: number;
  /** How the negatives were chosen: automatically, from a file, or none. */
  readonly negativeSource: 'auto' | 'user' | 'none';
  /** Automatic negatives: admissible centre cells before the seeded selection. */
  readonly negativeCandidates?: number;
  /** Blocks with fewer than (2r + 1)² cells (clipped by the edge or shared), by siteId. */
  readonly partialBlocks: Readonly<Record<string, number>>;
  readonly deposits: SiteLabelInput;
  /** The negatives file, when --negatives named one. */
  readonly negativesFile?: SiteLabelInput;
  /** Block cells on nodata of the grid (train refuses those patches unless told how to treat them). */
  readonly onNodata: { readonly cells: number; readonly blocks: number; readonly first: readonly string[] };
}
