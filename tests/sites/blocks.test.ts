import { describe, expect, it } from 'vitest';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { makeStack } from '../../main/grid/raster.ts';
import { GridMismatchError, InvalidOptionError } from '../../main/errors.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { cellsFromLabelRaster, cellsFromPoints, parseIndexAlignment } from '../../main/sites/label-cells.ts';
import { DepositsOutsideGridError, SiteConflictError } from '../../main/sites/site-errors.ts';

const crs = crsFromEpsg(32645);
const g: GridSpec = { originX: 1000, originY: 9000, cellSizeX: 100, cellSizeY: 100, rows: 12, cols: 10, crs };
const id = (r: number, c: number): number => r * g.cols + c;

describe('3 × 3 site blocks', () => {
  it('an interior deposit gives 9 sites with one siteId; a corner deposit is clipped to 4', () => {
    const s = blocksAround(g, [id(5, 5), id(0, 0)], { label: 1, source: 'deposit' });
    const d1 = s.filter((x) => x.siteId === 'D1');
    const d2 = s.filter((x) => x.siteId === 'D2');
    expect(d1.length).toBe(9);
    expect(d2.length).toBe(4);
    expect(d1.filter((x) => x.centre).map((x) => [x.row, x.col])).toEqual([[5, 5]]);
    expect(new Set(d1.map((x) => `${x.row},${x.col}`))).toEqual(new Set([4, 5, 6].flatMap((r) => [4, 5, 6].map((c) => `${r},${c}`))));
    expect(s.every((x) => x.label === 1 && x.source === 'deposit')).toBe(true);
  });

  it('overlapping blocks keep each cell once, give it to the nearest centre, and share a groupId', () => {
    // Vertically adjacent deposits (as the case study's (44, 87) and (45, 87)): 12 cells, 6 + 6.
    const s = blocksAround(g, [id(4, 4), id(5, 4), id(9, 8)], { label: 1, source: 'deposit' });
    expect(s.length).toBe(12 + 9);
    const count = (sid: string): number => s.filter((x) => x.siteId === sid).length;
    expect([count('D1'), count('D2'), count('D3')]).toEqual([6, 6, 9]);
    expect(s.filter((x) => x.siteId === 'D1').every((x) => x.row <= 4)).toBe(true);
    expect(new Set(s.filter((x) => x.siteId !== 'D3').map((x) => x.groupId))).toEqual(new Set(['D1']));
    expect(new Set(s.filter((x) => x.siteId === 'D3').map((x) => x.groupId))).toEqual(new Set(['D3']));
    expect(new Set(s.map((x) => `${x.row},${x.col}`)).size).toBe(s.length);
  });

  it('blocks that only touch diagonally at distance 2 overlap in one cell; at distance 3 they do not', () => {
    const touch = blocksAround(g, [id(3, 3), id(5, 5)], { label: 0, source: 'user' });
    expect(touch.length).toBe(17);
    expect(new Set(touch.map((x) => x.groupId)).size).toBe(1);
    const apart = blocksAround(g, [id(3, 3), id(6, 6)], { label: 0, source: 'user' });
    expect(apart.length).toBe(18);
    expect(new Set(apart.map((x) => x.groupId))).toEqual(new Set(['U1', 'U2']));
  });

  it('blockRadius 0 gives single cells; a cell claimed by a positive and a negative is a SiteConflictError', () => {
    expect(blocksAround(g, [id(2, 2)], { label: 1, source: 'deposit', blockRadius: 0 }).length).toBe(1);
    const pos = blocksAround(g, [id(2, 2)], { label: 1, source: 'deposit' });
    const neg = blocksAround(g, [id(4, 4)], { label: 0, source: 'user' });
    expect(() => mergeSites(g, pos, neg)).toThrow(SiteConflictError);
    expect(() => mergeSites(g, pos, neg)).toThrow(/1 cell\(s\) are claimed by two sites \[\(row 3, col 3\): D1 label 1 and U1 label 0\]/);
    const r = buildSites(g, { depositCells: [id(2, 2)], negatives: { kind: 'user', cells: [id(8, 7)] } });
    expect(r.summary).toMatchObject({ positives: 9, negatives: 9, positiveBlocks: 1, negativeBlocks: 1, partialBlocks: {} });
  });
});

describe('site cells from points and label rasters', () => {
  it('points map to the cells that contain them; two deposits in one cell count once', () => {
    const x = [cellCenterX(g, 3), cellCenterX(g, 3) + 40, cellCenterX(g, 7)];
    const y = [cellCenterY(g, 2), cellCenterY(g, 2) - 40, cellCenterY(g, 11)];
    const r = cellsFromPoints(g, x, y);
    expect(r.cells).toEqual([id(2, 3), id(11, 7)]);
    expect(r.merged).toBe(1);
  });

  it('deposits outside the grid: DepositsOutsideGridError with the count, or dropped and reported on request', () => {
    const x = [cellCenterX(g, 3), 500, 99999];
    const y = [cellCenterY(g, 2), 8000, 8000];
    expect(() => cellsFromPoints(g, x, y, { source: 'dep.geojson' })).toThrow(DepositsOutsideGridError);
    expect(() => cellsFromPoints(g, x, y, { source: 'dep.geojson' })).toThrow(/dep\.geojson: 2 of 3 deposit point\(s\) lie outside the 12×10 grid \[first: \(500, 8000\), \(99999, 8000\)\]/);
    const r = cellsFromPoints(g, x, y, { outside: 'drop' });
    expect(r.cells).toEqual([id(2, 3)]);
    expect(r.dropped.length).toBe(2);
    expect(() => cellsFromPoints(g, [0], [0], { outside: 'drop' })).toThrow(/none of the 1 deposit point/);
  });

  it('a label raster on another grid is a GridMismatchError unless paired by index explicitly', () => {
    const lg: GridSpec = { ...g, originX: g.originX - 5 * 100, originY: g.originY + 300, rows: 14, cols: 11 };
    const band = new Float32Array(14 * 11);
    band[2 * 11 + 3] = 1;
    band[13 * 11 + 10] = 1; // outside the reference grid when paired (0, 0)
    const label = makeStack(lg, ['lab'], [band], 'lab.tif');
    expect(() => cellsFromLabelRaster(g, label)).toThrow(GridMismatchError);
    expect(() => cellsFromLabelRaster(g, label, { alignByIndex: { rows: 0, cols: 0 } })).toThrow(/1 of 2 marked cell\(s\) fall outside the 12×10 reference grid/);
    const r = cellsFromLabelRaster(g, label, { alignByIndex: { rows: 0, cols: 0 }, outside: 'drop' });
    expect(r.cells).toEqual([id(2, 3)]);
    expect(r.alignment?.aligned).toBe(false);
    const shifted = cellsFromLabelRaster(g, label, { alignByIndex: parseIndexAlignment('1,-2'), outside: 'drop' });
    expect(shifted.cells).toEqual([id(3, 1)]);
    expect(() => parseIndexAlignment('1;2')).toThrow(InvalidOptionError);
  });

  it('an inverted label raster (sites marked 0) is detected instead of giving thousands of sites', () => {
    const band = new Float32Array(g.rows * g.cols).fill(1);
    band[id(4, 4)] = 0;
    const label = makeStack(g, ['neg'], [band], 'non_deposits.tif');
    expect(() => cellsFromLabelRaster(g, label, { role: 'negative' })).toThrow(/119 of 120 cells hold the site value 1; .*looks inverted/);
    expect(cellsFromLabelRaster(g, label, { role: 'negative', value: 0 }).cells).toEqual([id(4, 4)]);
  });
});
