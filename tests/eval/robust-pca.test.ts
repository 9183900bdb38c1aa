import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { detMcd, mcdConsistency } from '../../main/eval/mcd.ts';
import { pgamma, pnorm, qchisq, qnorm } from '../../main/eval/distributions.ts';
import { median, qnScale, scaleTau2 } from '../../main/eval/robust-scale.ts';
import { ilrBasis, robustPca } from '../../main/eval/robust-pca.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { makeStack } from '../../main/grid/raster.ts';
import { InvalidOptionError, SingularSystemError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';

// References: R robustbase 0.95 covMcd(nsamp = "deterministic") via tests/fixtures/rpca/make_fixture.R
// (mcd.json) and mpmath 1.2 at 40 digits via tests/fixtures/rpca/make_distributions.py.
interface McdCase {
  name: string;
  alpha: number;
  n: number;
  p: number;
  x: number[][];
  center: number[];
  cov: number[][];
  rawCenter: number[];
  rawCov: number[][];
  h: number;
  best: number[];
  weights: number[];
  mah: number[];
  crit: number;
  iBest: number | number[];
  nCsteps: number[];
}
const mcdFixture = JSON.parse(readFileSync(new URL('../fixtures/rpca/mcd.json', import.meta.url), 'utf8')) as { cases: McdCase[] };
const dist = JSON.parse(readFileSync(new URL('../fixtures/rpca/distributions.json', import.meta.url), 'utf8')) as {
  qnorm: { p: number; q: number }[];
  pnorm: { x: number; p: number }[];
  pgamma: { a: number; x: number; p: number }[];
  qchisq: { df: number; p: number; q: number }[];
};

function maxRelDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]) / Math.max(Math.abs(b[i][j]), 1e-12)))));
  return m;
}

describe('distribution functions (mpmath reference)', () => {
  it('qnorm (AS 241) to 1e-15 relative, pnorm and pgamma to 1e-13 absolute, qchisq to 1e-12 relative', () => {
    for (const r of dist.qnorm) expect(Math.abs(qnorm(r.p) - r.q) / Math.max(1, Math.abs(r.q)), `p=${r.p}`).toBeLessThanOrEqual(1e-15);
    for (const r of dist.pnorm) expect(Math.abs(pnorm(r.x) - r.p), `x=${r.x}`).toBeLessThanOrEqual(1e-13);
    for (const r of dist.pgamma) expect(Math.abs(pgamma(r.x, r.a) - r.p), `a=${r.a} x=${r.x}`).toBeLessThanOrEqual(1e-13);
    for (const r of dist.qchisq) expect(Math.abs(qchisq(r.p, r.df) - r.q) / r.q, `df=${r.df} p=${r.p}`).toBeLessThanOrEqual(1e-12);
  });
});

describe('robust scales', () => {
  it('median equals the sorted middle (mean of two for even n)', () => {
    const rng = new Rng(4);
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const x = Array.from({ length: n }, () => Math.round(rng.normal() * 5) + 0); // + 0: no −0
      const s = [...x].sort((a, b) => a - b);
      const ref = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      expect(median(x)).toBe(ref);
    }
  });

  it('Qn (n = 999, within 6%) and τ-scale (n = 20,000, within 2%) estimate σ = 3 of a normal sample', () => {
    const rng = new Rng(9);
    const x = Array.from({ length: 999 }, () => rng.normal(5, 3));
    expect(Math.abs(qnScale(x) / 3 - 1)).toBeLessThan(0.06);
    const y = Array.from({ length: 20_000 }, () => rng.normal(5, 3));
    expect(Math.abs(scaleTau2(y) / 3 - 1)).toBeLessThan(0.02);
  });
});

describe('DetMCD matches R robustbase covMcd(nsamp = "deterministic")', () => {
  for (const c of mcdFixture.cases) {
    it(`${c.name}: same h-subset, C-steps, weights; centre/covariances to 1e-10 relative`, () => {
      const r = detMcd(Float64Array.from(c.x.flat()), c.n, c.p, { alpha: c.alpha });
      expect(r.h).toBe(c.h);
      expect(r.best).toEqual(c.best);
      expect(r.cSteps).toEqual(c.nCsteps);
      expect(r.iBest).toEqual([c.iBest].flat());
      expect(Array.from(r.weights)).toEqual(c.weights);
      expect(maxRelDiff(r.rawCov, c.rawCov)).toBeLessThanOrEqual(1e-10);
      expect(maxRelDiff(r.cov, c.cov)).toBeLessThanOrEqual(1e-10);
      expect(maxRelDiff([r.rawCenter], [c.rawCenter])).toBeLessThanOrEqual(1e-10);
      expect(maxRelDiff([r.center], [c.center])).toBeLessThanOrEqual(1e-10);
      expect(maxRelDiff([Array.from(r.mahalanobis)], [c.mah])).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(r.crit - c.crit)).toBeLessThanOrEqual(1e-10);
    });
  }

  it('finds the planted outliers (rows 1–45 of the n = 300 case get weight 0)', () => {
    const c = mcdFixture.cases.find((k) => k.name === 'qn-n300-p4-alpha0.5')!;
    const r = detMcd(Float64Array.from(c.x.flat()), c.n, c.p);
    expect(Array.from(r.weights.subarray(0, 45)).every((w) => w === 0)).toBe(true);
  });

  it('refuses singular and too-small data with named errors', () => {
    const rng = new Rng(2);
    const n = 200;
    const x = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      x[i * 3] = rng.normal();
      x[i * 3 + 1] = rng.normal();
      x[i * 3 + 2] = x[i * 3] + x[i * 3 + 1]; // exact linear combination
    }
    expect(() => detMcd(x, n, 3)).toThrow(SingularSystemError);
    expect(() => detMcd(new Float64Array(10), 5, 2)).toThrow(InvalidOptionError);
    expect(() => detMcd(x, n, 3, { alpha: 0.3 })).toThrow(InvalidOptionError);
  });

  it('consistency factor equals 1 / (P(χ²_{p+2} ≤ q_α) / α) (robustbase .MCDcons), e.g. p = 1, α = 0.5', () => {
    // For p = 1 and α = ½: q = qchisq(½, 1), factor = ½ / pgamma(q/2, 3/2) ≈ 1 / 0.1508… (closed form via erf).
    const q = qchisq(0.5, 1);
    expect(mcdConsistency(1, 0.5)).toBeCloseTo(0.5 / pgamma(q / 2, 1.5), 14);
    expect(mcdConsistency(1, 0.5)).toBeGreaterThan(3);
  });
});

describe('robust PCA of a stack', () => {
  const grid: GridSpec = { originX: 0, originY: 3000, cellSizeX: 100, cellSizeY: 100, rows: 30, cols: 30, crs: null };

  /** Four "elements": a latent Au–Cu factor drives bands 0 and 1, band 2 independent, band 3 noise; 5% outliers. */
  function synthetic(seed: number): ReturnType<typeof makeStack> {
    const rng = new Rng(seed);
    const n = grid.rows * grid.cols;
    const bands = [0, 1, 2, 3].map(() => new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const f = rng.normal();
      const g = rng.normal();
      bands[0][i] = 10 ** (1 + 0.5 * f + 0.05 * rng.normal());
      bands[1][i] = 10 ** (2 + 0.4 * f + 0.05 * rng.normal());
      bands[2][i] = 10 ** (0.5 + 0.3 * g);
      bands[3][i] = 10 ** (1 + 0.05 * rng.normal());
      if (i % 20 === 0) bands[3][i] *= 1000; // gross outliers in one band
    }
    bands[2][5] = NaN;
    bands[3][7] = 0;
    return makeStack(grid, ['Au', 'Cu', 'Pb', 'Zn'], bands, 'synthetic');
  }

  it('log10: equals DetMCD + eigen-decomposition by hand; PC1 loads Au and Cu; outliers do not rotate it', () => {
    const s = synthetic(1);
    const r = robustPca(s);
    expect(r.cells).toEqual({ total: 900, valid: 898, nodata: 1, nonPositive: 1 });
    // Eigen-decomposition check: Σ·l = λ·l for every component (1e-10 relative).
    r.loadings[0].forEach((_, k) => {
      for (let i = 0; i < 4; i++) {
        let sl = 0;
        for (let j = 0; j < 4; j++) sl += r.covariance[i][j] * r.loadings[j][k];
        expect(Math.abs(sl - r.eigenvalues[k] * r.loadings[i][k])).toBeLessThanOrEqual(1e-10 * r.eigenvalues[0]);
      }
    });
    // The latent factor: PC1 ≈ (0.5, 0.4, 0, 0)/|·| (±0.05), despite 1000× outliers in Zn.
    const l1 = r.loadings.map((row) => row[0]);
    const norm = Math.hypot(0.5, 0.4);
    expect(Math.abs(l1[0] - 0.5 / norm)).toBeLessThan(0.05);
    expect(Math.abs(l1[1] - 0.4 / norm)).toBeLessThan(0.05);
    expect(Math.abs(l1[3])).toBeLessThan(0.05);
    // Scores: PC1 of a valid cell = (log10 x − centre)·loading; invalid cells NaN.
    const cell = 123;
    const expected = [0, 1, 2, 3].reduce((acc, b) => acc + (Math.log10(s.bands[b][cell]) - r.center[b]) * r.loadings[b][0], 0);
    expect(Math.abs(r.scores[0][cell] - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
    expect(Number.isNaN(r.scores[0][5])).toBe(true);
    expect(Number.isNaN(r.scores[0][7])).toBe(true);
    // The outlier cells are beyond the χ² cut-off of the robust distance.
    expect(r.robustDistance[20]).toBeGreaterThan(r.distanceCutoff);
    expect(r.explained.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('clr: p − 1 components, loadings orthogonal to the ones vector, invariant to closure (scaling a cell)', () => {
    const s = synthetic(2);
    const r = robustPca(s, { transform: 'clr' });
    expect(r.scores.length).toBe(3);
    for (let k = 0; k < 3; k++) expect(Math.abs(r.loadings.reduce((acc, row) => acc + row[k], 0))).toBeLessThanOrEqual(1e-12);
    // Multiplying every band by the same factor (ppm → %, closure) leaves clr scores unchanged (1e-5, float32 data).
    const scaled = makeStack(s.grid, s.bandNames, s.bands.map((b) => b.map((v) => v * 1e-4)), 'scaled');
    const r2 = robustPca(scaled, { transform: 'clr' });
    for (const cell of [0, 100, 450, 899]) {
      for (let k = 0; k < 3; k++) expect(Math.abs(r2.scores[k][cell] - r.scores[k][cell])).toBeLessThanOrEqual(1e-5);
    }
    // The pivot basis is orthonormal and orthogonal to 1.
    const V = ilrBasis(5);
    const VtV = V.transpose().mmul(V);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Math.abs(VtV.get(i, j) - (i === j ? 1 : 0))).toBeLessThanOrEqual(1e-15);
  });

  it('subsamples large inputs deterministically per seed and reports it', () => {
    const s = synthetic(3);
    const a = robustPca(s, { maxSamples: 400, seed: 5 });
    const b = robustPca(s, { maxSamples: 400, seed: 5 });
    const c = robustPca(s, { maxSamples: 400, seed: 6 });
    expect(a.mcd).toMatchObject({ cellsUsed: 400, subsampled: true, seed: 5 });
    expect(b.covariance).toEqual(a.covariance);
    expect(c.covariance).not.toEqual(a.covariance);
  });
});

describe('geoanomaly rpca', () => {
  it('writes PC1…PCn scores and robust distances as GeoTIFFs (gdalinfo) and the loadings JSON', async () => {
    const { main } = await import('../../main/cli/main.ts');
    const { writeGeoTiff } = await import('../../main/io/geotiff-write.ts');
    const { gdalinfo } = await import('../helpers/gdal.ts');
    const { tempDir } = await import('../helpers/paths.ts');
    const { join } = await import('node:path');
    const { crsFromEpsg } = await import('../../main/grid/crs.ts');
    const dir = tempDir();
    const g: GridSpec = { originX: 565_321, originY: 4_624_025, cellSizeX: 1000, cellSizeY: 1000, rows: 25, cols: 20, crs: crsFromEpsg(32645) };
    const rng = new Rng(8);
    const n = g.rows * g.cols;
    const names = ['Au', 'Cu', 'As', 'Sb', 'Pb'];
    const bands = names.map(() => new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const f = rng.normal();
      names.forEach((_, b) => (bands[b][i] = 10 ** (1 + (b < 2 ? 0.4 * f : 0) + 0.2 * rng.normal())));
    }
    bands[0][0] = NaN;
    const stackPath = join(dir, 'stack.tif');
    writeGeoTiff(stackPath, { grid: g, bandNames: names, bands });
    const out = join(dir, 'rpca');
    expect(await main(['rpca', '--stack', stackPath, '--transform', 'clr', '--out', out])).toBe(0);
    const loadings = JSON.parse(readFileSync(join(out, 'loadings.json'), 'utf8'));
    expect(loadings.bands).toEqual(names);
    expect(loadings.components).toEqual(['PC1', 'PC2', 'PC3', 'PC4']);
    expect(loadings.loadings.length).toBe(5);
    expect(loadings.cells.valid).toBe(n - 1);
    const info = gdalinfo(join(out, 'pc-scores.tif'));
    expect(info.size).toEqual([g.cols, g.rows]);
    expect(info.bands.map((b) => b.description)).toEqual(['PC1', 'PC2', 'PC3', 'PC4']);
    // The first cell is nodata in the scores (one band was NaN): GDAL counts n − 1 valid cells.
    const valid = Number(info.bands[0].metadata?.['']?.STATISTICS_VALID_PERCENT);
    expect(Math.abs(valid - (100 * (n - 1)) / n)).toBeLessThanOrEqual(1e-3);
    // Robust PC scores are centred on the robust centre: their median is near 0 (|median| < 0.2 sd).
    const mean = info.bands[0].mean as number;
    const sd = info.bands[0].stdDev as number;
    expect(Math.abs(mean)).toBeLessThan(0.2 * sd);
    expect(gdalinfo(join(out, 'robust-distance.tif')).bands[0].minimum).toBeGreaterThanOrEqual(0);
    expect(await main(['rpca', '--stack', stackPath, '--transform', 'sqrt', '--out', out])).toBe(2);
  });
});

describe('DetMCD on real data: the 39 Tianshan element grids (log10), against R', () => {
  // Reference: tests/fixtures/rpca/make_tianshan_fixture.R (R robustbase 0.95 covMcd, deterministic)
  // on the CSV written by tianshan_to_csv.py from ../shared/data/tianshan-gkdcn/elements.
  it('same h-subset (size and index sum), C-steps and outliers; covariance to 1e-10 of √(σ_ii σ_jj)', async () => {
    const { readGeoTiffFolder } = await import('../../main/io/geotiff-read.ts');
    const { tianshan } = await import('../helpers/shared-data.ts');
    const fx = JSON.parse(readFileSync(new URL('../fixtures/rpca/tianshan-mcd.json', import.meta.url), 'utf8'));
    const c = fx.cases.find((k: { name: string }) => k.name === 'log10');
    const s = await readGeoTiffFolder(tianshan('elements'));
    expect(s.bandNames).toEqual(fx.bands);
    const p = s.bands.length;
    const valid: number[] = [];
    for (let i = 0; i < s.grid.rows * s.grid.cols; i++) if (s.bands.every((b) => Number.isFinite(b[i]) && b[i] > 0)) valid.push(i);
    expect(valid.length).toBe(c.n); // 31,256 of 33,813 cells: Cd is ≤ 0 in 2,557 cells
    const x = new Float64Array(valid.length * p);
    valid.forEach((cell, r) => s.bands.forEach((b, j) => (x[r * p + j] = Math.log10(b[cell]))));
    const r = detMcd(x, valid.length, p, { alpha: c.alpha });
    expect(r.h).toBe(c.h);
    expect(r.best.length).toBe(c.bestCount);
    expect(r.best.reduce((a, v) => a + v, 0)).toBe(c.bestIndexSum);
    expect(r.cSteps).toEqual(c.nCsteps);
    expect(r.iBest).toEqual([c.iBest].flat());
    expect(Array.from(r.weights).filter((w) => w === 0).length).toBe(c.outliers);
    const scaled = (a: number[][], b: number[][]): number =>
      Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]) / Math.sqrt(Math.abs(b[i][i] * b[j][j])))));
    expect(scaled(r.cov, c.cov)).toBeLessThanOrEqual(1e-10);
    expect(scaled(r.rawCov, c.rawCov)).toBeLessThanOrEqual(1e-10);
    r.center.forEach((v, j) => expect(Math.abs(v - c.center[j])).toBeLessThanOrEqual(1e-10));
  }, 900_000); // ~25 s of CPU alone; generous so a loaded CI machine does not time out
});
