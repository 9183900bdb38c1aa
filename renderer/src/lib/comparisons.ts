/**
 * The paired comparisons of a run's metrics.json ("comparisons", written by `geoanomaly train`,
 * main/eval/bootstrap.ts) as the compare view prints them: "GK-DCN − CNN: ΔAUC +0.03 [−0.05, +0.11]",
 * with a plain statement when the interval includes 0. Same wording as the CLI and the report.
 */
export interface RunComparison {
  readonly a: string;
  readonly b: string;
  readonly metric: string;
  readonly diff: number;
  readonly ci95: readonly [number, number];
  readonly method: string;
}

/** The comparisons of a parsed metrics.json ([] when it has none). */
export function comparisonsOf(metrics: unknown): RunComparison[] {
  const c = (metrics as { comparisons?: unknown } | null)?.comparisons;
  return Array.isArray(c) ? (c as RunComparison[]).filter((x) => typeof x?.diff === 'number' && Array.isArray(x.ci95)) : [];
}

/** metrics.json without "comparisons": the per-model entries. */
export function modelEntries<T>(metrics: Record<string, T | unknown>): Record<string, T> {
  const { comparisons: _c, ...models } = metrics;
  return models as Record<string, T>;
}

const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;

export function comparisonText(c: RunComparison): { line: string; verdict: string; includesZero: boolean } {
  const includesZero = c.ci95[0] <= 0 && c.ci95[1] >= 0;
  const verdict = includesZero ? 'the interval includes 0: no evidence that either is better' : `${(c.diff > 0 ? c.a : c.b).toUpperCase()} is better`;
  return { line: `${c.a.toUpperCase()} − ${c.b.toUpperCase()}: Δ${c.metric.toUpperCase()} ${signed(c.diff)} [${signed(c.ci95[0])}, ${signed(c.ci95[1])}]`, verdict, includesZero };
}
