import { describe, expect, it } from 'vitest';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import { crossValidate } from '../../main/kriging/cross-validation.ts';
import { CoincidentPointsError } from '../../main/kriging/prepare-samples.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';

// Synthetic survey in UTM-sized coordinates: two smooth positive fields plus noise, one with
// missing values, so the variables fall into different neighbour groups.
function survey(seed: number, n: number) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => rng.range(440000, 450000));
  const y = Float64Array.from({ length: n }, () => rng.range(4600000, 4608000));
  const cu = Float64Array.from(x, (v, i) => Math.exp(3 + Math.sin((v - 440000) / 1500) + 0.5 * Math.cos((y[i] - 4600000) / 1100) + rng.normal(0, 0.2)));
  const au = Float64Array.from(x, (v, i) => (i % 7 === 3 ? NaN : Math.exp(1 + Math.cos((v - 440000) / 2500) + rng.normal(0, 0.3))));
  return { x, y, fields: [{ name: 'Cu', values: cu }, { name: 'Au', values: au }], source: 'synthetic' };
}
const GRID: GridSpec = { originX: 440000, originY: 4608000, cellSizeX: 250, cellSizeY: 250, rows: 32, cols: 40, crs: null };

describe('krigeGrid', () => {
  it('gives bit-identical stacks on 1 thread and on 2 worker threads (log, neighbourhood, missing values)', async () => {
    const input = survey(1, 900);
    const a = await krigeGrid(input, GRID, { nmax: 24, log: true, threads: 1 });
    const b = await krigeGrid(input, GRID, { nmax: 24, log: true, threads: 2 });
    expect(b.threads).toBe(2);
    expect(a.prediction.bandNames).toEqual(['Cu', 'Au']);
    for (let f = 0; f < 2; f++) {
      expect(Buffer.from(b.prediction.bands[f].buffer).equals(Buffer.from(a.prediction.bands[f].buffer))).toBe(true);
      expect(Buffer.from(b.variance.bands[f].buffer).equals(Buffer.from(a.variance.bands[f].buffer))).toBe(true);
    }
    expect(a.models.map((m) => m.pointCount)).toEqual([900, 900 - Math.floor((900 - 4) / 7) - 1]);
    expect(a.cellsWithoutNeighbours).toEqual({ Cu: 0, Au: 0 });
  });

  it('auto model keeps the candidate with the smallest weighted SSE', async () => {
    const r = await krigeGrid(survey(2, 400), { ...GRID, rows: 4, cols: 4 }, { nmax: 16, threads: 1 });
    for (const m of r.models) {
      const c = m.fit!.candidates!;
      expect(c.map((q) => q.model.type)).toEqual(['sph', 'exp', 'gau']);
      expect(m.fit!.sse).toBe(Math.min(...c.filter((q) => q.model.psill > 0).map((q) => q.sse)));
    }
  });

  it('lognormal back-transform returns the sample itself at a cell centre holding a sample (relative 1e-6, Float32)', async () => {
    const input = survey(3, 300);
    // Put sample 0 exactly on the centre of cell (5, 9).
    input.x[0] = GRID.originX + 9.5 * GRID.cellSizeX;
    input.y[0] = GRID.originY - 5.5 * GRID.cellSizeY;
    const r = await krigeGrid(input, GRID, { nmax: 20, log: true, threads: 1, variogram: { type: 'exp', nugget: 0.02, psill: 0.5, rangeM: 1500 } });
    const v = r.prediction.bands[0][5 * GRID.cols + 9];
    expect(Math.abs(v / input.fields[0].values[0] - 1)).toBeLessThan(1e-6);
    expect(r.variance.bands[0][5 * GRID.cols + 9]).toBeLessThan(1e-9);
  });

  it('merges coincident samples by averaging (and counts them), or refuses them when asked', async () => {
    const x = Float64Array.of(0, 0, 100, 200, 300, 50), y = Float64Array.of(0, 0, 0, 100, 50, 250);
    const input = { x, y, fields: [{ name: 'Zn', values: Float64Array.of(1, 3, 4, 5, 6, 7) }] };
    const grid: GridSpec = { originX: -0.5, originY: 0.5, cellSizeX: 1, cellSizeY: 1, rows: 1, cols: 1, crs: null };
    const r = await krigeGrid(input, grid, { variogram: { type: 'sph', nugget: 0, psill: 1, rangeM: 500 }, threads: 1 });
    expect(r.mergedDuplicates).toBe(1);
    // The cell centre (0, 0) holds the merged sample: its value is the mean of 1 and 3.
    expect(r.prediction.bands[0][0]).toBeCloseTo(2, 6);
    await expect(krigeGrid(input, grid, { variogram: { type: 'sph', nugget: 0, psill: 1, rangeM: 500 }, duplicates: 'error', threads: 1 })).rejects.toThrow(CoincidentPointsError);
  });

  it('refuses --log with non-positive values, and global kriging above the point limit, naming the fix', async () => {
    const input = survey(4, 50);
    input.fields[0].values[3] = 0;
    await expect(krigeGrid(input, GRID, { log: true, threads: 1 })).rejects.toThrow(/--log needs positive values but "Cu" has 1 value/);
    await expect(krigeGrid(survey(5, 60), GRID, { maxGlobalPoints: 50, threads: 1 })).rejects.toThrow(InvalidOptionError);
    await expect(krigeGrid(survey(5, 60), GRID, { maxGlobalPoints: 50, threads: 1 })).rejects.toThrow(/--nmax/);
  });

  it('reports monotone progress up to 1 and cancels mid-run with CancelledError (worker and in-thread paths)', async () => {
    const input = survey(6, 600);
    const fractions: number[] = [];
    await krigeGrid(input, GRID, { nmax: 16, threads: 2 }, { progress: (f) => fractions.push(f) });
    expect(fractions[fractions.length - 1]).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    for (const threads of [1, 2]) {
      const ac = new AbortController();
      const big: GridSpec = { ...GRID, rows: 400, cols: 400, cellSizeX: 25, cellSizeY: 20 };
      const p = krigeGrid(input, big, { nmax: 16, threads }, { signal: ac.signal, progress: (f) => { if (f > 0.1) ac.abort(); } });
      await expect(p).rejects.toBeInstanceOf(CancelledError);
    }
  });
});

describe('crossValidate', () => {
  it('summarises per-point errors consistently (ME, RMSE, MSSE from the points; relative 1e-12)', async () => {
    const [cu, au] = await crossValidate(survey(7, 300), { nmax: 20, log: true });
    for (const r of [cu, au]) {
      const pts = r.points.filter((p) => Number.isFinite(p.predicted));
      expect(r.summary.n).toBe(pts.length);
      expect(r.summary.scale).toBe('log');
      const me = pts.reduce((s, p) => s + p.residual, 0) / pts.length;
      const rmse = Math.sqrt(pts.reduce((s, p) => s + p.residual ** 2, 0) / pts.length);
      expect(Math.abs(r.summary.meanError - me)).toBeLessThan(1e-12);
      expect(Math.abs(r.summary.rmse / rmse - 1)).toBeLessThan(1e-12);
      pts.forEach((p) => expect(p.residual).toBeCloseTo(p.observed - p.predicted, 12));
    }
    expect(cu.points).toHaveLength(300);
    // A fitted model on smooth data: standardized errors should be of order 1 (not a reference value).
    expect(cu.summary.msse).toBeGreaterThan(0.3);
    expect(cu.summary.msse).toBeLessThan(3);
  });
});
