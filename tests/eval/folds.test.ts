import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { groupedStratifiedKFold, MixedGroupLabelError, summarize, TooFewGroupsError } from '../../main/eval/folds.ts';
import { studentTQuantile } from '../../main/eval/student-t.ts';
import { InvalidOptionError } from '../../main/errors.ts';

// Reference for t quantiles and summaries: mpmath 1.2 (40 digits) and numpy via tests/fixtures/metrics/make_fixtures.py.
const tFixture = JSON.parse(readFileSync(new URL('../fixtures/metrics/student-t.json', import.meta.url), 'utf8')) as {
  quantiles: { p: number; df: number; q: number }[];
  summaries: { values: number[]; mean: number; sd: number; ci95: [number, number]; n: number }[];
};

/** A site-structured data set like the case study: each site is a 3×3 block (9 samples). */
function sites(positives: number, negatives: number, membersPerSite = 9): { labels: number[]; groups: string[] } {
  const labels: number[] = [];
  const groups: string[] = [];
  for (let s = 0; s < positives + negatives; s++) {
    for (let m = 0; m < membersPerSite; m++) {
      labels.push(s < positives ? 1 : 0);
      groups.push(`site-${s}`);
    }
  }
  return { labels, groups };
}

function checkInvariants(labels: number[], groups: string[], k: number, seed: number): void {
  const folds = groupedStratifiedKFold(labels, groups, k, seed);
  expect(folds.length).toBe(k);
  // Every sample is tested exactly once, and train is the complement of test.
  const testedIn = new Array<number>(labels.length).fill(-1);
  folds.forEach((f, fi) => {
    for (const i of f.test) {
      expect(testedIn[i]).toBe(-1);
      testedIn[i] = fi;
    }
    expect(f.train.length + f.test.length).toBe(labels.length);
    const inTest = new Set(f.test);
    for (const i of f.train) expect(inTest.has(i)).toBe(false);
  });
  expect(testedIn.every((f) => f >= 0)).toBe(true);
  // No group is split across folds.
  const foldOfGroup = new Map<string, number>();
  groups.forEach((g, i) => {
    const f = foldOfGroup.get(g);
    if (f === undefined) foldOfGroup.set(g, testedIn[i]);
    else expect(testedIn[i]).toBe(f);
  });
  // Stratification: per class, groups per test fold differ by at most one.
  for (const cls of [0, 1]) {
    const counts = new Array<number>(k).fill(0);
    for (const [g, f] of foldOfGroup) {
      const first = groups.indexOf(g);
      if (labels[first] === cls) counts[f]++;
    }
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
  }
}

describe('groupedStratifiedKFold', () => {
  it('keeps every site in one fold and stratifies within ±1 site per class (case-study shape: 10+10 sites of 9 cells)', () => {
    const { labels, groups } = sites(10, 10);
    for (const seed of [1, 2, 3, 42]) for (const k of [2, 3, 5, 10]) checkInvariants(labels, groups, k, seed);
  });

  it('holds the invariants for unequal site sizes, shuffled sample order and unbalanced classes', () => {
    const labels: number[] = [];
    const groups: string[] = [];
    // 7 positive sites of 1–9 samples, 23 negative sites of 1–5, samples interleaved.
    for (let s = 0; s < 30; s++) {
      const size = s < 7 ? 1 + ((s * 4) % 9) : 1 + (s % 5);
      for (let m = 0; m < size; m++) {
        labels.push(s < 7 ? 1 : 0);
        groups.push(`g${s}`);
      }
    }
    const order = labels.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    const l2 = order.map((i) => labels[i]);
    const g2 = order.map((i) => groups[i]);
    for (const seed of [5, 6, 7]) for (const k of [2, 4, 7]) checkInvariants(l2, g2, k, seed);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const { labels, groups } = sites(10, 10);
    const a = groupedStratifiedKFold(labels, groups, 5, 123);
    const b = groupedStratifiedKFold(labels, groups, 5, 123);
    expect(b).toEqual(a);
    const c = groupedStratifiedKFold(labels, groups, 5, 124);
    expect(c.map((f) => f.test)).not.toEqual(a.map((f) => f.test));
    // Across 10 seeds, the test folds are not all the same partition.
    const partitions = new Set<string>();
    for (let s = 0; s < 10; s++) {
      const f = groupedStratifiedKFold(labels, groups, 5, s);
      partitions.add(JSON.stringify(f.map((x) => x.test).sort((p, q) => p[0] - q[0])));
    }
    expect(partitions.size).toBeGreaterThan(5);
  });

  it('balances the number of samples per fold when sites have equal size', () => {
    const { labels, groups } = sites(10, 10);
    const sizes = groupedStratifiedKFold(labels, groups, 5, 9).map((f) => f.test.length);
    expect(sizes).toEqual([36, 36, 36, 36, 36]);
  });

  it('throws TooFewGroupsError when k exceeds the sites of a class', () => {
    const { labels, groups } = sites(4, 10);
    expect(() => groupedStratifiedKFold(labels, groups, 5, 1)).toThrow(TooFewGroupsError);
    expect(() => groupedStratifiedKFold(labels, groups, 5, 1)).toThrow(/only 4 group\(s\).*class 1.*k ≤ 4/);
  });

  it('throws MixedGroupLabelError for a site with both labels, InvalidOptionError for bad k or lengths', () => {
    expect(() => groupedStratifiedKFold([1, 0, 1, 0], ['a', 'a', 'b', 'c'], 2, 1)).toThrow(MixedGroupLabelError);
    const { labels, groups } = sites(5, 5);
    expect(() => groupedStratifiedKFold(labels, groups, 1, 1)).toThrow(InvalidOptionError);
    expect(() => groupedStratifiedKFold(labels, groups.slice(1), 2, 1)).toThrow(InvalidOptionError);
  });
});

describe('summarize and the t quantile (mpmath reference)', () => {
  it('t quantiles match mpmath (40 digits) to 1e-11 relative', () => {
    // Our worst case is 5e-12 at df = 10⁴ (cancellation in lgamma(a + ½) − lgamma(a)); scipy's is 4.6e-9.
    // scipy 1.10's t.ppf is itself only ~1e-9 relative for small df (2.6e-10 off the exact
    // tan(π(p − ½)) at df = 1, p = 0.975), so the fixture's reference is solved with mpmath.
    for (const q of tFixture.quantiles) {
      const ours = studentTQuantile(q.p, q.df);
      expect(Math.abs(ours - q.q) / Math.abs(q.q), `p=${q.p} df=${q.df}`).toBeLessThanOrEqual(1e-11);
    }
  });

  it('t quantiles match the closed forms for df = 1 and 2 to 1e-12 relative', () => {
    for (const p of [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.025]) {
      const cauchy = Math.tan(Math.PI * (p - 0.5));
      expect(Math.abs(studentTQuantile(p, 1) - cauchy) / Math.abs(cauchy)).toBeLessThanOrEqual(1e-12);
      const df2 = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      expect(Math.abs(studentTQuantile(p, 2) - df2) / Math.abs(df2)).toBeLessThanOrEqual(1e-12);
    }
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('mean, sample sd (numpy) and 95% t interval (mpmath quantile) match to 1e-12 absolute', () => {
    for (const s of tFixture.summaries) {
      const r = summarize(s.values);
      expect(r.n).toBe(s.n);
      expect(Math.abs(r.mean - s.mean)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(r.sd - s.sd)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(r.ci95[0] - s.ci95[0])).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(r.ci95[1] - s.ci95[1])).toBeLessThanOrEqual(1e-12);
    }
  });

  it('refuses fewer than two values and non-finite values', () => {
    expect(() => summarize([0.8])).toThrow(InvalidOptionError);
    expect(() => summarize([0.8, NaN])).toThrow(/finite/);
  });
});
