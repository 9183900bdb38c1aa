import { describe, expect, it } from 'vitest';
import { biplotData, caPlotData, classCounts, moveBreak, nearestBreak, parseBreaks, successRateData, type EvalReport } from '../../renderer/src/lib/compare-charts.ts';
import { evaluateMap } from '../../main/eval/success-rate.ts';
import { anomalyClasses, concentrationArea } from '../../main/eval/concentration-area.ts';
import { Rng } from '../../main/util/rng.ts';
import { gradCamPixels, hotColor, quiverGeometry } from '../../renderer/src/lib/explain-draw.ts';

/** Chart data of the Compare tab (renderer/src/lib/compare-charts.ts), checked against the compute core's own results. */

function evalReport(scores: number[], deposits: number[]): EvalReport {
  const e = evaluateMap(scores, deposits);
  const ca = concentrationArea(scores, { segments: 2 });
  return {
    auc: e.auc,
    successRate: e.successRate,
    paIntersection: e.paIntersection,
    caBreaks: ca.breaks,
    pa: e.pa,
    ca: { source: ca.source, areaUnit: 'cells', thresholds: ca.thresholds, area: ca.area, segments: ca.segments, rss: ca.rss, nonPositiveCells: ca.nonPositiveCells },
    counts: e.counts,
    inputs: { map: 'm.tif', band: 'p', deposits: 'd.geojson', excludeTraining: null, classes: null },
  };
}

describe('success-rate chart data', () => {
  it('draws the hand-worked 6-cell example: corners, AUC 2/3 and the P–A intersection at P = A = ½', () => {
    // Reference: tests/eval/success-rate.test.ts's hand computation of the same map.
    const d = successRateData(evalReport([6, 5, 4, 3, 2, 1], [0, 3]));
    expect(d.curve).toEqual([
      { x: 0, y: 0 },
      { x: 1 / 6, y: 0.5 },
      { x: 3 / 6, y: 0.5 },
      { x: 4 / 6, y: 1 },
      { x: 1, y: 1 },
    ]);
    expect(Math.abs(d.auc - 2 / 3)).toBeLessThanOrEqual(1e-15);
    expect(Math.abs(d.mapAuc - 6 / 8)).toBeLessThanOrEqual(1e-15);
    expect(Math.abs(d.intersection.x - 0.5)).toBeLessThanOrEqual(1e-14);
    expect(Math.abs(d.intersection.y - 0.5)).toBeLessThanOrEqual(1e-14);
    expect(d.summary).toBe('P–A: 50.0% of deposits in 50.0% of the area (threshold 4.000)');
  });
});

describe('C–A chart data', () => {
  // An exact two-population power law (as tests/eval/concentration-area.test.ts builds it): area(v) ∝ v^−0.5 below 0.05, v^−3 above.
  const values: number[] = [];
  for (let i = 1; i <= 20000; i++) {
    const a = i; // cells with value ≥ v: a = c·v^−β
    const v = a > 2000 ? (2000 / a) ** 2 * 0.05 : (2000 / a) ** (1 / 3) * 0.05;
    values.push(v);
  }
  const rep = evalReport(values, [0, 1, 2]);

  it('plots every positive level, one line per fitted segment on its own range, and vertical break lines', () => {
    const d = caPlotData(rep.ca, rep.caBreaks);
    expect(d.points).toHaveLength(rep.ca.thresholds.filter((v, i) => v > 0 && rep.ca.area[i] > 0).length);
    expect(d.lines).toHaveLength(rep.ca.segments.length);
    expect(rep.ca.segments).toHaveLength(2);
    // Each segment's line follows the data it was fitted to: log-residuals ≤ 0.05 decade at every level
    // holding ≥ 10 cells (the top levels hold 1–9 cells, whose integer counts bend the curve; docs/evaluation.md).
    rep.ca.segments.forEach((s, k) => {
      const [a, b] = d.lines[k];
      expect(Math.log10(a.x)).toBeCloseTo(s.fromLogV, 12);
      expect(Math.log10(b.x)).toBeCloseTo(s.toLogV, 12);
      const slope = (Math.log10(b.y) - Math.log10(a.y)) / (Math.log10(b.x) - Math.log10(a.x));
      expect(Math.abs(slope - s.slope)).toBeLessThanOrEqual(1e-9);
      for (const p of d.points.filter((q) => q.y >= 10 && Math.log10(q.x) >= s.fromLogV && Math.log10(q.x) <= s.toLogV)) {
        expect(Math.abs(Math.log10(p.y) - (s.intercept + s.slope * Math.log10(p.x)))).toBeLessThanOrEqual(0.05);
      }
    });
    // The automatic break lies at the populations' change (0.05) within one level (reference: the construction).
    expect(d.breaks).toHaveLength(1);
    expect(Math.abs(Math.log10(d.breaks[0].value) - Math.log10(0.05))).toBeLessThanOrEqual(0.05);
    expect(d.breaks[0].line[0]).toEqual({ x: d.breaks[0].value, y: d.yMin });
    expect(d.breaks[0].line[1]).toEqual({ x: d.breaks[0].value, y: d.yMax });
  });

  it('counts cells per class exactly as anomalyClasses classifies them', () => {
    const rng = new Rng(4);
    const v = Array.from({ length: 500 }, () => (rng.uniform() < 0.05 ? NaN : rng.uniform()));
    v[3] = 0.2; // exactly on a break: the upper class (≥)
    const breaks = [0.2, 0.5, 0.9];
    const ref = [0, 0, 0, 0];
    for (const c of anomalyClasses(v, breaks)) if (!Number.isNaN(c)) ref[c - 1]++;
    expect(classCounts(v, breaks)).toEqual(ref);
  });

  it('parses typed breaks, keeps dragged breaks in order, finds the break under the pointer', () => {
    expect(parseBreaks('0.2, 0.5 0.9')).toEqual([0.2, 0.5, 0.9]);
    expect(parseBreaks('')).toBe('give at least one break value');
    expect(parseBreaks('0.5, 0.2')).toBe('breaks must increase: 0.5 then 0.2');
    expect(parseBreaks('0.1, x')).toBe('"x" is not a positive number');
    expect(parseBreaks('-1')).toBe('"-1" is not a positive number');
    expect(moveBreak([0.2, 0.5, 0.9], 1, 0.7)).toEqual([0.2, 0.7, 0.9]);
    const clamped = moveBreak([0.2, 0.5, 0.9], 1, 1.5);
    expect(clamped[1]).toBeLessThan(0.9);
    expect(clamped[1]).toBeGreaterThan(0.9 * (1 - 1e-5));
    expect(moveBreak([0.2, 0.5], 0, 0.01)).toEqual([0.01, 0.5]);
    expect(nearestBreak(103, [40, 100, 200])).toBe(1);
    expect(nearestBreak(150, [40, 100, 200])).toBeNull();
    expect(nearestBreak(45, [40, 100, 200], 4)).toBeNull();
  });
});

describe('RPCA biplot data', () => {
  it('one arrow per element along its PC1/PC2 loadings, the longest reaching 0.9 of the score cloud', () => {
    const loadings = [
      [0.8, 0.1],
      [-0.3, 0.9],
      [0.5, -0.4],
    ];
    const d = biplotData({
      bands: ['Au', 'Cu', 'As'],
      transform: 'log10',
      loadings,
      explained: [0.612, 0.25, 0.138],
      biplot: { pc1: [1, -4, 2.5], pc2: [0.5, 3, -1] },
      outputs: { scores: 's.tif', robustDistance: 'd.tif' },
    });
    expect(d.arrows.map((a) => a.label)).toEqual(['Au', 'Cu', 'As']);
    const lengths = d.arrows.map((a) => Math.hypot(a.x, a.y));
    // Reference: the largest |score| is 4, so the longest arrow is 0.9 × 4 (1e-12).
    expect(Math.abs(Math.max(...lengths) - 3.6)).toBeLessThanOrEqual(1e-12);
    d.arrows.forEach((a, i) => {
      expect(a.pc1).toBe(loadings[i][0]);
      expect(Math.abs(a.x * loadings[i][1] - a.y * loadings[i][0])).toBeLessThanOrEqual(1e-12); // same direction
    });
    expect(d.points).toEqual([
      { x: 1, y: 0.5 },
      { x: -4, y: 3 },
      { x: 2.5, y: -1 },
    ]);
    expect(d.xLabel).toBe('PC1 (61.2%)');
    expect(d.yLabel).toBe('PC2 (25.0%)');
  });
});

describe('site panel drawing', () => {
  it('Grad-CAM colours follow matplotlib 3.6.3 "hot" (values from cm.get_cmap("hot"), ±2/255: its 256-entry table)', () => {
    const ref: [number, [number, number, number]][] = [
      [0, [11, 0, 0]],
      [0.2, [144, 0, 0]],
      [0.5, [255, 92, 0]],
      [0.8, [255, 255, 54]],
      [1, [255, 255, 255]],
    ];
    for (const [t, rgb] of ref) hotColor(t).forEach((c, k) => expect(Math.abs(c - rgb[k])).toBeLessThanOrEqual(2));
    // Pixels are value / peak; an all-zero map (ReLU killed everything) stays at the bottom colour.
    const px = gradCamPixels([0, 0.5, 1, 2], 2, 2);
    expect(Array.from(px.slice(8, 12))).toEqual([...hotColor(0.5), 255]);
    expect(Array.from(px.slice(12, 16))).toEqual([255, 255, 255, 255]);
    expect(Array.from(gradCamPixels([0, 0, 0, 0], 2, 0).slice(0, 4))).toEqual([...hotColor(0), 255]);
  });

  it('quiver: mean arrows scaled to 0.45 cell, centre taps from the regular 3×3 grid to the learned points', () => {
    // A 3×3 layer output whose centre cell's taps are all shifted by (Δy, Δx) = (0.5, −0.25).
    const taps = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) taps.push({ row: a + 0.5, col: b - 0.25, dy: 0.5, dx: -0.25, mask: 0.5 });
    const q = quiverGeometry({
      layer: 'dcn1',
      height: 3,
      width: 3,
      kernel: [3, 3],
      meanDx: [0, 0, 0, 0, -0.25, 0, 0, 0, 0.1],
      meanDy: [0, 0, 0, 0, 0.5, 0, 0, 0, 0],
      meanMagnitude: [0, 0, 0, 0, Math.hypot(0.5, 0.25), 0, 0, 0, 0.1],
      meanMaskPerCell: new Array(9).fill(0.5),
      centreTaps: taps,
      meanOffsetCells: 0.07,
      meanMask: 0.5,
    });
    expect(q.cells[4]).toMatchObject({ x: 1.5, y: 1.5, dx: -0.25, dy: 0.5 });
    expect(Math.abs(Math.hypot(q.cells[4].dx, q.cells[4].dy) * q.arrowScale - 0.45)).toBeLessThanOrEqual(1e-12);
    // Tap (a, b) starts on input cell (a, b) of the 3×3 neighbourhood (centres at +0.5) and ends shifted by the offset.
    q.taps.forEach((t, k) => {
      expect([t.x0, t.y0]).toEqual([(k % 3) + 0.5, Math.floor(k / 3) + 0.5]);
      expect(t.x1 - t.x0).toBeCloseTo(-0.25, 12);
      expect(t.y1 - t.y0).toBeCloseTo(0.5, 12);
    });
  });
});
