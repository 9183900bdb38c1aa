import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report } from '../jobs/job.ts';
import type { SpectralCube } from './cube.ts';
import { dbscan } from './dbscan.ts';
import { covariance, meanSpectrum, principalAxes, project } from './stats.ts';

/**
 * Pseudo-labels and per-pixel loss weights for MSFA-Net (Lu et al. 2025: "a reconstruction loss
 * weighted by pseudo-labels from DBSCAN clustering and spectral-angle divergence").
 *
 * 1. DBSCAN (eps, minSamples) on the first 3 principal components, each scaled to [0, 1] by its
 *    0.5–99.5 % quantile range (robust: a handful of extreme anomalies cannot squash the
 *    background into one cell). Dense clusters are background phases; rare anomalous pixels
 *    cannot form a cluster of minSamples, so — unlike k-means — they never pull a centroid.
 * 2. The nClusters largest clusters give background endmembers (mean spectra).
 * 3. Divergence d = spectral angle (radians) to the nearest endmember: insensitive to the
 *    count-rate (brightness) changes of micro-XRF, sensitive to a change of composition.
 * 4. The anomalyProportion·N pixels of largest d are pseudo-anomalies (weight 0).
 * 5. Every other pixel gets w = exp(−ŝ² / (2·bandwidth²)), ŝ = (d − median d)/(τ − median d)⁺,
 *    τ the pseudo-anomaly threshold: typical background keeps weight ≈ 1, pixels approaching the
 *    threshold fade out smoothly (bandwidth 0.3: weight 0.61 at 30 % of the way, 0.004 at τ).
 */
export interface PseudoLabelOptions {
  /** DBSCAN radius in the scaled PCA space. Default 0.1 (paper). */
  readonly eps?: number;
  /** DBSCAN core threshold. Default 25 (paper). */
  readonly minSamples?: number;
  /** Maximum number of background clusters (endmembers). Default 4 (paper's N_clusters). */
  readonly nClusters?: number;
  /** Expected anomaly share: the top share by divergence are pseudo-anomalies. Default 0.015 (paper). */
  readonly anomalyProportion?: number;
  /** Kernel bandwidth of the weight fall-off, in units of the threshold distance. Default 0.3 (paper). */
  readonly bandwidth?: number;
}

export type CheckedPseudoLabelOptions = Required<PseudoLabelOptions>;

export function checkPseudoLabelOptions(o: PseudoLabelOptions = {}): CheckedPseudoLabelOptions {
  const r = { eps: o.eps ?? 0.1, minSamples: o.minSamples ?? 25, nClusters: o.nClusters ?? 4, anomalyProportion: o.anomalyProportion ?? 0.015, bandwidth: o.bandwidth ?? 0.3 };
  if (!(r.eps > 0)) throw new InvalidOptionError(`pseudo-labels: eps must be > 0, got ${r.eps}`);
  if (!Number.isInteger(r.minSamples) || r.minSamples < 1) throw new InvalidOptionError(`pseudo-labels: minSamples must be an integer ≥ 1, got ${r.minSamples}`);
  if (!Number.isInteger(r.nClusters) || r.nClusters < 1) throw new InvalidOptionError(`pseudo-labels: nClusters must be an integer ≥ 1, got ${r.nClusters}`);
  if (!(r.anomalyProportion > 0 && r.anomalyProportion < 0.5)) throw new InvalidOptionError(`pseudo-labels: anomalyProportion must be in (0, 0.5), got ${r.anomalyProportion}`);
  if (!(r.bandwidth > 0)) throw new InvalidOptionError(`pseudo-labels: bandwidth must be > 0, got ${r.bandwidth}`);
  return r;
}

export interface PseudoLabels {
  /** Loss weight per pixel, 0 … 1. */
  readonly weights: Float32Array;
  /** 1 for pseudo-anomalies. */
  readonly pseudoAnomaly: Uint8Array;
  /** Spectral angle to the nearest background endmember (radians). */
  readonly divergence: Float32Array;
  /** DBSCAN label per pixel (−1 noise). */
  readonly clusterLabels: Int32Array;
  readonly clusterCount: number;
  /** Endmembers used (≤ nClusters); 1 (the scene mean) when DBSCAN found no cluster. */
  readonly endmemberCount: number;
  readonly threshold: number;
}

function quantile(sorted: Float64Array | Float32Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  return i + 1 < sorted.length ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

export function spectralAngle(x: Float32Array, xo: number, m: Float64Array, mNorm: number, B: number): number {
  let dot = 0, nx = 0;
  for (let b = 0; b < B; b++) {
    const v = x[xo + b];
    dot += v * m[b];
    nx += v * v;
  }
  if (nx === 0 || mNorm === 0) return Math.PI / 2;
  return Math.acos(Math.max(-1, Math.min(1, dot / (Math.sqrt(nx) * mNorm))));
}

export function pseudoLabels(cube: Pick<SpectralCube, 'rows' | 'cols' | 'bandCount' | 'pixels'>, options: PseudoLabelOptions = {}, ctx?: JobContext): PseudoLabels {
  const o = checkPseudoLabelOptions(options);
  const n = cube.rows * cube.cols;
  const B = cube.bandCount;
  const x = cube.pixels;
  report(ctx, 0, 'pseudo-labels: PCA');
  const mu = meanSpectrum(x, n, B);
  const k = Math.min(3, B);
  const { axes } = principalAxes(covariance(x, n, B, mu, undefined, ctx), B, k);
  const f = project(x, n, B, mu, axes, k);
  for (let d = 0; d < k; d++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = f[i * k + d];
    col.sort();
    const lo = quantile(col, 0.005), hi = quantile(col, 0.995);
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < n; i++) f[i * k + d] = Math.min(1.5, Math.max(-0.5, (f[i * k + d] - lo) / span));
  }
  report(ctx, 0.3, 'pseudo-labels: DBSCAN');
  const db = dbscan(f, k, o.eps, o.minSamples, ctx);
  // Endmembers: the nClusters most populous clusters.
  const sizes = new Array<number>(db.clusterCount).fill(0);
  for (let i = 0; i < n; i++) if (db.labels[i] >= 0) sizes[db.labels[i]]++;
  const keep = sizes.map((s, l) => [s, l]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, o.nClusters).map(([, l]) => l);
  const endmembers: Float64Array[] = [];
  for (const l of keep) {
    const m = new Float64Array(B);
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (db.labels[i] !== l) continue;
      c++;
      for (let b = 0; b < B; b++) m[b] += x[i * B + b];
    }
    for (let b = 0; b < B; b++) m[b] /= c;
    endmembers.push(m);
  }
  if (endmembers.length === 0) endmembers.push(mu);
  const norms = endmembers.map((m) => Math.sqrt(m.reduce((a, v) => a + v * v, 0)));
  report(ctx, 0.7, 'pseudo-labels: spectral angles');
  const divergence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let e = 0; e < endmembers.length; e++) best = Math.min(best, spectralAngle(x, i * B, endmembers[e], norms[e], B));
    divergence[i] = best;
  }
  const sorted = Float32Array.from(divergence).sort();
  const tau = quantile(sorted, 1 - o.anomalyProportion);
  const med = quantile(sorted, 0.5);
  const span = tau > med ? tau - med : 1;
  const weights = new Float32Array(n);
  const pseudoAnomaly = new Uint8Array(n);
  const nAnom = Math.max(1, Math.round(o.anomalyProportion * n));
  // Exactly nAnom pseudo-anomalies (ties at the threshold broken by index, deterministic).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => divergence[b] - divergence[a] || a - b);
  for (let j = 0; j < nAnom; j++) pseudoAnomaly[order[j]] = 1;
  for (let i = 0; i < n; i++) {
    if (pseudoAnomaly[i]) continue;
    const s = Math.max(0, (divergence[i] - med) / span);
    weights[i] = Math.exp(-(s * s) / (2 * o.bandwidth * o.bandwidth));
  }
  report(ctx, 1, 'pseudo-labels: done');
  return { weights, pseudoAnomaly, divergence, clusterLabels: db.labels, clusterCount: db.clusterCount, endmemberCount: endmembers.length, threshold: tau };
}
