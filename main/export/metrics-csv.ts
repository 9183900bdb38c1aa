import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { METRIC_NAMES, type MetricName } from '../models/metric-names.ts';
import { METRICS_FILE } from '../models/run-store.ts';
import type { Comparison } from '../eval/bootstrap.ts';
import type { HoldoutMetrics } from '../eval/region-holdout.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { RunFolderError } from './export-errors.ts';

/**
 * A training run's metrics.json as CSV: one row per model × fold (with its repeat and fold
 * number), then a `mean` and an `sd` row per model. Values are written with JavaScript's
 * shortest round-trip formatting, so parsing the CSV gives back exactly the numbers of
 * metrics.json. Quoting and line endings by papaparse.
 */
export interface ModelMetrics {
  readonly folds: readonly Record<MetricName, number>[];
  readonly mean: Record<MetricName, number>;
  readonly sd: Record<MetricName, number>;
  readonly ci95?: Record<MetricName, readonly [number, number]>;
  readonly protocol?: string;
  readonly folds_k?: number;
  readonly repeats?: number;
}

export type RunMetrics = Record<string, ModelMetrics>;

export const CSV_COLUMNS = ['model', 'row', 'repeat', 'fold', ...METRIC_NAMES] as const;

/** Reads and checks RUN_DIR/metrics.json. */
export function readRunMetrics(runDir: string): RunMetrics {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    throw new RunFolderError(`${runDir} is not a folder; give the RUN_DIR a "geoanomaly train" run wrote`, { runDir });
  }
  const path = join(runDir, METRICS_FILE);
  if (!existsSync(path)) {
    throw new RunFolderError(`${runDir} has no ${METRICS_FILE}: it is not a finished training run. Choose the folder "geoanomaly train --out" wrote, or wait for the run to finish.`, { runDir });
  }
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InvalidFileError(path, `not valid JSON (${(e as Error).message})`, 'Re-run training to rewrite it');
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m) || Object.keys(m).length === 0) {
    throw new InvalidFileError(path, 'holds no model entries', 'Re-run training to rewrite it');
  }
  // "comparisons" (paired site-bootstrap differences, eval/bootstrap.ts) is not a model: readRunComparisons;
  // nor is "holdout" (train --holdout-region/--holdout-blocks, workflows/train-holdout.ts): readRunHoldout.
  const { comparisons: _comparisons, holdout: _holdout, ...models } = m as Record<string, unknown>;
  if (Object.keys(models).length === 0) throw new InvalidFileError(path, 'holds no model entries', 'Re-run training to rewrite it');
  m = models;
  for (const [model, e] of Object.entries(m as Record<string, unknown>)) {
    const entry = e as Partial<ModelMetrics> | null;
    const ok = entry && Array.isArray(entry.folds) && entry.mean && entry.sd && METRIC_NAMES.every((k) => typeof entry.mean?.[k] === 'number');
    if (!ok) throw new InvalidFileError(path, `model "${model}" lacks folds/mean/sd of the metrics ${METRIC_NAMES.join(', ')}`, 'Re-run training to rewrite it', { model });
  }
  return m as RunMetrics;
}

/** The region hold-out of RUN_DIR/metrics.json (train --holdout-region/--holdout-blocks); null when the run has none. */
export function readRunHoldout(runDir: string): HoldoutMetrics | null {
  const path = join(runDir, METRICS_FILE);
  if (!existsSync(path)) return null;
  try {
    const h = (JSON.parse(readFileSync(path, 'utf8')) as { holdout?: HoldoutMetrics }).holdout;
    return h && typeof h === 'object' && h.models ? h : null;
  } catch {
    return null;
  }
}

/** The paired comparisons of RUN_DIR/metrics.json ([] for runs written before they existed). */
export function readRunComparisons(runDir: string): Comparison[] {
  const path = join(runDir, METRICS_FILE);
  if (!existsSync(path)) return [];
  try {
    const c = (JSON.parse(readFileSync(path, 'utf8')) as { comparisons?: unknown }).comparisons;
    return Array.isArray(c) ? (c as Comparison[]) : [];
  } catch {
    return [];
  }
}

function cell(v: number | undefined): string {
  // metrics.json holds null where a metric is undefined (e.g. precision without positive predictions).
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

export function metricsToCsv(metrics: RunMetrics): string {
  const rows: string[][] = [];
  for (const [model, m] of Object.entries(metrics)) {
    const k = m.folds_k && m.folds_k > 0 ? m.folds_k : m.folds.length;
    m.folds.forEach((f, i) => rows.push([model, 'fold', String(Math.floor(i / k) + 1), String((i % k) + 1), ...METRIC_NAMES.map((n) => cell(f[n]))]));
    rows.push([model, 'mean', '', '', ...METRIC_NAMES.map((n) => cell(m.mean[n]))]);
    rows.push([model, 'sd', '', '', ...METRIC_NAMES.map((n) => cell(m.sd[n]))]);
  }
  return Papa.unparse({ fields: [...CSV_COLUMNS], data: rows }, { newline: '\n' }) + '\n';
}

export function exportMetricsCsv(runDir: string, out: string): { path: string; rows: number } {
  if (!/\.csv$/i.test(out)) throw new InvalidOptionError(`${out}: a metrics export path must end in .csv`, { path: out });
  const metrics = readRunMetrics(runDir);
  const csv = metricsToCsv(metrics);
  writeFileAtomic(out, csv);
  return { path: out, rows: csv.trimEnd().split('\n').length - 1 };
}
