import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { InvalidOptionError, SingularSystemError } from '../errors.ts';
import { throwIfCancelled, report, type JobContext } from '../jobs/job.ts';
import { pgamma, qchisq, qnorm } from './distributions.ts';
import { defaultScaleFn, median, scaleWithFallback, type ScaleFn } from './robust-scale.ts';

/**
 * Minimum covariance determinant (MCD) robust location and scatter, by the deterministic
 * algorithm DetMCD (Hubert, Rousseeuw & Verdonck 2012), reproducing R's
 * `robustbase::covMcd(x, alpha, nsamp = "deterministic")` (robustbase 0.95) step for step:
 * robust standardisation (median, Qn/τ-scale), six deterministic starting h-subsets, C-steps
 * to convergence, the best subset's covariance with the consistency factor and the
 * small-sample correction (Pison et al. 2002), then one reweighting step (weights 1 where the
 * squared robust distance < χ²_p(0.975)) with its own factors. Deterministic, so no seed: the
 * same data give the same estimate, which FAST-MCD's random subsets would not.
 *
 * Written here because no JavaScript library implements MCD; ml-matrix does the eigen and
 * Cholesky decompositions. Verified against R on fixtures (tests/fixtures/rpca/make_fixture.R).
 */

export interface McdOptions {
  /** Share of observations in the MCD subset, h ≈ alpha·n (R's alpha). @default 0.5 */
  readonly alpha?: number;
  /** Maximum C-steps per starting subset (R's maxcsteps). @default 200 */
  readonly maxCSteps?: number;
}

export interface McdResult {
  /** Reweighted robust centre (R: $center). */
  readonly center: number[];
  /** Reweighted robust covariance, p × p row-major (R: $cov). */
  readonly cov: number[][];
  /** Raw MCD centre and covariance (consistency-corrected; R: $raw.center, $raw.cov). */
  readonly rawCenter: number[];
  readonly rawCov: number[][];
  /** Size of the MCD subset. */
  readonly h: number;
  readonly alpha: number;
  /** The best h-subset, 0-based, ascending (R: $best − 1). */
  readonly best: number[];
  /** Final 0/1 weights (R: $mcd.wt). */
  readonly weights: Uint8Array;
  /** Squared robust distances from the reweighted estimate (R: $mah). */
  readonly mahalanobis: Float64Array;
  /** Starting subsets (1-based, as R's $iBest) that reached the best objective. */
  readonly iBest: number[];
  /** C-steps used by each of the six starts (R: $n.csteps). */
  readonly cSteps: number[];
  /** log det of the raw (uncorrected) subset covariance, in the original units (R: $crit). */
  readonly crit: number;
}

/** Column-major view helpers on an n × p row-major Float64Array. */
interface Data {
  readonly n: number;
  readonly p: number;
  readonly x: Float64Array;
}

function column(d: Data, j: number): Float64Array {
  const out = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) out[i] = d.x[i * d.p + j];
  return out;
}

/** Mean vector and covariance (n − 1) of the rows listed in idx. */
function meanCov(d: Data, idx: ArrayLike<number>): { mean: Float64Array; cov: Matrix } {
  const { p, x } = d;
  const m = idx.length;
  const mean = new Float64Array(p);
  for (let k = 0; k < m; k++) {
    const o = idx[k] * p;
    for (let j = 0; j < p; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < p; j++) mean[j] /= m;
  // Lower triangle of Σ (x − mean)(x − mean)ᵀ, four rows at a time so each accumulator is
  // loaded once per four rows (this and mahalanobis() are the whole cost of the C-steps).
  const s = new Float64Array(p * p);
  const r0 = new Float64Array(p);
  const r1 = new Float64Array(p);
  const r2 = new Float64Array(p);
  const r3 = new Float64Array(p);
  let k = 0;
  for (; k + 3 < m; k += 4) {
    const o0 = idx[k] * p;
    const o1 = idx[k + 1] * p;
    const o2 = idx[k + 2] * p;
    const o3 = idx[k + 3] * p;
    for (let j = 0; j < p; j++) {
      r0[j] = x[o0 + j] - mean[j];
      r1[j] = x[o1 + j] - mean[j];
      r2[j] = x[o2 + j] - mean[j];
      r3[j] = x[o3 + j] - mean[j];
    }
    for (let a = 0; a < p; a++) {
      const a0 = r0[a];
      const a1 = r1[a];
      const a2 = r2[a];
      const a3 = r3[a];
      const base = a * p;
      for (let b = 0; b <= a; b++) s[base + b] += a0 * r0[b] + a1 * r1[b] + a2 * r2[b] + a3 * r3[b];
    }
  }
  for (; k < m; k++) {
    const o = idx[k] * p;
    for (let j = 0; j < p; j++) r0[j] = x[o + j] - mean[j];
    for (let a = 0; a < p; a++) {
      const ra = r0[a];
      const base = a * p;
      for (let b = 0; b <= a; b++) s[base + b] += ra * r0[b];
    }
  }
  const cov = new Matrix(p, p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b <= a; b++) {
      const v = s[a * p + b] / (m - 1);
      cov.set(a, b, v);
      cov.set(b, a, v);
    }
  }
  return { mean, cov };
}

/** Lower Cholesky factor of a covariance, or a SingularSystemError naming the situation. */
function cholesky(cov: Matrix, what: string): Matrix {
  const ch = new CholeskyDecomposition(cov);
  if (!ch.isPositiveDefinite()) {
    throw new SingularSystemError(
      `MCD: the covariance of ${what} is singular: more than h of the observations lie on a hyperplane ` +
        '(a constant band, a band that is a linear combination of others, or closed compositional data without ilr/clr). ' +
        'Drop the redundant bands or use the clr transform.',
    );
  }
  return ch.lowerTriangularMatrix;
}

/**
 * Squared Mahalanobis distances of every row to (mean, L·Lᵀ) by forward substitution, four
 * rows at a time so each entry of L is loaded once per four rows (this is most of the cost of
 * the C-steps).
 */
function mahalanobis(d: Data, mean: ArrayLike<number>, lower: Matrix): Float64Array {
  const { n, p, x } = d;
  const L = Float64Array.from(lower.to1DArray());
  const invDiag = new Float64Array(p);
  for (let a = 0; a < p; a++) invDiag[a] = 1 / L[a * p + a];
  const mu = Float64Array.from(mean);
  const out = new Float64Array(n);
  const z0 = new Float64Array(p);
  const z1 = new Float64Array(p);
  const z2 = new Float64Array(p);
  const z3 = new Float64Array(p);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o0 = i * p;
    const o1 = o0 + p;
    const o2 = o1 + p;
    const o3 = o2 + p;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let a = 0; a < p; a++) {
      const m = mu[a];
      let v0 = x[o0 + a] - m;
      let v1 = x[o1 + a] - m;
      let v2 = x[o2 + a] - m;
      let v3 = x[o3 + a] - m;
      const base = a * p;
      for (let b = 0; b < a; b++) {
        const l = L[base + b];
        v0 -= l * z0[b];
        v1 -= l * z1[b];
        v2 -= l * z2[b];
        v3 -= l * z3[b];
      }
      const inv = invDiag[a];
      v0 *= inv;
      v1 *= inv;
      v2 *= inv;
      v3 *= inv;
      z0[a] = v0;
      z1[a] = v1;
      z2[a] = v2;
      z3[a] = v3;
      s0 += v0 * v0;
      s1 += v1 * v1;
      s2 += v2 * v2;
      s3 += v3 * v3;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const o = i * p;
    let s = 0;
    for (let a = 0; a < p; a++) {
      let v = x[o + a] - mu[a];
      const base = a * p;
      for (let b = 0; b < a; b++) v -= L[base + b] * z0[b];
      v *= invDiag[a];
      z0[a] = v;
      s += v * v;
    }
    out[i] = s;
  }
  return out;
}

function logDetFromCholesky(lower: Matrix): number {
  let s = 0;
  for (let i = 0; i < lower.rows; i++) s += Math.log(lower.get(i, i));
  return 2 * s;
}

/** Indices of the h smallest values, ties by index (R's stable sort.list). */
function smallest(values: Float64Array, h: number): Int32Array {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[a] - values[b] || a - b);
  return Int32Array.from(idx.slice(0, h));
}

function eigenvectors(m: Matrix): Matrix {
  return new EigenvalueDecomposition(m, { assumeSymmetric: true }).eigenvectorMatrix;
}

/** Pearson correlation matrix of the columns of an n × p row-major array. */
function correlation(d: Data): Matrix {
  const all = Int32Array.from({ length: d.n }, (_, i) => i);
  const { cov } = meanCov(d, all);
  const p = d.p;
  const r = new Matrix(p, p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) r.set(a, b, cov.get(a, b) / Math.sqrt(cov.get(a, a) * cov.get(b, b)));
  return r;
}

/** Average ranks (1-based) of a column, ties averaged (R's rank). */
function ranks(v: Float64Array): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]] === v[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

function mapColumns(d: Data, f: (col: Float64Array) => Float64Array): Data {
  const out = new Float64Array(d.n * d.p);
  for (let j = 0; j < d.p; j++) {
    const c = f(column(d, j));
    for (let i = 0; i < d.n; i++) out[i * d.p + j] = c[i];
  }
  return { n: d.n, p: d.p, x: out };
}

/** Rows of d times the p × q matrix P. */
function project(d: Data, P: Matrix): Data {
  const q = P.columns;
  const p = d.p;
  // Pᵀ flattened so the inner loop runs over contiguous memory.
  const Pt = Float64Array.from(P.transpose().to1DArray());
  const out = new Float64Array(d.n * q);
  for (let i = 0; i < d.n; i++) {
    const o = i * p;
    for (let k = 0; k < q; k++) {
      const base = k * p;
      let s = 0;
      for (let j = 0; j < p; j++) s += d.x[o + j] * Pt[base + j];
      out[i * q + k] = s;
    }
  }
  return { n: d.n, p: q, x: out };
}

/** robustbase r6pack's initset: an h-subset from the eigenvectors P of a correlation-type matrix. */
function initSet(z: Data, P: Matrix, h: number, scaleFn: ScaleFn): Int32Array {
  const zp = project(z, P);
  const p = z.p;
  const lambda = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const c = column(zp, j);
    const med = median(c);
    for (let i = 0; i < c.length; i++) c[i] -= med;
    lambda[j] = scaleWithFallback(c, scaleFn);
  }
  // sqrtinvcov = P·diag(1/λ)·Pᵀ, sqrtcov = P·diag(λ)·Pᵀ; location = colMedians(z·sqrtinvcov)·sqrtcov.
  const Pt = P.transpose();
  const sqrtInv = P.mmul(Matrix.diag(Array.from(lambda, (l) => 1 / l))).mmul(Pt);
  const sqrtCov = P.mmul(Matrix.diag(Array.from(lambda))).mmul(Pt);
  const w = project(z, sqrtInv);
  const med = new Matrix(1, p);
  for (let j = 0; j < p; j++) med.set(0, j, median(column(w, j)));
  const loc = med.mmul(sqrtCov).getRow(0);
  // (z − loc)·P = z·P − loc·P: reuse the projection computed above.
  const locP = new Matrix([loc]).mmul(P).getRow(0);
  const dist = new Float64Array(z.n);
  for (let i = 0; i < z.n; i++) {
    let s = 0;
    for (let k = 0; k < p; k++) {
      const v = (zp.x[i * p + k] - locP[k]) / lambda[k];
      s += v * v;
    }
    dist[i] = s;
  }
  return smallest(dist, h);
}

/** Six deterministic starting h-subsets (robustbase r6pack with full.h = FALSE). */
function sixStarts(z: Data, h: number, scaleFn: ScaleFn): Int32Array[] {
  const { n, p } = z;
  const Ps: Matrix[] = [];
  // 1. Correlation of tanh-transformed data.
  Ps.push(eigenvectors(correlation(mapColumns(z, (c) => c.map(Math.tanh)))));
  // 2. Spearman correlation.
  Ps.push(eigenvectors(correlation(mapColumns(z, ranks))));
  // 3. Correlation of normal scores.
  Ps.push(eigenvectors(correlation(mapColumns(z, (c) => ranks(c).map((r) => qnorm((r - 1 / 3) / (n + 1 / 3)))))));
  // 4. Spatial sign covariance (rows scaled to unit length, not centred).
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += z.x[i * p + j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const scm = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    const f = norms[i] > Number.EPSILON ? 1 / norms[i] : 1;
    for (let a = 0; a < p; a++) {
      const va = z.x[i * p + a] * f;
      for (let b = 0; b < p; b++) scm[a * p + b] += va * z.x[i * p + b] * f;
    }
  }
  Ps.push(eigenvectors(Matrix.from1DArray(p, p, scm)));
  // 5. Covariance of the half of the rows closest to the coordinatewise median (smallest norm).
  const half = smallest(norms, Math.ceil(n / 2));
  Ps.push(eigenvectors(meanCov(z, half).cov));
  // 6. Orthogonalised Gnanadesikan–Kettenring scatter.
  const U = Matrix.eye(p, p);
  for (let i = 1; i < p; i++) {
    const yi = column(z, i);
    for (let j = 0; j < i; j++) {
      const yj = column(z, j);
      const sum = yi.map((v, k) => v + yj[k]);
      const dif = yi.map((v, k) => v - yj[k]);
      const v = (scaleFn(sum) ** 2 - scaleFn(dif) ** 2) / 4;
      U.set(i, j, v);
      U.set(j, i, v);
    }
  }
  Ps.push(eigenvectors(U));
  return Ps.map((P) => {
    const start = initSet(z, P, h, scaleFn);
    // Refine: classical estimate of the subset, then the h rows closest to it.
    const { mean, cov } = meanCov(z, start);
    return smallest(mahalanobis(z, mean, cholesky(cov, 'a starting subset')), h);
  });
}

/** R's h.alpha.n. */
export function mcdSubsetSize(alpha: number, n: number, p: number): number {
  const n2 = Math.floor((n + p + 1) / 2);
  return Math.floor(2 * n2 - n + 2 * (n - n2) * alpha);
}

/** Consistency factor of the MCD at the normal (robustbase .MCDcons). */
export function mcdConsistency(p: number, alpha: number): number {
  const qa = qchisq(alpha, p);
  return alpha / pgamma(qa / 2, p / 2 + 1);
}

function interpolateCorrection(p: number, n: number, alpha: number, c500: number[][], c875: number[][], p1: number[], p2: number[]): number {
  let fp500: number;
  let fp875: number;
  if (p > 2) {
    const coef = (c: number[][]): [number, number] => {
      // Solve [1, −log(c3·p²)] · β = log(−c1 / p^c2) for the two rows of c (robustbase's 2 × 2 system).
      const y = c.map((r) => Math.log(-r[0] / p ** r[1]));
      const A = c.map((r) => [1, -Math.log(r[2] * p * p)]);
      const det = A[0][0] * A[1][1] - A[0][1] * A[1][0];
      return [(y[0] * A[1][1] - A[0][1] * y[1]) / det, (A[0][0] * y[1] - y[0] * A[1][0]) / det];
    };
    const b500 = coef(c500);
    const b875 = coef(c875);
    fp500 = 1 - Math.exp(b500[0]) / n ** b500[1];
    fp875 = 1 - Math.exp(b875[0]) / n ** b875[1];
  } else {
    const [a500, e500, a875, e875] = p === 2 ? p2 : p1;
    fp500 = 1 - Math.exp(a500) / n ** e500;
    fp875 = 1 - Math.exp(a875) / n ** e875;
  }
  const fp = alpha <= 0.875 ? fp500 + ((fp875 - fp500) / 0.375) * (alpha - 0.5) : fp875 + ((1 - fp875) / 0.125) * (alpha - 0.875);
  return 1 / fp;
}

/** Small-sample correction of the raw MCD (robustbase .MCDcnp2, Pison et al. 2002). */
export function mcdSmallSample(p: number, n: number, alpha: number): number {
  return interpolateCorrection(
    p,
    n,
    alpha,
    [[-1.42764571687802, 1.26263336932151, 2], [-1.06141115981725, 1.28907991440387, 3]],
    [[-0.455179464070565, 1.11192541278794, 2], [-0.294241208320834, 1.09649329149811, 3]],
    [0.262024211897096, 0.604756680630497, -0.351584646688712, 1.01646567502486],
    [0.673292623522027, 0.691365864961895, 0.446537815635445, 1.06690782995919],
  );
}

/** Small-sample correction of the reweighted MCD (robustbase .MCDcnp2.rew). */
export function mcdSmallSampleReweighted(p: number, n: number, alpha: number): number {
  return interpolateCorrection(
    p,
    n,
    alpha,
    [[-1.02842572724793, 1.67659883081926, 2], [-0.26800273450853, 1.35968562893582, 3]],
    [[-0.544482443573914, 1.25994483222292, 2], [-0.343791072183285, 1.25159004257133, 3]],
    [1.11098143415027, 1.5182890270453, -0.66046776772861, 0.88939595831888],
    [3.11101712909049, 1.91401056721863, 0.79473550581058, 1.10081930350091],
  );
}

function checkOptions(o: McdOptions, n: number, p: number): { alpha: number; maxCSteps: number } {
  const alpha = o.alpha ?? 0.5;
  const maxCSteps = o.maxCSteps ?? 200;
  if (!(alpha >= 0.5 && alpha < 1)) throw new InvalidOptionError(`MCD alpha = ${alpha}; expected 0.5 ≤ alpha < 1`);
  if (!Number.isInteger(maxCSteps) || maxCSteps < 1) throw new InvalidOptionError(`MCD maxCSteps = ${maxCSteps}; expected an integer ≥ 1`);
  if (p < 2) throw new InvalidOptionError(`MCD on ${p} variable(s): robust PCA needs at least 2 bands`);
  if (n <= 2 * p) {
    throw new InvalidOptionError(`MCD: ${n} observations for ${p} variables; need more than 2·p = ${2 * p} (use fewer bands or more cells)`);
  }
  if (alpha === 0.5 && p <= 9 && n <= 60) {
    // robustbase switches to simulated correction tables there, which we do not carry.
    throw new InvalidOptionError(`MCD: alpha = 0.5 with n = ${n} ≤ 60 and p = ${p} ≤ 9 uses robustbase's simulated tables; use alpha ≥ 0.55 or more observations`);
  }
  return { alpha, maxCSteps };
}

/**
 * DetMCD of the rows of `x` (n × p, row-major). Rows with a non-finite value must be removed
 * by the caller (robust-pca.ts does so and reports how many).
 */
export function detMcd(x: Float64Array, n: number, p: number, options: McdOptions = {}, ctx?: JobContext): McdResult {
  if (x.length !== n * p) throw new InvalidOptionError(`MCD: data has ${x.length} values, expected n·p = ${n * p}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InvalidOptionError(`MCD: value ${i} (row ${Math.floor(i / p)}) is not finite; drop such rows first`);
  }
  const { alpha, maxCSteps } = checkOptions(options, n, p);
  const h = mcdSubsetSize(alpha, n, p);
  const data: Data = { n, p, x };
  const scaleFn = defaultScaleFn(n);
  // Robust standardisation z = (x − median) / scale.
  const zCenter = new Float64Array(p);
  const zScale = new Float64Array(p);
  const zx = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const c = column(data, j);
    zCenter[j] = median(c);
    for (let i = 0; i < n; i++) c[i] -= zCenter[j];
    zScale[j] = scaleWithFallback(c, scaleFn);
    for (let i = 0; i < n; i++) zx[i * p + j] = c[i] / zScale[j];
  }
  const z: Data = { n, p, x: zx };
  report(ctx, 0.05, 'MCD: six deterministic starts');
  const starts = sixStarts(z, h, scaleFn);
  throwIfCancelled(ctx, 'robust covariance');

  let bestObj = Infinity;
  let bestSet: Int32Array = starts[0];
  let bestMean: Float64Array = new Float64Array(p);
  let bestCov: Matrix = Matrix.zeros(p, p);
  let iBest: number[] = [];
  const cSteps: number[] = [];
  starts.forEach((start, s) => {
    let set = start;
    let fit = meanCov(z, set);
    let lower = cholesky(fit.cov, 'an h-subset');
    let obj = logDetFromCholesky(lower);
    let step = 1;
    for (; step < maxCSteps; step++) {
      throwIfCancelled(ctx, 'robust covariance');
      const next = smallest(mahalanobis(z, fit.mean, lower), h);
      const sameSet = next.every((v, i) => v === set[i]);
      set = next;
      fit = meanCov(z, set);
      lower = cholesky(fit.cov, 'an h-subset');
      obj = logDetFromCholesky(lower);
      if (sameSet) {
        step++;
        break;
      }
    }
    cSteps.push(step);
    if (obj < bestObj) {
      bestObj = obj;
      bestSet = set;
      bestMean = fit.mean;
      bestCov = fit.cov;
      iBest = [s + 1];
    } else if (obj === bestObj) iBest.push(s + 1);
    report(ctx, 0.1 + (0.7 * (s + 1)) / starts.length, `MCD: start ${s + 1} of ${starts.length} converged in ${step} C-steps`);
  });

  // Back to the original units, with consistency and small-sample factors.
  const factorRaw = mcdConsistency(p, h / n) * mcdSmallSample(p, n, alpha);
  const rawCenter = Array.from(bestMean, (m, j) => m * zScale[j] + zCenter[j]);
  const rawCov = new Matrix(p, p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b <= a; b++) {
      const v = bestCov.get(a, b) * zScale[a] * zScale[b] * factorRaw;
      rawCov.set(a, b, v);
      rawCov.set(b, a, v);
    }
  }
  let logScale = 0;
  for (let j = 0; j < p; j++) logScale += Math.log(zScale[j]);
  const crit = bestObj + 2 * logScale;

  // Reweighting: classical estimate of the rows within the 97.5% χ² ellipsoid.
  const cutoff = qchisq(0.975, p);
  const rawDist = mahalanobis(data, rawCenter, cholesky(rawCov, 'the raw MCD estimate'));
  const inliers: number[] = [];
  for (let i = 0; i < n; i++) if (rawDist[i] < cutoff) inliers.push(i);
  const rew = meanCov(data, inliers);
  let cov = rew.cov;
  if (inliers.length !== n) {
    const f = mcdConsistency(p, inliers.length / n) * mcdSmallSampleReweighted(p, n, alpha);
    cov = cov.mul(f);
  }
  const center = Array.from(rew.mean);
  const finalDist = mahalanobis(data, center, cholesky(cov, 'the reweighted MCD estimate'));
  const weights = new Uint8Array(n);
  for (let i = 0; i < n; i++) weights[i] = finalDist[i] < cutoff ? 1 : 0;
  report(ctx, 1, 'MCD done');
  return {
    center,
    cov: cov.to2DArray(),
    rawCenter,
    rawCov: rawCov.to2DArray(),
    h,
    alpha,
    best: Array.from(bestSet).sort((a, b) => a - b),
    weights,
    mahalanobis: finalDist,
    iBest,
    cSteps,
    crit,
  };
}
