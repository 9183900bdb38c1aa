import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import { checkUserFileOrFolder } from '../util/user-file.ts';
import { cellOf, inGrid, type GridSpec } from '../grid/grid-spec.ts';
import { blocksAround, countLabels, mergeSites, type SiteSource } from './site-blocks.ts';
import { writeSitesGeoJson } from './sites-geojson.ts';
import { SitesOutsideGridError } from './site-errors.ts';
import { checkSitesWriteTarget } from './sites-write-target.ts';

/**
 * Sites as the app edits them: one centre per block. Writing expands centres with the same
 * blocksAround/mergeSites the `sites` command uses, so a file saved from the app (main/api/
 * site-requests.ts) or exported (main/export/sites-export.ts) trains exactly like one made on the
 * command line. Here in sites/ because both of those use it (export/ sits below api/).
 */

export type { SiteCentre, SitesWritten } from './site-centre-types.ts';
import type { SiteCentre, SitesWritten } from './site-centre-types.ts';

/** The grid of a GeoTIFF or of a folder of GeoTIFFs (a stack). */
export async function gridOf(source: string): Promise<GridSpec> {
  return (await checkUserFileOrFolder(source, 'raster', ['.tif', '.tiff'])).isDirectory ? (await readStack(source)).grid : (await readGeoTiffInfo(source)).grid;
}

const PREFIX: Record<SiteSource, string> = { deposit: 'D', auto: 'A', user: 'U' };

/**
 * Expands centres into blocks (positives first) and writes the sites GeoJSON. Only to a target
 * checkSitesWriteTarget allows (.geojson/.json; a new file, one of our sites files, or one the
 * user confirmed replacing: `replace`).
 */
export async function writeSiteCentres(path: string, gridSource: string, centres: readonly SiteCentre[], blockRadius = 1, replace = false): Promise<SitesWritten> {
  await checkSitesWriteTarget(path, replace);
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
