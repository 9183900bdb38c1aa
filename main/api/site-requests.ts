import { checkUserFile } from '../util/user-file.ts';
import { cellCenterX, cellCenterY } from '../grid/grid-spec.ts';
import type { Site } from '../sites/site-blocks.ts';
import { readSitesGeoJson } from '../sites/sites-geojson.ts';
import type { SiteCentre } from './contract.ts';
// Writing centres is shared with export/ (sites-export.ts), so it lives in sites/; re-exported for the handlers.
import { gridOf } from '../sites/site-centres.ts';
export { writeSiteCentres } from '../sites/site-centres.ts';

/**
 * The Sites panel's two file requests. The panel edits block centres; the files hold every
 * cell of every block (main/sites/sites-geojson.ts), so reading collapses blocks to their
 * centres and writing expands centres with the same blocksAround/mergeSites the `sites`
 * command uses: a file saved from the app trains exactly like one made on the command line.
 */


/** One centre per siteId: the cell flagged `centre`, else the block cell nearest the block's mean. */
export async function readSiteCentres(path: string, gridSource: string): Promise<SiteCentre[]> {
  const grid = await gridOf(gridSource);
  await checkUserFile(path, 'vector');
  const set = await readSitesGeoJson(path, grid);
  const blocks = new Map<string, Site[]>();
  for (const s of set.sites) {
    const list = blocks.get(s.siteId);
    if (list) list.push(s);
    else blocks.set(s.siteId, [s]);
  }
  return [...blocks.entries()].map(([id, cells]) => {
    let c = cells.find((s) => s.centre);
    if (!c) {
      const mr = cells.reduce((a, s) => a + s.row, 0) / cells.length;
      const mc = cells.reduce((a, s) => a + s.col, 0) / cells.length;
      c = cells.reduce((best, s) => ((s.row - mr) ** 2 + (s.col - mc) ** 2 < (best.row - mr) ** 2 + (best.col - mc) ** 2 ? s : best));
    }
    return { id, x: cellCenterX(grid, c.col), y: cellCenterY(grid, c.row), label: c.label, source: c.source };
  });
}

