import { InvalidOptionError } from '../errors.ts';
import { logGamma } from './student-t.ts';

/**
 * Normal and chi-squared distribution functions for the MCD consistency factors and the
 * reweighting cut-off (R's pnorm, dnorm, qnorm, pgamma, qchisq). Hand-written for the same
 * reason as student-t.ts: a handful of functions, checked against mpmath at 40 digits
 * (tests/eval/distributions.test.ts, fixture from tests/fixtures/rpca/make_fixture.R's companion
 * tests/fixtures/rpca/make_distributions.py).
 * - qnorm: Wichura's AS 241 (PPND16), the algorithm R uses; ~1e-16 relative.
 * - pgamma: regularized lower incomplete gamma by series (x < a + 1) or Lentz continued fraction.
 * - pnorm: through the incomplete gamma: Φ(x) = ½·(1 ± P(½, x²/2)).
 * - qchisq: bisection on pgamma (monotone), to full double precision.
 */

export function dnorm(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

function gammaSeries(a: number, x: number): number {
  let sum = 1 / a;
  let del = sum;
  let ap = a;
  for (let n = 0; n < 100000; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * 1e-17) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function gammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-17) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Regularized lower incomplete gamma P(a, x) (R: pgamma(x, shape = a)). */
export function pgamma(x: number, a: number): number {
  if (!(a > 0)) throw new InvalidOptionError(`pgamma: shape ${a}; expected > 0`);
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), without cancellation in the tail. */
export function qgammaUpper(x: number, a: number): number {
  if (x <= 0) return 1;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** Standard normal CDF. */
export function pnorm(x: number): number {
  const half = 0.5 * x * x;
  if (x >= 0) return 0.5 + 0.5 * pgamma(half, 0.5);
  return 0.5 * qgammaUpper(half, 0.5);
}

/* eslint-disable no-loss-of-precision -- AS 241's coefficients as published (20 digits); rounding them to
   doubles is exactly what the C compiler does for R's qnorm. */
/** Standard normal quantile, Wichura (1988) AS 241 PPND16. */
export function qnorm(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new InvalidOptionError(`qnorm: p = ${p}; expected 0 ≤ p ≤ 1`);
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}
/* eslint-enable no-loss-of-precision */

/** Chi-squared quantile with df degrees of freedom (R: qchisq(p, df)). */
export function qchisq(p: number, df: number): number {
  if (!(p >= 0 && p < 1)) throw new InvalidOptionError(`qchisq: p = ${p}; expected 0 ≤ p < 1`);
  if (!(df > 0)) throw new InvalidOptionError(`qchisq: df = ${df}; expected > 0`);
  if (p === 0) return 0;
  const a = df / 2;
  let lo = 0;
  let hi = Math.max(1, df);
  while (pgamma(hi / 2, a) < p) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 300 && hi - lo > 1e-16 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (pgamma(mid / 2, a) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
