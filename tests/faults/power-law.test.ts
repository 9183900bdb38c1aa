import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { fitDensityPowerLaw, ringOf } from '../../main/faults/power-law.ts';
import { ringWeights, weightMap } from '../../main/faults/weight-map.ts';
import { PowerLawFitError } from '../../main/faults/fault-errors.ts';

const crs = crsFromEpsg(32645);

/** A one-row grid of 1 km cells whose distances are laid out ring by ring (the fit only sees distances). */
function ringTable(cells: number[], deposits: number[], ringWidthM: number): { grid: GridSpec; distance: Float64Array; depositCells: number[] } {
  const total = cells.reduce((a, b) => a + b, 0);
  const grid: GridSpec = { originX: 0, originY: 0, cellSizeX: 1000, cellSizeY: 1000, rows: 1, cols: total, crs };
  const distance = new Float64Array(total);
  const depositCells: number[] = [];
  let i = 0;
  cells.forEach((n, r) => {
    for (let j = 0; j < n; j++, i++) {
      // Spread over the ring, including its outer edge (which belongs to it).
      distance[i] = r * ringWidthM + ((j + 1) / n) * ringWidthM;
      if (j < deposits[r]) depositCells.push(i);
    }
  });
  return { grid, distance, depositCells };
}

describe('density–distance power law (eq. 7)', () => {
  it('matches R lm(log10 m ~ log10 d) on a ring table with an empty ring', () => {
    // Reference: tests/fixtures/faults/powerlaw-lm.R (R 4.2 lm). Tolerance 1e-10 relative.
    const ref = JSON.parse(readFileSync('tests/fixtures/faults/powerlaw-lm.json', 'utf8')) as {
      ringWidthM: number; cells: number[]; deposits: number[]; N: number; k: number; r2: number;
    };
    const t = ringTable(ref.cells, ref.deposits, ref.ringWidthM);
    const fit = fitDensityPowerLaw(t.grid, t.distance, t.depositCells, { ringWidthM: ref.ringWidthM });
    expect(Math.abs(fit.k - ref.k)).toBeLessThan(1e-10 * Math.abs(ref.k));
    expect(Math.abs(fit.N - ref.N)).toBeLessThan(1e-10 * ref.N);
    expect(Math.abs(fit.r2 - ref.r2)).toBeLessThan(1e-10);
    expect(fit.rings.map((r) => r.cells)).toEqual(ref.cells);
    expect(fit.rings.map((r) => r.deposits)).toEqual(ref.deposits);
    expect(fit.rings.map((r) => r.usedInFit)).toEqual(ref.deposits.map((d) => d > 0));
    expect(fit.rings[0].areaKm2).toBe(ref.cells[0]); // 1 km² cells
    expect(fit.maxRing).toBe(8);
  });

  it('recovers N and k exactly from densities that follow a power law (tolerance 1e-12)', () => {
    // 1000 cells of 1 km² per ring and 60/d deposits: m(d) = 0.06·d^−1 exactly.
    const deposits = [60, 30, 20, 15, 12, 10];
    const t = ringTable(deposits.map(() => 1000), deposits, 1000);
    const fit = fitDensityPowerLaw(t.grid, t.distance, t.depositCells);
    expect(Math.abs(fit.k + 1)).toBeLessThan(1e-12);
    expect(Math.abs(fit.N - 0.06)).toBeLessThan(1e-12);
    expect(Math.abs(fit.r2 - 1)).toBeLessThan(1e-12);
    // With 500 m rings: d = 0.5, 1, … km; the farthest deposit (5.01 km) sets maxRing = 11.
    const half = fitDensityPowerLaw(t.grid, t.distance, t.depositCells, { ringWidthM: 500 });
    expect(half.maxRing).toBe(11);
    expect(half.rings[0].dKm).toBe(0.5);
    expect(half.rings.reduce((a, r) => a + r.deposits, 0)).toBe(147);
  });

  it('puts cells on a fault (distance 0) in ring 1 and ring edges in the inner ring', () => {
    expect(ringOf(0, 1000)).toBe(1);
    expect(ringOf(1000, 1000)).toBe(1);
    expect(ringOf(1000.0001, 1000)).toBe(2);
    expect(ringOf(11999, 1000)).toBe(12);
  });

  it('all deposits in one ring: PowerLawFitError naming the count and the ring', () => {
    const t = ringTable([100, 100, 100], [7, 0, 0], 1000);
    expect(() => fitDensityPowerLaw(t.grid, t.distance, t.depositCells, { maxRing: 3 })).toThrow(PowerLawFitError);
    expect(() => fitDensityPowerLaw(t.grid, t.distance, t.depositCells, { maxRing: 3 })).toThrow(/all 7 deposit cell\(s\) fall in 1 ring\(s\) of 1000 m \[ring 1 \(0–1000 m\): 7\]/);
  });

  it('excluded (nodata) cells count neither in areas nor as deposits, and are reported', () => {
    const t = ringTable([10, 10, 10], [2, 2, 1], 1000);
    const excluded = new Uint8Array(30);
    excluded[0] = 1; // a deposit cell of ring 1
    excluded[15] = 1; // a plain cell of ring 2
    const fit = fitDensityPowerLaw(t.grid, t.distance, t.depositCells, { excluded });
    expect(fit.excludedDeposits).toBe(1);
    expect(fit.rings.map((r) => [r.cells, r.deposits])).toEqual([[9, 1], [9, 2], [10, 1]]);
  });
});

describe('weight map', () => {
  it("'max' normalisation is d^k over the rings, clamped to the last ring beyond it", () => {
    const w = weightMap([0, 500, 1000, 1500, 2500, 3000, 9000, NaN], { k: -0.5, ringWidthM: 1000, maxRing: 3 });
    const e = [1, 1, 1, 2 ** -0.5, 3 ** -0.5, 3 ** -0.5, 3 ** -0.5];
    e.forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6)); // Float32 output: 1e-6
    expect(Number.isNaN(w[7])).toBe(true);
  });

  it("'minmax' with k = −0.46, 12 rings of 1 km is the case study's formula (d^−0.46 − 12^−0.46)/(1 − 12^−0.46)", () => {
    const w = ringWeights({ k: -0.46, ringWidthM: 1000, maxRing: 12, normalisation: 'minmax' });
    for (let d = 1; d <= 12; d++) expect(w[d]).toBeCloseTo((d ** -0.46 - 12 ** -0.46) / (1 - 12 ** -0.46), 12);
  });

  it('a positive k (deposits away from faults) still gives weights in [0, 1], largest in the last ring', () => {
    const w = ringWeights({ k: 0.3, ringWidthM: 500, maxRing: 5 });
    expect(w[5]).toBe(1);
    for (let i = 1; i < 5; i++) expect(w[i]).toBeLessThan(w[i + 1]);
    expect(w[1]).toBeGreaterThan(0);
  });
});
