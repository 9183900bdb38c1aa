import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { InvalidOptionError } from '../../errors.ts';

/**
 * Binary logistic regression by ml-logistic-regression (mljs): batch gradient ascent on the
 * UNPENALISED log-likelihood Σ yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ), weights from zero, `steps`
 * steps of size `learningRate` on the summed gradient Xᵀ(y − p). It has no intercept and no
 * penalty: we add a column of ones (coefficient 0 is the intercept) and standardise the features
 * with the training mean and sd (stored, applied again at prediction).
 *
 * The library's default step (5e-4) diverges or crawls depending on n and the feature scale, so
 * the step is set from the data: 1 / L with L = λmax(XᵀX)/4, the Lipschitz constant of the
 * gradient, for which gradient ascent increases the likelihood monotonically. With enough steps
 * this converges to the maximum-likelihood fit (sklearn LogisticRegression(penalty=None),
 * tests/models/baselines.test.ts); with a fixed, modest number of steps from zero it stops short
 * of it, which shrinks the coefficients like a weak ridge penalty and keeps them finite when the
 * classes are separable (where no maximum-likelihood estimate exists).
 */

export interface LogisticOptions {
  /** Gradient steps. @default 2000 */
  readonly steps?: number;
}

export interface LogisticFit {
  /** Coefficients on the standardised features, intercept first (length q + 1). */
  readonly weights: number[];
  readonly featureMean: number[];
  readonly featureSd: number[];
  readonly steps: number;
  readonly learningRate: number;
}

/** Largest eigenvalue of XᵀX (power iteration on the q × q Gram matrix; X has q columns). */
function largestEigenvalue(g: Matrix): number {
  const q = g.rows;
  let v = new Matrix(q, 1).fill(1 / Math.sqrt(q));
  let lambda = 0;
  for (let it = 0; it < 200; it++) {
    const w = g.mmul(v);
    const norm = w.norm();
    if (norm === 0) return 0;
    v = w.div(norm);
    if (Math.abs(norm - lambda) <= 1e-10 * norm) return norm;
    lambda = norm;
  }
  return lambda;
}

/** Fits rows [n × q] of `x` (row-major) against 0/1 labels. */
export function fitLogistic(x: Float64Array, n: number, q: number, labels: ArrayLike<number>, options: LogisticOptions = {}): LogisticFit {
  const steps = options.steps ?? 2000;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new InvalidOptionError(`logistic regression: steps must be an integer ≥ 1, got ${steps}`);
  if (x.length !== n * q) throw new InvalidOptionError(`logistic regression: ${x.length} values, expected n·q = ${n * q}`);
  const featureMean = new Array<number>(q).fill(0);
  const featureSd = new Array<number>(q).fill(0);
  for (let j = 0; j < q; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * q + j];
    const m = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[i * q + j] - m) ** 2;
    featureMean[j] = m;
    // A constant feature gets sd 1 (it is 0 after centring and carries no weight).
    featureSd[j] = Math.sqrt(ss / n) || 1;
  }
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = [1];
    for (let j = 0; j < q; j++) r.push((x[i * q + j] - featureMean[j]) / featureSd[j]);
    rows.push(r);
  }
  const X = new Matrix(rows);
  const L = largestEigenvalue(X.transpose().mmul(X)) / 4;
  const learningRate = L > 0 ? 1 / L : 1;
  const lr = new LogisticRegression({ numSteps: steps, learningRate });
  lr.train(X, Matrix.columnVector(Array.from(labels, (v) => (v === 1 ? 1 : 0))));
  // classifiers[0] scores P(y ≠ 0) = P(deposit) (the library's one-vs-all relabelling).
  const weights = lr.classifiers[0].weights.to1DArray();
  return { weights, featureMean, featureSd, steps, learningRate };
}

/** P(deposit) of rows [n × q] under a fit (the library's sigmoid of X·w, on the stored scaling). */
export function predictLogistic(fit: LogisticFit, x: Float64Array, n: number): Float32Array {
  const q = fit.featureMean.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = fit.weights[0];
    for (let j = 0; j < q; j++) s += fit.weights[j + 1] * ((x[i * q + j] - fit.featureMean[j]) / fit.featureSd[j]);
    out[i] = 1 / (1 + Math.exp(-s));
  }
  return out;
}
