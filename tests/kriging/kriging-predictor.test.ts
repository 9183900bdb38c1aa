import { describe, expect, it } from 'vitest';
import { Matrix, solve } from 'ml-matrix';
import { KrigingPredictor, type PredictionOutput } from '../../main/kriging/kriging-predictor.ts';
import { covarianceFunction, type VariogramModel } from '../../main/kriging/variogram-model.ts';
import { SingularSystemError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';

const SPH: VariogramModel = { type: 'sph', nugget: 0.1, psill: 1, rangeM: 300 };
const out = (): PredictionOutput => ({ pred: new Float64Array(1), variance: new Float64Array(1), lagrange: new Float64Array(1) });
const opts = (nmax: number, extra: Partial<{ nmin: number; maxDistM: number; mean: number | null }> = {}) => ({ nmax, nmin: 1, maxDistM: Infinity, mean: null, maxGlobalPoints: 2000, ...extra });

function randomPoints(seed: number, n: number) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => rng.range(-500, 500));
  const y = Float64Array.from({ length: n }, () => rng.range(-500, 500));
  const z = Float64Array.from(x, (v, i) => Math.sin(v / 150) + 0.5 * Math.cos(y[i] / 90) + rng.normal(0, 0.1));
  return { x, y, z };
}

// Reference: the textbook bordered ordinary-kriging system [Γ 1; 1ᵀ 0][λ; μ] = [γ₀; 1] in
// semivariances, solved with ml-matrix's LU (σ² = λᵀγ₀ + μ; Cressie 1993, eq. 3.2.12–3.2.13).
function textbookOk(x: Float64Array, y: Float64Array, z: Float64Array, m: VariogramModel, qx: number, qy: number): { pred: number; variance: number } {
  const n = x.length;
  const cov = covarianceFunction(m);
  const sill = m.nugget + m.psill;
  const g = (h: number): number => sill - cov(h);
  const a = Matrix.zeros(n + 1, n + 1);
  const b = Matrix.zeros(n + 1, 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a.set(i, j, g(Math.hypot(x[i] - x[j], y[i] - y[j])));
    a.set(i, n, 1);
    a.set(n, i, 1);
    b.set(i, 0, g(Math.hypot(x[i] - qx, y[i] - qy)));
  }
  b.set(n, 0, 1);
  const s = solve(a, b);
  let pred = 0, variance = s.get(n, 0);
  for (let i = 0; i < n; i++) {
    pred += s.get(i, 0) * z[i];
    variance += s.get(i, 0) * b.get(i, 0);
  }
  return { pred, variance };
}

describe('kriging predictor', () => {
  it('global ordinary kriging equals the textbook bordered system (relative 1e-10)', () => {
    const { x, y, z } = randomPoints(1, 60);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(Infinity));
    const o = out();
    for (const [qx, qy] of [[0, 0], [123.4, -321], [600, 600], [x[5], y[5] + 0.5]]) {
      p.predict(qx, qy, o);
      const ref = textbookOk(x, y, z, SPH, qx, qy);
      expect(Math.abs(o.pred[0] - ref.pred) / Math.abs(ref.pred)).toBeLessThan(1e-10);
      expect(Math.abs(o.variance[0] - ref.variance) / ref.variance).toBeLessThan(1e-10);
    }
  });

  it('is an exact interpolator: at a sample the prediction is the sample and the variance 0', () => {
    const { x, y, z } = randomPoints(2, 40);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(16));
    const o = out();
    p.predict(x[7], y[7], o);
    expect(o.pred[0]).toBeCloseTo(z[7], 10);
    expect(o.variance[0]).toBeLessThan(1e-10);
  });

  it('neighbourhood kriging: updated factors give the same numbers as fresh factorisations (relative 1e-9)', () => {
    const { x, y, z } = randomPoints(3, 800);
    const chained = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(24));
    const fresh = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(24));
    // Along +x the chained factor is built trailing-points-last and then updated in place.
    chained.setTravelDirection(1, 0);
    const a = out(), b = out();
    let cells = 0;
    for (let r = 0; r < 20; r++) {
      for (let c = 0; c < 60; c++) {
        const qx = -480 + c * 16, qy = -300 + r * 13;
        chained.predict(qx, qy, a);
        fresh.resetFactor();
        fresh.predict(qx, qy, b);
        expect(Math.abs(a.pred[0] - b.pred[0])).toBeLessThan(1e-9 * Math.max(1, Math.abs(b.pred[0])));
        expect(Math.abs(a.variance[0] - b.variance[0])).toBeLessThan(1e-9 * b.variance[0]);
        cells++;
      }
    }
    expect(cells).toBe(1200);
  });

  it('neighbourhood kriging equals the textbook system on the k nearest points (relative 1e-10)', () => {
    const { x, y, z } = randomPoints(4, 300);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(12));
    const o = out();
    const qx = 37, qy = -81;
    p.predict(qx, qy, o);
    const near = Array.from(x, (_, i) => i).sort((i, j) => Math.hypot(x[i] - qx, y[i] - qy) - Math.hypot(x[j] - qx, y[j] - qy)).slice(0, 12);
    const ref = textbookOk(Float64Array.from(near, (i) => x[i]), Float64Array.from(near, (i) => y[i]), Float64Array.from(near, (i) => z[i]), SPH, qx, qy);
    expect(Math.abs(o.pred[0] - ref.pred) / Math.abs(ref.pred)).toBeLessThan(1e-10);
    expect(Math.abs(o.variance[0] - ref.variance) / ref.variance).toBeLessThan(1e-10);
  });

  it('radius-only neighbourhood (maxdist, no nmax) widens its factors on demand and equals the textbook system (relative 1e-10)', () => {
    const { x, y, z } = randomPoints(7, 400);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(Infinity, { maxDistM: 260 }));
    const o = out();
    for (const [qx, qy] of [[-400, -400], [0, 0], [10, 5]]) {
      const near = Array.from(x, (_, i) => i).filter((i) => Math.hypot(x[i] - qx, y[i] - qy) <= 260);
      expect(p.predict(qx, qy, o)).toBe(near.length);
      const ref = textbookOk(Float64Array.from(near, (i) => x[i]), Float64Array.from(near, (i) => y[i]), Float64Array.from(near, (i) => z[i]), SPH, qx, qy);
      expect(Math.abs(o.pred[0] - ref.pred) / Math.abs(ref.pred)).toBeLessThan(1e-10);
      expect(Math.abs(o.variance[0] - ref.variance) / ref.variance).toBeLessThan(1e-10);
    }
    // The centre query has more than the initial 64-row capacity of neighbours.
    expect(Array.from(x).filter((_, i) => Math.hypot(x[i], y[i]) <= 260).length).toBeGreaterThan(64);
  });

  it('leave-one-out: the closed form (global) and the neighbourhood path equal refitting without the point (relative 1e-9)', () => {
    const { x, y, z } = randomPoints(5, 50);
    for (const nmax of [Infinity, 10]) {
      const loo = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(nmax)).leaveOneOut()[0];
      for (const i of [0, 17, 49]) {
        const keep = Array.from(x, (_, j) => j).filter((j) => j !== i);
        const sub = new KrigingPredictor(Float64Array.from(keep, (j) => x[j]), Float64Array.from(keep, (j) => y[j]), [{ name: 'z', z: Float64Array.from(keep, (j) => z[j]), model: SPH }], opts(nmax));
        const o = out();
        sub.predict(x[i], y[i], o);
        expect(Math.abs(loo.pred[i] - o.pred[0]) / Math.abs(o.pred[0])).toBeLessThan(1e-9);
        expect(Math.abs(loo.variance[i] - o.variance[0]) / o.variance[0]).toBeLessThan(1e-9);
      }
    }
  });

  it('names a singular system: coincident points, or a Gaussian model without nugget on close points', () => {
    const x = Float64Array.of(0, 0, 100, 50), y = Float64Array.of(0, 0, 30, 80), z = Float64Array.of(1, 2, 3, 4);
    expect(() => new KrigingPredictor(x, y, [{ name: 'Cu', z, model: SPH }], opts(Infinity))).toThrow(SingularSystemError);
    expect(() => new KrigingPredictor(x, y, [{ name: 'Cu', z, model: SPH }], opts(Infinity))).toThrow(/variable "Cu" is singular.*Merge duplicate points/);
    const gx = Float64Array.from({ length: 30 }, (_, i) => i * 0.01), gy = new Float64Array(30);
    const gau: VariogramModel = { type: 'gau', nugget: 0, psill: 1, rangeM: 1000 };
    expect(() => new KrigingPredictor(gx, gy, [{ name: 'Au', z: Float64Array.from(gx), model: gau }], opts(Infinity))).toThrow(SingularSystemError);
  });

  it('too few neighbours within maxdist: NaN output and the neighbour count returned (never a silent value)', () => {
    const x = Float64Array.of(0, 10, 20), y = Float64Array.of(0, 0, 0), z = Float64Array.of(1, 2, 3);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(3, { nmin: 2, maxDistM: 15 }));
    const o = out();
    expect(p.predict(-10, 0, o)).toBe(1);
    expect(Number.isNaN(o.pred[0]) && Number.isNaN(o.variance[0])).toBe(true);
    expect(p.predict(5, 0, o)).toBe(3);
    expect(Number.isFinite(o.pred[0])).toBe(true);
  });

  it('simple kriging far from the data returns the known mean with the full sill as variance (exact)', () => {
    const { x, y, z } = randomPoints(6, 30);
    const p = new KrigingPredictor(x, y, [{ name: 'z', z, model: SPH }], opts(Infinity, { mean: 0.25 }));
    const o = out();
    p.predict(5000, 5000, o);
    expect(o.pred[0]).toBe(0.25);
    expect(o.variance[0]).toBeCloseTo(SPH.nugget + SPH.psill, 12);
  });
});
