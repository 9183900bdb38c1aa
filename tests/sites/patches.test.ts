import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { makeStack, type RasterStack } from '../../main/grid/raster.ts';
import { Rng } from '../../main/util/rng.ts';
import { BandMismatchError, EmptyInputError, GridMismatchError, InvalidOptionError } from '../../main/errors.ts';
import { extractPatches, reflectIndex } from '../../main/sites/patches.ts';
import { applyTransform, transformStack } from '../../main/sites/band-transform.ts';
import type { Site, SiteSet } from '../../main/sites/site-blocks.ts';

const crs = crsFromEpsg(32645);
const grid = (rows: number, cols: number): GridSpec => ({ originX: 0, originY: 0, cellSizeX: 10, cellSizeY: 10, rows, cols, crs });
const site = (row: number, col: number, label: 0 | 1, siteId = `S${row}_${col}`): Site => ({ row, col, label, siteId, groupId: siteId, source: 'user', centre: true });

function randomStack(rows: number, cols: number, bands: number, seed: number): RasterStack {
  const rng = new Rng(seed);
  const g = grid(rows, cols);
  return makeStack(g, Array.from({ length: bands }, (_, b) => `E${b}`), Array.from({ length: bands }, () => Float32Array.from({ length: rows * cols }, () => Math.exp(rng.normal(2, 1)))));
}

describe('patch extraction', () => {
  it('reflection padding equals numpy.pad(mode="reflect") at corners and edges (exact)', () => {
    // Reference: tests/fixtures/sites/make-patch-fixtures.py (numpy).
    const ref = JSON.parse(readFileSync('tests/fixtures/sites/reflect-patches.json', 'utf8')) as {
      rows: number; cols: number; size: number; bands: number[][][]; centres: [number, number][]; patches: number[][][][];
    };
    const g = grid(ref.rows, ref.cols);
    const stack = makeStack(g, ['a', 'b'], ref.bands.map((b) => Float32Array.from(b.flat())));
    const sites: SiteSet = { grid: g, sites: ref.centres.map(([r, c]) => site(r, c, 1)) };
    const ds = extractPatches(stack, sites, { size: ref.size, transform: 'none' });
    expect(ds.shape).toEqual([ref.centres.length, 5, 5, 2]);
    ref.patches.forEach((p, i) => {
      for (let py = 0; py < 5; py++) for (let px = 0; px < 5; px++) for (let b = 0; b < 2; b++) {
        expect(ds.x[((i * 5 + py) * 5 + px) * 2 + b]).toBe(Math.fround(p[py][px][b]));
      }
    });
    // A 5-wide window never fits in 4 columns, so every sample is flagged as padded.
    expect(ds.clipped).toEqual([true, true, true, true, true]);
    expect([-3, -2, -1, 0, 3, 4, 5, 6].map((i) => reflectIndex(i, 4))).toEqual([3, 2, 1, 0, 3, 2, 1, 0]);
  });

  it('NHWC layout: element ((i·k + py)·k + px)·C + b is band b at (row − h + py, col − h + px)', () => {
    const stack = randomStack(20, 25, 3, 1);
    const sites: SiteSet = { grid: stack.grid, sites: [site(10, 12, 1), site(5, 7, 0)] };
    const ds = extractPatches(stack, sites, { size: 7, transform: 'none' });
    expect(ds.clipped).toEqual([false, false]);
    expect(Array.from(ds.labels)).toEqual([1, 0]);
    expect(ds.siteIds).toEqual(['S10_12', 'S5_7']);
    for (let i = 0; i < 2; i++) {
      const s = sites.sites[i];
      for (let py = 0; py < 7; py++) for (let px = 0; px < 7; px++) for (let b = 0; b < 3; b++) {
        expect(ds.x[((i * 7 + py) * 7 + px) * 3 + b]).toBe(stack.bands[b][(s.row - 3 + py) * 25 + (s.col - 3 + px)]);
      }
    }
  });

  it('log10-standardize uses whole-grid statistics, not patch statistics (tolerance 1e-6, Float32)', () => {
    const stack = randomStack(30, 30, 2, 2);
    const sites: SiteSet = { grid: stack.grid, sites: [site(15, 15, 1)] };
    const ds = extractPatches(stack, sites, { size: 3 });
    for (let b = 0; b < 2; b++) {
      const logs = Array.from(stack.bands[b], (v) => Math.log10(v));
      const mean = logs.reduce((a, v) => a + v, 0) / logs.length;
      const std = Math.sqrt(logs.reduce((a, v) => a + (v - mean) ** 2, 0) / logs.length);
      expect(ds.stats.means[b]).toBeCloseTo(mean, 10);
      expect(ds.stats.stds[b]).toBeCloseTo(std, 10);
      for (let py = 0; py < 3; py++) for (let px = 0; px < 3; px++) {
        const expected = (logs[(14 + py) * 30 + 14 + px] - mean) / std;
        expect(Math.abs(ds.x[(py * 3 + px) * 2 + b] - expected)).toBeLessThan(1e-6);
      }
      // The patch itself is not standardised to mean 0 (that would be patch statistics).
      let pm = 0;
      for (let j = 0; j < 9; j++) pm += ds.x[j * 2 + b] / 9;
      expect(Math.abs(pm)).toBeGreaterThan(1e-3);
    }
  });

  it('log10 floors zeros and negatives at half the smallest positive value, and counts them', () => {
    const g = grid(2, 3);
    const stack = makeStack(g, ['Au'], [Float32Array.from([0, 0.5, 2, -1, 4, NaN])]);
    const { bands, stats } = transformStack(stack, { transform: 'log10' });
    expect(stats.floors[0]).toBe(0.25);
    expect(stats.flooredCells[0]).toBe(2);
    expect(Array.from(bands[0].slice(0, 5))).toEqual([0.25, 0.5, 2, 0.25, 4].map((v) => Math.fround(Math.log10(v))));
    expect(Number.isNaN(bands[0][5])).toBe(true);
    expect(transformStack(stack, { transform: 'log10', floor: 1 }).stats.flooredCells[0]).toBe(3);
    expect(() => transformStack(makeStack(g, ['z'], [new Float32Array(6)]), { transform: 'log10' })).toThrow(/no positive value/);
  });

  it('clr: per-cell log-ratios sum to zero over the bands and ignore a common scale factor (1e-5)', () => {
    const stack = randomStack(6, 6, 4, 3);
    const scaled = makeStack(stack.grid, stack.bandNames, stack.bands.map((b) => b.map((v) => v * 1000)));
    const a = transformStack(stack, { transform: 'clr' }).bands;
    const b = transformStack(scaled, { transform: 'clr' }).bands;
    for (let i = 0; i < 36; i++) {
      expect(Math.abs(a[0][i] + a[1][i] + a[2][i] + a[3][i])).toBeLessThan(1e-5);
      for (let j = 0; j < 4; j++) expect(Math.abs(a[j][i] - b[j][i])).toBeLessThan(1e-5);
      expect(Math.abs(a[0][i] - (Math.log(stack.bands[0][i]) - (Math.log(stack.bands[0][i]) + Math.log(stack.bands[1][i]) + Math.log(stack.bands[2][i]) + Math.log(stack.bands[3][i])) / 4))).toBeLessThan(1e-5);
    }
  });

  it('applyTransform reproduces the training transform on the same stack and refuses other bands', () => {
    const stack = randomStack(8, 9, 3, 4);
    const t = transformStack(stack, { transform: 'clr-standardize' });
    expect(applyTransform(stack, t.stats)).toEqual(t.bands);
    const other = makeStack(stack.grid, ['E0', 'E2', 'E1'], stack.bands);
    expect(() => applyTransform(other, t.stats)).toThrow(BandMismatchError);
    expect(() => transformStack(stack, { transform: 'log' as never })).toThrow(InvalidOptionError);
  });

  it("w is read at each sample's own centre cell, not at the reference code's (4 + i // W, 4 + i % W)", () => {
    // Toy 12 × 10 grid; w = a distinct value per cell. Samples in arbitrary places.
    const g = grid(12, 10);
    const W = g.cols;
    const w = Float32Array.from({ length: 120 }, (_, i) => i / 1000);
    const stack = randomStack(12, 10, 2, 5);
    const s = [site(7, 2, 1), site(1, 8, 0), site(11, 0, 1), site(3, 5, 0)];
    const ds = extractPatches(stack, { grid: g, sites: s }, { size: 9, knowledge: [w], knowledgeNames: ['fault_w'] });
    expect(ds.nKnowledge).toBe(1);
    expect(ds.knowledgeNames).toEqual(['fault_w']);
    let differ = 0;
    s.forEach((x, i) => {
      expect(ds.weights[i]).toBe(w[x.row * W + x.col]);
      const buggy = w[(4 + Math.floor(i / W)) * W + (4 + (i % W))];
      if (buggy !== ds.weights[i]) differ++;
    });
    expect(differ).toBe(4); // the toy grid separates the two rules for every sample
    expect(ds.clipped).toEqual([true, true, true, true]);
  });

  it('refuses sites from another grid, nodata in a patch (unless fill-mean), and even sizes', () => {
    const stack = randomStack(10, 10, 2, 6);
    const other = { ...stack.grid, originX: 5 };
    expect(() => extractPatches(stack, { grid: other, sites: [site(5, 5, 1)] })).toThrow(GridMismatchError);
    expect(() => extractPatches(stack, { grid: stack.grid, sites: [site(5, 5, 1)] }, { size: 4 })).toThrow(/odd integer/);
    stack.bands[1][4 * 10 + 4] = NaN;
    const sites: SiteSet = { grid: stack.grid, sites: [site(5, 5, 1, 'A'), site(0, 9, 0, 'B')] };
    expect(() => extractPatches(stack, sites, { size: 3 })).toThrow(EmptyInputError);
    expect(() => extractPatches(stack, sites, { size: 3 })).toThrow(/1 patch\(es\) contain nodata values \(band-cells per site: A \(row 5, col 5\): 1\)/);
    const ds = extractPatches(stack, sites, { size: 3, nodata: 'fill-mean' });
    expect(Array.from(ds.filled)).toEqual([1, 0]);
    expect(Math.abs(ds.x[(0 * 3 + 0) * 2 + 1])).toBeLessThan(1e-6); // whole-grid mean of a standardised band is 0
  });
});
