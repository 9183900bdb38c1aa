import { join } from 'node:path';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { MANIFEST_FILE, readManifest } from '../models/run-store.ts';
import type { EpochRecord } from '../models/train.ts';
import type { TrustWarning } from '../eval/trust-checks.ts';
import type { HoldoutMetrics } from '../eval/region-holdout.ts';
import type { Comparison } from '../eval/bootstrap.ts';
import { checkUserFile, checkUserFileOrFolder, readUserFile } from '../util/user-file.ts';
import { initBackend } from '../models/backend.ts';
import { loadRun, modelClassifier } from '../maps/run-models.ts';
import { matchBands } from '../maps/stack-source.ts';
import { occlusion } from '../maps/attribution.ts';
import { readStack } from '../io/geotiff-read.ts';
import { makeStack } from '../grid/raster.ts';
import { cellOf, inGrid } from '../grid/grid-spec.ts';
import { extractPatches } from '../sites/patches.ts';
import type { Site } from '../sites/site-blocks.ts';
import { runStackPath } from './explain-requests.ts';
import type { AttributeSiteParams, InsightComparison, InsightEpoch, InsightModel, InsightWarning, RunInsight, SiteAttribution } from './run-insight-contract.ts';

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

/**
 * Per-element attribution of the window around one clicked cell, for every network of a run:
 * occlusion (main/maps/attribution.ts, the same function and baseline as `explain --attribution
 * occlusion`: each band set to its study-area mean, 0 after standardising), on the window
 * extracted as `explain` does (the run's transform statistics, nodata filled with the band
 * mean). The site panel shows it beside Grad-CAM: Grad-CAM says where in the window a model
 * looks, this says which elements drive it.
 */
export async function attributeSite(p: AttributeSiteParams): Promise<SiteAttribution> {
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new InvalidOptionError(`attributeSite needs finite x and y, got ${p.x}, ${p.y}`);
  await checkUserFile(join(p.runDir, MANIFEST_FILE), 'json');
  await initBackend('auto');
  const run = await loadRun(p.runDir);
  try {
    if (!run.stats.transform.endsWith('standardize')) {
      throw new InvalidOptionError(`attribution needs a standardised transform (its baseline is each band at its mean); run ${p.runDir} used "${run.stats.transform}". Re-train with --transform log10-standardize.`);
    }
    const stackPath = p.stack ?? runStackPath(p.runDir);
    await checkUserFileOrFolder(stackPath, 'raster', ['.tif', '.tiff']);
    const full = await readStack(stackPath);
    const idx = matchBands({ bandNames: full.bandNames, path: stackPath }, run.bandNames);
    const stack = makeStack(full.grid, [...run.bandNames], idx.map((i) => full.bands[i]), stackPath);
    const { row, col } = cellOf(stack.grid, p.x, p.y);
    if (!inGrid(stack.grid, row, col)) {
      throw new InvalidOptionError(`(${p.x.toFixed(1)}, ${p.y.toFixed(1)}) lies outside the ${stack.grid.rows}×${stack.grid.cols} grid of ${stackPath}; click inside the stack the run was trained on`);
    }
    const k = run.window;
    const C = run.bandNames.length;
    const site: Site = { row, col, label: 1, siteId: 'clicked', groupId: 'clicked', source: 'user', centre: true };
    const patches = extractPatches(stack, { grid: stack.grid, sites: [site] }, { size: k, stats: run.stats, nodata: 'fill-mean' });
    const models: SiteAttribution['models'][number][] = [];
    for (const [name, model] of run.models) {
      const classify = modelClassifier(name, model, k, C).classify;
      const pr = (await classify(patches.x, 1))[0];
      const attr = await occlusion(classify, patches.x, 1, k, C);
      const elements = run.bandNames.map((band, b) => ({ band, value: attr[b] })).sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
      models.push({ name, p: pr, elements });
    }
    return { runDir: p.runDir, row, col, method: 'occlusion', models };
  } finally {
    run.models.forEach((m) => m.dispose());
  }
}
