import { describe, expect, it } from 'vitest';
import { Matrix, solve } from 'ml-matrix';
import { anomalyClasses, concentrationArea } from '../../main/eval/concentration-area.ts';
import { InvalidOptionError } from '../../main/errors.ts';

/**
 * Values whose C–A curve is an exact piecewise power law: the r-th largest value v(r) solves
 * A(v) = r with A(v) = c_i · v^(−β_i) on population i, continuous at the breaks, A(1) = 1 at
 * the top, down to vmin (which fixes the number of cells).
 */
function multifractal(vmin: number, breaks: number[], betas: number[]): Float32Array {
  const cs: number[] = new Array(betas.length);
  cs[betas.length - 1] = 1;
  for (let i = betas.length - 2; i >= 0; i--) cs[i] = (cs[i + 1] * breaks[i] ** -betas[i + 1]) / breaks[i] ** -betas[i];
  const n = Math.floor(cs[0] * vmin ** -betas[0]);
  const out = new Float32Array(n);
  for (let r = 1; r <= n; r++) {
    let v = 0;
    for (let i = betas.length - 1; i >= 0; i--) {
      v = (r / cs[i]) ** (-1 / betas[i]);
      if (i === 0 || v >= breaks[i - 1]) break;
    }
    out[r - 1] = v;
  }
  return out;
}

function nearestLogDistance(found: number[], wanted: number): number {
  return Math.min(...found.map((x) => Math.abs(Math.log10(x) - Math.log10(wanted))));
}

describe('concentration–area fractal model', () => {
  it('recovers the slopes and break of a two-population power law (break within one level, slopes ±0.1)', () => {
    // 56,568 cells: background β = 0.5 on [0.001, 0.05), anomaly β = 3 on [0.05, 1].
    const values = multifractal(0.001, [0.05], [0.5, 3]);
    const ca = concentrationArea(values, { segments: 2 });
    expect(ca.breaks.length).toBe(1);
    const levelStep = ca.log10Threshold[1] - ca.log10Threshold[0];
    expect(nearestLogDistance(ca.breaks, 0.05)).toBeLessThanOrEqual(levelStep);
    // ±0.1: the top levels hold 1–10 cells, whose integer counts bend the last segment slightly.
    expect(Math.abs(ca.segments[0].slope + 0.5)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(ca.segments[1].slope + 3)).toBeLessThanOrEqual(0.1);
  });

  it('finds three populations automatically (BIC, 2–4 segments) with both breaks within one level', () => {
    const values = multifractal(0.001, [0.02, 0.2], [0.4, 1.5, 4]);
    const ca = concentrationArea(values);
    expect(ca.source).toBe('auto');
    // BIC may add a short fourth segment for the few-cell tail at the top; the true breaks must be there.
    expect(ca.segments.length).toBeGreaterThanOrEqual(3);
    const step = ca.log10Threshold[1] - ca.log10Threshold[0];
    for (const b of [0.02, 0.2]) expect(nearestLogDistance(ca.breaks, b)).toBeLessThanOrEqual(step);
    expect(Math.abs(ca.segments[0].slope + 0.4)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(ca.segments[1].slope + 1.5)).toBeLessThanOrEqual(0.1);
  });

  it('the dynamic programme equals an exhaustive search over every 2-segment cut (RSS to 1e-9)', () => {
    const values = multifractal(0.002, [0.1], [1, 3]);
    for (let i = 0; i < values.length; i += 7) values[i] *= 1 + 0.3 * Math.sin(i);
    const ca = concentrationArea(values, { segments: 2, levels: 40, minPointsPerSegment: 3 });
    const x = ca.log10Threshold;
    const y = ca.log10Area;
    const rssOf = (from: number, to: number): number => {
      const X = new Matrix(to - from, 2);
      const Y = new Matrix(to - from, 1);
      for (let i = from; i < to; i++) {
        X.set(i - from, 0, 1);
        X.set(i - from, 1, x[i]);
        Y.set(i - from, 0, y[i]);
      }
      const beta = solve(X, Y, true);
      let s = 0;
      for (let i = from; i < to; i++) s += (y[i] - beta.get(0, 0) - beta.get(1, 0) * x[i]) ** 2;
      return s;
    };
    let best = Infinity;
    for (let cut = 3; cut <= x.length - 3; cut++) best = Math.min(best, rssOf(0, cut) + rssOf(cut, x.length));
    expect(Math.abs(ca.rss - best)).toBeLessThanOrEqual(1e-9);
  });

  it('uses user-edited breaks as given and classes the raster by them', () => {
    const values = multifractal(0.002, [0.1], [1, 3]);
    const ca = concentrationArea(values, { breaks: [0.05, 0.3] });
    expect(ca.source).toBe('user');
    expect(ca.breaks).toEqual([0.05, 0.3]);
    const classes = anomalyClasses([0.01, 0.05, 0.2, 0.3, 0.9, NaN], ca.breaks);
    expect(Array.from(classes)).toEqual([1, 2, 2, 3, 3, NaN]);
  });

  it('counts non-positive cells instead of taking their logarithm, and validates options', () => {
    const values = Float32Array.from([...multifractal(0.01, [0.1], [1, 3]), 0, -1, NaN]);
    expect(concentrationArea(values, { segments: 2 }).nonPositiveCells).toBe(2);
    expect(() => concentrationArea(values, { breaks: [0.3, 0.1] })).toThrow(InvalidOptionError);
    expect(() => concentrationArea(values, { levels: 5 })).toThrow(InvalidOptionError);
    expect(() => concentrationArea([0, -1, NaN])).toThrow(/no cell has a finite positive value/);
  });
});
