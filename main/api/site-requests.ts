import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import { checkUserFile, checkUserFileOrFolder } from '../util/user-file.ts';
import { cellCenterX, cellCenterY, cellOf, inGrid, type GridSpec } from '../grid/grid-spec.ts';
import { blocksAround, countLabels, mergeSites, type Site, type SiteSource } from '../sites/site-blocks.ts';
import { readSitesGeoJson, writeSitesGeoJson } from '../sites/sites-geojson.ts';
import { SitesOutsideGridError } from '../sites/site-errors.ts';
import type { SiteCentre, SitesWritten } from './contract.ts';

/**
 * The Sites panel's two file requests. The panel edits block centres; the files hold every
 * cell of every block (main/sites/sites-geojson.ts), so reading collapses blocks to their
 * centres and writing expands centres with the same blocksAround/mergeSites the `sites`
 * command uses: a file saved from the app trains exactly like one made on the command line.
 */

async function gridOf(source: string): Promise<GridSpec> {
  return (await checkUserFileOrFolder(source, 'raster', ['.tif', '.tiff'])).isDirectory ? (await readStack(source)).grid : (await readGeoTiffInfo(source)).grid;
}

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

const PREFIX: Record<SiteSource, string> = { deposit: 'D', auto: 'A', user: 'U' };

/** Expands centres into blocks (positives first) and writes the sites GeoJSON. */
export async function writeSiteCentres(path: string, gridSource: string, centres: readonly SiteCentre[], blockRadius = 1): Promise<SitesWritten> {
  const grid = await gridOf(gridSource);
  const outside: string[] = [];
  const groups = new Map<string, { label: 0 | 1; source: SiteSource; cells: number[] }>();
  for (const s of centres) {
    const { row, col } = cellOf(grid, s.x, s.y);
    if (!inGrid(grid, row, col)) {
      outside.push(s.id);
      continue;
    }
    const key = `${s.label}|${s.source}`;
    const g = groups.get(key) ?? { label: s.label, source: s.source, cells: [] };
    g.cells.push(row * grid.cols + col);
    groups.set(key, g);
  }
  if (outside.length > 0) {
    throw new SitesOutsideGridError(
      `${outside.length} site(s) lie outside the ${grid.rows}×${grid.cols} grid of ${gridSource} (${outside.slice(0, 10).join(', ')}). Delete them or choose the grid layer they were digitized on.`,
      { outside: outside.length, sites: outside.slice(0, 10) },
    );
  }
  // Positives before negatives, so a conflict names the negative block as the one to move.
  const ordered = [...groups.values()].sort((a, b) => b.label - a.label);
  const lists = ordered.map((g) => blocksAround(grid, g.cells, { label: g.label, source: g.source, blockRadius, idPrefix: `${PREFIX[g.source]}${g.label === 1 ? 'P' : 'N'}` }));
  const set = mergeSites(grid, ...lists);
  writeSitesGeoJson(path, set);
  const counts = countLabels(set.sites);
  return { path, positiveBlocks: counts.positiveBlocks, negativeBlocks: counts.negativeBlocks, cells: set.sites.length };
}
