import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { sharedData } from '../helpers/shared-data.ts';

// Reference: GSLIB KT3D answers shipped with PyKrige's test suite (BSD-3), kept outside the repo
// in ../shared/data/pykrige-kt3d. Test 1: ordinary kriging, exponential model, sill 500,
// KT3D range 3000 (the practical range = 3a, so gstat's a = 1000), nugget 0, 15 points,
// 100 × 100 cells of 50 m × 25 m. PyKrige matches it to relative 1e-5; so must we, at every cell.
const DIR = `${sharedData('pykrige-kt3d')}/`;

function setting(text: string, key: string): number {
  const m = new RegExp(`${key}\\s*=\\s*([-0-9.eE+]+)`).exec(text);
  if (!m) throw new Error(`no ${key} in settings`);
  return Number(m[1]);
}

function readAsc(file: string): { ncols: number; nrows: number; values: number[][] } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const head = (k: string): number => Number(lines.find((l) => l.trim().toUpperCase().startsWith(k))!.trim().split(/\s+/)[1]);
  const ncols = head('NCOLS'), nrows = head('NROWS');
  // ESRI ASCII grid: 6 header lines + the first data row is the northernmost.
  const first = lines.findIndex((l) => /^\s*[-0-9.]/.test(l));
  const values = lines.slice(first, first + nrows).map((l) => l.trim().split(/\s+/).map(Number));
  return { ncols, nrows, values };
}

describe('ordinary kriging agrees with GSLIB KT3D (PyKrige test 1)', () => {
  const settings = readFileSync(DIR + 'test1_settings.txt', 'utf8');
  const pts = readFileSync(DIR + 'test_data.txt', 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const answer = readAsc(DIR + 'test1_answer.asc');
  const xmin = setting(settings, 'XMIN'), ymax = setting(settings, 'YMAX');
  const dx = setting(settings, 'COLSIZE'), dy = setting(settings, 'ROWSIZE');
  const grid: GridSpec = {
    // XMIN/YMAX are cell centres: the outer corner lies half a cell out.
    originX: xmin - dx / 2, originY: ymax + dy / 2, cellSizeX: dx, cellSizeY: dy,
    rows: setting(settings, 'NROW'), cols: setting(settings, 'NCOL'), crs: null,
  };
  const model = { type: 'exp' as const, nugget: setting(settings, 'Nugget'), psill: setting(settings, 'Sill') - setting(settings, 'Nugget'), rangeM: setting(settings, 'Range') / 3 };
  const input = { x: Float64Array.from(pts, (p) => p[0]), y: Float64Array.from(pts, (p) => p[1]), fields: [{ name: 'z', values: Float64Array.from(pts, (p) => p[2]) }] };

  it('reads the reference as a 100 × 100 grid of 15 points', () => {
    expect(pts).toHaveLength(15);
    expect([answer.nrows, answer.ncols, grid.rows, grid.cols]).toEqual([100, 100, 100, 100]);
    expect(model).toEqual({ type: 'exp', nugget: 0, psill: 500, rangeM: 1000 });
  });

  for (const threads of [1, 2]) {
    it(`matches test1_answer.asc to relative 1e-5 at every cell (${threads} thread${threads > 1 ? 's, worker path' : ''})`, async () => {
      const r = await krigeGrid(input, grid, { variogram: model, threads });
      const band = r.prediction.bands[0];
      let worst = 0;
      for (let row = 0; row < grid.rows; row++) {
        for (let col = 0; col < grid.cols; col++) {
          const ref = answer.values[row][col];
          const rel = Math.abs(band[row * grid.cols + col] - ref) / Math.abs(ref);
          worst = Math.max(worst, rel);
        }
      }
      // Output bands are Float32 (relative rounding 6e-8), well inside 1e-5.
      expect(worst).toBeLessThan(1e-5);
      expect(r.threads).toBe(threads);
    });
  }
});
