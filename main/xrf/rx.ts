import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, throwIfCancelled } from '../jobs/job.ts';
import type { SpectralCube } from './cube.ts';
import { covariance, meanSpectrum, principalAxes, project, whitening } from './stats.ts';

/**
 * Reed–Xiaoli detectors (Reed & Yu 1990, IEEE TASSP 38(10)):
 * global RX = squared Mahalanobis distance of each pixel to the scene mean under the scene
 * covariance; local (dual-window) RX uses, per pixel, the mean and covariance of an outer
 * window with an inner guard window removed, so a target does not contaminate its own background.
 */

/** Global RX scores (length H·W). Uses the pseudo-inverse of the covariance (see `whitening`). */
export function globalRx(cube: Pick<SpectralCube, 'rows' | 'cols' | 'bandCount' | 'pixels'>, ctx?: JobContext): Float32Array {
  const n = cube.rows * cube.cols;
  const B = cube.bandCount;
  return mahalanobisScores(cube.pixels, n, B, undefined, ctx);
}

/** Squared Mahalanobis distance of every row to the (optionally weighted) mean/covariance. */
export function mahalanobisScores(pixels: Float32Array | Float64Array, n: number, B: number, weights?: Float32Array | Float64Array, ctx?: JobContext): Float32Array {
  const mu = meanSpectrum(pixels, n, B, weights);
  report(ctx, 0.05, 'RX: covariance');
  const C = covariance(pixels, n, B, mu, weights, ctx);
  report(ctx, 0.5, 'RX: inverse');
  const { W, rank } = whitening(C, B);
  const out = new Float32Array(n);
  const z = new Float64Array(B);
  for (let i = 0; i < n; i++) {
    if ((i & 0xffff) === 0) {
      throwIfCancelled(ctx, 'RX');
      report(ctx, 0.5 + (0.5 * i) / n, 'RX: scoring');
    }
    const o = i * B;
    for (let b = 0; b < B; b++) z[b] = pixels[o + b] - mu[b];
    let s = 0;
    for (let r = 0; r < rank; r++) {
      let t = 0;
      const a = r * B;
      for (let b = 0; b < B; b++) t += W[a + b] * z[b];
      s += t * t;
    }
    out[i] = s;
  }
  report(ctx, 1, 'RX: done');
  return out;
}

export interface LocalRxOptions {
  /** Inner (guard) window side in pixels, odd. Default 3: covers a sub-pixel grain and its mixed neighbours. */
  readonly innerWindow?: number;
  /** Outer window side in pixels, odd, > innerWindow. Default 11 (112 background pixels). */
  readonly outerWindow?: number;
  /** Principal components kept (local covariances need more pixels than dimensions). Default min(10, B). */
  readonly components?: number;
  /** Ridge added to each local covariance, as a fraction of its mean diagonal. Default 1e-3. */
  readonly ridge?: number;
}

function checkLocalRx(o: LocalRxOptions, B: number): Required<LocalRxOptions> {
  const innerWindow = o.innerWindow ?? 3;
  const outerWindow = o.outerWindow ?? 11;
  const components = o.components ?? Math.min(10, B);
  const ridge = o.ridge ?? 1e-3;
  if (!Number.isInteger(innerWindow) || innerWindow < 1 || innerWindow % 2 === 0) throw new InvalidOptionError(`local RX: innerWindow must be an odd integer ≥ 1, got ${innerWindow}`);
  if (!Number.isInteger(outerWindow) || outerWindow <= innerWindow || outerWindow % 2 === 0) throw new InvalidOptionError(`local RX: outerWindow must be an odd integer > innerWindow (${innerWindow}), got ${outerWindow}`);
  if (!Number.isInteger(components) || components < 1 || components > B) throw new InvalidOptionError(`local RX: components must be an integer in 1…${B}, got ${components}`);
  if (components >= outerWindow * outerWindow - innerWindow * innerWindow) throw new InvalidOptionError(`local RX: ${components} components need more than ${outerWindow * outerWindow - innerWindow * innerWindow} background pixels; enlarge outerWindow or lower components`);
  if (!(ridge >= 0)) throw new InvalidOptionError(`local RX: ridge must be ≥ 0, got ${ridge}`);
  return { innerWindow, outerWindow, components, ridge };
}

/**
 * Dual-window local RX. Runs in the space of the top principal components (a local window of
 * ~100 pixels cannot estimate a 100-band covariance), with box sums of z and z·zᵀ from integral
 * images, so the cost per pixel is independent of the window size. Windows are clipped at the
 * image border.
 */
export function localRx(cube: Pick<SpectralCube, 'rows' | 'cols' | 'bandCount' | 'pixels'>, options: LocalRxOptions = {}, ctx?: JobContext): Float32Array {
  const { rows: H, cols: W, bandCount: B } = cube;
  const o = checkLocalRx(options, B);
  const n = H * W;
  const k = o.components;
  const mu = meanSpectrum(cube.pixels, n, B);
  const { axes } = principalAxes(covariance(cube.pixels, n, B, mu, undefined, ctx), B, k);
  const z = project(cube.pixels, n, B, mu, axes, k);
  report(ctx, 0.3, 'local RX: integral images');
  // Channels: k first moments, then k(k+1)/2 second moments (upper triangle).
  const nm = k + (k * (k + 1)) / 2;
  const W1 = W + 1;
  const integ = new Float64Array((H + 1) * W1 * nm);
  const v = new Float64Array(nm);
  for (let r = 0; r < H; r++) {
    throwIfCancelled(ctx, 'local RX');
    for (let c = 0; c < W; c++) {
      const p = (r * W + c) * k;
      let t = k;
      for (let a = 0; a < k; a++) {
        v[a] = z[p + a];
        for (let b = a; b < k; b++) v[t++] = z[p + a] * z[p + b];
      }
      const dst = ((r + 1) * W1 + (c + 1)) * nm;
      const up = (r * W1 + (c + 1)) * nm;
      const left = ((r + 1) * W1 + c) * nm;
      const diag = (r * W1 + c) * nm;
      for (let m = 0; m < nm; m++) integ[dst + m] = v[m] + integ[up + m] + integ[left + m] - integ[diag + m];
    }
  }
  const box = (r0: number, c0: number, r1: number, c1: number, out: Float64Array, sign: number): number => {
    // Sum over rows r0..r1-1, cols c0..c1-1 (clipped), added to out with sign; returns the count.
    r0 = Math.max(0, r0); c0 = Math.max(0, c0); r1 = Math.min(H, r1); c1 = Math.min(W, c1);
    if (r1 <= r0 || c1 <= c0) return 0;
    const a = (r1 * W1 + c1) * nm, b = (r0 * W1 + c1) * nm, cc = (r1 * W1 + c0) * nm, d = (r0 * W1 + c0) * nm;
    for (let m = 0; m < nm; m++) out[m] += sign * (integ[a + m] - integ[b + m] - integ[cc + m] + integ[d + m]);
    return (r1 - r0) * (c1 - c0);
  };
  const ho = (o.outerWindow - 1) / 2;
  const hi = (o.innerWindow - 1) / 2;
  const scores = new Float32Array(n);
  const sums = new Float64Array(nm);
  const mean = new Float64Array(k);
  const L = new Float64Array(k * k);
  const y = new Float64Array(k);
  for (let r = 0; r < H; r++) {
    if ((r & 15) === 0) {
      throwIfCancelled(ctx, 'local RX');
      report(ctx, 0.35 + (0.65 * r) / H, 'local RX: scoring');
    }
    for (let c = 0; c < W; c++) {
      sums.fill(0);
      const cnt = box(r - ho, c - ho, r + ho + 1, c + ho + 1, sums, 1) - box(r - hi, c - hi, r + hi + 1, c + hi + 1, sums, -1);
      for (let a = 0; a < k; a++) mean[a] = sums[a] / cnt;
      // Local covariance into L (lower triangle), then in-place Cholesky with a ridge.
      let t = k;
      let trace = 0;
      for (let a = 0; a < k; a++) {
        for (let b = a; b < k; b++) {
          const cv = sums[t++] / cnt - mean[a] * mean[b];
          L[b * k + a] = cv;
          if (a === b) trace += cv;
        }
      }
      const lam = (o.ridge * trace) / k + 1e-12;
      for (let a = 0; a < k; a++) L[a * k + a] += lam;
      for (let j = 0; j < k; j++) {
        let s = L[j * k + j];
        for (let m = 0; m < j; m++) s -= L[j * k + m] * L[j * k + m];
        const d = Math.sqrt(Math.max(s, 1e-300));
        L[j * k + j] = d;
        for (let i = j + 1; i < k; i++) {
          let q = L[i * k + j];
          for (let m = 0; m < j; m++) q -= L[i * k + m] * L[j * k + m];
          L[i * k + j] = q / d;
        }
      }
      const p = (r * W + c) * k;
      let s2 = 0;
      for (let i = 0; i < k; i++) {
        let q = z[p + i] - mean[i];
        for (let m = 0; m < i; m++) q -= L[i * k + m] * y[m];
        y[i] = q / L[i * k + i];
        s2 += y[i] * y[i];
      }
      scores[r * W + c] = s2;
    }
  }
  report(ctx, 1, 'local RX: done');
  return scores;
}
