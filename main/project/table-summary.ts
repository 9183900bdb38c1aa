import { InvalidOptionError } from '../errors.ts';
import { qnorm } from '../eval/distributions.ts';
import { inspectSampleTable, type SampleTableOptions } from '../io/table.ts';
import type { ElementSummary, TableSummary } from './study-types.ts';

export type { ElementSummary, TableSummary };

/**
 * Step 1 of the guided study: what a geochemist checks in a sample table before kriging it.
 * Per element column: unit, counts (values, censored, missing), a histogram and a normal
 * probability plot. Both are of log10 values when every value is positive (geochemical
 * concentrations are close to lognormal; a straight probability plot of log values is the
 * check), else of the values themselves. Censored cells hold their substituted value
 * (censorFraction × limit, see io/table.ts), as kriging will see them.
 */

export const DEFAULT_SUMMARY_BINS = 20;

/**
 * numpy.histogram's rule: `bins` equal bins between min and max, each half-open [a, b) except
 * the last, which includes max. A constant column gets the range [v − 0.5, v + 0.5] as numpy does.
 */
export function histogram(values: ArrayLike<number>, bins: number): { edges: number[]; counts: number[] } {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new InvalidOptionError(`histogram bins must be a whole number ≥ 1, got ${bins}`, { bins });
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (values.length === 0) [lo, hi] = [0, 1];
  else if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  edges[bins] = hi;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let b = Math.floor(((v - lo) / (hi - lo)) * bins);
    if (b >= bins) b = bins - 1;
    // Floating point: make the bin agree with the edges numpy compares against.
    while (b > 0 && v < edges[b]) b--;
    while (b < bins - 1 && v >= edges[b + 1]) b++;
    counts[b]++;
  }
  return { edges, counts };
}

/** scipy.stats.probplot's plotting positions (Filliben's estimate) as normal quantiles. */
export function probplotQuantiles(n: number): number[] {
  if (n === 0) return [];
  if (n === 1) return [qnorm(0.5)];
  const m = Array.from({ length: n }, (_, k) => (k + 1 - 0.3175) / (n + 0.365));
  m[n - 1] = 0.5 ** (1 / n);
  m[0] = 1 - m[n - 1];
  return m.map(qnorm);
}

export function summarizeElement(name: string, unit: string | null, raw: ArrayLike<number>, censored: number, missing: number, bins: number): ElementSummary {
  const finite: number[] = [];
  for (let i = 0; i < raw.length; i++) if (Number.isFinite(raw[i])) finite.push(raw[i]);
  finite.sort((a, b) => a - b);
  const log10 = finite.length > 0 && finite[0] > 0;
  const plotted = log10 ? finite.map(Math.log10) : finite;
  const h = histogram(plotted, bins);
  return {
    name,
    unit,
    count: finite.length,
    censored,
    missing,
    min: finite.length ? finite[0] : NaN,
    max: finite.length ? finite[finite.length - 1] : NaN,
    log10,
    edges: h.edges,
    counts: h.counts,
    quantiles: probplotQuantiles(plotted.length),
    sorted: plotted,
  };
}

/** Reads the table (same parsing as `krige`: units from headers, censored cells substituted) and summarises each element column. */
export async function summarizeTable(path: string, options: SampleTableOptions, bins = DEFAULT_SUMMARY_BINS): Promise<TableSummary> {
  const t = await inspectSampleTable(path, options);
  return {
    path,
    rows: t.rowCount,
    duplicateLocations: t.duplicateLocations,
    extent: [Math.min(...t.x), Math.min(...t.y), Math.max(...t.x), Math.max(...t.y)],
    elements: t.columns.map((c) => summarizeElement(c, t.units[c] ?? null, t.values[c], t.censored[c] ?? 0, t.missing[c] ?? 0, bins)),
  };
}
