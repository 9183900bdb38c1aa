import { join } from 'node:path';
import { InvalidFileError } from '../errors.ts';
import { MANIFEST_FILE, readManifest } from '../models/run-store.ts';
import type { EpochRecord } from '../models/train.ts';
import type { TrustWarning } from '../eval/trust-checks.ts';
import type { HoldoutMetrics } from '../eval/region-holdout.ts';
import type { Comparison } from '../eval/bootstrap.ts';
import { checkUserFile, readUserFile } from '../util/user-file.ts';
import type { InsightComparison, InsightEpoch, InsightModel, InsightWarning, RunInsight } from './run-insight-contract.ts';

/**
 * The app's "can I trust this run?" request: the final models' learning curves, the run's trust
 * warnings with their fixes, the grouped CV AUC with its interval, the region hold-out beside it
 * and the paired comparisons, read from the run folder (manifest.json, metrics.json) as
 * `geoanomaly train` wrote them. Nothing is recomputed: the app shows exactly what the CLI and
 * the report show. Runs written before a field existed get null for it.
 */

interface MetricsEntry {
  readonly mean?: { readonly auc?: number };
  readonly sd?: { readonly auc?: number };
  readonly ci95?: { readonly auc?: [number, number] };
  readonly folds?: readonly unknown[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function epochOf(e: EpochRecord): InsightEpoch {
  return {
    epoch: e.epoch,
    trainLoss: e.trainLoss,
    valLoss: num(e.valLoss),
    learningRate: num(e.learningRate),
    geologyShare: num(e.geologyShare),
    a: e.a && e.a.length > 0 ? e.a[0] : null,
    aAll: e.a ? [...e.a] : null,
    b: num(e.b),
  };
}

async function readMetrics(runDir: string): Promise<Record<string, unknown>> {
  const path = join(runDir, 'metrics.json');
  const text = (await readUserFile(path, 'json')).toString('utf8');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InvalidFileError(path, 'not valid JSON', 'The training run may have been interrupted; run "geoanomaly train" again');
  }
}

export async function runInsight(runDir: string): Promise<RunInsight> {
  await checkUserFile(join(runDir, MANIFEST_FILE), 'json');
  const manifest = readManifest(runDir);
  const metrics = await readMetrics(runDir);
  const holdout = (metrics.holdout ?? null) as HoldoutMetrics | null;
  const models: InsightModel[] = Object.entries(manifest.models).map(([name, m]) => {
    const entry = metrics[name] as MetricsEntry | undefined;
    const auc = num(entry?.mean?.auc);
    const h = holdout?.models?.[name];
    const history = (m.history ?? []).map(epochOf);
    return {
      name,
      type: m.type === 'baseline' ? 'baseline' : 'network',
      keptEpoch: m.type === 'baseline' ? 0 : m.epochs,
      epochsRun: history.length,
      stoppedEarly: typeof m.stoppedEarly === 'boolean' ? m.stoppedEarly : null,
      geology: m.geology ? { a: [...m.geology.a], b: m.geology.b } : null,
      geologyShare: num(m.geologyShare),
      history,
      cv: auc === null ? null : { auc, sd: num(entry?.sd?.auc) ?? 0, ci95: entry?.ci95?.auc ?? null, folds: entry?.folds?.length ?? 0 },
      holdout: h ? { auc: h.auc, ci95: h.ci95, deposits: h.deposits, regions: h.regions.map((r) => ({ region: r.region, deposits: r.deposits, auc: r.auc })) } : null,
    };
  });
  const warnings: InsightWarning[] = ((manifest.warnings ?? []) as TrustWarning[]).map((w) => ({ code: w.code, step: w.step, subject: w.subject ?? null, message: w.message, fix: w.fix }));
  const comparisons: InsightComparison[] = ((metrics.comparisons ?? []) as Comparison[]).map((c) => ({
    a: c.a,
    b: c.b,
    metric: c.metric,
    diff: c.diff,
    ci95: c.ci95,
    includesZero: c.ci95[0] <= 0 && c.ci95[1] >= 0,
  }));
  return { runDir, models, warnings, comparisons, holdout: holdout ? { method: holdout.method, rules: holdout.rules } : null };
}
