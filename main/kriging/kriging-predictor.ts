import { InvalidOptionError, SingularSystemError } from '../errors.ts';
import { backwardSolve, choleskyAppendRow, choleskyDeleteRow, choleskyInPlace, forwardSolve } from './cholesky.ts';
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
/** Neighbour changes handled by updating the factor; more than this refactors from scratch. */
const MAX_INCREMENTAL_CHANGES = 6;
/**
 * Changes applied to one factor before it is rebuilt (and re-sorted) from scratch: bounds rounding
 * drift, and keeps the points about to leave near the end of the factor, where deleting is cheap.
 */
const MAX_UPDATE_CHAIN = 32;

/**
 * Per-variable factor of the current neighbour set: L (row stride = capacity) with
 * u = L⁻¹z (or L⁻¹(z − μ)) and v = L⁻¹1, so that for y = L⁻¹c:
 * cᵀC⁻¹z = y·u, cᵀC⁻¹1 = y·v, 1ᵀC⁻¹1 = v·v, 1ᵀC⁻¹z = u·v.
 */
interface Factor {
  l: Float64Array;
  u: Float64Array;
  v: Float64Array;
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
  private readonly factors: Factor[];
  /**
   * Row stride of the factors: the largest neighbour count met so far. It grows on demand, so a
   * radius-only search (maxdist, no nmax) costs memory for the neighbours it finds, not for n².
   */
  private cap: number;
  // Current factor: the point at factor position i is order[i]; pos[point] = position or −1.
  private readonly order: Int32Array;
  private readonly pos: Int32Array;
  private curK = 0;
  private chain = 0;
  // Current query (anisotropy-reduced space) and direction of travel between queries.
  private qx = 0;
  private qy = 0;
  private dirX = 0;
  private dirY = 0;
  private readonly sortKey: Float64Array;
  // Scratch buffers.
  private readonly nbIdx: Int32Array;
  private readonly nbD2: Float64Array;
  private readonly dist: Float64Array;
  private readonly work: Float64Array;
  private readonly work2: Float64Array;
  private readonly removed: Int32Array;
  private readonly added: Int32Array;
  /** Where the coordinates were centred; added back in error messages. */
  private readonly originX: number;
  private readonly originY: number;

  /**
   * @param x,y point coordinates, already centred on `origin`
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
    if (this.global && n > opts.maxGlobalPoints) {
      throw new InvalidOptionError(
        `global kriging of ${n} points needs a ${n}×${n} matrix per variable; the limit is ${opts.maxGlobalPoints} points. ` +
          'Use a moving neighbourhood (--nmax, e.g. 32) instead.',
        { points: n, maxGlobalPoints: opts.maxGlobalPoints },
      );
    }
    const kMax = this.global ? n : Math.min(n, opts.nmax === Infinity ? n : opts.nmax);
    const cap = this.global ? n : Math.min(kMax, 64);
    this.cap = cap;
    this.order = new Int32Array(kMax);
    this.pos = new Int32Array(n).fill(-1);
    this.nbIdx = new Int32Array(kMax);
    this.nbD2 = new Float64Array(kMax);
    this.dist = new Float64Array(kMax);
    this.work = new Float64Array(kMax);
    this.work2 = new Float64Array(kMax);
    this.removed = new Int32Array(kMax);
    this.added = new Int32Array(kMax);
    this.sortKey = new Float64Array(kMax);
    this.factors = fields.map(() => ({ l: new Float64Array(cap * cap), u: new Float64Array(cap), v: new Float64Array(cap), q: 0, bz: 0 }));
    if (this.global) {
      this.index = null;
      for (let i = 0; i < n; i++) this.nbIdx[i] = i;
      this.refactor(n);
    } else {
      this.index = new NeighbourIndex(this.px, this.py);
    }
  }

  /**
   * Tells the predictor which way the next queries move (e.g. along a grid row). Factors are then
   * built with the trailing points last: they leave the neighbourhood first, and deleting the
   * last rows of a Cholesky factor costs little. Only speed depends on it, not the numbers.
   */
  setTravelDirection(dx: number, dy: number): void {
    const [u, v] = this.toIso ? this.toIso(dx, dy) : [dx, dy];
    this.dirX = u;
    this.dirY = v;
  }

  /** Forgets the current factor; the next prediction factors from scratch. */
  resetFactor(): void {
    if (this.global) return;
    for (let i = 0; i < this.curK; i++) this.pos[this.order[i]] = -1;
    this.curK = 0;
  }

  /** Factors C of the points nbIdx[0..k) from scratch, for every field. */
  private refactor(k: number): void {
    for (let i = 0; i < this.curK; i++) this.pos[this.order[i]] = -1;
    if (!this.global && (this.dirX !== 0 || this.dirY !== 0)) this.sortByTravel(k);
    for (let i = 0; i < k; i++) {
      this.order[i] = this.nbIdx[i];
      this.pos[this.nbIdx[i]] = i;
    }
    this.curK = k;
    this.chain = 0;
    const S = this.cap, order = this.order, px = this.px, py = this.py;
    // Pair distances once (into the first field's buffer when there are several fields, else in place).
    const nf = this.fields.length;
    const first = this.factors[0].l;
    for (let i = 0; i < k; i++) {
      const xi = px[order[i]], yi = py[order[i]];
      const ri = i * S;
      for (let j = 0; j < i; j++) {
        const dx = px[order[j]] - xi, dy = py[order[j]] - yi;
        first[ri + j] = Math.sqrt(dx * dx + dy * dy);
      }
      first[ri + i] = 0;
    }
    for (let f = nf - 1; f >= 0; f--) {
      const a = this.factors[f].l;
      const cov = this.cov[f];
      for (let i = 0; i < k; i++) {
        const ri = i * S;
        for (let j = 0; j <= i; j++) a[ri + j] = cov(first[ri + j]);
      }
      const bad = choleskyInPlace(a, k, SINGULAR_REL_TOL * this.sill[f], S);
      if (bad >= 0) this.singular(f, k, order[bad]);
      this.solveUV(f, k);
    }
  }

  /** Orders nbIdx[0..k) leading points first, trailing last (insertion sort: k is small). */
  private sortByTravel(k: number): void {
    const idx = this.nbIdx, d2 = this.nbD2, key = this.sortKey;
    for (let i = 0; i < k; i++) key[i] = (this.px[idx[i]] - this.qx) * this.dirX + (this.py[idx[i]] - this.qy) * this.dirY;
    for (let i = 1; i < k; i++) {
      const ki = key[i], vi = idx[i], di = d2[i];
      let j = i - 1;
      while (j >= 0 && (key[j] < ki || (key[j] === ki && idx[j] > vi))) {
        key[j + 1] = key[j];
        idx[j + 1] = idx[j];
        d2[j + 1] = d2[j];
        j--;
      }
      key[j + 1] = ki;
      idx[j + 1] = vi;
      d2[j + 1] = di;
    }
  }

  /**
   * u = L⁻¹z (or L⁻¹(z − μ)), v = L⁻¹1 and their products, for the current factor; entries
   * before `from` are still valid (their rows of L did not change).
   */
  private solveUV(f: number, k: number, from = 0): void {
    const fa = this.factors[f];
    const z = this.fields[f].z;
    const mean = this.opts.mean;
    for (let i = from; i < k; i++) {
      fa.u[i] = mean === null ? z[this.order[i]] : z[this.order[i]] - mean;
      fa.v[i] = 1;
    }
    forwardSolve(fa.l, k, fa.u, this.cap, from);
    let q = 0, bz = 0;
    if (mean === null) {
      forwardSolve(fa.l, k, fa.v, this.cap, from);
      for (let i = 0; i < k; i++) {
        q += fa.v[i] * fa.v[i];
        bz += fa.u[i] * fa.v[i];
      }
    }
    fa.q = q;
    fa.bz = bz;
  }

  /**
   * Moves the factor from the current neighbour set to nbIdx[0..k): deletes the points that left
   * and appends the ones that joined, O(k²) each; falls back to a full refactor when many changed.
   */
  private update(k: number): void {
    if (k > this.cap) {
      // More neighbours than the factors can hold: widen them (stride changes) and rebuild.
      this.cap = Math.min(this.nbIdx.length, Math.max(k, 2 * this.cap));
      for (const fa of this.factors) {
        fa.l = new Float64Array(this.cap * this.cap);
        fa.u = new Float64Array(this.cap);
        fa.v = new Float64Array(this.cap);
      }
      this.refactor(k);
      return;
    }
    const pos = this.pos, nb = this.nbIdx;
    let common = 0, nAdded = 0;
    for (let i = 0; i < k; i++) {
      if (pos[nb[i]] >= 0) common++;
      else this.added[nAdded++] = nb[i];
    }
    const nRemoved = this.curK - common;
    if (nAdded === 0 && nRemoved === 0) return;
    if (this.curK === 0 || nAdded + nRemoved > MAX_INCREMENTAL_CHANGES || this.chain + nAdded + nRemoved > MAX_UPDATE_CHAIN) {
      this.refactor(k);
      return;
    }
    // Points that left: mark the new set, then delete from the highest position down.
    const stamp = this.work2;
    let nr = 0;
    for (let i = 0; i < k; i++) if (pos[nb[i]] >= 0) stamp[pos[nb[i]]] = 1;
    for (let p = this.curK - 1; p >= 0; p--) {
      if (stamp[p] === 1) { stamp[p] = 0; continue; }
      this.removed[nr++] = p;
    }
    // Rows above the first change keep their factor rows and their entries of u and v.
    const from = nr > 0 ? this.removed[nr - 1] : this.curK;
    for (let r = 0; r < nr; r++) {
      const p = this.removed[r]; // descending
      for (let f = 0; f < this.fields.length; f++) choleskyDeleteRow(this.factors[f].l, this.curK, p, this.cap, this.work);
      pos[this.order[p]] = -1;
      for (let i = p; i < this.curK - 1; i++) {
        this.order[i] = this.order[i + 1];
        pos[this.order[i]] = i;
      }
      this.curK--;
    }
    for (let a = 0; a < nAdded; a++) {
      const id = this.added[a];
      const n = this.curK;
      const xi = this.px[id], yi = this.py[id];
      for (let j = 0; j < n; j++) {
        const dx = this.px[this.order[j]] - xi, dy = this.py[this.order[j]] - yi;
        this.dist[j] = Math.sqrt(dx * dx + dy * dy);
      }
      for (let f = 0; f < this.fields.length; f++) {
        const cov = this.cov[f];
        const c = this.work;
        for (let j = 0; j < n; j++) c[j] = cov(this.dist[j]);
        if (!choleskyAppendRow(this.factors[f].l, n, c, this.sill[f], this.cap, SINGULAR_REL_TOL * this.sill[f])) {
          // Let the full factorisation decide (and name the offending point).
          this.refactor(k);
          return;
        }
      }
      this.order[n] = id;
      pos[id] = n;
      this.curK++;
    }
    this.chain += nAdded + nRemoved;
    for (let f = 0; f < this.fields.length; f++) this.solveUV(f, this.curK, from);
  }

  private singular(f: number, k: number, point: number): never {
    throw new SingularSystemError(
      `kriging system of variable "${this.fields[f].name}" is singular (${k} points, model ${describeModel(this.fields[f].model)}): ` +
        `point #${point} is (numerically) a linear combination of the others — coincident or nearly coincident points, ` +
        'or a Gaussian model without nugget. Merge duplicate points, or add a small nugget to the model.',
      { variable: this.fields[f].name, pointIndex: point, points: k, model: this.fields[f].model },
    );
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
      k = this.index!.nearest(ux, uy, this.nbIdx.length, this.opts.maxDistM, this.nbIdx, this.nbD2, exclude, this.order, this.curK);
      this.qx = ux;
      this.qy = uy;
      if (k < this.opts.nmin || k === 0) {
        out.pred.fill(NaN);
        out.variance.fill(NaN);
        out.lagrange.fill(NaN);
        return k;
      }
      this.update(k);
      for (let i = 0; i < k; i++) this.dist[this.pos[this.nbIdx[i]]] = Math.sqrt(this.nbD2[i]);
    }
    this.combine(k, out);
    return k;
  }

  private combine(k: number, out: PredictionOutput): void {
    const y = this.work, mean = this.opts.mean, S = this.cap;
    for (let f = 0; f < this.fields.length; f++) {
      const fa = this.factors[f];
      const cov = this.cov[f];
      for (let i = 0; i < k; i++) y[i] = cov(this.dist[i]);
      forwardSolve(fa.l, k, y, S);
      let yy = 0, yu = 0, yv = 0;
      for (let i = 0; i < k; i++) {
        yy += y[i] * y[i];
        yu += y[i] * fa.u[i];
        yv += y[i] * fa.v[i];
      }
      if (mean === null) {
        const m = (yv - 1) / fa.q;
        out.pred[f] = yu - m * fa.bz;
        out.variance[f] = Math.max(0, this.sill[f] - yy + m * m * fa.q);
        out.lagrange[f] = m;
      } else {
        out.pred[f] = mean + yu;
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
        const fa = this.factors[f];
        const l = fa.l;
        // α = C⁻¹z (or C⁻¹(z − μ)), β = C⁻¹1 from u = L⁻¹z, v = L⁻¹1.
        const alpha = Float64Array.from(fa.u);
        const beta = Float64Array.from(fa.v);
        backwardSolve(l, n, alpha, n);
        backwardSolve(l, n, beta, n);
        // diag(C⁻¹)ᵢ = ‖L⁻¹eᵢ‖², solving from row i down (entries above i are zero).
        const diag = new Float64Array(n);
        for (let i = 0; i < n; i++) {
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
            kii = diag[i] - (beta[i] * beta[i]) / fa.q;
            kz = alpha[i] - (beta[i] * fa.bz) / fa.q;
          } else {
            kii = diag[i];
            kz = alpha[i];
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
