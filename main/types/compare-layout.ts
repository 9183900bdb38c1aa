/**
 * The Compare tab's layout as the project file keeps it: the `compare` member of the project
 * document. Types only, with no imports, so that the document types (project-document.ts) sit in
 * this low layer; the validator stays in main/project/compare-layout.ts, which re-exports these.
 * Layers are named by their layer ids (not paths), so moving the project folder keeps the layout.
 */

export const COMPARE_MODES = [2, 4, 'swipe'] as const;
export type CompareMode = (typeof COMPARE_MODES)[number];

export interface CompareLayout {
  /** 2 or 4 linked maps, or one map with a swipe divider. */
  readonly mode: CompareMode;
  /** The shared layer of the panes ('' = the newest multiband raster). */
  readonly layerId: string;
  /** Layer id per pane / swipe side ('' = the shared layer). */
  readonly paneLayers: readonly string[];
  /** Band per pane (2 or 4), or [left, right] in swipe mode. */
  readonly bands: readonly string[];
  /** Swipe divider, 0 … 100 (% of the map width from the left). */
  readonly swipePercent: number;
}
