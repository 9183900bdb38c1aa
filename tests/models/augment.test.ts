/**
 * Augmentation (main/models/augment.ts): the dihedral transforms against NumPy, and leak-freeness
 * checked on real fold assignments: every augmented copy of every grouped fold comes from that
 * fold's own fit samples, so no copy of a test or validation site is ever trained on.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { augmentFitSet, dihedralPatch, parseAugmentations } from '../../main/models/augment.ts';
import { trainingDataFrom, validationSplit } from '../../main/models/train.ts';
import { groupedStratifiedKFold } from '../../main/eval/folds.ts';
import { extractPatches } from '../../main/sites/patches.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { makeStack } from '../../main/grid/raster.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { InvalidOptionError } from '../../main/errors.ts';

describe('dihedral transforms', () => {
  it('equal NumPy rot90 / flipud / fliplr / transpose exactly (tests/fixtures/models/make_dihedral.py)', () => {
    const ref = JSON.parse(readFileSync('tests/fixtures/models/dihedral.json', 'utf8')) as {
      k: number; channels: number; patch: number[]; transforms: Record<string, { numpy: string; values: number[] }>;
    };
    const src = Float32Array.from(ref.patch);
    const dst = new Float32Array(src.length);
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) {
      dihedralPatch(src, dst, ref.k, ref.channels, t);
      // Tolerance 0: a transform only moves float32 values (the fixture is float32 too).
      expect(Array.from(dst), `t = ${t} vs ${ref.transforms[String(t)].numpy}`).toEqual(Array.from(Float32Array.from(ref.transforms[String(t)].values)));
      seen.add(Array.from(dst).join(','));
    }
    expect(seen.size).toBe(8); // the 8 elements of D4 are all distinct on a random patch
  });

  it('parses --augment lists and refuses unknown names', () => {
    expect(parseAugmentations('none')).toEqual([]);
    expect(parseAugmentations('dihedral, noise,dihedral')).toEqual(['dihedral', 'noise']);
    expect(() => parseAugmentations('rotate')).toThrow(InvalidOptionError);
  });
});

describe('leak-free augmentation', () => {
  const grid: GridSpec = { originX: 0, originY: 3000, cellSizeX: 100, cellSizeY: 100, rows: 30, cols: 30, crs: crsFromEpsg(32645) };
  const rng = new Rng(5);
  const stack = makeStack(grid, ['Au', 'Cu'], [0, 1].map(() => Float32Array.from({ length: 900 }, () => Math.exp(rng.normal(1, 0.5)))));
  const w = Float32Array.from({ length: 900 }, () => rng.uniform());
  const cell = (r: number, c: number): number => r * 30 + c;
  // Deposits and negatives 5–6 cells apart: with shiftRadius 2 their shift rings touch each other.
  const deposits = [cell(4, 4), cell(4, 15), cell(4, 25), cell(15, 4), cell(25, 15), cell(25, 25)];
  const negatives = [cell(10, 10), cell(10, 20), cell(15, 15), cell(20, 10), cell(20, 20), cell(15, 25)];
  const sites = buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set;
  const patches = extractPatches(stack, sites, { size: 5, knowledge: [w], shiftRadius: 2 });
  const data = trainingDataFrom(patches);

  it('every copy of every grouped fold comes from, and stays with, a fit site of that fold', () => {
    expect(data.shiftWindows!.parent.length).toBeGreaterThan(data.n); // 5×5 ring minus block cells, per site
    const sampleCells = new Set(Array.from(patches.rows, (r, i) => cell(r, patches.cols[i])));
    for (const seed of [1, 2, 3]) {
      for (const { train, test } of groupedStratifiedKFold(data.labels, data.siteIds, 3, seed)) {
        const { fit, val } = validationSplit(data, train, 0.2, seed + 10);
        const aug = augmentFitSet(data, fit, ['shift', 'dihedral', 'noise'], 0.1, seed)!;
        const fitSites = new Set(fit.map((i) => data.siteIds[i]));
        const heldOut = new Set([...test, ...val].map((i) => data.siteIds[i]));
        const fitSet = new Set(fit);
        expect(aug.fit.slice(0, fit.length)).toEqual(fit); // the originals first, unchanged indices
        let copies = 0;
        for (const i of aug.fit) {
          const parent = aug.parent[i];
          expect(fitSet.has(parent)).toBe(true);
          expect(heldOut.has(aug.data.siteIds[i])).toBe(false);
          expect(fitSites.has(aug.data.siteIds[i])).toBe(true);
          expect(aug.data.labels[i]).toBe(data.labels[parent]);
          if (i >= data.n) {
            copies++;
            // The copy's window centre is within 2 cells (Chebyshev) of its parent and is no sample cell.
            const j = i - data.n;
            const e = Array.from(data.shiftWindows!.parent.keys()).filter((q) => fitSet.has(data.shiftWindows!.parent[q]))[j];
            expect(Math.max(Math.abs(patches.shift!.rows[e] - patches.rows[parent]), Math.abs(patches.shift!.cols[e] - patches.cols[parent]))).toBeLessThanOrEqual(2);
            expect(sampleCells.has(cell(patches.shift!.rows[e], patches.shift!.cols[e]))).toBe(false);
          }
        }
        // Copies exist and are exactly the shift windows whose parents are fit samples.
        expect(copies).toBe(Array.from(data.shiftWindows!.parent).filter((p) => fitSet.has(p)).length);
        expect(copies).toBeGreaterThan(0);
        // Held-out samples are never rewritten by the per-epoch redraw: their patches stay the originals.
        aug.redraw();
        const per = data.patchSize * data.patchSize * data.channels;
        for (const i of [...test, ...val]) expect(aug.data.x.subarray(i * per, (i + 1) * per)).toEqual(data.x.subarray(i * per, (i + 1) * per));
      }
    }
  });

  it('redraws are seeded: the same seed gives the same patches, another seed other ones', () => {
    const fit = Array.from({ length: data.n }, (_, i) => i).filter((i) => i % 2 === 0);
    const draw = (seed: number): Float32Array => {
      const a = augmentFitSet(data, fit, ['dihedral', 'noise'], 0.1, seed)!;
      a.redraw();
      a.redraw();
      return Float32Array.from(a.data.x);
    };
    expect(Array.from(draw(4))).toEqual(Array.from(draw(4)));
    expect(Array.from(draw(4))).not.toEqual(Array.from(draw(5)));
    // Noise sd 0.1 in standardised units: the redrawn minus the (dihedral-permuted) original has sd ≈ 0.1.
    const a = augmentFitSet(data, fit, ['noise'], 0.1, 7)!;
    a.redraw();
    const per = data.patchSize * data.patchSize * data.channels;
    let s2 = 0;
    let m = 0;
    for (const i of fit) for (let v = 0; v < per; v++) {
      const d = a.data.x[i * per + v] - data.x[i * per + v];
      s2 += d * d;
      m++;
    }
    // Reference: sd of N(0, 0.1²) over m ≈ 3 000 draws; relative tolerance 10% (≈ 4 standard errors of the sd).
    expect(Math.abs(Math.sqrt(s2 / m) - 0.1)).toBeLessThan(0.01);
  });

  it('without augmentation training runs on the data itself; shift without windows is refused', () => {
    expect(augmentFitSet(data, [0, 1], [], 0.1, 1)).toBeNull();
    const noShift = trainingDataFrom(extractPatches(stack, sites, { size: 5, knowledge: [w] }));
    expect(() => augmentFitSet(noShift, [0, 1], ['shift'], 0.1, 1)).toThrow(InvalidOptionError);
  });
});
