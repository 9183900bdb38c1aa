import { pnorm, dnorm, qnorm } from './distributions.ts';

/**
 * Robust univariate location/scale as robustbase (R) computes them, for DetMCD:
 * median (mean of the two middle values for even n), Qn (Rousseeuw & Croux 1993, with
 * robustbase's consistency constant 2.21914 and finite-sample factors) and the τ-scale
 * scaleTau2 (Maronna & Zamar 2002, one iteration, c1 = 4.5, c2 = 3). robustbase's default
 * scale for DetMCD ("hrv2012") is Qn below 1,000 observations and scaleTau2 from 1,000 on.
 */

/** k-th smallest (0-based) of a, partially reordering a in place (Hoare quickselect, median of three). */
export function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot keeps sorted or reversed input linear.
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Median (R's median: mean of the two middle values for even n). Does not modify x. */
export function median(x: ArrayLike<number>): number {
  const n = x.length;
  const a = Float64Array.from(x);
  const upper = selectKth(a, n >>> 1);
  if (n % 2 === 1) return upper;
  // The lower middle is the largest of the values left of the upper middle after selection.
  let lower = -Infinity;
  for (let i = 0; i < n >>> 1; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

const QN_SMALL = [0.399356, 0.99365, 0.51321, 0.84401, 0.6122, 0.85877, 0.66993, 0.87344, 0.72014, 0.88906, 0.75743];

/**
 * Qn scale: 2.21914 · d_n · the k-th smallest of |x_i − x_j| (i < j), k = C(⌊n/2⌋ + 1, 2).
 * The pairwise differences are enumerated (O(n²) memory and time); used only below 1,000
 * observations, where that is at most ~500,000 differences.
 */
export function qnScale(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return 0;
  const h = (n >>> 1) + 1;
  const k = (h * (h - 1)) / 2;
  const diffs = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) diffs[m++] = Math.abs(x[i] - x[j]);
  const r = 2.21914 * selectKth(diffs, k - 1);
  if (n <= 12) return r * QN_SMALL[n - 2];
  const finite = (n % 2 === 1 ? 1.60188 + (-2.1284 - 5.172 / n) / n : 3.67561 + (1.9654 + (6.987 - 77 / n) / n) / n) / n + 1;
  return r / finite;
}

const TAU_C1 = 4.5;
const TAU_C2 = 3;
/** E[ρ(Z)] under the normal for the truncated-square ρ at c2·Φ⁻¹(¾): robustbase's consistency factor. */
const TAU_ES2 = ((): number => {
  const b = TAU_C2 * qnorm(0.75);
  return 2 * ((1 - b * b) * pnorm(b) - b * dnorm(b) + b * b) - 1;
})();

/** τ-scale (robustbase::scaleTau2 with its defaults: one iteration, consistency = TRUE). */
export function scaleTau2(x: ArrayLike<number>): number {
  const n = x.length;
  const mu0 = median(x);
  const dev = new Float64Array(n);
  for (let i = 0; i < n; i++) dev[i] = Math.abs(x[i] - mu0);
  const sigma0 = median(dev);
  if (!(sigma0 > 0)) return 0;
  let sw = 0;
  let sxw = 0;
  for (let i = 0; i < n; i++) {
    const u = dev[i] / (sigma0 * TAU_C1);
    const w0 = Math.max(0, 1 - u * u);
    const w = w0 * w0;
    sw += w;
    sxw += x[i] * w;
  }
  const mu = sxw / sw;
  let srho = 0;
  const c2sq = TAU_C2 * TAU_C2;
  for (let i = 0; i < n; i++) {
    const z = (x[i] - mu) / sigma0;
    srho += Math.min(z * z, c2sq);
  }
  return sigma0 * Math.sqrt(srho / (n * TAU_ES2));
}

export type ScaleFn = (x: ArrayLike<number>) => number;

/** robustbase's "hrv2012" choice: Qn for n < 1000, scaleTau2 otherwise. */
export function defaultScaleFn(n: number): ScaleFn {
  return n < 1000 ? qnScale : scaleTau2;
}

/** R's quantile(type = 7). */
function quantile7(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Scale of an already median-centred column, with robustbase's fallback when it is 0 (more than
 * half the values equal): the first non-zero upper quantile of |x| rescaled to the normal.
 */
export function scaleWithFallback(centred: ArrayLike<number>, scaleFn: ScaleFn): number {
  const s = scaleFn(centred);
  if (s > 0) return s;
  const abs = Float64Array.from(centred, (v) => Math.abs(v)).sort();
  const alphas = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 19.75].map((v) => v / 20);
  for (const a of alphas) {
    const q = quantile7(abs, a);
    if (q !== 0) return q / qnorm((a + 1) / 2);
  }
  return 1;
}
