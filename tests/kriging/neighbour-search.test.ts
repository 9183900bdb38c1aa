import { describe, expect, it } from 'vitest';
import { NeighbourIndex } from '../../main/kriging/neighbour-search.ts';
import { Rng } from '../../main/util/rng.ts';

// Reference: brute-force sort of all squared distances (ties → higher index first).
function brute(x: Float64Array, y: Float64Array, qx: number, qy: number, k: number, maxDist: number, exclude: number): number[] {
  return Array.from(x, (_, i) => i)
    .filter((i) => i !== exclude && (x[i] - qx) ** 2 + (y[i] - qy) ** 2 <= maxDist * maxDist)
    .sort((a, b) => (x[a] - qx) ** 2 + (y[a] - qy) ** 2 - ((x[b] - qx) ** 2 + (y[b] - qy) ** 2) || b - a)
    .slice(0, k);
}

describe('k-nearest-neighbour search on kdbush', () => {
  it('returns exactly the brute-force neighbours (random points, radius, exclusion)', () => {
    const rng = new Rng(11);
    const n = 3000;
    const x = Float64Array.from({ length: n }, () => rng.range(0, 1000));
    const y = Float64Array.from({ length: n }, () => rng.range(0, 500));
    const index = new NeighbourIndex(x, y);
    const idx = new Int32Array(64), d2 = new Float64Array(64);
    for (let q = 0; q < 300; q++) {
      const qx = rng.range(-100, 1100), qy = rng.range(-100, 600);
      const k = 1 + rng.int(64);
      const maxDist = q % 3 === 0 ? rng.range(5, 80) : Infinity;
      const exclude = q % 5 === 0 ? rng.int(n) : -1;
      const found = index.nearest(qx, qy, k, maxDist, idx, d2, exclude);
      const got = Array.from(idx.subarray(0, found));
      expect(new Set(got)).toEqual(new Set(brute(x, y, qx, qy, k, maxDist, exclude)));
      got.forEach((i, j) => expect(d2[j]).toBe((x[i] - qx) ** 2 + (y[i] - qy) ** 2));
    }
  });

  it('seeding with the previous query\'s neighbours changes nothing but the work done', () => {
    const rng = new Rng(12);
    const n = 2000;
    const x = Float64Array.from({ length: n }, () => rng.range(0, 1000));
    const y = Float64Array.from({ length: n }, () => rng.range(0, 1000));
    const index = new NeighbourIndex(x, y);
    const prev = new Int32Array(32), prevD2 = new Float64Array(32);
    let prevK = 0;
    const a = new Int32Array(32), ad = new Float64Array(32), b = new Int32Array(32), bd = new Float64Array(32);
    for (let q = 0; q < 200; q++) {
      const qx = 5 * q, qy = 500 + 20 * Math.sin(q / 9);
      const ka = index.nearest(qx, qy, 32, Infinity, a, ad);
      const kb = index.nearest(qx, qy, 32, Infinity, b, bd, -1, prev, prevK);
      expect(kb).toBe(ka);
      expect(new Set(b.subarray(0, kb))).toEqual(new Set(a.subarray(0, ka)));
      prev.set(b.subarray(0, kb));
      prevD2.set(bd.subarray(0, kb));
      prevK = kb;
    }
  });

  it('breaks ties at the k-th distance towards the higher point index', () => {
    // Four points at distance 1 from the origin: k = 2 keeps indices 3 and 2.
    const index = new NeighbourIndex(Float64Array.of(1, 0, -1, 0), Float64Array.of(0, 1, 0, -1));
    const idx = new Int32Array(2), d2 = new Float64Array(2);
    expect(index.nearest(0, 0, 2, Infinity, idx, d2)).toBe(2);
    expect(Array.from(idx).sort()).toEqual([2, 3]);
  });

  it('finds nothing outside the radius', () => {
    const index = new NeighbourIndex(Float64Array.of(0, 10), Float64Array.of(0, 0));
    const idx = new Int32Array(2), d2 = new Float64Array(2);
    expect(index.nearest(100, 0, 2, 50, idx, d2)).toBe(0);
    expect(index.nearest(5, 0, 2, 5, idx, d2)).toBe(2); // inclusive radius
  });
});
