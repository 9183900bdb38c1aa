import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { JobContext } from '../jobs/job.ts';
import { throwIfCancelled } from '../jobs/job.ts';

/** Per-pixel spectra statistics shared by RX, PCA and the pseudo-label step. */

/** Mean spectrum (Float64) of n pixels × B bands, optionally weighted per pixel. */
export function meanSpectrum(pixels: Float32Array | Float64Array, n: number, B: number, weights?: Float32Array | Float64Array): Float64Array {
  const mu = new Float64Array(B);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    wsum += w;
    const o = i * B;
    for (let b = 0; b < B; b++) mu[b] += w * pixels[o + b];
  }
  for (let b = 0; b < B; b++) mu[b] /= wsum;
  return mu;
}

/** Population covariance (divide by Σw), full symmetric B×B row-major. */
export function covariance(pixels: Float32Array | Float64Array, n: number, B: number, mu: Float64Array, weights?: Float32Array | Float64Array, ctx?: JobContext): Float64Array {
  const C = new Float64Array(B * B);
  const z = new Float64Array(B);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    if ((i & 0xffff) === 0) throwIfCancelled(ctx, 'covariance');
    wsum += w;
    const o = i * B;
    for (let b = 0; b < B; b++) z[b] = pixels[o + b] - mu[b];
    for (let j = 0; j < B; j++) {
      const zj = w * z[j];
      if (zj === 0) continue;
      const row = j * B;
      for (let k = j; k < B; k++) C[row + k] += zj * z[k];
    }
  }
  for (let j = 0; j < B; j++) {
    for (let k = j; k < B; k++) {
      const v = C[j * B + k] / wsum;
      C[j * B + k] = v;
      C[k * B + j] = v;
    }
  }
  return C;
}

/**
 * Whitening rows W (r × B) with Wᵀ W = C⁺ (Moore–Penrose pseudo-inverse): eigenvalues below
 * rcond·λmax are dropped, as numpy.linalg.pinv does (rcond 1e-15 there; we use 1e-10 because
 * Float32 input makes smaller eigenvalues noise). Singular covariances (more bands than
 * pixels, constant bands) thus score in the retained subspace instead of failing.
 */
export function whitening(C: Float64Array, B: number, rcond = 1e-10): { W: Float64Array; rank: number; eigenvalues: number[] } {
  const evd = new EigenvalueDecomposition(new Matrix(Array.from({ length: B }, (_, j) => Array.from(C.subarray(j * B, (j + 1) * B)))), { assumeSymmetric: true });
  const lambda = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const lmax = Math.max(...lambda);
  const keep = lambda.map((l, i) => [l, i] as const).filter(([l]) => l > rcond * lmax).sort((a, b) => b[0] - a[0]);
  const W = new Float64Array(keep.length * B);
  keep.forEach(([l, i], r) => {
    const s = 1 / Math.sqrt(l);
    for (let b = 0; b < B; b++) W[r * B + b] = V.get(b, i) * s;
  });
  return { W, rank: keep.length, eigenvalues: keep.map(([l]) => l) };
}

/** Principal components: top-k eigenvectors (k × B rows) and eigenvalues of C. */
export function principalAxes(C: Float64Array, B: number, k: number): { axes: Float64Array; eigenvalues: number[] } {
  const evd = new EigenvalueDecomposition(new Matrix(Array.from({ length: B }, (_, j) => Array.from(C.subarray(j * B, (j + 1) * B)))), { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((l, i) => [l, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
  const axes = new Float64Array(order.length * B);
  order.forEach(([, i], r) => {
    // Sign convention: the largest-magnitude loading is positive, so runs agree.
    let big = 0;
    for (let b = 0; b < B; b++) if (Math.abs(evd.eigenvectorMatrix.get(b, i)) > Math.abs(big)) big = evd.eigenvectorMatrix.get(b, i);
    const sgn = big < 0 ? -1 : 1;
    for (let b = 0; b < B; b++) axes[r * B + b] = sgn * evd.eigenvectorMatrix.get(b, i);
  });
  return { axes, eigenvalues: order.map(([l]) => l) };
}

/** Projects n pixels onto k axes after centring: n × k (Float64, row-major). */
export function project(pixels: Float32Array | Float64Array, n: number, B: number, mu: Float64Array, axes: Float64Array, k: number): Float64Array {
  const out = new Float64Array(n * k);
  const z = new Float64Array(B);
  for (let i = 0; i < n; i++) {
    const o = i * B;
    for (let b = 0; b < B; b++) z[b] = pixels[o + b] - mu[b];
    for (let r = 0; r < k; r++) {
      let s = 0;
      const a = r * B;
      for (let b = 0; b < B; b++) s += axes[a + b] * z[b];
      out[i * k + r] = s;
    }
  }
  return out;
}
