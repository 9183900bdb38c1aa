import { describe, expect, it } from 'vitest';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { blocksAround } from '../../main/sites/site-blocks.ts';
import { autoNegatives } from '../../main/sites/negative-sites.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { TooFewNegativeCandidatesError } from '../../main/sites/site-errors.ts';

const crs = crsFromEpsg(32645);
const g: GridSpec = { originX: 0, originY: 100000, cellSizeX: 1000, cellSizeY: 1000, rows: 60, cols: 80, crs };
const deposits = [10 * 80 + 12, 11 * 80 + 13, 30 * 80 + 40, 45 * 80 + 70, 50 * 80 + 20];
const positives = blocksAround(g, deposits, { label: 1, source: 'deposit' });
// A vertical fault along column 55.
const faultDistanceM = Float64Array.from({ length: g.rows * g.cols }, (_, i) => Math.abs((i % g.cols) - 55) * 1000);

function minPairwise(centres: number[]): number {
  let best = Infinity;
  for (let i = 0; i < centres.length; i++) {
    for (let j = i + 1; j < centres.length; j++) {
      const dr = Math.floor(centres[i] / g.cols) - Math.floor(centres[j] / g.cols);
      const dc = (centres[i] % g.cols) - (centres[j] % g.cols);
      best = Math.min(best, Math.hypot(dr, dc));
    }
  }
  return best;
}

describe('automatic negative sites', () => {
  const opts = { depositCells: deposits, positives, faultDistanceM, minDepositDistM: 8000, minFaultDistM: 6000, seed: 7 };

  it('respects the minimum distances (checked by brute force), stays inside, never touches positives', () => {
    const r = autoNegatives(g, opts);
    expect(r.centres.length).toBe(5); // one block per deposit cell by default
    expect(r.sites.length).toBe(45);
    for (const c of r.centres) {
      const row = Math.floor(c / g.cols);
      const col = c % g.cols;
      for (const d of deposits) {
        expect(Math.hypot(row - Math.floor(d / g.cols), col - (d % g.cols)) * 1000).toBeGreaterThanOrEqual(8000);
      }
      expect(Math.abs(col - 55) * 1000).toBeGreaterThanOrEqual(6000);
      expect(row).toBeGreaterThanOrEqual(1);
      expect(row).toBeLessThan(g.rows - 1);
    }
    const pos = new Set(positives.map((s) => `${s.row},${s.col}`));
    expect(r.sites.some((s) => pos.has(`${s.row},${s.col}`))).toBe(false);
    expect(new Set(r.sites.map((s) => `${s.row},${s.col}`)).size).toBe(45); // blocks never overlap
    expect(r.sites.every((s) => s.label === 0 && s.source === 'auto')).toBe(true);
  });

  it('is reproducible from the seed and changes with it', () => {
    expect(autoNegatives(g, opts).centres).toEqual(autoNegatives(g, opts).centres);
    expect(autoNegatives(g, { ...opts, seed: 8 }).centres).not.toEqual(autoNegatives(g, opts).centres);
  });

  it('spreads the blocks: the closest pair is farther apart than for uniform random centres', () => {
    // Reference: uniform draws from the same admissible centres (no best-candidate step), 20 seeds each.
    let spread = 0;
    let uniform = 0;
    for (let s = 1; s <= 20; s++) {
      spread += minPairwise(autoNegatives(g, { ...opts, count: 12, seed: s }).centres);
      uniform += minPairwise(autoNegatives(g, { ...opts, count: 12, seed: s, candidatesPerDraw: 1 }).centres);
    }
    expect(spread / 20).toBeGreaterThan(1.8 * (uniform / 20));
  });

  it('too few admissible centres: TooFewNegativeCandidatesError with the numbers', () => {
    let err: unknown;
    try {
      autoNegatives(g, { ...opts, minDepositDistM: 60000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TooFewNegativeCandidatesError);
    const d = (err as TooFewNegativeCandidatesError).details;
    expect(d.needed).toBe(5);
    expect(d.candidates as number).toBeLessThan(5);
    expect((err as Error).message).toMatch(/≥ 60000 m from every deposit, ≥ 6000 m from every fault/);
    // Enough cells but not enough room for non-overlapping blocks: the count placed is reported.
    let err2: unknown;
    try {
      autoNegatives(g, { ...opts, count: 400 });
    } catch (e) {
      err2 = e;
    }
    expect(err2).toBeInstanceOf(TooFewNegativeCandidatesError);
    expect((err2 as TooFewNegativeCandidatesError).details.placed as number).toBeGreaterThan(0);
    expect((err2 as TooFewNegativeCandidatesError).details.placed as number).toBeLessThan(400);
  });

  it('buildSites: as many negative blocks as deposit cells, negatives far from faults', () => {
    const r = buildSites(g, { depositCells: deposits, negatives: { kind: 'auto', faultDistanceM, seed: 3 } });
    expect(r.summary.positiveBlocks).toBe(5);
    expect(r.summary.negativeBlocks).toBe(5);
    expect(r.summary.positives).toBe(14 + 27); // two diagonal neighbours (18 − 4 shared) and three full blocks
    // Defaults: 10 cells from deposits, 5 cells from faults.
    const centres = r.set.sites.filter((s) => s.label === 0 && s.centre);
    expect(centres.every((s) => Math.abs(s.col - 55) >= 5)).toBe(true);
  });
});
