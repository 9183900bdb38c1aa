/**
 * Dense Cholesky factorisation, triangular solves and row deletion/appending on flat,
 * row-major Float64Arrays with an explicit row stride.
 *
 * Hand-written rather than ml-matrix's CholeskyDecomposition because neighbourhood kriging
 * factors one small (k ≈ 10–100) matrix per grid cell, millions of times per job: the code must
 * allocate nothing per call, work on reusable buffers, and support updating a factor when one
 * neighbour leaves and another joins (O(k²) instead of O(k³)), which no JS matrix library offers.
 * Covariance matrices of valid variogram models are symmetric positive definite; a pivot at or
 * below `tol` means a singular system (coincident points, a Gaussian model without nugget),
 * which the caller turns into a named error.
 */

/**
 * Factors the leading n×n block of `a` (row stride `stride`, lower triangle read) into L·Lᵀ,
 * writing L into the lower triangle. Returns −1 on success or the index of the first pivot ≤ tol.
 */
export function choleskyInPlace(a: Float64Array, n: number, tol: number, stride = n): number {
  for (let j = 0; j < n; j++) {
    const rj = j * stride;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > tol)) return j;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * stride;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
  }
  return -1;
}

/**
 * Solves L·y = b in place for the leading n rows (b becomes y). With `from` > 0, b[0..from) must
 * already hold the solution (rows above `from` unchanged since it was computed).
 */
export function forwardSolve(l: Float64Array, n: number, b: Float64Array, stride = n, from = 0): void {
  for (let i = from; i < n; i++) {
    const ri = i * stride;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
}

/** Solves Lᵀ·x = y in place for the leading n rows (y becomes x). */
export function backwardSolve(l: Float64Array, n: number, y: Float64Array, stride = n): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * stride + i] * y[k];
    y[i] = s / l[i * stride + i];
  }
}

/**
 * Removes row/column p from the matrix A = L·Lᵀ (n×n) and updates L in place to the factor of
 * the (n−1)×(n−1) result. Rows above p are unchanged; the trailing block receives the rank-one
 * update L₃₃′L₃₃′ᵀ = L₃₃L₃₃ᵀ + l₃₂l₃₂ᵀ (Givens form, numerically stable), then rows and columns
 * after p move up/left by one. `x` is scratch of length ≥ n.
 */
export function choleskyDeleteRow(l: Float64Array, n: number, p: number, stride: number, x: Float64Array): void {
  const m = n - p - 1;
  for (let i = 0; i < m; i++) x[i] = l[(p + 1 + i) * stride + p];
  for (let j = 0; j < m; j++) {
    const rj = (p + 1 + j) * stride + (p + 1);
    const ljj = l[rj + j];
    const xj = x[j];
    const r = Math.sqrt(ljj * ljj + xj * xj);
    const c = r / ljj;
    const s = xj / ljj;
    l[rj + j] = r;
    for (let i = j + 1; i < m; i++) {
      const ri = (p + 1 + i) * stride + (p + 1);
      const lij = (l[ri + j] + s * x[i]) / c;
      l[ri + j] = lij;
      x[i] = c * x[i] - s * lij;
    }
  }
  // Close the gap: new row i (≥ p) is old row i+1 without column p.
  for (let i = p; i < n - 1; i++) {
    const dst = i * stride;
    const src = (i + 1) * stride;
    for (let j = 0; j < p; j++) l[dst + j] = l[src + j];
    for (let j = p; j <= i; j++) l[dst + j] = l[src + j + 1];
  }
}

/**
 * Appends a row/column to A = L·Lᵀ (n×n): `c` holds the new point's covariances with the n
 * existing ones (overwritten with L⁻¹c), `c0` its variance. Writes row n of L and returns false
 * when the new pivot is ≤ tol (the new point is a linear combination of the others).
 */
export function choleskyAppendRow(l: Float64Array, n: number, c: Float64Array, c0: number, stride: number, tol: number): boolean {
  forwardSolve(l, n, c, stride);
  const rn = n * stride;
  let d = c0;
  for (let j = 0; j < n; j++) {
    l[rn + j] = c[j];
    d -= c[j] * c[j];
  }
  if (!(d > tol)) return false;
  l[rn + n] = Math.sqrt(d);
  return true;
}
