import type { Params, ProjectDocument, RasterLayerSpec, SiteCentre } from '../../../main/api/contract.ts';

/**
 * What the renderer's autosave sends (issue #18 "nothing lost"): the document (layers with their
 * styling, runs, study) and the digitized sites with the grid they snap to, so the backend writes
 * the sites beside the autosave copy (main/api/study-requests.ts autosaveSession). Without a grid
 * layer there can be no sites, and the document goes alone.
 */
export function sessionAutosave(path: string | null, document: ProjectDocument, sites: readonly SiteCentre[], grid: RasterLayerSpec | null): Params<'autosaveSession'> {
  if (!grid) return { path, document };
  return { path, document, sites: { gridSource: grid.source, gridLayerId: grid.id, centres: sites } };
}
