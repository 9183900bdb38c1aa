import { describe, expect, it } from 'vitest';
import { evaluateMap } from '../../main/eval/success-rate.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { EmptyInputError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';

/** Brute-force reference: walk cells one by one in decreasing score, grouping equal scores. */
function bruteForce(scores: number[], deposits: number[], exclude: boolean[]) {
  const cells = scores.map((s, i) => i).filter((i) => Number.isFinite(scores[i]) && !exclude[i]);
  const depCount = new Map<number, number>();
  for (const d of deposits) if (cells.includes(d)) depCount.set(d, (depCount.get(d) ?? 0) + 1);
  const D = [...depCount.values()].reduce((a, b) => a + b, 0);
  const N = cells.length;
  const distinct = [...new Set(cells.map((i) => scores[i]))].sort((a, b) => b - a);
  const pts: { t: number; a: number; p: number }[] = [];
  for (const t of distinct) {
    const above = cells.filter((i) => scores[i] >= t);
    pts.push({ t, a: above.length / N, p: above.reduce((s, i) => s + (depCount.get(i) ?? 0), 0) / D });
  }
  let auc = 0;
  let pa = 0;
  let pp = 0;
  for (const q of pts) {
    auc += ((q.a - pa) * (q.p + pp)) / 2;
    pa = q.a;
    pp = q.p;
  }
  return { pts, auc, N, D };
}

describe('evaluateMap (success rate, P–A, AUC)', () => {
  it('matches a hand-worked 6-cell example', () => {
    // Scores 6..1; one deposit in the top cell and one in the 4th: success rate (0,0) (1/6,1/2)
    // (3/6,1/2) (4/6,1) (1,1); area under it = 1/6·1/4 + 2/6·1/2 + 1/6·3/4 + 2/6·1 = 2/3.
    const e = evaluateMap([6, 5, 4, 3, 2, 1], [0, 3]);
    expect(e.successRate.areaShare).toEqual([0, 1 / 6, 3 / 6, 4 / 6, 1]);
    expect(e.successRate.depositShare).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(e.successRate.thresholds).toEqual([7, 6, 4, 3, 1]);
    expect(Math.abs(e.successRate.auc - 2 / 3)).toBeLessThanOrEqual(1e-15);
    // ROC: deposits at ranks 1 and 4 among 6: negatives below = 4 and 2 of 4 → (4 + 2) / 8.
    expect(Math.abs(e.auc - 6 / 8)).toBeLessThanOrEqual(1e-15);
    // P–A: g = P + A − 1 at t = 4: 0.5 + 0.5 − 1 = 0 → intersection exactly at t = 4, P = A = 0.5.
    expect(e.paIntersection.threshold).toBeCloseTo(4, 14);
    expect(e.paIntersection.predictionRate).toBeCloseTo(0.5, 14);
    expect(e.paIntersection.areaShare).toBeCloseTo(0.5, 14);
    expect(e.paIntersection.normalizedDensity).toBeCloseTo(1, 14);
    expect(e.paIntersection.weight).toBeCloseTo(0, 14);
  });

  it('equals a brute-force walk on a random map with ties, nodata, exclusions and repeated deposits (1e-12)', () => {
    const rng = new Rng(11);
    const n = 600;
    const scores = Array.from({ length: n }, () => (rng.uniform() < 0.05 ? NaN : Math.round(rng.uniform() * 40) / 40));
    const exclude = Array.from({ length: n }, () => rng.uniform() < 0.1);
    const deposits = Array.from({ length: 25 }, () => rng.int(n));
    deposits.push(deposits[0], deposits[1]);
    const e = evaluateMap(scores, deposits, { exclude });
    const ref = bruteForce(scores, deposits, exclude);
    expect(e.counts.studyCells).toBe(ref.N);
    expect(e.counts.depositsUsed).toBe(ref.D);
    expect(e.counts.depositsUsed + e.counts.depositsInNodata + e.counts.depositsExcluded).toBe(deposits.length);
    expect(Math.abs(e.successRate.auc - ref.auc)).toBeLessThanOrEqual(1e-12);
    // Every returned corner lies on the brute-force curve at its threshold.
    e.successRate.thresholds.slice(1).forEach((t, j) => {
      const q = ref.pts.find((p) => p.t === t)!;
      expect(Math.abs(e.successRate.areaShare[j + 1] - q.a)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(e.successRate.depositShare[j + 1] - q.p)).toBeLessThanOrEqual(1e-12);
    });
    // And the corners reproduce the curve: linear interpolation between them hits every point.
    for (const q of ref.pts) {
      const xs = e.successRate.areaShare;
      const j = xs.findIndex((x) => x >= q.a - 1e-15);
      const y = xs[j] === q.a ? e.successRate.depositShare[j] : e.successRate.depositShare[j - 1] + ((q.a - xs[j - 1]) / (xs[j] - xs[j - 1])) * (e.successRate.depositShare[j] - e.successRate.depositShare[j - 1]);
      expect(Math.abs(y - q.p)).toBeLessThanOrEqual(1e-12);
    }
    // ROC AUC of deposit cells vs the rest of the study area.
    const study = scores.map((_, i) => i).filter((i) => Number.isFinite(scores[i]) && !exclude[i]);
    const depSet = new Set(deposits);
    expect(e.auc).toBe(rocAuc(study.map((i) => (depSet.has(i) ? 1 : 0)), study.map((i) => scores[i])));
    // P–A: at the intersection the captured share and the area share sum to one.
    expect(Math.abs(e.paIntersection.predictionRate + e.paIntersection.areaShare - 1)).toBeLessThanOrEqual(1e-12);
    // The P–A curve samples the same cumulative shares.
    e.pa.thresholds.forEach((t, j) => {
      const above = study.filter((i) => scores[i] >= t);
      const dep = deposits.filter((d) => study.includes(d) && scores[d] >= t).length;
      expect(Math.abs(e.pa.occupiedArea[j] - (1 - above.length / study.length))).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(e.pa.predictionRate[j] - dep / ref.D)).toBeLessThanOrEqual(1e-12);
    });
  });

  it('a map that ranks every deposit first scores a success-rate AUC near 1 and ROC AUC 1', () => {
    const n = 10_000;
    const scores = Array.from({ length: n }, (_, i) => i / n);
    const e = evaluateMap(scores, [n - 1, n - 2, n - 3]);
    expect(e.auc).toBe(1);
    expect(e.successRate.auc).toBeGreaterThan(0.9998);
    expect(e.paIntersection.predictionRate).toBeGreaterThan(0.999);
  });

  it('refuses deposits that are all excluded or on nodata (named error)', () => {
    expect(() => evaluateMap([0.1, NaN, 0.3], [1])).toThrow(EmptyInputError);
    expect(() => evaluateMap([0.1, 0.2, 0.3], [0], { exclude: [1, 0, 0] })).toThrow(/excluded training-site/);
  });
});
