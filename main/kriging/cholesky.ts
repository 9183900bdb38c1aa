/**
 * In-place dense Cholesky factorisation and triangular solves on flat Float64Arrays.
 *
 * Hand-written rather than ml-matrix's CholeskyDecomposition because neighbourhood kriging
 * factors one small (k ≤ ~100) matrix per grid cell, millions of times per job: the solver must
 * allocate nothing per call and work on reusable row-major scratch buffers. Covariance matrices
 * of valid variogram models are symmetric positive definite, so Cholesky (n³/6 multiply-adds,
 * half of LU) is the right factorisation; a non-positive pivot means a singular system
 * (coincident points, a Gaussian model without nugget), which the caller turns into a named error.
 */

/**
 * Factors the leading n×n block of row-major `a` (stride n) into L·Lᵀ, writing L into the lower
 * triangle. Returns −1 on success or the index of the first pivot ≤ `tol`.
 */
export function choleskyInPlace(a: Float64Array, n: number, tol: number): number {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > tol)) return j;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
  }
  return -1;
}

/** Solves L·y = b in place (b becomes y). */
export function forwardSolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
}

/** Solves Lᵀ·x = y in place (y becomes x). */
export function backwardSolve(l: Float64Array, n: number, y: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * y[k];
    y[i] = s / l[i * n + i];
  }
}

/** Solves (L·Lᵀ)·x = b in place. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  forwardSolve(l, n, b);
  backwardSolve(l, n, b);
}
