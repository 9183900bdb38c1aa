import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { EigenvalueDecomposition, Matrix, inverse } from 'ml-matrix';
import { readCube } from '../../main/xrf/cube-import.ts';
import { globalRx, localRx } from '../../main/xrf/rx.ts';
import { dbscan } from '../../main/xrf/dbscan.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { pseudoLabels } from '../../main/xrf/pseudo-labels.ts';
import { normalizeCube } from '../../main/xrf/cube.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { sharedData } from '../helpers/shared-data.ts';

describe('global RX on public anomaly scenes', () => {
  // References: ../shared/data/README.md states AUC ≈ 0.976 (HYDICE) and ≈ 0.989 (abu-beach-4);
  // numpy (pinv of the population covariance) + sklearn.metrics.roc_auc_score give
  // 0.9762791893905921 and 0.988665572954917. Tolerances: ±0.002 against the README, 1e-5 against numpy
  // (we accumulate in float64 from float32 pixels).
  it('HYDICE: AUC 0.976 ± 0.002', async () => {
    const c = await readCube(sharedData('hyperspectral/HYDICE_data.mat'));
    const auc = rocAuc(c.truth!, globalRx(c));
    expect(Math.abs(auc - 0.976)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(auc - 0.9762791893905921)).toBeLessThanOrEqual(1e-5);
  });
  it('abu-beach-4: AUC 0.989 ± 0.002', async () => {
    const c = await readCube(sharedData('hyperspectral/abu-beach-4.mat'));
    const auc = rocAuc(c.truth!, globalRx(c));
    expect(Math.abs(auc - 0.989)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(auc - 0.988665572954917)).toBeLessThanOrEqual(1e-5);
  });
  it('is invariant to per-band affine rescaling (a property of the Mahalanobis distance)', () => {
    const s = syntheticSample({ rows: 24, cols: 24, channels: 12, seed: 4 });
    const a = globalRx(s.cube);
    const b = globalRx(normalizeCube(s.cube, 'minmax-band'));
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, v)));
  });
});

describe('local (dual-window) RX', () => {
  it('equals a brute-force window computation', () => {
    // Reference: per pixel, explicit mean/covariance of the outer-minus-inner window in the same
    // PCA space (component scores recomputed here with ml-matrix), ridge as documented, inverse by
    // ml-matrix. Tolerance: relative 1e-6.
    const s = syntheticSample({ rows: 14, cols: 13, channels: 8, seed: 2, inclusions: 3 });
    const cube = s.cube;
    const k = 4, inner = 3, outer = 7, ridge = 1e-3;
    const got = localRx(cube, { innerWindow: inner, outerWindow: outer, components: k, ridge });
    const n = cube.rows * cube.cols, B = cube.bandCount;
    const X = new Matrix(Array.from({ length: n }, (_, i) => Array.from(cube.pixels.subarray(i * B, (i + 1) * B), Number)));
    const mu = X.mean('column');
    const Z = X.clone().subRowVector(mu);
    const C = Z.transpose().mmul(Z).div(n);
    const evd = new EigenvalueDecomposition(C, { assumeSymmetric: true });
    const order = evd.realEigenvalues.map((l, i) => [l, i]).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
    const V = new Matrix(B, k);
    order.forEach((i, j) => { for (let b = 0; b < B; b++) V.set(b, j, evd.eigenvectorMatrix.get(b, i)); });
    const P = Z.mmul(V);
    const ho = (outer - 1) / 2, hi = (inner - 1) / 2;
    for (const [r, c] of [[0, 0], [6, 6], [13, 12], [3, 10], [9, 1]]) {
      const rowsIn: number[][] = [];
      for (let rr = r - ho; rr <= r + ho; rr++) for (let cc = c - ho; cc <= c + ho; cc++) {
        if (rr < 0 || cc < 0 || rr >= cube.rows || cc >= cube.cols) continue;
        if (Math.abs(rr - r) <= hi && Math.abs(cc - c) <= hi) continue;
        rowsIn.push(P.getRow(rr * cube.cols + cc));
      }
      const W = new Matrix(rowsIn);
      const m = W.mean('column');
      const D = W.clone().subRowVector(m);
      const Cl = D.transpose().mmul(D).div(rowsIn.length);
      let tr = 0;
      for (let a = 0; a < k; a++) tr += Cl.get(a, a);
      for (let a = 0; a < k; a++) Cl.set(a, a, Cl.get(a, a) + (ridge * tr) / k + 1e-12);
      const d = Matrix.rowVector(P.getRow(r * cube.cols + c)).subRowVector(m);
      const want = d.mmul(inverse(Cl)).mmul(d.transpose()).get(0, 0);
      expect(Math.abs(got[r * cube.cols + c] - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, want));
    }
  });
  it('validates its windows', () => {
    const s = syntheticSample({ rows: 8, cols: 8, channels: 6, seed: 1 });
    expect(() => localRx(s.cube, { innerWindow: 4 })).toThrow(InvalidOptionError);
    expect(() => localRx(s.cube, { innerWindow: 5, outerWindow: 5 })).toThrow(InvalidOptionError);
  });
});

describe('index-backed DBSCAN against scikit-learn', () => {
  const fx = JSON.parse(readFileSync(new URL('../fixtures/xrf/dbscan-sklearn.json', import.meta.url), 'utf8')) as {
    cases: { name: string; dims: number; eps: number; minSamples: number; points: number[]; labels: number[]; core: number[] }[];
  };
  for (const c of fx.cases) {
    it(`${c.name}: core points and labels equal sklearn.cluster.DBSCAN's (exact, incl. numbering and border ties)`, () => {
      const r = dbscan(Float64Array.from(c.points), c.dims, c.eps, c.minSamples);
      expect(Array.from(r.isCore)).toEqual(c.core);
      expect(Array.from(r.labels)).toEqual(c.labels);
    });
  }
  it('rejects bad options', () => {
    expect(() => dbscan(new Float64Array(10), 5, 0.1, 3)).toThrow(InvalidOptionError);
    expect(() => dbscan(new Float64Array(6), 3, 0, 3)).toThrow(InvalidOptionError);
    expect(() => dbscan(Float64Array.from([0, NaN]), 1, 0.1, 1)).toThrow(/non-finite/);
  });
});

describe('synthetic micro-XRF sample', () => {
  it('is reproducible from its seed and changes with it', () => {
    const a = syntheticSample({ rows: 20, cols: 20, channels: 16, seed: 5 });
    const b = syntheticSample({ rows: 20, cols: 20, channels: 16, seed: 5 });
    const c = syntheticSample({ rows: 20, cols: 20, channels: 16, seed: 6 });
    expect(Array.from(a.cube.pixels)).toEqual(Array.from(b.cube.pixels));
    expect(Array.from(a.cube.pixels)).not.toEqual(Array.from(c.cube.pixels));
  });
  it('has Poisson counts with the requested mean, mixed pixels, and a truth mask from the inclusion fraction', () => {
    const s = syntheticSample({ rows: 64, cols: 64, seed: 9, countsPerPixel: 2000 });
    const { cube } = s;
    let total = 0;
    let nonInteger = 0;
    for (const v of cube.pixels) {
      if (!Number.isInteger(v) || v < 0) nonInteger++;
      total += v;
    }
    expect(nonInteger).toBe(0);
    // Mean counts per pixel: 2000 × mean topography factor (1 ± 0.15 sinusoid, mean ≈ 1); tolerance 5 %.
    expect(Math.abs(total / (64 * 64) / 2000 - 1)).toBeLessThan(0.05);
    const partial = s.anomalyFraction.filter((f) => f > 0 && f < 1).length;
    expect(partial).toBeGreaterThan(0);
    expect(Array.from(cube.truth!)).toEqual(Array.from(s.anomalyFraction, (f) => (f >= 0.1 ? 1 : 0)));
    const anomalies = cube.truth!.reduce((a, v) => a + v, 0);
    expect(anomalies).toBeGreaterThan(0);
    expect(anomalies / cube.truth!.length).toBeLessThan(0.05);
  });
  it('has detectable anomalies: global RX AUC > 0.9', () => {
    const s = syntheticSample({ rows: 64, cols: 64, seed: 3 });
    expect(rocAuc(s.cube.truth!, globalRx(s.cube))).toBeGreaterThan(0.9);
  });
});

describe('pseudo-labels', () => {
  it('marks the anomaly proportion, weights in [0, 1], and enriches true anomalies', () => {
    const s = syntheticSample({ rows: 80, cols: 80, seed: 11 });
    const cube = normalizeCube(s.cube, 'minmax-band');
    const p = pseudoLabels(cube, { anomalyProportion: 0.02 });
    const n = 80 * 80;
    expect(p.pseudoAnomaly.reduce((a, v) => a + v, 0)).toBe(Math.round(0.02 * n));
    for (let i = 0; i < n; i++) {
      expect(p.weights[i]).toBeGreaterThanOrEqual(0);
      expect(p.weights[i]).toBeLessThanOrEqual(1);
      if (p.pseudoAnomaly[i]) expect(p.weights[i]).toBe(0);
    }
    expect(p.clusterCount).toBeGreaterThanOrEqual(1);
    expect(p.endmemberCount).toBeLessThanOrEqual(4);
    // Precision of pseudo-anomalies must beat the base rate by far (they are suspects, not truth).
    const truth = s.cube.truth!;
    const hits = p.pseudoAnomaly.reduce((a, v, i) => a + (v && truth[i] ? 1 : 0), 0);
    const base = truth.reduce((a, v) => a + v, 0) / n;
    expect(hits / Math.round(0.02 * n)).toBeGreaterThan(5 * base);
    // Divergence is a usable anomaly score on its own.
    expect(rocAuc(truth, p.divergence)).toBeGreaterThan(0.7);
  });
  it('validates options', () => {
    const s = syntheticSample({ rows: 10, cols: 10, channels: 6, seed: 1 });
    expect(() => pseudoLabels(s.cube, { anomalyProportion: 0.7 })).toThrow(InvalidOptionError);
    expect(() => pseudoLabels(s.cube, { bandwidth: 0 })).toThrow(InvalidOptionError);
  });
});
