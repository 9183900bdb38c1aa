import { describe, expect, it } from 'vitest';
import type { Feature } from 'geojson';
import { Rng } from '../../main/util/rng.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { bruteForceDistance, SegmentIndex, type SegmentSet } from '../../main/faults/segment-index.ts';
import { distanceFromSegments, distanceFromFaultMask, faultBuffers } from '../../main/faults/distance-to-faults.ts';
import { assertFaultsInGrid, segmentsFromFeatures } from '../../main/faults/fault-lines.ts';
import { NoFaultsInGridError } from '../../main/faults/fault-errors.ts';
import { EmptyInputError } from '../../main/errors.ts';

const crs = crsFromEpsg(32645);

function grid(rows: number, cols: number, cellX = 100, cellY = 100): GridSpec {
  return { originX: 500000, originY: 4500000, cellSizeX: cellX, cellSizeY: cellY, rows, cols, crs };
}

/** Random polylines (random walks) partly reaching outside the grid. */
function randomSegments(g: GridSpec, lines: number, steps: number, seed: number): SegmentSet {
  const rng = new Rng(seed);
  const ax: number[] = [];
  const ay: number[] = [];
  const bx: number[] = [];
  const by: number[] = [];
  const w = g.cols * g.cellSizeX;
  const h = g.rows * g.cellSizeY;
  for (let l = 0; l < lines; l++) {
    let x = g.originX + rng.range(-0.2, 1.2) * w;
    let y = g.originY - rng.range(-0.2, 1.2) * h;
    let az = rng.range(0, 2 * Math.PI);
    for (let s = 0; s < steps; s++) {
      az += rng.normal(0, 0.4);
      const len = rng.range(0.2, 3) * Math.max(g.cellSizeX, g.cellSizeY) * (rng.uniform() < 0.1 ? 20 : 1);
      const nx = x + len * Math.cos(az);
      const ny = y + len * Math.sin(az);
      ax.push(x);
      ay.push(y);
      bx.push(nx);
      by.push(ny);
      x = nx;
      y = ny;
    }
  }
  return { ax: Float64Array.from(ax), ay: Float64Array.from(ay), bx: Float64Array.from(bx), by: Float64Array.from(by) };
}

describe('distance to fault polylines (exact, indexed)', () => {
  // Reference: brute force over every segment at every cell centre. Tolerance 1e-9 relative
  // (the index cuts long segments into collinear pieces, which may change the last bits).
  it.each([
    { name: 'square cells, many lines', g: grid(60, 80), lines: 12, steps: 40, seed: 1 },
    { name: 'anisotropic cells, few long lines', g: grid(50, 70, 250, 100), lines: 2, steps: 6, seed: 2 },
    { name: 'single segment', g: grid(30, 30), lines: 1, steps: 1, seed: 3 },
  ])('equals brute force at every cell centre: $name', ({ g, lines, steps, seed }) => {
    const segs = randomSegments(g, lines, steps, seed);
    const d = distanceFromSegments(g, segs, { blockCells: 7 });
    let worst = 0;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const ref = bruteForceDistance(segs, cellCenterX(g, c), cellCenterY(g, r));
        worst = Math.max(worst, Math.abs(d[r * g.cols + c] - ref) / Math.max(1, ref));
      }
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('the index nearestDistance equals brute force for points far outside the faults', () => {
    const g = grid(40, 40);
    const segs = randomSegments(g, 3, 10, 4);
    const idx = new SegmentIndex(segs);
    const rng = new Rng(9);
    for (let i = 0; i < 500; i++) {
      const x = g.originX + rng.range(-5, 6) * 4000;
      const y = g.originY - rng.range(-5, 6) * 4000;
      const ref = bruteForceDistance(segs, x, y);
      expect(Math.abs(idx.nearestDistance(x, y) - ref)).toBeLessThanOrEqual(1e-9 * Math.max(1, ref));
    }
  });

  it('a cell centre on a fault has distance 0 and distance grows by one cell per cell (straight fault)', () => {
    const g = grid(10, 10);
    // Vertical line through the centres of column 3.
    const x = cellCenterX(g, 3);
    const segs = segmentsFromFeatures([{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[x, g.originY + 500], [x, g.originY - 2000]] } }]);
    const d = distanceFromSegments(g, segs);
    for (let c = 0; c < 10; c++) expect(d[5 * 10 + c]).toBeCloseTo(Math.abs(c - 3) * 100, 9); // exact geometry, 1e-9 m
  });

  it('rejects layers without lines and layers outside the grid with named errors and numbers', () => {
    const g = grid(10, 10);
    const pts: Feature[] = [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [500100, 4499900] } }];
    expect(() => segmentsFromFeatures(pts, 'pts.geojson')).toThrow(EmptyInputError);
    const far = segmentsFromFeatures([{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[87.1, 42.0], [87.3, 42.2]] } }]);
    let err: unknown;
    try {
      assertFaultsInGrid(far, g, 'faults.geojson');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NoFaultsInGridError);
    expect((err as Error).message).toMatch(/none of its 1 fault segments crosses the grid/);
    expect((err as Error).message).toMatch(/x 87\.1 … 87\.3/);
    const inside = segmentsFromFeatures([
      { type: 'Feature', properties: {}, geometry: { type: 'MultiLineString', coordinates: [[[500050, 4499950], [500950, 4499050]], [[0, 0], [1, 1]]] } },
    ]);
    expect(assertFaultsInGrid(inside, g, 'x')).toBe(1);
  });
});

describe('distance from a fault raster (exact Euclidean distance transform)', () => {
  it.each([
    { cellX: 100, cellY: 100, density: 0.01, seed: 5 },
    { cellX: 250, cellY: 100, density: 0.002, seed: 6 },
    { cellX: 30, cellY: 70, density: 0.2, seed: 7 },
  ])('equals brute force over fault cells (cells $cellX×$cellY, density $density)', ({ cellX, cellY, density, seed }) => {
    const g = grid(37, 53, cellX, cellY);
    const rng = new Rng(seed);
    const mask = new Uint8Array(g.rows * g.cols);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < density ? 1 : 0;
    mask[rng.int(mask.length)] = 1;
    const d = distanceFromFaultMask(g, mask);
    const fr: number[] = [];
    const fc: number[] = [];
    mask.forEach((m, i) => {
      if (m) {
        fr.push(Math.floor(i / g.cols));
        fc.push(i % g.cols);
      }
    });
    let worst = 0;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        let best = Infinity;
        for (let j = 0; j < fr.length; j++) best = Math.min(best, Math.hypot((r - fr[j]) * cellY, (c - fc[j]) * cellX));
        worst = Math.max(worst, Math.abs(d[r * g.cols + c] - best));
      }
    }
    expect(worst).toBeLessThan(1e-6); // metres; squared distances are exact integers × cell², sqrt rounding only
  });

  it('an empty fault raster is a NoFaultsInGridError', () => {
    expect(() => distanceFromFaultMask(grid(5, 5), new Uint8Array(25), undefined, 'f.tif')).toThrow(/no cell of the 5×5 grid is marked as a fault/);
  });
});

describe('fault buffers', () => {
  it('marks cells within each width (inclusive) and never NaN cells', () => {
    const d = [0, 99.9, 100, 100.1, 250, NaN];
    const [b100, b250] = faultBuffers(d, [100, 250]);
    expect(Array.from(b100)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(Array.from(b250)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(() => faultBuffers(d, [-1])).toThrow(/buffer widths/);
  });
});
