/**
 * Trust checks (main/eval/trust-checks.ts): each warning has a case that triggers it and one that
 * does not, and every fix names flags that exist. The extrapolation summary is checked cell by
 * cell against SciPy (tests/fixtures/eval/make_extrapolation.py).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  checkFoldCollapse,
  checkFoldValidation,
  checkKrigingExtrapolation,
  checkPowerLaw,
  checkPredictionCollapse,
  checkSaturatedMap,
  checkValidationImproves,
  convexHull,
  extrapolationSummary,
  formatWarning,
  practicalRangeM,
  type TrustWarning,
} from '../../main/eval/trust-checks.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { trainCommand } from '../../main/cli/commands/train.ts';
import { faultsCommand } from '../../main/cli/commands/faults.ts';
import { krigeCommand } from '../../main/cli/commands/krige.ts';
import { Rng } from '../../main/util/rng.ts';

/** Every `--flag` a fix names is an option of one of these commands (or a documented one of another step). */
const KNOWN = new Set([
  ...Object.keys(trainCommand.options),
  ...Object.keys(faultsCommand.options),
  ...Object.keys(krigeCommand.options),
  'mask', // train/predict --mask (issue 20 §1c, another helper's flag)
  'model',
]);
function fixFlagsExist(w: TrustWarning): void {
  const flags = [...w.fix.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
  expect(flags.length, w.fix).toBeGreaterThan(0);
  for (const f of flags) expect(KNOWN.has(f), `--${f} in "${w.fix}"`).toBe(true);
  expect(formatWarning(w)).toMatch(new RegExp(`^warning \\[${w.code}\\]`));
}

describe('power-law checks', () => {
  it('k ≥ 0 and R² < 0.1 warn (the issue\'s k = +0.021, R² 0.003); the demo\'s own fit does not', () => {
    const bad = checkPowerLaw({ k: 0.021, r2: 0.003 });
    expect(bad.map((w) => w.code)).toEqual(['power-law-k-nonnegative', 'power-law-low-r2']);
    bad.forEach(fixFlagsExist);
    expect(checkPowerLaw({ k: -0.6, r2: 0.115 })).toEqual([]);
    expect(checkPowerLaw({ k: -0.6, r2: 0.05 }).map((w) => w.code)).toEqual(['power-law-low-r2']);
    expect(checkPowerLaw({ k: 0.34, r2: 0.8 }).map((w) => w.code)).toEqual(['power-law-k-nonnegative']);
    expect(checkPowerLaw({ k: -0.5, r2: NaN }).map((w) => w.code)).toEqual(['power-law-low-r2']);
  });
});

describe('prediction collapse', () => {
  it('one class for every sample warns; a model that separates does not', () => {
    const one = checkPredictionCollapse(Array.from({ length: 100 }, (_, i) => 0.3 + 0.001 * i), 0.5, 'dcn');
    expect(one.map((w) => w.code)).toEqual(['predictions-collapse']);
    expect(one[0].details.predictedPositive).toBe(0);
    fixFlagsExist(one[0]);
    expect(checkPredictionCollapse(Array.from({ length: 100 }, (_, i) => i / 100), 0.5)).toEqual([]);
    // 97 of 100 on one side is below the 0.98 share: not yet collapsed.
    expect(checkPredictionCollapse(Array.from({ length: 100 }, (_, i) => (i < 3 ? 0.9 : 0.1)), 0.5)).toEqual([]);
  });

  it('folds: warns when at least half the folds predict one class for their held-out samples', () => {
    const m = { kappa: 0, mcc: 0 };
    const flat = { metrics: m, threshold: 0.5, testScores: [0.2, 0.3, 0.1, 0.4] };
    const split = { metrics: { kappa: 0.5, mcc: 0.5 }, threshold: 0.5, testScores: [0.2, 0.7, 0.1, 0.9] };
    const w = checkFoldCollapse([flat, flat, split], 'dcn');
    expect(w.map((x) => x.code)).toEqual(['predictions-collapse']);
    expect(w[0].details).toMatchObject({ folds: 3, collapsed: 2 });
    fixFlagsExist(w[0]);
    expect(checkFoldCollapse([flat, split, split])).toEqual([]);
    // Without scores the kappa = MCC = 0 rule applies.
    expect(checkFoldCollapse([{ metrics: m }, { metrics: m }])).toHaveLength(1);
  });
});

describe('validation never improves', () => {
  it('warns when no later epoch beats epoch 1 by 1%; not when the curve falls', () => {
    const flat = [0.7, 0.701, 0.699, 0.705].map((valLoss, i) => ({ epoch: i + 1, valLoss }));
    const w = checkValidationImproves(flat, 'cnn');
    expect(w.map((x) => x.code)).toEqual(['validation-never-improves']);
    fixFlagsExist(w[0]);
    expect(checkValidationImproves([0.7, 0.65, 0.6].map((valLoss, i) => ({ epoch: i + 1, valLoss })))).toEqual([]);
    // One epoch or no validation split: nothing to judge.
    expect(checkValidationImproves([{ epoch: 1, valLoss: 0.7 }])).toEqual([]);
    expect(checkValidationImproves([{ epoch: 1 }, { epoch: 2 }])).toEqual([]);
  });
});

describe('folds that keep their first eligible epoch', () => {
  it('warns when at least half the folds kept epoch max(1, minEpochs); not when they trained on', () => {
    const w = checkFoldValidation([1, 1, 2, 1].map((bestEpoch) => ({ bestEpoch })), 1, 12, 'dcn');
    expect(w.map((x) => x.code)).toEqual(['validation-never-improves']);
    expect(w[0].details).toMatchObject({ folds: 4, stuck: 3, firstEligibleEpoch: 1 });
    expect(w[0].fix).toMatch(/--min-epochs 10/);
    fixFlagsExist(w[0]);
    expect(checkFoldValidation([1, 7, 9, 12].map((bestEpoch) => ({ bestEpoch })), 1, 12)).toEqual([]);
    // With --min-epochs 10 the first eligible epoch is 10: folds kept 10, 10, 14 → warn; 15, 18, 10 → not.
    expect(checkFoldValidation([10, 10, 14].map((bestEpoch) => ({ bestEpoch })), 10, 40)).toHaveLength(1);
    expect(checkFoldValidation([15, 18, 10].map((bestEpoch) => ({ bestEpoch })), 10, 40)).toEqual([]);
    // Only one eligible epoch (minEpochs ≥ epochs): nothing to judge.
    expect(checkFoldValidation([5, 5].map((bestEpoch) => ({ bestEpoch })), 5, 5)).toEqual([]);
  });
});

describe('saturated maps', () => {
  it('warns when > 50% of the cells are ≤ 0.01 or ≥ 0.99 (NaN ignored); not for a graded map', () => {
    const n = 1000;
    const sat = Float32Array.from({ length: n }, (_, i) => (i < 300 ? 0.001 : i < 600 ? 0.999 : i < 700 ? NaN : 0.5));
    const w = checkSaturatedMap(sat, 'gk-dcn');
    expect(w.map((x) => x.code)).toEqual(['map-saturated']);
    expect(w[0].details).toMatchObject({ cells: 900, nearZero: 300, nearOne: 300 });
    fixFlagsExist(w[0]);
    const rng = new Rng(3);
    expect(checkSaturatedMap(Float32Array.from({ length: n }, () => 0.02 + 0.96 * rng.uniform()))).toEqual([]);
    expect(checkSaturatedMap(Float32Array.from({ length: n }, () => NaN))).toEqual([]);
  });
});

describe('kriging extrapolation', () => {
  const ref = JSON.parse(readFileSync('tests/fixtures/eval/extrapolation.json', 'utf8')) as {
    grid: { originX: number; originY: number; cellSizeX: number; cellSizeY: number; rows: number; cols: number };
    x: number[]; y: number[]; farM: number; outsideHull: number[]; beyondRange: number[]; hullVertices: [number, number][];
  };
  const grid = { ...ref.grid, crs: crsFromEpsg(32645) };

  it('the convex hull has SciPy ConvexHull\'s vertices (exact: integer coordinates)', () => {
    const hull = convexHull(ref.x, ref.y);
    expect([...hull].sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(ref.hullVertices);
  });

  it('outside-hull and beyond-range cells equal SciPy Delaunay.find_simplex / cKDTree, cell by cell', () => {
    const s = extrapolationSummary(grid, ref.x, ref.y, ref.farM);
    expect(s.cells).toBe(2000);
    expect(s.outsideHull).toBe(ref.outsideHull.reduce((a, b) => a + b, 0));
    expect(s.beyondRange).toBe(ref.beyondRange.reduce((a, b) => a + b, 0));
    for (let i = 0; i < s.cells; i++) expect(s.mask[i], `cell ${i}`).toBe(ref.outsideHull[i] || ref.beyondRange[i] ? 1 : 0);
    const w = checkKrigingExtrapolation(s, ref.farM, 'Au');
    expect(w.map((x) => x.code)).toEqual(['kriging-extrapolation']);
    fixFlagsExist(w[0]);
  });

  it('does not warn for a grid covered by its samples', () => {
    // Samples at every cell centre of a 10×10 grid, plus the grid corners: hull = grid, every cell near.
    const g = { originX: 0, originY: 1000, cellSizeX: 100, cellSizeY: 100, rows: 10, cols: 10, crs: crsFromEpsg(32645) };
    const xs: number[] = [0, 1000, 0, 1000];
    const ys: number[] = [0, 0, 1000, 1000];
    for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) {
      xs.push(50 + 100 * c);
      ys.push(950 - 100 * r);
    }
    const s = extrapolationSummary(g, xs, ys, 300);
    expect(s.outsideHull).toBe(0);
    expect(s.beyondRange).toBe(0);
    expect(checkKrigingExtrapolation(s, 300)).toEqual([]);
  });

  it('practical ranges: sph a, exp 3a, gau √3a (variogram-model.ts), pure nugget: hull only', () => {
    expect(practicalRangeM({ type: 'sph', rangeM: 900 })).toBe(900);
    expect(practicalRangeM({ type: 'exp', rangeM: 300 })).toBe(900);
    expect(practicalRangeM({ type: 'gau', rangeM: 300 })).toBeCloseTo(519.615, 3);
    expect(practicalRangeM({ type: 'nug', rangeM: 0 })).toBe(Infinity);
    const s = extrapolationSummary(grid, ref.x, ref.y, Infinity);
    expect(s.beyondRange).toBe(0);
    expect(s.outsideHull).toBe(ref.outsideHull.reduce((a, b) => a + b, 0));
  });
});
