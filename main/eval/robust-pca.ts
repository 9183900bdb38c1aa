import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { RasterStack } from '../grid/raster.ts';
import { EmptyInputError, InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { detMcd, type McdResult } from './mcd.ts';
import { qchisq } from './distributions.ts';

/**
 * Robust principal component analysis of an element stack (the paper's Au–Cu assemblage PC
 * maps): values are log-transformed (log10) or centred-log-ratio transformed (clr), the robust
 * covariance is estimated with DetMCD (mcd.ts, checked against R robustbase), and its
 * eigenvectors are the loadings. Every cell with all values valid gets PC scores.
 *
 * clr data are closed (each row sums to 0), so their covariance is singular and the MCD cannot
 * be computed on them directly. Following Filzmoser, Hron & Reimann (2009), the MCD is computed
 * in isometric log-ratio (ilr) coordinates with the pivot basis of Egozcue et al. (2003),
 * and centre/covariance/loadings are taken back to clr by the orthonormal basis V
 * (clr = ilr·Vᵀ); the last clr eigenvalue is 0 and dropped, so clr gives p − 1 components.
 * DetMCD is not exactly affine equivariant, so another ilr basis could move the estimate
 * slightly; the basis is fixed here.
 *
 * Large maps: the MCD is estimated on at most `maxSamples` valid cells (a seeded random
 * subsample, reported), scores are computed for every cell.
 */

export type LogTransform = 'log10' | 'clr';

export interface RobustPcaOptions {
  /** @default 'log10' */
  readonly transform?: LogTransform;
  /** MCD subset share (robustbase's alpha). @default 0.5 */
  readonly alpha?: number;
  /** Largest number of cells used for the MCD estimate; more are subsampled with `seed`. @default 50000 */
  readonly maxSamples?: number;
  /** Seed of the subsample. @default 1 */
  readonly seed?: number;
  /** Number of PC score bands to compute; default all (p, or p − 1 for clr). */
  readonly components?: number;
  /** Number of cells whose PC1/PC2 scores are returned for a biplot. @default 1000 */
  readonly biplotSamples?: number;
}

export interface RobustPca {
  readonly bandNames: string[];
  readonly transform: LogTransform;
  /** Robust centre in the transformed space (log10 or clr), one value per band. */
  readonly center: number[];
  /** Robust covariance in the transformed space, p × p. */
  readonly covariance: number[][];
  /** Eigenvalues of the robust covariance, decreasing (variances of the PCs). */
  readonly eigenvalues: number[];
  /** Share of total robust variance per component. */
  readonly explained: number[];
  /** loadings[i][k]: weight of band i on PC k+1; each column has unit length and its largest-magnitude entry positive. */
  readonly loadings: number[][];
  /** PC score bands PC1…PCk, row-major on the stack's grid, NaN where any value was invalid. */
  readonly scores: Float32Array[];
  /** Squared robust (Mahalanobis) distance of every cell from the robust centre, NaN where invalid. */
  readonly robustDistance: Float32Array;
  /** χ²(0.975) cut-off for robustDistance (cells above it are multivariate outliers). */
  readonly distanceCutoff: number;
  readonly mcd: {
    readonly alpha: number;
    readonly h: number;
    readonly cellsUsed: number;
    readonly subsampled: boolean;
    readonly seed: number;
    /** Cells of the MCD sample with final weight 0 (outliers). */
    readonly outliers: number;
    readonly iBest: number[];
    readonly cSteps: number[];
  };
  readonly cells: {
    readonly total: number;
    readonly valid: number;
    /** Cells with a NaN in any band. */
    readonly nodata: number;
    /** Cells with a value ≤ 0 in any band (no logarithm). */
    readonly nonPositive: number;
  };
  /** PC1/PC2 of a seeded sample of valid cells, for the biplot figure. */
  readonly biplot: { readonly cells: number[]; readonly pc1: number[]; readonly pc2: number[] };
}

/** Pivot (balance) ilr basis, p × (p − 1), orthonormal columns orthogonal to the ones vector. */
export function ilrBasis(p: number): Matrix {
  const V = new Matrix(p, p - 1);
  for (let j = 0; j < p - 1; j++) {
    const rest = p - j - 1;
    const f = Math.sqrt(rest / (rest + 1));
    V.set(j, j, f);
    for (let i = j + 1; i < p; i++) V.set(i, j, -f / rest);
  }
  return V;
}

function checkOptions(o: RobustPcaOptions, p: number): Required<Omit<RobustPcaOptions, 'components'>> & { components: number } {
  const transform = o.transform ?? 'log10';
  if (transform !== 'log10' && transform !== 'clr') throw new InvalidOptionError(`robust PCA transform "${String(transform)}"; expected log10 or clr`);
  const maxComponents = transform === 'clr' ? p - 1 : p;
  const components = o.components ?? maxComponents;
  if (!Number.isInteger(components) || components < 1 || components > maxComponents) {
    throw new InvalidOptionError(`robust PCA components = ${components}; expected 1…${maxComponents} for ${p} bands with ${transform}`);
  }
  const maxSamples = o.maxSamples ?? 50_000;
  if (!Number.isInteger(maxSamples) || maxSamples < 10) throw new InvalidOptionError(`robust PCA maxSamples = ${maxSamples}; expected an integer ≥ 10`);
  const biplotSamples = o.biplotSamples ?? 1000;
  if (!Number.isInteger(biplotSamples) || biplotSamples < 0) throw new InvalidOptionError(`robust PCA biplotSamples = ${biplotSamples}; expected an integer ≥ 0`);
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidOptionError(`robust PCA seed = ${seed}; expected an integer`);
  return { transform, alpha: o.alpha ?? 0.5, maxSamples, seed, components, biplotSamples };
}

/** Seeded sample of k distinct items of [0, n), ascending (partial Fisher–Yates). */
function sampleIndices(n: number, k: number, rng: Rng): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return Array.from(idx.subarray(0, k)).sort((a, b) => a - b);
}

/** Robust PCA of a stack (bands = elements, NaN = nodata). */
export function robustPca(stack: RasterStack, options: RobustPcaOptions = {}, ctx?: JobContext): RobustPca {
  const p = stack.bands.length;
  if (p < 2) throw new InvalidOptionError(`robust PCA needs at least 2 bands; ${stack.source ?? 'the stack'} has ${p}`);
  const o = checkOptions(options, p);
  const nCells = stack.grid.rows * stack.grid.cols;
  // Valid cells: every band finite and > 0.
  const valid: number[] = [];
  let nodata = 0;
  let nonPositive = 0;
  for (let i = 0; i < nCells; i++) {
    let ok = true;
    let pos = true;
    for (let b = 0; b < p; b++) {
      const v = stack.bands[b][i];
      if (!Number.isFinite(v)) ok = false;
      else if (v <= 0) pos = false;
    }
    if (!ok) nodata++;
    else if (!pos) nonPositive++;
    else valid.push(i);
  }
  if (valid.length === 0) {
    throw new EmptyInputError(stack.source ?? 'stack', 'no cell has finite, positive values in every band', 'Check nodata and units (log-ratios need positive concentrations)', { nodata, nonPositive });
  }
  // Transformed coordinates of a cell: log10 values, or ilr coordinates for clr.
  const q = o.transform === 'clr' ? p - 1 : p;
  const V = o.transform === 'clr' ? ilrBasis(p) : null;
  const Va = V?.to2DArray() ?? null;
  const logRow = new Float64Array(p);
  const coordsOf = (cell: number, out: Float64Array, offset: number): void => {
    if (!Va) {
      for (let b = 0; b < p; b++) out[offset + b] = Math.log10(stack.bands[b][cell]);
      return;
    }
    let mean = 0;
    for (let b = 0; b < p; b++) {
      logRow[b] = Math.log(stack.bands[b][cell]);
      mean += logRow[b];
    }
    mean /= p;
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let b = 0; b < p; b++) s += (logRow[b] - mean) * Va[b][j];
      out[offset + j] = s;
    }
  };

  const rng = new Rng(o.seed);
  const sample = valid.length > o.maxSamples ? sampleIndices(valid.length, o.maxSamples, rng.fork(1)).map((k) => valid[k]) : valid;
  const x = new Float64Array(sample.length * q);
  sample.forEach((cell, r) => coordsOf(cell, x, r * q));
  report(ctx, 0.02, `robust covariance (DetMCD) of ${sample.length} cells × ${q} ${o.transform === 'clr' ? 'ilr coordinates' : 'log10 bands'}`);
  const mcd: McdResult = detMcd(x, sample.length, q, { alpha: o.alpha }, subJob(ctx, 0.02, 0.7));
  throwIfCancelled(ctx, 'robust PCA');

  // Eigen-decomposition of the robust covariance in the working coordinates.
  const eig = new EigenvalueDecomposition(new Matrix(mcd.cov), { assumeSymmetric: true });
  const values = eig.realEigenvalues;
  const vectors = eig.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const eigenvalues = order.map((i) => values[i]);
  const total = eigenvalues.reduce((s, v) => s + v, 0);
  // Loadings in working coordinates (q × q), sign-fixed in band space below.
  let W = new Matrix(q, q);
  order.forEach((src, k) => {
    for (let j = 0; j < q; j++) W.set(j, k, vectors.get(j, src));
  });
  // Band-space loadings: identity for log10, V·W for clr.
  const L = V ? V.mmul(W) : W.clone();
  for (let k = 0; k < q; k++) {
    let big = 0;
    for (let b = 0; b < p; b++) if (Math.abs(L.get(b, k)) > Math.abs(L.get(big, k))) big = b;
    if (L.get(big, k) < 0) {
      for (let b = 0; b < p; b++) L.set(b, k, -L.get(b, k));
      for (let j = 0; j < q; j++) W.set(j, k, -W.get(j, k));
    }
  }
  W = W.subMatrix(0, q - 1, 0, o.components - 1);
  const Wa = W.to2DArray();
  const centerW = mcd.center;
  const centerBand = V ? V.mmul(Matrix.columnVector(centerW)).getColumn(0) : [...centerW];
  const covBand = V ? V.mmul(new Matrix(mcd.cov)).mmul(V.transpose()).to2DArray() : mcd.cov.map((r) => [...r]);

  // Scores and robust distances for every valid cell, in row blocks (progress + cancel).
  const k = o.components;
  const scores = Array.from({ length: k }, () => new Float32Array(nCells).fill(NaN));
  const robustDistance = new Float32Array(nCells).fill(NaN);
  const cell = new Float64Array(q);
  const allEig = eigenvalues;
  const Wfull = new Matrix(q, q);
  order.forEach((src, kk) => {
    for (let j = 0; j < q; j++) Wfull.set(j, kk, vectors.get(j, src));
  });
  const WfullA = Wfull.to2DArray();
  const block = 4096;
  for (let start = 0; start < valid.length; start += block) {
    throwIfCancelled(ctx, 'robust PCA');
    const end = Math.min(valid.length, start + block);
    for (let v = start; v < end; v++) {
      const c = valid[v];
      coordsOf(c, cell, 0);
      for (let j = 0; j < q; j++) cell[j] -= centerW[j];
      for (let kk = 0; kk < k; kk++) {
        let s = 0;
        for (let j = 0; j < q; j++) s += cell[j] * Wa[j][kk];
        scores[kk][c] = s;
      }
      // Distance in the full eigenbasis: Σ (projection² / eigenvalue), sign-free.
      let d = 0;
      for (let kk = 0; kk < q; kk++) {
        let s = 0;
        for (let j = 0; j < q; j++) s += cell[j] * WfullA[j][kk];
        d += (s * s) / allEig[kk];
      }
      robustDistance[c] = d;
    }
    report(ctx, 0.7 + (0.3 * end) / valid.length, `PC scores ${end}/${valid.length} cells`);
  }

  const biplotCells = sampleIndices(valid.length, o.biplotSamples, rng.fork(2)).map((i) => valid[i]);
  const loadings: number[][] = [];
  for (let b = 0; b < p; b++) loadings.push(L.getRow(b).slice(0, k));
  let outliers = 0;
  for (let i = 0; i < mcd.weights.length; i++) if (mcd.weights[i] === 0) outliers++;
  return {
    bandNames: [...stack.bandNames],
    transform: o.transform,
    center: centerBand,
    covariance: covBand,
    eigenvalues,
    explained: eigenvalues.map((v) => v / total),
    loadings,
    scores,
    robustDistance,
    distanceCutoff: qchisq(0.975, q),
    mcd: {
      alpha: mcd.alpha,
      h: mcd.h,
      cellsUsed: sample.length,
      subsampled: sample.length < valid.length,
      seed: o.seed,
      outliers,
      iBest: mcd.iBest,
      cSteps: mcd.cSteps,
    },
    cells: { total: nCells, valid: valid.length, nodata, nonPositive },
    biplot: {
      cells: biplotCells,
      pc1: biplotCells.map((c) => scores[0][c]),
      pc2: k > 1 ? biplotCells.map((c) => scores[1][c]) : [],
    },
  };
}
