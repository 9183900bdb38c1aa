import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { readSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readSiteCentres, writeSiteCentres } from '../../main/api/site-requests.ts';
import { readJsonResult } from '../../main/api/kriging-requests.ts';
import { blockRing, countSites, nextSiteId, snapToCell } from '../../renderer/src/lib/sites.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * The panels' backend requests and pure helpers without a browser: the sites round trip
 * (centres → 3×3 blocks → centres), conflicts and edge clipping, the JSON result reader's
 * guards, and the parsing of the training loss messages.
 */
const work = tempDir('ga-panel-requests-');
const grid = { originX: 500000, originY: 4600000, cellSizeX: 100, cellSizeY: 100, rows: 20, cols: 30, crs: crsFromEpsg(32645) };
const gridFile = join(work, 'grid.tif');
writeGeoTiff(gridFile, { grid, bandNames: ['b'], bands: [new Float32Array(grid.rows * grid.cols).fill(1)] });
const cx = (col: number): number => grid.originX + (col + 0.5) * grid.cellSizeX;
const cy = (row: number): number => grid.originY - (row + 0.5) * grid.cellSizeY;

describe('sites requests', () => {
  it('writes centres as 3×3 blocks (clipped at the edge) and reads the same centres back', async () => {
    const centres = [
      { id: 'U1', x: cx(5), y: cy(5), label: 1 as const, source: 'user' as const },
      { id: 'U2', x: cx(0), y: cy(0), label: 1 as const, source: 'user' as const },
      { id: 'U3', x: cx(20), y: cy(12), label: 0 as const, source: 'user' as const },
    ];
    const file = join(work, 'sites.geojson');
    const written = await writeSiteCentres(file, gridFile, centres);
    // 9 + 4 (corner block clipped to 2×2) + 9 cells.
    expect(written).toEqual({ path: file, positiveBlocks: 2, negativeBlocks: 1, cells: 22 });
    const set = await readSitesGeoJson(file, { ...grid });
    expect(set.sites).toHaveLength(22);
    const back = await readSiteCentres(file, gridFile);
    expect(back.map((s) => [s.label, s.x, s.y]).sort()).toEqual(centres.map((s) => [s.label, s.x, s.y]).sort());
  });

  it('refuses a negative block touching a positive one, and a site outside the grid', async () => {
    const touching = [
      { id: 'U1', x: cx(5), y: cy(5), label: 1 as const, source: 'user' as const },
      { id: 'U2', x: cx(7), y: cy(5), label: 0 as const, source: 'user' as const },
    ];
    await expect(writeSiteCentres(join(work, 'x.geojson'), gridFile, touching)).rejects.toMatchObject({ name: 'SiteConflictError' });
    const outside = [{ id: 'U9', x: grid.originX - 50, y: cy(1), label: 1 as const, source: 'user' as const }];
    await expect(writeSiteCentres(join(work, 'y.geojson'), gridFile, outside)).rejects.toThrow(/U9/);
  });
});

describe('readJsonResult', () => {
  it('reads .json files only and names a broken one', async () => {
    const ok = join(work, 'r.json');
    writeFileSync(ok, '{"a": [1, 2]}');
    // readJsonResult reads asynchronously (never blocking the server's event loop).
    expect(await readJsonResult(ok)).toEqual({ a: [1, 2] });
    await expect(readJsonResult(join(work, 'grid.tif'))).rejects.toThrow(/\.json/);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"a": ');
    await expect(readJsonResult(bad)).rejects.toThrow(bad);
  });
});

describe('renderer helpers', () => {
  it('snaps to cell centres, outlines clipped blocks, counts and names sites', () => {
    const g = { ...grid, crs: null };
    expect(snapToCell(g, grid.originX + 1, grid.originY - 1)).toEqual({ x: cx(0), y: cy(0) });
    expect(snapToCell(g, grid.originX - 1, grid.originY - 1)).toBeNull();
    // Corner block: 2×2 cells, from the grid's corner.
    expect(blockRing(g, cx(0), cy(0))).toEqual([[500000, 4600000], [500200, 4600000], [500200, 4599800], [500000, 4599800], [500000, 4600000]]);
    const sites = [{ id: 'U1', x: 0, y: 0, label: 1 as const, source: 'user' as const }, { id: 'U3', x: 0, y: 0, label: 0 as const, source: 'auto' as const }];
    expect(countSites(sites)).toEqual({ positive: 1, negative: 1 });
    expect(nextSiteId(sites)).toBe('U4');
  });
});
