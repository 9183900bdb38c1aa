import { InvalidOptionError, SingularSystemError } from '../errors.ts';
import { backwardSolve, choleskyInPlace, forwardSolve } from './cholesky.ts';
import { NeighbourIndex } from './neighbour-search.ts';
import { anisotropyTransform, covarianceFunction, describeModel, totalSill, type Anisotropy, type VariogramModel } from './variogram-model.ts';

/**
 * Ordinary (and simple) kriging of one or more variables observed at the same points.
 *
 * The kriging system is written in covariances, C(h) = sill − γ(h), and solved through a Cholesky
 * factor of the neighbours' covariance matrix C. With β = C⁻¹1, q = 1ᵀβ, α = C⁻¹z:
 *   ordinary: m = (βᵀc − 1)/q, ẑ = cᵀα − m·βᵀz, σ² = C(0) − ‖L⁻¹c‖² + m²q
 *   simple (known mean μ, α = C⁻¹(z − μ)): ẑ = μ + cᵀα, σ² = C(0) − ‖L⁻¹c‖²
 * which is algebraically the textbook bordered system [C 1; 1ᵀ 0][λ; m] = [c; 1] with
 * σ² = C(0) − λᵀc − m (gstat, GSLIB KT3D), but needs one factorisation for all cells in global
 * kriging and lets neighbourhood kriging reuse a factorisation whenever consecutive cells share
 * their neighbour set (common when the grid is finer than the sampling).
 *
 * Several variables share the neighbour search when they share points and anisotropy; each keeps
 * its own variogram model and factorisation.
 */
export interface KrigingField {
  readonly name: string;
  /** Values at the predictor's points (all finite). */
  readonly z: Float64Array;
  readonly model: VariogramModel;
}

export interface NeighbourhoodOptions {
  /** Largest number of nearest points used per prediction; Infinity = all (global kriging). */
  readonly nmax: number;
  /** Fewer neighbours than this within maxDistM gives NaN (counted, never silent). */
  readonly nmin: number;
  /** Search radius, metres (in anisotropy-reduced distance); Infinity = unlimited. */
  readonly maxDistM: number;
  /** Known mean for simple kriging; null = ordinary kriging. */
  readonly mean: number | null;
  /** Largest point count accepted for global kriging (an n×n matrix per variable). */
  readonly maxGlobalPoints: number;
}

/** Pivot threshold relative to the sill: below it the system is treated as singular. */
const SINGULAR_REL_TOL = 1e-10;

interface FactorCache {
  l: Float64Array;
  alpha: Float64Array;
  beta: Float64Array;
  q: number;
  bz: number;
}

export interface PredictionOutput {
  /** Prediction per field. */
  readonly pred: Float64Array;
  /** Kriging variance per field. */
  readonly variance: Float64Array;
  /** Lagrange multiplier m per field (0 for simple kriging); used by the lognormal back-transform. */
  readonly lagrange: Float64Array;
}

export class KrigingPredictor {
  readonly fields: readonly KrigingField[];
  readonly pointCount: number;
  readonly global: boolean;
  private readonly opts: NeighbourhoodOptions;
  /** Point coordinates in the anisotropy-reduced space. */
  private readonly px: Float64Array;
  private readonly py: Float64Array;
  private readonly toIso: ((dx: number, dy: number) => [number, number]) | null;
  private readonly cov: ((h: number) => number)[];
  private readonly sill: number[];
  private readonly index: NeighbourIndex | null;
  private readonly caches: FactorCache[];
  // Scratch buffers.
  private nbIdx: Int32Array;
  private nbD2: Float64Array;
  private prevIdx: Int32Array;
  private prevK = -1;
  private dist: Float64Array;
  private pairD: Float64Array;
  private cvec: Float64Array;
  private work: Float64Array;
  /** Where the coordinates were centred; added back in error messages. */
  private readonly originX: number;
  private readonly originY: number;

  /**
   * @param x,y point coordinates, already centred on (originX, originY)
   * @param fields variables at these points; all must share the same anisotropy
   */
  constructor(x: Float64Array, y: Float64Array, fields: readonly KrigingField[], opts: NeighbourhoodOptions, origin: { x: number; y: number } = { x: 0, y: 0 }) {
    const n = x.length;
    if (fields.length === 0) throw new InvalidOptionError('kriging needs at least one variable');
    if (n === 0) throw new InvalidOptionError('kriging needs at least one point');
    const anis: Anisotropy | undefined = fields[0].model.anisotropy;
    for (const f of fields) {
      if (f.z.length !== n) throw new InvalidOptionError(`variable ${f.name}: ${f.z.length} values for ${n} points`);
      const a = f.model.anisotropy;
      if ((a?.angleDeg ?? 0) !== (anis?.angleDeg ?? 0) || (a?.ratio ?? 1) !== (anis?.ratio ?? 1)) {
        throw new InvalidOptionError('variables kriged together must share one anisotropy');
      }
    }
    this.fields = fields;
    this.pointCount = n;
    this.opts = opts;
    this.originX = origin.x;
    this.originY = origin.y;
    this.toIso = anisotropyTransform(anis);
    this.px = new Float64Array(n);
    this.py = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (this.toIso) {
        const [u, v] = this.toIso(x[i], y[i]);
        this.px[i] = u;
        this.py[i] = v;
      } else {
        this.px[i] = x[i];
        this.py[i] = y[i];
      }
    }
    this.cov = fields.map((f) => covarianceFunction(f.model));
    this.sill = fields.map((f) => totalSill(f.model));
    this.global = opts.nmax >= n && opts.maxDistM === Infinity;
    const kMax = this.global ? n : Math.min(n, opts.nmax === Infinity ? n : opts.nmax);
    this.nbIdx = new Int32Array(kMax);
    this.nbD2 = new Float64Array(kMax);
    this.prevIdx = new Int32Array(kMax);
    this.dist = new Float64Array(kMax);
    this.cvec = new Float64Array(kMax);
    this.work = new Float64Array(kMax);
    this.pairD = new Float64Array(this.global ? 0 : kMax * kMax);
    this.caches = fields.map(() => ({ l: new Float64Array(0), alpha: new Float64Array(kMax), beta: new Float64Array(kMax), q: 0, bz: 0 }));
    if (this.global) {
      if (n > opts.maxGlobalPoints) {
        throw new InvalidOptionError(
          `global kriging of ${n} points needs a ${n}×${n} matrix per variable; the limit is ${opts.maxGlobalPoints} points. ` +
            'Use a moving neighbourhood (--nmax, e.g. 32) instead.',
          { points: n, maxGlobalPoints: opts.maxGlobalPoints },
        );
      }
      this.index = null;
      for (let i = 0; i < n; i++) this.nbIdx[i] = i;
      this.factorAll(n, true);
    } else {
      this.index = new NeighbourIndex(this.px, this.py);
    }
  }

  /** Builds and factors C for the current neighbour list (nbIdx[0..k)) for every field. */
  private factorAll(k: number, globalMode: boolean): void {
    const idx = this.nbIdx;
    // Pair distances, shared by all fields (global mode computes them per field to save n² memory).
    if (!globalMode) {
      const d = this.pairD;
      for (let i = 0; i < k; i++) {
        const xi = this.px[idx[i]], yi = this.py[idx[i]];
        d[i * k + i] = 0;
        for (let j = 0; j < i; j++) {
          const dx = this.px[idx[j]] - xi, dy = this.py[idx[j]] - yi;
          d[i * k + j] = Math.sqrt(dx * dx + dy * dy);
        }
      }
    }
    const mean = this.opts.mean;
    for (let f = 0; f < this.fields.length; f++) {
      const cache = this.caches[f];
      if (cache.l.length < k * k) cache.l = new Float64Array(k * k);
      const a = cache.l;
      const cov = this.cov[f];
      for (let i = 0; i < k; i++) {
        const ri = i * k;
        for (let j = 0; j <= i; j++) {
          let h: number;
          if (globalMode) {
            const dx = this.px[j] - this.px[i], dy = this.py[j] - this.py[i];
            h = Math.sqrt(dx * dx + dy * dy);
          } else {
            h = this.pairD[ri + j];
          }
          a[ri + j] = cov(h);
        }
      }
      const bad = choleskyInPlace(a, k, SINGULAR_REL_TOL * this.sill[f]);
      if (bad >= 0) this.singular(f, idx, k, bad);
      const z = this.fields[f].z;
      const alpha = cache.alpha, beta = cache.beta;
      let bz = 0, q = 0;
      for (let i = 0; i < k; i++) {
        alpha[i] = mean === null ? z[idx[i]] : z[idx[i]] - mean;
        beta[i] = 1;
      }
      forwardSolve(a, k, alpha);
      backwardSolve(a, k, alpha);
      if (mean === null) {
        forwardSolve(a, k, beta);
        backwardSolve(a, k, beta);
        for (let i = 0; i < k; i++) {
          q += beta[i];
          bz += beta[i] * z[idx[i]];
        }
      }
      cache.q = q;
      cache.bz = bz;
    }
  }

  private singular(f: number, idx: Int32Array, k: number, pivot: number): never {
    const p = idx[pivot];
    throw new SingularSystemError(
      `kriging system of variable "${this.fields[f].name}" is singular (${k} points, model ${describeModel(this.fields[f].model)}): ` +
        `point #${p} is (numerically) a linear combination of the others — coincident or nearly coincident points, ` +
        'or a Gaussian model without nugget. Merge duplicate points, or add a small nugget to the model.',
      { variable: this.fields[f].name, pointIndex: p, points: k, model: this.fields[f].model },
    );
  }

  private sortNeighbours(k: number): void {
    // Insertion sort by point index (k is small): the factorisation then depends on the set only.
    const idx = this.nbIdx, d2 = this.nbD2;
    for (let i = 1; i < k; i++) {
      const vi = idx[i], vd = d2[i];
      let j = i - 1;
      while (j >= 0 && idx[j] > vi) {
        idx[j + 1] = idx[j];
        d2[j + 1] = d2[j];
        j--;
      }
      idx[j + 1] = vi;
      d2[j + 1] = vd;
    }
  }

  /**
   * Predicts every field at (qx, qy) (centred coordinates). Returns the number of neighbours
   * used; when it is below nmin the outputs are NaN.
   */
  predict(qx: number, qy: number, out: PredictionOutput, exclude = -1): number {
    let ux = qx, uy = qy;
    if (this.toIso) [ux, uy] = this.toIso(qx, qy);
    const n = this.pointCount;
    let k: number;
    if (this.global) {
      k = n;
      for (let i = 0; i < n; i++) {
        const dx = this.px[i] - ux, dy = this.py[i] - uy;
        this.dist[i] = Math.sqrt(dx * dx + dy * dy);
      }
    } else {
      k = this.index!.nearest(ux, uy, this.opts.nmax, this.opts.maxDistM, this.nbIdx, this.nbD2, exclude);
      if (k < this.opts.nmin || k === 0) {
        out.pred.fill(NaN);
        out.variance.fill(NaN);
        out.lagrange.fill(NaN);
        return k;
      }
      this.sortNeighbours(k);
      let same = k === this.prevK;
      for (let i = 0; same && i < k; i++) same = this.nbIdx[i] === this.prevIdx[i];
      if (!same) {
        this.factorAll(k, false); (globalThis as any).__miss = ((globalThis as any).__miss ?? 0) + 1;
        this.prevIdx.set(this.nbIdx.subarray(0, k));
        this.prevK = k;
      }
      for (let i = 0; i < k; i++) this.dist[i] = Math.sqrt(this.nbD2[i]);
    }
    this.combine(k, out);
    return k;
  }

  private combine(k: number, out: PredictionOutput): void {
    const c = this.cvec, y = this.work, mean = this.opts.mean;
    for (let f = 0; f < this.fields.length; f++) {
      const cache = this.caches[f];
      const cov = this.cov[f];
      let ca = 0, cb = 0;
      for (let i = 0; i < k; i++) {
        const ci = cov(this.dist[i]);
        c[i] = ci;
        y[i] = ci;
        ca += ci * cache.alpha[i];
        cb += ci * cache.beta[i];
      }
      forwardSolve(cache.l, k, y);
      let yy = 0;
      for (let i = 0; i < k; i++) yy += y[i] * y[i];
      if (mean === null) {
        const m = (cb - 1) / cache.q;
        out.pred[f] = ca - m * cache.bz;
        out.variance[f] = Math.max(0, this.sill[f] - yy + m * m * cache.q);
        out.lagrange[f] = m;
      } else {
        out.pred[f] = mean + ca;
        out.variance[f] = Math.max(0, this.sill[f] - yy);
        out.lagrange[f] = 0;
      }
    }
  }

  /**
   * Leave-one-out prediction at every point: each point predicted from the others with the same
   * model and neighbourhood (gstat's krige.cv with nfold = n). Global kriging uses the exact
   * closed form of Dubrule (1983): with K the bordered kriging matrix, the LOO error at i is
   * (K⁻¹[z; 0])ᵢ / (K⁻¹)ᵢᵢ and the LOO kriging variance 1 / (K⁻¹)ᵢᵢ — one factorisation instead of n.
   * Returns per field the predictions and variances at the points; `onProgress` gets the fraction
   * done after every point (and may throw to cancel).
   */
  leaveOneOut(onProgress?: (fraction: number) => void): { pred: Float64Array; variance: Float64Array }[] {
    const n = this.pointCount;
    const nf = this.fields.length;
    const res = this.fields.map(() => ({ pred: new Float64Array(n), variance: new Float64Array(n) }));
    if (n < 2) throw new InvalidOptionError('leave-one-out cross-validation needs at least 2 points');
    if (this.global) {
      const e = new Float64Array(n);
      for (let f = 0; f < nf; f++) {
        const cache = this.caches[f];
        const l = cache.l;
        // diag(C⁻¹)ᵢ = ‖L⁻¹eᵢ‖², solving from row i down (entries above i are zero).
        const diag = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          e.fill(0);
          e[i] = 1 / l[i * n + i];
          let s = e[i] * e[i];
          for (let r = i + 1; r < n; r++) {
            let t = 0;
            const rr = r * n;
            for (let kk = i; kk < r; kk++) t -= l[rr + kk] * e[kk];
            e[r] = t / l[rr + r];
            s += e[r] * e[r];
          }
          diag[i] = s;
          onProgress?.((f * n + i + 1) / (nf * n));
        }
        const z = this.fields[f].z;
        const mean = this.opts.mean;
        for (let i = 0; i < n; i++) {
          let kii: number, kz: number;
          if (mean === null) {
            kii = diag[i] - (cache.beta[i] * cache.beta[i]) / cache.q;
            kz = cache.alpha[i] - (cache.beta[i] * cache.bz) / cache.q;
          } else {
            kii = diag[i];
            kz = cache.alpha[i];
          }
          res[f].pred[i] = z[i] - kz / kii;
          res[f].variance[i] = 1 / kii;
        }
      }
      return res;
    }
    const out: PredictionOutput = { pred: new Float64Array(nf), variance: new Float64Array(nf), lagrange: new Float64Array(nf) };
    // Work in the original (centred) space: predict() applies the anisotropy transform itself.
    const inv = this.inverseIso();
    for (let i = 0; i < n; i++) {
      const [qx, qy] = inv(this.px[i], this.py[i]);
      this.predict(qx, qy, out, i);
      for (let f = 0; f < nf; f++) {
        res[f].pred[i] = out.pred[f];
        res[f].variance[i] = out.variance[f];
      }
      onProgress?.((i + 1) / n);
    }
    return res;
  }

  private inverseIso(): (u: number, v: number) => [number, number] {
    const a = this.fields[0].model.anisotropy;
    if (!this.toIso || !a) return (u, v) => [u, v];
    const t = (a.angleDeg * Math.PI) / 180;
    const s = Math.sin(t), c = Math.cos(t);
    // Inverse of u = dx·s + dy·c, v = (dx·c − dy·s)/ratio (a rotation followed by a scaling).
    return (u, v) => {
      const w = v * a.ratio;
      return [u * s + w * c, u * c - w * s];
    };
  }

  /** Converts centred coordinates back for messages. */
  absolute(x: number, y: number): [number, number] {
    return [x + this.originX, y + this.originY];
  }
}
