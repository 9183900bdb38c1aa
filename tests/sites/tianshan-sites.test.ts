import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readGeoTiff, readGeoTiffFolder } from '../../main/io/geotiff-read.ts';
import { GridMismatchError, InvalidOptionError } from '../../main/errors.ts';
import { cellsFromLabelRaster } from '../../main/sites/label-cells.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { extractPatches } from '../../main/sites/patches.ts';
import { tianshan } from '../helpers/shared-data.ts';

/**
 * The GK-DCN case study (../shared/data/tianshan-gkdcn): label grids paired with the element
 * grids by array index (label cell (r, c) = element cell (r, c)), as the authors did.
 */
const T = tianshan();

describe('GK-DCN case study sites and patches', async () => {
  const stack = await readGeoTiffFolder(`${T}/elements`);
  const depRaster = await readGeoTiff(`${T}/label/Au_deposits0.tif`);
  const negRaster = await readGeoTiff(`${T}/label/non_deposits.tif`);
  const align = { rows: 0, cols: 0 };

  it('refuses the mismatched label grids unless the index pairing is explicit', () => {
    expect(stack.grid.rows).toBe(117);
    expect(stack.grid.cols).toBe(289);
    expect(() => cellsFromLabelRaster(stack.grid, depRaster)).toThrow(GridMismatchError);
    expect(() => cellsFromLabelRaster(stack.grid, depRaster)).toThrow(/-67553\.000 m east, 87000\.000 m north/);
    // The negative raster marks its sites with 0; the default value 1 is caught as inverted coding.
    expect(() => cellsFromLabelRaster(stack.grid, negRaster, { alignByIndex: align, role: 'negative' })).toThrow(InvalidOptionError);
  });

  it('10 deposit cells give 84 positives; 10 negative cells give 90 negatives (no block is clipped)', () => {
    const dep = cellsFromLabelRaster(stack.grid, depRaster, { alignByIndex: align });
    const neg = cellsFromLabelRaster(stack.grid, negRaster, { alignByIndex: align, value: 0, role: 'negative' });
    expect(dep.cells.length).toBe(10);
    expect(neg.cells.length).toBe(10);
    const { set, summary } = buildSites(stack.grid, { depositCells: dep.cells, negatives: { kind: 'user', cells: neg.cells } });
    expect(summary.positives).toBe(84);
    expect(summary.negatives).toBe(90);
    // The 6 missing positives: deposits (44, 87) and (45, 87) are vertical neighbours, their blocks
    // share 6 cells and split 6 + 6. No negative block touches the grid edge or another block.
    expect(summary.partialBlocks).toEqual({ D5: 6, D6: 6 });
    const d5 = set.sites.find((s) => s.siteId === 'D5' && s.centre);
    expect([d5?.row, d5?.col]).toEqual([44, 87]);
    expect(set.sites.filter((s) => s.siteId === 'D5' || s.siteId === 'D6').every((s) => s.groupId === 'D5')).toBe(true);
  });

  it('9 × 9 log10-standardised patches equal numpy/GDAL at the deposit cells (tolerance 1e-5)', () => {
    // Reference: tests/fixtures/sites/make-patch-fixtures.py (GDAL + numpy, population std).
    const ref = JSON.parse(readFileSync('tests/fixtures/sites/tianshan-patches.json', 'utf8')) as {
      bands: string[]; cells: [number, number][]; patches: number[][][][]; mean: Record<string, number>; std: Record<string, number>;
    };
    const dep = cellsFromLabelRaster(stack.grid, depRaster, { alignByIndex: align });
    const neg = cellsFromLabelRaster(stack.grid, negRaster, { alignByIndex: align, value: 0, role: 'negative' });
    const { set } = buildSites(stack.grid, { depositCells: dep.cells, negatives: { kind: 'user', cells: neg.cells } });
    const ds = extractPatches(stack, set, { size: 9, transform: 'log10-standardize' });
    expect(ds.shape).toEqual([174, 9, 9, 39]);
    expect(ds.clipped.some(Boolean)).toBe(false);
    expect(Array.from(ds.labels).filter((l) => l === 1).length).toBe(84);
    const C = 39;
    ref.bands.forEach((b) => {
      const j = ds.bandNames.indexOf(b);
      expect(Math.abs(ds.stats.means[j] - ref.mean[b])).toBeLessThan(1e-9);
      expect(Math.abs(ds.stats.stds[j] - ref.std[b]) / ref.std[b]).toBeLessThan(1e-9);
    });
    ref.cells.forEach(([r, c], n) => {
      const i = set.sites.findIndex((s) => s.centre && s.label === 1 && s.row === r && s.col === c);
      expect(i).toBeGreaterThanOrEqual(0);
      let worst = 0;
      ref.bands.forEach((b, jb) => {
        const j = ds.bandNames.indexOf(b);
        for (let py = 0; py < 9; py++) for (let px = 0; px < 9; px++) {
          worst = Math.max(worst, Math.abs(ds.x[((i * 9 + py) * 9 + px) * C + j] - ref.patches[n][py][px][jb]));
        }
      });
      expect(worst).toBeLessThan(1e-5);
    });
  });
});
