import { describe, expect, it } from 'vitest';
import { readGeoTiff, readGeoTiffFolder } from '../../main/io/geotiff-read.ts';
import { assertAligned, compareGrids, cellOf, cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { alignByIndex, resampleToGrid } from '../../main/grid/align.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { GridMismatchError, CrsError } from '../../main/errors.ts';
import { tianshan } from '../helpers/shared-data.ts';

describe('grid alignment on the Tianshan case study (known georeferencing defect)', () => {
  it('reports the label grid mismatch precisely, in cells and metres, instead of pairing by index', async () => {
    const elements = await readGeoTiffFolder(tianshan('elements'));
    const labels = await readGeoTiff(tianshan('label/Au_deposits0.tif'));
    const r = compareGrids(elements.grid, labels.grid);
    expect(r.aligned).toBe(false);
    // README: labels sit about 67 km west / 87 km north, and are 292 × 119 cells.
    expect(r.offsetMetres.x).toBeCloseTo(-67553, 3);
    expect(r.offsetMetres.y).toBeCloseTo(87000, 3);
    expect(r.sizeDifference).toEqual({ rows: 2, cols: 3 });
    expect(r.problems.join(' ')).toMatch(/not on the same cell lattice/);
    expect(() => assertAligned(elements.grid, labels.grid, 'elements', 'Au_deposits0.tif')).toThrow(GridMismatchError);
    expect(() => assertAligned(elements.grid, labels.grid, 'elements', 'Au_deposits0.tif')).toThrow(/67553\.000 m east.*align them explicitly by an index offset/);
  });

  it('pairs by index only when asked, with offset (0, 0) reproducing the authors\' pairing', async () => {
    const elements = await readGeoTiffFolder(tianshan('elements'));
    const labels = await readGeoTiff(tianshan('label/Au_deposits0.tif'));
    const a = alignByIndex(labels, elements.grid, { rows: 0, cols: 0 });
    expect(a.grid).toBe(elements.grid);
    expect(a.uncovered).toBe(0);
    // Every label cell (r, c) with r < 117, c < 289 lands on element cell (r, c).
    let ones = 0;
    for (let r = 0; r < 117; r++) {
      for (let c = 0; c < 289; c++) {
        expect(a.bands[0][r * 289 + c]).toBe(labels.bands[0][r * 292 + c]);
        if (a.bands[0][r * 289 + c] === 1) ones++;
      }
    }
    expect(ones).toBe(10);
    expect(a.report).toMatch(/by array index.*2 source row\(s\) and 3 source column\(s\)/);
    // Source cell (r, c) lands on target cell (r + 1, c + 2).
    const shifted = alignByIndex(labels, elements.grid, { rows: 1, cols: 2 });
    expect(shifted.bands[0][3 * 289 + 5]).toBe(labels.bands[0][2 * 292 + 3]);
    expect(Number.isNaN(shifted.bands[0][0])).toBe(true);
    expect(shifted.uncovered).toBe(289 + 116 * 2);
    expect(() => alignByIndex(labels, elements.grid, { rows: 0.5, cols: 0 })).toThrow(/whole cells/);
  });
});

describe('resampling to a reference grid', () => {
  const crs = crsFromEpsg(32645);
  const src: GridSpec = { originX: 0, originY: 100, cellSizeX: 10, cellSizeY: 10, rows: 10, cols: 10, crs };
  // A linear field z = x + 2y sampled at cell centres: bilinear reproduces it exactly inside.
  const band = new Float32Array(100);
  for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) band[r * 10 + c] = cellCenterX(src, c) + 2 * cellCenterY(src, r);
  const stack = { grid: src, bandNames: ['z'], bands: [band] };

  it('bilinear reproduces a linear field between cell centres; nearest picks the containing cell', () => {
    const target: GridSpec = { originX: 12, originY: 88, cellSizeX: 4, cellSizeY: 4, rows: 15, cols: 15, crs };
    const bi = resampleToGrid(stack, target, 'bilinear');
    const nn = resampleToGrid(stack, target, 'nearest');
    for (let r = 0; r < 15; r++) {
      for (let c = 0; c < 15; c++) {
        const x = cellCenterX(target, c);
        const y = cellCenterY(target, r);
        expect(bi.bands[0][r * 15 + c]).toBeCloseTo(x + 2 * y, 3); // float32 values: 1e-3 absolute
        const s = cellOf(src, x, y);
        expect(nn.bands[0][r * 15 + c]).toBe(band[s.row * 10 + s.col]);
      }
    }
  });

  it('fills cells outside the source with NaN and refuses a CRS mismatch', () => {
    const target: GridSpec = { originX: 90, originY: 100, cellSizeX: 10, cellSizeY: 10, rows: 1, cols: 3, crs };
    const nn = resampleToGrid(stack, target, 'nearest');
    expect(nn.bands[0][0]).toBe(band[9]);
    expect(Number.isNaN(nn.bands[0][1])).toBe(true);
    expect(() => resampleToGrid(stack, { ...target, crs: crsFromEpsg(32646) }, 'nearest')).toThrow(CrsError);
  });
});
